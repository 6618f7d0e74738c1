"""The CLI in-process (CliRunner): exact output and exit codes; the run end to end on the draft generator."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from assetkit.cli import cli

BRIEF = "examples/spring-launch/brief.yaml"


def invoke(*args):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def test_every_command_has_help():
    def walk(group, prefix=""):
        for name, cmd in group.commands.items():
            assert cmd.help and cmd.help.strip(), f"{prefix}{name} has no help"
            if isinstance(cmd, click.Group):
                walk(cmd, f"{prefix}{name} ")
    walk(cli)


def test_help_does_not_import_torch_or_ray():
    code = ("import sys; from click.testing import CliRunner; from assetkit.cli import cli; "
            "r = CliRunner().invoke(cli, ['--help']); assert r.exit_code == 0; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('torch', 'diffusers', 'transformers', "
            "'matplotlib', 'ray')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_formats_json_lists_catalog():
    result = invoke("formats", "--json")
    data = json.loads(result.output)
    assert {f["name"] for f in data} >= {"meta-square", "tiktok-feed", "iab-leaderboard", "linkedin-square"}
    tiktok = next(f for f in data if f["name"] == "tiktok-feed")
    assert (tiktok["width"], tiktok["height"]) == (1080, 1920) and tiktok["safe_zone"]["bottom"] > 0


def test_validate_ok_and_errors(workdir):
    result = invoke("validate", "brand/nordlicht", BRIEF)
    assert result.exit_code == 0
    assert result.output == "brand/nordlicht: ok (brand)\nexamples/spring-launch/brief.yaml: ok (brief)\n"
    bad = workdir / "bad.yaml"
    bad.write_text("version: 1\nsteps:\n  - export: {format: tiff}\n")
    result = CliRunner().invoke(cli, ["validate", str(bad)])
    assert result.exit_code == 2
    assert result.output == ("bad.yaml:3:22: steps[0].export.format: 'tiff' is not one of 'png', 'jpeg' or 'webp'\n"
                             "Error: 1 problem found; nothing was run.\n")


def test_run_missing_brief_is_clear_error(workdir):
    result = CliRunner().invoke(cli, ["run", "nope.yaml", "--no-ledger"])
    assert result.exit_code == 2
    assert result.output == "nope.yaml: file not found\nError: 1 problem found; nothing was run.\n"


def test_plan_counts(workdir):
    result = invoke("plan", BRIEF, "--json")
    data = json.loads(result.output)
    # 2 concepts × 2 variants × 8 formats × 2 locales
    assert data["total"] == 64 and data["to_make"] == 64 and data["up_to_date"] == 0
    assert data["per_format"]["iab-leaderboard"] == {"en-US": 4, "de-DE": 4}
    text = invoke("plan", BRIEF).output
    assert "total: 64 assets (64 to make, 0 up to date" in text
    assert "\n2 concepts × 2 variants × 8 formats × 2 locales\n" in text


def test_plan_names_each_concepts_variants_when_they_differ():
    from types import SimpleNamespace

    from assetkit.brief import describe_shape

    brief = SimpleNamespace(concepts=["a", "b"], formats=["x"], variants_of={"a": 1, "b": 3}.get)
    assert describe_shape(brief, ["en-US"]) == "2 concepts × (1 + 3 variants) × 1 format × 1 locale"


def _files(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()}


@pytest.fixture(scope="module")
def small_run(tmp_path_factory):
    """The example campaign cut to 3 formats and 1 concept variant, run once with the draft generator."""
    import shutil

    ROOT = Path(__file__).resolve().parent.parent

    root = tmp_path_factory.mktemp("run")
    shutil.copytree(ROOT / "brand" / "nordlicht", root / "brand" / "nordlicht")
    shutil.copytree(ROOT / "examples" / "spring-launch", root / "examples" / "spring-launch")
    brief = root / BRIEF
    text = brief.read_text()
    text = text.replace("variants: 2", "variants: 1")
    lines = [ln for ln in text.splitlines() if ln.strip() not in
             ("- meta-portrait", "- meta-story", "- iab-half-page", "- iab-wide-skyscraper", "- meta-landscape")]
    brief.write_text("\n".join(lines) + "\n")
    return root


def test_run_end_to_end(small_run, monkeypatch):
    monkeypatch.chdir(small_run)
    before = _files(small_run)
    result = invoke("run", BRIEF, "--out", "out", "--no-ledger", "--json", "--jobs", "2")
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output)
    # 2 concepts × 1 variant × 3 formats × 2 locales
    assert summary["assets"] == 12 and summary["made"] == 12 and summary["cached"] == 0
    # nothing written outside --out
    assert {f for f in _files(small_run) - before if not f.startswith("out/")} == set()
    out = small_run / "out" / "spring-launch"
    manifest = json.loads((out / "manifest.json").read_text())
    paths = sorted(a["path"] for a in manifest["assets"])
    assert "de-DE/iab-leaderboard/roastery-v1.png" in paths and len(paths) == 12
    from PIL import Image

    from assetkit.files import sha256_file

    for a in manifest["assets"]:
        f = out / a["path"]
        assert sha256_file(f) == a["sha256"]
        with Image.open(f) as im:
            assert im.size == (a["width"], a["height"])
        assert a["generator"] == "draft" and a["seed"] >= 0
    for locale in ("en-US", "de-DE"):
        with Image.open(out / f"contact-sheet-{locale}.png") as im:
            assert im.width >= 800
    assert set(manifest["timings"]) >= {"generate", "reframe", "compose", "check", "export", "total"}


def test_rerun_makes_nothing_and_force_remakes(small_run, monkeypatch):
    monkeypatch.chdir(small_run)
    first = json.loads(invoke("run", BRIEF, "--out", "out", "--no-ledger", "--json").output)
    mtimes = {p: p.stat().st_mtime_ns for p in (small_run / "out").rglob("*.png")}
    again = json.loads(invoke("run", BRIEF, "--out", "out", "--no-ledger", "--json").output)
    assert again["made"] == 0 and again["cached"] == first["assets"]
    assert {p: p.stat().st_mtime_ns for p in mtimes} == mtimes
    forced = json.loads(invoke("run", BRIEF, "--out", "out", "--no-ledger", "--json", "--force").output)
    assert forced["made"] == first["assets"]


def test_changed_copy_remakes_only_that_locale(small_run, monkeypatch):
    """…and the other locales' assets only of formats whose shared type scale it changed."""
    monkeypatch.chdir(small_run)
    invoke("run", BRIEF, "--out", "out", "--no-ledger")
    brief = small_run / BRIEF
    original = brief.read_text()
    manifest = small_run / "out" / "spring-launch" / "manifest.json"
    before = {a["path"]: a["compose"]["font_px"] for a in json.loads(manifest.read_text())["assets"]}
    try:
        brief.write_text(original.replace("Jetzt entdecken", "Jetzt probieren"))
        summary = json.loads(invoke("run", BRIEF, "--out", "out", "--no-ledger", "--json").output)
        after = json.loads(manifest.read_text())["assets"]
        remade = [a for a in after if not a["cached"]]
        assert {a["locale"] for a in after if a["locale"] == "de-DE" and a["cached"]} == set()
        for a in remade:
            if a["locale"] == "en-US":  # remade only because the format's type scale moved
                assert a["compose"]["font_px"] != before[a["path"]], a["path"]
        assert summary["made"] == len(remade) < 12 and summary["cached"] == 12 - len(remade)
    finally:
        brief.write_text(original)


