"""Hostile and careless input: every case is exit 2 with file:line:col (or the option), never a traceback."""
from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from assetkit.cli import cli


def validate(*files: Path):
    return CliRunner().invoke(cli, ["validate", *map(str, files)])


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


STEPS = "version: 1\nsteps:\n  - generate: {}\n  - reframe: {panel: %s}\n  - compose: {}\n  - export: {}\n"


@pytest.mark.parametrize("panel, message", [
    ("0", "must be at least 0.1, got 0"), ("-1", "must be at least 0.1, got -1"),
    ("1.5", "must be at most 0.9, got 1.5"), ("0.0001", "must be at least 0.1, got 0.0001"),
])
def test_reframe_panel_out_of_range(tmp_path, monkeypatch, panel, message):
    monkeypatch.chdir(tmp_path)
    r = validate(write(tmp_path / "p.yaml", STEPS % panel))
    assert r.exit_code == 2
    assert r.output == f"p.yaml:4:22: steps[1].reframe.panel: {message}\nError: 1 problem found; nothing was run.\n"


def test_pipeline_without_export_is_an_error(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    r = validate(write(tmp_path / "p.yaml", "version: 1\nsteps:\n  - generate: {}\n  - reframe: {}\n  - compose: {}\n"))
    assert (r.exit_code, r.output) == (2, ("p.yaml:2:1: steps: the pipeline has no 'export' step, so a run would "
                                           "write no assets and no manifest: add '- export: {}' as its last step\n"
                                           "Error: 1 problem found; nothing was run.\n"))


def test_a_step_with_bad_params_still_counts_for_the_order_check(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    r = validate(write(tmp_path / "p.yaml", STEPS % "0"))
    assert "needs frames" not in r.output and r.output.count("\n") == 2
