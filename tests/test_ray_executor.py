"""`assetkit run --executor ray` on a local Ray instance (started here: 2 CPUs, no dashboard).

Same assets byte for byte and the same manifest as the local executor (draft generator and the
tiny random-weight diffusers model), a model actor killed mid-run (the run completes, the ledger
books each asset once), an unreachable address (one line, exit 2, within the timeout), and the
start-up checks. One Ray instance serves the whole module. These tests run in CI: the [ray] extra
is part of `.[all,test]`.
"""
from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import sqlite3
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

sys.path.insert(0, str(Path(__file__).parent))

from assetkit.cli import cli  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
BRIEF = "examples/spring-launch/brief.yaml"
#: what differs between two runs of the same brief whatever the executor: run id, clock, timings
VOLATILE = {"run_id", "started_at", "finished_at", "timings", "compute_seconds", "compute_ms", "executor", "who"}
ASSET_VOLATILE = {"compute_seconds", "compute_ms", "export_seconds"}


@pytest.fixture(scope="module")
def ray_instance():
    import ray

    from assetkit.cluster.ray_driver import start_local

    os.environ.setdefault("RAY_gcs_rpc_server_reconnect_timeout_s", "600")  # a busy CI machine
    start_local(ray, num_cpus=2)
    yield ray
    ray.shutdown()


def _project(root: Path, formats: tuple[str, ...], concepts: int = 1, variants: int = 2) -> Path:
    shutil.copytree(ROOT / "brand" / "nordlicht", root / "brand" / "nordlicht")
    shutil.copytree(ROOT / "examples" / "spring-launch", root / "examples" / "spring-launch")
    brief = root / BRIEF
    lines = [ln for ln in brief.read_text().splitlines()
             if not (ln.strip().startswith(("- meta-", "- iab-")) and ln.strip()[2:] not in formats)]
    text = "\n".join(lines).replace("variants: 2", f"variants: {variants}")
    if concepts == 1:
        text = text.split("  - id: roastery")[0]
    brief.write_text(text + "\n")
    return root


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    """1 concept × 2 variants × 3 formats (3 aspect groups) × 2 locales: 12 assets, 6 masters."""
    return _project(tmp_path_factory.mktemp("rayproj"), ("meta-square", "meta-story", "iab-leaderboard"))


def _run(root: Path, *args: str):
    return CliRunner().invoke(cli, ["run", str(root / BRIEF), "--progress", "none", *args], catch_exceptions=False)


def _same_output(a: Path, b: Path) -> None:
    files_a = sorted(p.relative_to(a) for p in a.rglob("*") if p.is_file() and ".cache" not in p.parts)
    files_b = sorted(p.relative_to(b) for p in b.rglob("*") if p.is_file() and ".cache" not in p.parts)
    assert files_a == files_b
    for rel in files_a:
        if rel.name in ("manifest.json", "assetkit.lock"):
            continue
        assert (a / rel).read_bytes() == (b / rel).read_bytes(), f"{rel} differs"
    ma, mb = (json.loads((d / "manifest.json").read_text()) for d in (a, b))
    assert "executor" not in ma and mb["executor"]["name"] == "ray"
    for m in (ma, mb):
        for asset in m["assets"]:
            for k in ASSET_VOLATILE:
                asset.pop(k)
    assert {k: v for k, v in ma.items() if k not in VOLATILE} == {k: v for k, v in mb.items() if k not in VOLATILE}


def test_draft_run_on_ray_is_byte_identical_to_local(ray_instance, project, monkeypatch):
    monkeypatch.chdir(project)
    local = _run(project, "--out", str(project / "local"), "--no-ledger", "--json")
    assert local.exit_code == 0, local.output
    result = _run(project, "--out", str(project / "ray"), "--no-ledger", "--json", "--executor", "ray")
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output)
    assert summary["made"] == 12
    ex = summary["executor"]
    assert ex["name"] == "ray" and ex["actors"] == 1 and ex["duplicates_dropped"] == 0
    assert sum(n["assets"] for n in ex["per_node"].values()) == 12
    assert sum(n["masters"] for n in ex["per_node"].values()) == 6
    _same_output(project / "local" / "spring-launch", project / "ray" / "spring-launch")
    # unchanged brief: nothing to make, Ray is not even asked
    again = json.loads(_run(project, "--out", str(project / "ray"), "--no-ledger", "--json",
                            "--executor", "ray").output)
    assert again["made"] == 0 and again["cached"] == 12


