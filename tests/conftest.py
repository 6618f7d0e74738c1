"""Shared fixtures: the repository paths and a copy of the example campaign in a temp folder."""
from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
# torch.compile's kernels (compile: true) go to a throwaway folder, never the user's ~/.cache
os.environ.setdefault("ASSETKIT_COMPILE_CACHE", tempfile.mkdtemp(prefix="assetkit-compile-cache-"))
# models converted to a run's dtype (the weights cache) likewise
os.environ.setdefault("ASSETKIT_WEIGHTS_CACHE", tempfile.mkdtemp(prefix="assetkit-weights-cache-"))


@pytest.fixture
def repo_root() -> Path:
    return ROOT


@pytest.fixture
def workdir(tmp_path, monkeypatch) -> Path:
    """A temp project: brand/nordlicht and examples/spring-launch copied in; cwd set to it."""
    shutil.copytree(ROOT / "brand" / "nordlicht", tmp_path / "brand" / "nordlicht")
    shutil.copytree(ROOT / "examples" / "spring-launch", tmp_path / "examples" / "spring-launch")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("ASSETKIT_LEDGER", str(tmp_path / ".assetkit" / "ledger.sqlite"))
    return tmp_path


@pytest.fixture
def ledger_project(tmp_path, monkeypatch) -> Path:
    """A project folder as the working directory for ledger tests: the ledger tests' settings
    (tests/ledger_fixtures.py), no ledger yet."""
    from ledger_fixtures import SETTINGS_YAML

    monkeypatch.chdir(tmp_path)
    for var in ("ASSETKIT_LEDGER", "ASSETKIT_SETTINGS"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("ASSETKIT_USER", "tester")
    (tmp_path / "assetkit.yaml").write_text(SETTINGS_YAML)
    return tmp_path

