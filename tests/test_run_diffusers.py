"""`assetkit run` end to end on a tiny random-weight diffusers pipeline (built here, never downloaded)."""
from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

sys.path.insert(0, str(Path(__file__).parent))

from tinymodels import build_tiny_sd  # noqa: E402

from assetkit.cli import cli  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
BRIEF = "examples/spring-launch/brief.yaml"


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    root = tmp_path_factory.mktemp("dproj")
    shutil.copytree(ROOT / "brand" / "nordlicht", root / "brand" / "nordlicht")
    shutil.copytree(ROOT / "examples" / "spring-launch", root / "examples" / "spring-launch")
    brief = root / BRIEF
    keep = ("- meta-square", "- iab-leaderboard")
    lines = [ln for ln in brief.read_text().splitlines()
             if not ln.strip().startswith("- meta-") and not ln.strip().startswith("- iab-") or ln.strip() in keep]
    text = "\n".join(lines).replace("variants: 2", "variants: 1")
    text = text.split("  - id: roastery")[0]  # one concept
    brief.write_text(text + "\n")
    (root / "tiny.yaml").write_text(
        "version: 1\nsteps:\n  - generate: {generator: diffusers, steps: 2, width: 64, height: 64, "
        "dtype: float32, device: cpu}\n  - reframe: {}\n  - compose: {}\n  - check: {}\n  - export: {}\n")
    return root, build_tiny_sd(root / "tiny-sd")


def test_run_with_a_local_diffusers_model(project, monkeypatch):
    from PIL import Image

    root, model = project
    monkeypatch.chdir(root)
    monkeypatch.setenv("XDG_CACHE_HOME", str(root / "xdg"))
    args = ["run", BRIEF, "--model", str(model), "--pipeline", "tiny.yaml", "--out", "out", "--no-ledger",
            "--json"]
    result = CliRunner().invoke(cli, args, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output)
    assert summary["made"] == 4 and summary["cached"] == 0  # 1 concept × 2 formats × 2 locales
    manifest = json.loads((root / "out" / "spring-launch" / "manifest.json").read_text())
    assert manifest["generator"]["name"] == "diffusers"
    assert manifest["compute_seconds"] > 0
    asset = manifest["assets"][0]
    assert asset["generator"] == "diffusers"
    gp = asset["generator_params"]
    assert gp["steps"] == 2 and len(gp["weights_sha256"]) == 64 and gp["seed"] == asset["seed"]
    with Image.open(root / "out" / "spring-launch" / asset["path"]) as im:
        params = im.text["parameters"]  # A1111-style, read back by every SD tool
        xmp = im.text["XML:com.adobe.xmp"]
    assert params.startswith("a ceramic cup of light roast coffee")
    assert "\nNegative prompt: text, watermark" in params
    assert "Steps: 2, " in params and f"Seed: {asset['seed']}" in params and "Size: 64x64" in params
    assert "compositeWithTrainedAlgorithmicMedia" in xmp
    # unchanged brief and model: nothing is made again, the model is not even loaded
    again = json.loads(CliRunner().invoke(cli, args, catch_exceptions=False).output)
    assert again["made"] == 0 and again["cached"] == 4