def test_tiny_diffusers_run_on_ray_is_byte_identical_to_local(ray_instance, tmp_path, monkeypatch):
    from tinymodels import build_tiny_sd

    root = _project(tmp_path, ("meta-square", "iab-leaderboard"), variants=1)
    (root / "tiny.yaml").write_text(
        "version: 1\nsteps:\n  - generate: {generator: diffusers, steps: 2, width: 64, height: 64, "
        "dtype: float32, device: cpu}\n  - reframe: {}\n  - compose: {}\n  - check: {}\n  - export: {}\n")
    model = build_tiny_sd(root / "tiny-sd")
    monkeypatch.chdir(root)
    monkeypatch.setenv("XDG_CACHE_HOME", str(root / "xdg"))
    common = ["--model", str(model), "--pipeline", "tiny.yaml", "--no-ledger", "--json"]
    local = _run(root, "--out", str(root / "local"), *common)
    assert local.exit_code == 0, local.output
    result = _run(root, "--out", str(root / "ray"), *common, "--executor", "ray")
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["made"] == 4
    manifest = json.loads((root / "ray" / "spring-launch" / "manifest.json").read_text())
    assert manifest["generator"]["name"] == "diffusers" and manifest["compute_seconds"] > 0
    assert manifest["compute_ms"] > 0 and manifest["compute_ms"] == sum(a["compute_ms"] for a in manifest["assets"])
    _same_output(root / "local" / "spring-launch", root / "ray" / "spring-launch")


def _actor_pids() -> list[int]:
    """PIDs of the model actors (Ray names a worker process after its actor class)."""
    out = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                cmd = (entry / "cmdline").read_bytes().split(b"\0")[0].decode(errors="replace")
            except OSError:
                continue
            if cmd.startswith("ray::MasterMaker"):
                out.append(int(entry.name))
    return out


def test_a_killed_model_actor_is_restarted_and_every_asset_is_booked_once(ray_instance, project, tmp_path,
                                                                          monkeypatch):
    from assetkit.context import RunOptions
    from assetkit.progress import Progress
    from assetkit.runner import run_brief

    monkeypatch.chdir(project)
    (tmp_path / "assetkit.yaml").write_text("version: 1\nexecutor:\n  name: ray\n  ray:\n"
                                            "    max_masters_in_flight: 2\n")
    killed: list[int] = []

    class KillOnFirstExport(Progress):
        """Kills the model actor's process when the first asset is booked (masters are still to make:
        at most 2 of the 6 are in flight)."""

        def _update(self, task):
            if task.label == "export" and task.done >= 1 and not killed:
                pids = _actor_pids()
                assert pids, "no model actor process found"
                for pid in pids:
                    os.kill(pid, signal.SIGKILL)
                killed.extend(pids)

    ledger = tmp_path / "ledger.sqlite"
    options = RunOptions(out=tmp_path / "out", ledger=ledger, settings=tmp_path / "assetkit.yaml")
    result = run_brief(project / BRIEF, options, progress=KillOnFirstExport())
    assert killed
    assert result.made == 12
    assets = result.manifest["assets"]
    assert len(assets) == 12 and len({a["key"] for a in assets}) == 12
    assert all((tmp_path / "out" / "spring-launch" / a["path"]).is_file() for a in assets)
    workers = sum(n["worker_processes"] for n in result.manifest["executor"]["per_node"].values())
    assert workers >= 1
    with sqlite3.connect(ledger) as db:
        rows = db.execute("SELECT deliverable_key, COUNT(*) FROM entries WHERE kind = 'asset' "
                          "GROUP BY deliverable_key").fetchall()
    assert len(rows) == 12 and all(n == 1 for _, n in rows)
    # the next run, local this time, finds everything up to date (content keys, not executors)
    again = run_brief(project / BRIEF, RunOptions(out=tmp_path / "out", ledger=ledger, executor="local"))
    assert again.made == 0 and again.cached == 12


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_an_unreachable_cluster_is_one_line_within_the_timeout(ray_instance, project, tmp_path, monkeypatch):
    monkeypatch.chdir(project)
    (tmp_path / "assetkit.yaml").write_text("version: 1\nexecutor:\n  ray:\n    connect_timeout: 5\n")
    address = f"ray://127.0.0.1:{_free_port()}"
    t0 = time.monotonic()
    result = _run(project, "--out", str(tmp_path / "out"), "--no-ledger", "--executor", "ray",
                  "--ray-address", address, "--settings", str(tmp_path / "assetkit.yaml"))
    assert time.monotonic() - t0 < 60  # generous: the bound is connect_timeout (5 s) plus the plan
    assert result.exit_code == 2
    assert result.output.startswith(f"Error: cannot reach the Ray cluster at {address}: ")
    assert result.output.count("\n") == 1
    assert not list((tmp_path / "out").rglob("*.png"))


