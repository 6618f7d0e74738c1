"""Big runs: a warning with a time and disk estimate, progress while steps run, bounded sheets, a size cap."""
from __future__ import annotations

import io
import json
import time

from click.testing import CliRunner

from assetkit.cli import cli
from assetkit.progress import PlainProgress

BRIEF = "examples/spring-launch/brief.yaml"


def test_plan_warns_above_the_configured_count_with_an_estimate(workdir):
    (workdir / "s.yaml").write_text("runs: {warn_assets: 10}\n")
    r = CliRunner().invoke(cli, ["plan", BRIEF, "--settings", "s.yaml"])
    assert r.exit_code == 0, r.output
    assert "estimate: ~" in r.output and "MB of disk (12 masters, draft generator; a rough estimate)" in r.output
    assert r.stderr.startswith("warning: 64 assets to make, over runs.warn_assets = 10: ~")
    data = json.loads(CliRunner().invoke(cli, ["plan", BRIEF, "--settings", "s.yaml", "--json"]).stdout)
    assert data["estimate"]["assets"] == 64 and data["estimate"]["bytes"] > 0 and data["warning"]
    r = CliRunner().invoke(cli, ["plan", BRIEF])  # the default (2,000) is not reached
    assert r.stderr == ""


def test_a_custom_size_over_the_maximum_is_a_validation_error(workdir):
    brief = workdir / BRIEF
    brief.write_text(brief.read_text().replace("  - meta-square\n", "  - meta-square\n  - 8192x8192\n"))
    r = CliRunner().invoke(cli, ["validate", BRIEF])
    assert r.exit_code == 2
    assert r.output.splitlines()[0] == ("examples/spring-launch/brief.yaml:12:5: formats[1]: custom size 8192x8192 "
                                        "has a side over 8,000 pixels (runs.max_side in assetkit.yaml; memory grows "
                                        "with the square of the side)")
    (workdir / "s.yaml").write_text("runs: {max_side: 9000}\n")
    r = CliRunner().invoke(cli, ["plan", BRIEF, "--settings", "s.yaml", "--json"])
    assert r.exit_code == 0 and "8192x8192" in json.loads(r.stdout)["per_format"]


def test_plain_progress_prints_while_a_step_runs():
    out = io.StringIO()
    p = PlainProgress(out, interval=0.05)
    with p.task("generate", 3) as t:
        t.advance()
        deadline = time.monotonic() + 10
        while out.getvalue().count("\n") < 2 and time.monotonic() < deadline:
            time.sleep(0.02)
    p.close()
    lines = out.getvalue().splitlines()
    assert lines[0].startswith("generate: 1/3 (33%), ") and lines[-1].startswith("generate: 1/3 in ")


def test_contact_sheets_show_a_bounded_number_of_assets(workdir):
    from PIL import Image

    (workdir / "s.yaml").write_text("runs: {contact_sheet_tiles: 2}\n")
    brief = workdir / BRIEF
    keep = ("- meta-square", "- iab-leaderboard")
    brief.write_text("\n".join(ln for ln in brief.read_text().splitlines()
                               if not ln.strip().startswith(("- meta-", "- iab-")) or ln.strip() in keep) + "\n")
    r = CliRunner().invoke(cli, ["run", BRIEF, "--no-ledger", "--settings", "s.yaml", "--progress", "none", "--json"])
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["assets"] == 16
    with Image.open(workdir / "out" / "spring-launch" / "contact-sheet-en-US.png") as im:
        two = im.size
    (workdir / "s.yaml").write_text("runs: {contact_sheet_tiles: 200}\n")
    r = CliRunner().invoke(cli, ["run", BRIEF, "--no-ledger", "--settings", "s.yaml", "--progress", "none", "--force"])
    with Image.open(workdir / "out" / "spring-launch" / "contact-sheet-en-US.png") as im:
        assert im.width * im.height > 2 * two[0] * two[1]  # 8 tiles against 2