def test_same_seed_same_pixels(small_run, monkeypatch, tmp_path):
    monkeypatch.chdir(small_run)
    invoke("run", BRIEF, "--out", str(tmp_path / "a"), "--no-ledger")
    invoke("run", BRIEF, "--out", str(tmp_path / "b"), "--no-ledger")
    a = json.loads((tmp_path / "a" / "spring-launch" / "manifest.json").read_text())
    b = json.loads((tmp_path / "b" / "spring-launch" / "manifest.json").read_text())
    assert [x["sha256"] for x in a["assets"]] == [x["sha256"] for x in b["assets"]]


def test_init_scaffold_runs(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = invoke("init", "proj", "--name", "Acme Studio")
    assert result.exit_code == 0
    assert result.output.splitlines()[-1] == "next: assetkit run proj/brief.yaml"
    assert invoke("validate", "proj/brief.yaml").output == "proj/brief.yaml: ok (brief)\n"
    again = CliRunner().invoke(cli, ["init", "proj"])
    assert again.exit_code == 2 and again.output == "Error: proj exists and is not empty; choose a new folder\n"


def test_atomic_write_leaves_old_file_on_failure(tmp_path, monkeypatch):
    import os

    from assetkit.files import atomic_write_bytes

    target = tmp_path / "a.png"
    atomic_write_bytes(target, b"old")

    def boom(*a, **k):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(OSError):
        atomic_write_bytes(target, b"new and longer")
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["a.png"]


def test_atomic_write_makes_ordinary_permissions(tmp_path):
    import os
    import stat

    from assetkit.files import atomic_write_bytes

    mask = os.umask(0o022)
    try:
        import assetkit.files as files

        old = files._UMASK
        files._UMASK = 0o022
        atomic_write_bytes(tmp_path / "x.png", b"data")
        assert stat.S_IMODE((tmp_path / "x.png").stat().st_mode) == 0o644
    finally:
        files._UMASK = old
        os.umask(mask)


def test_streamed_run_equals_sequential_run(small_run, monkeypatch, tmp_path):
    from assetkit.context import RunOptions
    from assetkit.runner import run_brief

    monkeypatch.chdir(small_run)
    a = run_brief(BRIEF, RunOptions(out=tmp_path / "s", record=False, stream=True))
    b = run_brief(BRIEF, RunOptions(out=tmp_path / "q", record=False, stream=False))
    assert a.manifest["streamed"] is True and b.manifest["streamed"] is False
    assert [x["sha256"] for x in a.manifest["assets"]] == [x["sha256"] for x in b.manifest["assets"]]
    assert a.manifest["contact_sheets"] == b.manifest["contact_sheets"]


def test_failed_checks_fail_the_run_naming_rule_assets_and_fix(small_run, monkeypatch, tmp_path):
    monkeypatch.chdir(small_run)
    strict = tmp_path / "strict.yaml"
    strict.write_text("version: 1\nsteps:\n  - generate: {}\n  - reframe: {}\n  - compose: {}\n"
                      "  - check: {min_contrast: 21}\n  - export: {}\n")
    result = CliRunner().invoke(cli, ["run", BRIEF, "--out", str(tmp_path / "o"), "--no-ledger",
                                      "--pipeline", str(strict), "--progress", "none"])
    assert result.exit_code == 1
    assert result.output.startswith("Error: ") and "check finding(s) at error level on" in result.output
    assert "  text-contrast (error): " in result.output and "\n    fix: add a palette colour" in result.output
    # the assets are written for review, each with its findings in the manifest
    manifest = json.loads(next((tmp_path / "o").rglob("manifest.json")).read_text())
    assert all(any(c["check"] == "text-contrast" for c in a["checks"]) for a in manifest["assets"])
    summary = {g["rule"]: g for g in manifest["check_summary"]}
    assert summary["text-contrast"]["level"] == "error" and summary["text-contrast"]["fix"]
    # a rerun of the unchanged brief fails the same way (cached assets keep their findings)
    again = CliRunner().invoke(cli, ["run", BRIEF, "--out", str(tmp_path / "o"), "--no-ledger",
                                     "--pipeline", str(strict), "--progress", "none"])
    assert again.exit_code == 1 and "text-contrast (error)" in again.output
    # severity off in the pipeline: the same run passes
    strict.write_text(strict.read_text().replace("{min_contrast: 21}", "{min_contrast: 21, severity: "
                                                                      "{text-contrast: warning}}"))
    ok = CliRunner().invoke(cli, ["run", BRIEF, "--out", str(tmp_path / "o2"), "--no-ledger",
                                  "--pipeline", str(strict), "--progress", "none"])
    assert ok.exit_code == 0, ok.output
    assert "text-contrast (warning)" in ok.output


def test_validate_every_shipped_file(repo_root, monkeypatch):
    monkeypatch.chdir(repo_root)
    files = ["examples/quotes/agency-2026.yaml", "examples/quotes/agency-2026.csv", "examples/assetkit.yaml",
             "pipelines/display-banners.yaml", "pipelines/social-campaign.yaml", "brand/nordlicht",
             "examples/spring-launch/brief.yaml", "examples/packshot/brief.yaml"]
    result = invoke("validate", *files)
    assert result.exit_code == 0
    assert [line.rsplit(" ", 1)[-1] for line in result.output.splitlines()] == [
        "(quote)", "(quote)", "(settings)", "(pipeline)", "(pipeline)", "(brand)", "(brief)", "(brief)"]


def test_a_killed_run_leaves_no_truncated_file_and_the_next_run_completes(small_run, tmp_path):
    """SIGKILL a real `assetkit run` mid-way: every asset on disk decodes; the next run cleans up and finishes."""
    import signal
    import time

    from PIL import Image

    out = tmp_path / "killed"
    cmd = [sys.executable, "-m", "assetkit", "run", BRIEF, "--out", str(out), "--no-ledger", "--force",
           "--progress", "none", "--jobs", "1"]
    proc = subprocess.Popen(cmd, cwd=small_run, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 60
    while time.time() < deadline and not list(out.rglob("*.png")):
        time.sleep(0.02)
    time.sleep(0.1)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    for png in out.rglob("*.png"):
        with Image.open(png) as im:
            im.load()  # raises on a truncated file
    assert not (out / "spring-launch" / "manifest.json").exists() or json.loads(
        (out / "spring-launch" / "manifest.json").read_text())
    stale = out / "spring-launch" / "en-US" / ".roastery-v1.png.k3j2h1g0.tmp"  # as a kill mid-write leaves it
    stale.parent.mkdir(parents=True, exist_ok=True)
    stale.write_bytes(b"half an image")
    keep = out / "spring-launch" / "notes.tmp"  # not ours: never touched
    keep.write_text("mine")
    done = subprocess.run(cmd[:-4] + ["--json"], cwd=small_run, capture_output=True, text=True, check=True)
    assert json.loads(done.stdout)["assets"] == 12
    assert [p.name for p in out.rglob("*.tmp")] == ["notes.tmp"]


def test_badges_and_show_checks_from_a_run(small_run, monkeypatch, tmp_path):
    import numpy as np
    from PIL import Image

    from assetkit.overlay import LEVEL_COLOUR, badge

    monkeypatch.chdir(small_run)
    strict = tmp_path / "strict.yaml"
    strict.write_text("version: 1\nsteps:\n  - generate: {}\n  - reframe: {}\n  - compose: {}\n"
                      "  - check: {min_contrast: 21}\n  - export: {}\n")
    out = tmp_path / "o"
    result = CliRunner().invoke(cli, ["run", BRIEF, "--out", str(out), "--no-ledger", "--pipeline", str(strict),
                                      "--progress", "none", "--show-checks"])
    assert result.exit_code == 1
    campaign = out / "spring-launch"
    manifest = json.loads((campaign / "manifest.json").read_text())
    for a in manifest["assets"]:  # an overlay per asset, beside (not among) the deliverables
        assert (campaign / "checks" / a["path"]).is_file(), a["path"]
        assert a["boxes"]["headline"] and not a["path"].startswith("checks/")
    sheet = np.asarray(Image.open(campaign / "contact-sheet-en-US.png").convert("RGB")).astype(int)
    red = np.abs(sheet - LEVEL_COLOUR["error"]).sum(axis=2) < 30
    assert red.sum() > 200  # a red frame and badge on the error tiles
    assert badge([]) is None  # no findings: no badge


def test_every_help_example_is_printed_as_written():
    """An example under 'Example:' is a \\b block (click does not rewrap it): a long path is not
    broken at its hyphen and a continued line keeps its backslash — it can be pasted."""
    import click

    def walk(cmd, path=""):
        if isinstance(cmd, click.Group):
            for name, sub in cmd.commands.items():
                yield from walk(sub, f"{path} {name}")
        yield path.strip() or "assetkit", cmd

    missing = []
    for name, cmd in walk(cli):
        lines = (cmd.help or "").splitlines()
        for i, line in enumerate(lines):
            if line.strip() in ("Example:", "Examples:"):
                block = [x for x in lines[i + 1:] if x.strip()][:1]
                if block != ["\b"] and [x.strip() for x in block] != ["\b"]:
                    missing.append(name)
    assert missing == []
    out = CliRunner().invoke(cli, ["ledger", "add", "--help"], terminal_width=80).output
    assert '--actual 120 \\\n' in out and "120             --hours" not in out
    out = CliRunner().invoke(cli, ["validate", "--help"], terminal_width=80).output
    assert "examples/spring-launch/brief.yaml" in out