def test_an_out_folder_the_nodes_do_not_share_is_refused(ray_instance, project, tmp_path, monkeypatch):
    """The probe file a worker writes is not seen by the driver (simulated: the driver's reads of
    probe files find nothing, as on a node-local disk)."""
    from assetkit.outroot import OutRoot

    real = OutRoot.read_bytes

    def read_bytes(self, rel):
        if rel.startswith(".assetkit-probe-"):
            raise FileNotFoundError(rel)
        return real(self, rel)

    monkeypatch.setattr(OutRoot, "read_bytes", read_bytes)
    monkeypatch.chdir(project)
    result = _run(project, "--out", str(tmp_path / "out"), "--no-ledger", "--executor", "ray")
    assert result.exit_code == 2
    assert "the cluster cannot run this campaign; nothing was made" in result.output
    assert "--out must be a folder every node shares" in result.output
    assert not list((tmp_path / "out").rglob("*.png"))
    assert not list((tmp_path / "out").glob(".assetkit-probe-*"))  # the probe file is cleaned up


def test_without_ray_installed_the_flag_names_the_extra(project, tmp_path, monkeypatch):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a, **k: None if name.split(".")[0] == "ray" else real(name, *a, **k))
    monkeypatch.chdir(project)
    result = _run(project, "--out", str(tmp_path / "out"), "--no-ledger", "--executor", "ray")
    assert result.exit_code == 2
    assert result.output == ("Error: --executor ray needs the [ray] extra, which is not installed (no ray); "
                             "install it with: pip install 'assetkit[ray]'\n")
    assert not (tmp_path / "out").exists()


def test_a_run_stopped_mid_way_books_what_it_finished(ray_instance, project, tmp_path, monkeypatch):
    """An asset file that cannot be written (a folder is in its place) stops the run in one task;
    the assets other tasks finished are in the manifest and the ledger, and the next run makes
    only the rest."""
    from assetkit.context import RunOptions
    from assetkit.errors import AssetkitError
    from assetkit.runner import run_brief

    monkeypatch.chdir(project)
    (tmp_path / "assetkit.yaml").write_text("version: 1\nexecutor:\n  name: ray\n  ray:\n"
                                            "    max_masters_in_flight: 2\n")
    out, ledger = tmp_path / "out", tmp_path / "ledger.sqlite"
    blocker = out / "spring-launch" / "de-DE" / "iab-leaderboard" / "morning-ritual-v2.png"
    blocker.mkdir(parents=True)
    options = RunOptions(out=out, ledger=ledger, settings=tmp_path / "assetkit.yaml")
    with pytest.raises(AssetkitError) as err:
        run_brief(project / BRIEF, options)
    assert err.value.exit_code == 2
    assert "replaces only regular files" in str(err.value) and "the next run makes the rest" in str(err.value)
    manifest = json.loads((out / "spring-launch" / "manifest.json").read_text())
    done = len(manifest["assets"])
    assert 0 < done < 12 and "stopped" in manifest
    with sqlite3.connect(ledger) as db:
        booked = db.execute("SELECT COUNT(*) FROM entries WHERE kind = 'asset'").fetchone()[0]
    assert booked == done
    blocker.rmdir()
    again = run_brief(project / BRIEF, options)
    assert again.made == 12 - done and again.cached == done
    with sqlite3.connect(ledger) as db:
        rows = db.execute("SELECT deliverable_key, COUNT(*) FROM entries WHERE kind = 'asset' "
                          "GROUP BY deliverable_key").fetchall()
    assert len(rows) == 12 and all(n == 1 for _, n in rows)


