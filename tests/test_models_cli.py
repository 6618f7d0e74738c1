"""``assetkit models`` commands on a temp Hugging Face cache (no network)."""
from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

os.environ["HF_HUB_OFFLINE"] = "1"
sys.path.insert(0, str(Path(__file__).parent))

from tinymodels import build_tiny_sd, layout_hf_cache  # noqa: E402

from assetkit.cli_models import models  # noqa: E402
from assetkit.errors import ModelError  # noqa: E402
from assetkit.models import pull_patterns  # noqa: E402


@pytest.fixture(scope="module")
def hub(tmp_path_factory):
    root = tmp_path_factory.mktemp("hfhome")
    src = build_tiny_sd(root / "src")
    layout_hf_cache(root / "hub", "acme/tiny-sd", src, revision="b" * 40,
                    readme="---\nlicense: other\nlicense_name: acme-ml\n---\n")
    return root


def test_models_list_json(hub, monkeypatch, tmp_path):
    monkeypatch.setenv("HF_HOME", str(hub))
    monkeypatch.delenv("HF_HUB_CACHE", raising=False)
    monkeypatch.setenv("ASSETKIT_MODEL_DIRS", str(tmp_path))
    (tmp_path / "loose.safetensors").write_bytes(b"x")
    result = CliRunner().invoke(models, ["list", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert [d["id"] for d in data] == ["hf:acme/tiny-sd", str(tmp_path / "loose.safetensors")]
    d = data[0]
    assert d["pipeline"] == "StableDiffusionPipeline" and d["license"] == "acme-ml" and d["source"] == "hf-cache"
    assert d["path"].endswith("snapshots/" + "b" * 40) and d["size_bytes"] > 1_000_000
    text = CliRunner().invoke(models, ["list"]).output
    assert text.splitlines()[0].split() == ["ID", "PIPELINE", "SIZE", "LICENSE"] and "hf:acme/tiny-sd" in text


def test_models_check_runs_the_model(hub, monkeypatch, tmp_path):
    monkeypatch.setenv("HF_HOME", str(hub))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    result = CliRunner().invoke(models, ["check", "hf:acme/tiny-sd", "--dtype", "float32", "--json"])
    assert result.exit_code == 0, result.output
    info = json.loads(result.output)
    assert info["pipeline"] == "StableDiffusionPipeline" and info["device"] == "cpu"
    assert info["load_seconds"] > 0 and info["seconds_per_step"] > 0 and info["size"] == [16, 16]


def test_models_check_missing_model_is_a_model_error(hub, monkeypatch):
    monkeypatch.setenv("HF_HOME", str(hub))
    result = CliRunner().invoke(models, ["check", "hf:acme/missing"])
    assert isinstance(result.exception, ModelError)
    assert "assetkit models pull acme/missing" in str(result.exception)


def test_pull_downloads_safetensors_only():
    allow, ignore = pull_patterns(None)
    assert "*.safetensors" in allow and "*.bin" in ignore and "*.ckpt" in ignore and "*.fp16.safetensors" in ignore
    allow, _ = pull_patterns("fp16")
    assert "*.fp16.safetensors" in allow and "*.safetensors" not in allow


def test_every_models_command_has_help():
    for name, cmd in models.commands.items():
        assert cmd.help and "Example:" in cmd.help, name
