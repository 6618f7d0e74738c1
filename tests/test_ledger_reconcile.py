"""Exactly-once booking from the run manifest: a real kill between manifest.json and the ledger."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from assetkit.cli import cli
from assetkit.ledger import Ledger

ROOT = Path(__file__).resolve().parent.parent
BRIEF = "examples/spring-launch/mini.yaml"  # written by mini_brief(): 4 assets, so the kill test is quick

#: Loaded at interpreter start (sitecustomize): the runner's ledger call kills the process, the
#: moment after manifest.json was written and before the ledger commit.
KILL_HOOK = """\
import os, signal
import assetkit.ledger as ledger

def _killed(*args, **kwargs):
    os.kill(os.getpid(), signal.SIGKILL)

ledger.record_run = _killed
"""


def mini_brief(workdir: Path) -> None:
    """The example brief cut to one concept, one variant and two formats (× two locales)."""
    text = (workdir / "examples" / "spring-launch" / "brief.yaml").read_text()
    head, rest = text.split("formats:\n", 1)
    formats, rest = rest.split("copy:\n", 1)
    copy, concepts = rest.split("concepts:\n", 1)
    first = "  - id:" + concepts.split("  - id:")[1]
    (workdir / BRIEF).write_text(head.replace("variants: 2", "variants: 1") + "formats:\n  - meta-square\n"
                                 "  - iab-leaderboard\ncopy:\n" + copy + "concepts:\n" + first)


def killed_run(workdir: Path) -> Path:
    mini_brief(workdir)
    hook = workdir / "hook"
    hook.mkdir()
    (hook / "sitecustomize.py").write_text(KILL_HOOK)
    env = dict(os.environ, PYTHONPATH=f"{hook}{os.pathsep}{ROOT}")
    proc = subprocess.run([sys.executable, "-m", "assetkit", "run", BRIEF, "--out", "out", "--progress", "none"],
                          cwd=workdir, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == -signal.SIGKILL, proc.stderr[-2000:]
    manifest = workdir / "out" / "spring-launch" / "manifest.json"
    assert manifest.is_file()
    data = json.loads(manifest.read_text())  # the assets' whole-ms shares add up to the run's: no residue
    assert data["compute_ms"] > 0 and sum(a["compute_ms"] for a in data["assets"]) == data["compute_ms"]
    return manifest


def asset_entries() -> list:
    with Ledger(readonly=True) as lg:
        return [e for e in lg.entries() if e.kind == "asset"]


def test_killed_run_is_booked_by_reconcile_exactly_once(workdir):
    r = CliRunner().invoke(cli, ["quotes", "import", str(ROOT / "examples" / "quotes" / "agency-2026.yaml")])
    assert r.exit_code == 0, r.output
    manifest = killed_run(workdir)
    assert asset_entries() == []  # the kill came before the ledger commit
    r = CliRunner().invoke(cli, ["ledger", "reconcile", "out"])
    assert r.exit_code == 0, r.output
    assert r.output.splitlines()[-1] == "1 of 1 run manifest(s) under out were not in the ledger; now booked"
    booked = asset_entries()
    assert len(booked) == 4 and len({e.asset_path for e in booked}) == 4
    assert {e.manifest_path for e in booked} == {"out/spring-launch/manifest.json"}
    r = CliRunner().invoke(cli, ["ledger", "reconcile", "out"])
    assert r.output == "0 of 1 run manifest(s) under out were not in the ledger\n"
    r = CliRunner().invoke(cli, ["run", BRIEF, "--out", "out", "--progress", "none"])
    assert r.exit_code == 0, r.output
    assert len(asset_entries()) == 4
    assert manifest.is_file()
    # a run into the same folder recorded in another ledger made nothing new: reconciling it here
    # books nothing, and says so (not "now booked")
    r = CliRunner().invoke(cli, ["run", BRIEF, "--out", "out", "--progress", "none", "--ledger", "other.sqlite"])
    assert r.exit_code == 0, r.output
    r = CliRunner().invoke(cli, ["ledger", "reconcile", "out"])
    assert r.exit_code == 0 and "nothing new to record (4 assets up to date)" in r.output
    assert r.output.splitlines()[-1] == ("1 of 1 run manifest(s) under out were not in the ledger; now recorded — 1 of "
                                         "them with nothing new to book (every asset was already up to date, made by "
                                         "a run booked elsewhere)")
    assert len(asset_entries()) == 4


def test_the_next_run_books_a_killed_run_itself(workdir):
    killed_run(workdir)
    r = CliRunner().invoke(cli, ["run", BRIEF, "--out", "out", "--progress", "plain"])
    assert r.exit_code == 0, r.output
    assert "booked the interrupted run" in r.output
    assert len(asset_entries()) == 4  # the killed run's 4, once; this run re-made nothing
    with Ledger(readonly=True) as lg:
        assert len(lg.runs()) == 2 and lg.verify().entries == 4


def test_one_ledger_per_project_found_by_walking_up(ledger_project):
    sub = ledger_project / "campaigns" / "spring"
    sub.mkdir(parents=True)
    CliRunner().invoke(cli, ["quotes", "import", str(ROOT / "examples" / "quotes" / "agency-2026.yaml")])
    os.chdir(sub)
    r = CliRunner().invoke(cli, ["where"])
    root = ledger_project.resolve()
    assert r.exit_code == 0 and r.output.splitlines() == [
        f"project:  {root}", f"settings: {root / 'assetkit.yaml'}",
        f"ledger:   {root / '.assetkit' / 'ledger.sqlite'} (exists)"]
    r = CliRunner().invoke(cli, ["quotes", "list"])  # from the subfolder: the project's ledger, no second one
    assert r.exit_code == 0 and "agency-2026" in r.output
    assert not (sub / ".assetkit").exists()
    outside = ledger_project.parent / "elsewhere"
    outside.mkdir()
    os.chdir(outside)
    r = CliRunner().invoke(cli, ["ledger", "list"])
    assert r.exit_code == 2 and not (outside / ".assetkit").exists()  # a read never creates a ledger