class _FakeRay:
    """Enough of Ray for the driver's start-up check: one node, tasks run here, in this process."""

    class exceptions:  # noqa: N801 - the shape of ray.exceptions
        class GetTimeoutError(Exception):
            pass

    def __init__(self, tweak=None):
        self.tweak = tweak or (lambda got: got)

    def nodes(self):
        return [{"Alive": True, "Resources": {"CPU": 2.0}, "NodeID": "ab" * 28, "NodeManagerHostname": "worker-1"}]

    def remote(self, **_opts):
        fake = self

        class Task:
            def __init__(self, fn):
                self.fn = fn

            def options(self, **_kw):
                return self

            def remote(self, *args):
                return fake.tweak(self.fn(*args))

        return Task

    def get(self, ref, timeout=None):
        return ref


@pytest.mark.parametrize("tweak, message", [
    (lambda got: {**got, "assetkit": "0.0.1"}, "node worker-1 runs assetkit 0.0.1, this machine "),
    (lambda got: {**got, "python": "3.9.0"}, "node worker-1 runs Python 3.9.0, this machine "),
    (lambda got: {**got, "plan_digest": "other"}, "node worker-1 sees other inputs than this machine"),
    (lambda got: {**got, "error": "model not found: /models/tiny"}, "node worker-1: model not found: /models/tiny"),
])
def test_the_start_up_check_names_the_node_and_what_differs(project, tmp_path, monkeypatch, tweak, message):
    """Version mismatch, other inputs or a missing model on a node: exit 2 before any asset (the
    node's answer is altered here; the probe itself runs for real, in this process)."""
    from assetkit.campaign import load_campaign
    from assetkit.cluster import ClusterError
    from assetkit.cluster.ray_driver import check_nodes, work_spec
    from assetkit.context import RunOptions
    from assetkit.outroot import OutRoot
    from assetkit.progress import Progress
    from assetkit.provenance.run import setup_signing
    from assetkit.runner import make_context, plan_run
    from assetkit.settings import Settings

    monkeypatch.chdir(project)
    campaign = load_campaign(project / BRIEF)
    ctx = make_context(campaign, RunOptions(out=tmp_path / "out"), Progress())
    OutRoot(tmp_path / "out").ensure()
    settings = Settings()
    ctx.run_id = "test"
    ctx.provenance = setup_signing(settings, ctx.run_id)  # as run_brief does: it is part of the keys
    ctx.plan = plan_run(ctx, campaign)
    spec = work_spec(ctx, campaign, settings)
    assert check_nodes(_FakeRay(), spec, settings.executor.ray, ctx)[0]["plan_digest"] == spec.plan_digest
    with pytest.raises(ClusterError) as err:
        check_nodes(_FakeRay(tweak), spec, settings.executor.ray, ctx)
    assert str(err.value).startswith("the cluster cannot run this campaign; nothing was made:\n  " + message)
    assert not list((tmp_path / "out").rglob("*.png"))


def test_after_the_driver_is_killed_the_next_run_picks_up_from_the_cache(ray_instance, project, tmp_path,
                                                                         monkeypatch):
    """A driver (`assetkit run --executor ray` in its own process, joined to this module's Ray
    instance) killed once its first asset is on disk: the next run, local, takes the masters
    made so far from the content-keyed cache and makes the rest."""
    import subprocess

    from assetkit.context import RunOptions
    from assetkit.runner import run_brief

    monkeypatch.chdir(project)
    out = tmp_path / "out"
    (tmp_path / "assetkit.yaml").write_text("version: 1\nexecutor:\n  ray:\n    max_masters_in_flight: 2\n")
    address = ray_instance.get_runtime_context().gcs_address
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    driver = subprocess.Popen([sys.executable, "-m", "assetkit", "run", str(project / BRIEF), "--out", str(out),
                               "--no-ledger", "--progress", "none", "--executor", "ray", "--ray-address", address,
                               "--settings", str(tmp_path / "assetkit.yaml")], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 300  # generous: a bound for a hung driver, not a speed check
        while not list(out.glob("spring-launch/*/*/*.png")) and driver.poll() is None:
            assert time.monotonic() < deadline, "the driver made no asset"
            time.sleep(0.2)
        driver.kill()
    finally:
        driver.wait()
    assert not (out / "spring-launch" / "manifest.json").exists() or driver.returncode == 0
    cached = {p.stem for p in (out / "spring-launch" / ".cache" / "masters").glob("*.png")}
    assert cached
    again = run_brief(project / BRIEF, RunOptions(out=out, record=False, executor="local"))
    assert len(again.manifest["assets"]) == 12
    reused = {a["master"] for a in again.manifest["assets"] if a["master_cached"]}
    assert reused and reused <= cached
