"""Shared fixtures: the repository paths and a copy of the example campaign in a temp folder."""
from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


def _throwaway(var: str, prefix: str) -> None:
    """``$var`` → a temp folder of this test process, removed when it exits (unless the user set it)."""
    if var not in os.environ:
        folder = tempfile.mkdtemp(prefix=prefix)
        os.environ[var] = folder
        atexit.register(shutil.rmtree, folder, ignore_errors=True)


# torch.compile's kernels (compile: true) go to a throwaway folder, never the user's ~/.cache
_throwaway("ASSETKIT_COMPILE_CACHE", "assetkit-compile-cache-")
# models converted to a run's dtype (the weights cache) likewise
_throwaway("ASSETKIT_WEIGHTS_CACHE", "assetkit-weights-cache-")


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

