"""A draft-only install (no [diffusion] extra): asking for a model is one line naming the extra."""
from __future__ import annotations

import importlib.util

import pytest
from click.testing import CliRunner

from assetkit import extras
from assetkit.cli import cli

BRIEF = "examples/spring-launch/brief.yaml"
LINE = ("Error: {what} needs the [diffusion] extra, which is not installed (no {gone}); "
        "install it with: pip install 'assetkit[diffusion]'\n")


@pytest.fixture
def no_diffusion(monkeypatch):
    """Make the [diffusion] packages look uninstalled (find_spec is how assetkit asks)."""
    real = importlib.util.find_spec

    def find_spec(name, *args, **kwargs):
        return None if name.split(".")[0] in extras.EXTRAS["diffusion"] else real(name, *args, **kwargs)

    monkeypatch.setattr(importlib.util, "find_spec", find_spec)


def test_missing_lists_what_is_not_installed(no_diffusion):
    assert extras.missing("diffusion") == list(extras.EXTRAS["diffusion"])
    assert extras.missing("diffusion", ["numpy"]) == []


def test_installed_extra_passes():
    extras.require("diffusion", "anything")  # the test venv has every extra


def test_run_with_a_model_names_the_extra(workdir, no_diffusion):
    result = CliRunner().invoke(cli, ["run", BRIEF, "--model", "hf:acme/tiny-sd", "--no-ledger", "--out", "o"])
    assert result.exit_code == 2
    assert result.output == LINE.format(what="the diffusers generator (a diffusion model)",
                                        gone="torch, diffusers, transformers, huggingface_hub, safetensors")
    assert not [p for p in (workdir / "o").rglob("*") if p.is_file()]  # nothing written


@pytest.mark.parametrize("args, what, gone", [
    (["models", "list"], "the Hugging Face cache (hf: models, `assetkit models`)", "huggingface_hub"),
    (["models", "check", "hf:acme/tiny-sd"], "`assetkit models check`",
     "torch, diffusers, transformers, huggingface_hub, safetensors"),
    (["models", "pull", "acme/tiny-sd"], "the Hugging Face cache (hf: models, `assetkit models`)", "huggingface_hub"),
])
def test_models_commands_name_the_extra(no_diffusion, args, what, gone):
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 2
    assert result.output == LINE.format(what=what, gone=gone)


def test_review_without_the_review_extra_names_it(workdir, monkeypatch):
    real = importlib.util.find_spec

    def find_spec(name, *args, **kwargs):
        return None if name.split(".")[0] in ("starlette", "uvicorn") else real(name, *args, **kwargs)

    monkeypatch.setattr(importlib.util, "find_spec", find_spec)
    result = CliRunner().invoke(cli, ["review", "out/spring-launch", "--no-browser"])
    assert result.exit_code == 2
    assert result.output == ("Error: the review app (`assetkit review`; `--static` needs nothing more) needs the "
                             "[review] extra, which is not installed (no starlette, uvicorn); install it with: "
                             "pip install 'assetkit[review]'\n")
