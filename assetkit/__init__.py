"""assetkit: brand kit + brief in, on-brand campaign variants out, and a ledger of what it saved.

Public API (heavy dependencies are imported lazily):

>>> from assetkit import load_brand, load_brief, run_brief, RunOptions
"""
from __future__ import annotations

import importlib

__version__ = "0.1.0"

#: public name → module that defines it (imported on first use, so ``import assetkit`` is instant)
_API = {
    "load_brand": "brand", "load_brief": "brief", "load_campaign": "campaign", "load_pipeline": "pipeline",
    "run_brief": "runner", "RunOptions": "context", "Ledger": "ledger", "build_report": "report",
}

__all__ = ["__version__", *_API]


def __getattr__(name: str):
    if name in _API:
        return getattr(importlib.import_module(f".{_API[name]}", __name__), name)
    raise AttributeError(f"module 'assetkit' has no attribute {name!r}")
