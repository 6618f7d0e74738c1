"""Shared fixtures: the repository paths and a copy of the example campaign in a temp folder."""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


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
