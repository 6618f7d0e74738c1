"""assetkit: brand kit + brief in, on-brand campaign variants out, and a ledger of what it saved.

Public API (heavy dependencies are imported lazily):

>>> from assetkit import load_brand, load_brief, run_brief, RunOptions
"""
from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__", "load_brand", "load_brief", "load_campaign", "load_pipeline", "run_brief", "RunOptions"]


def __getattr__(name: str):
    if name == "load_brand":
        from .brand import load_brand

        return load_brand
    if name == "load_brief":
        from .brief import load_brief

        return load_brief
    if name == "load_campaign":
        from .campaign import load_campaign

        return load_campaign
    if name == "load_pipeline":
        from .pipeline import load_pipeline

        return load_pipeline
    if name == "run_brief":
        from .runner import run_brief

        return run_brief
    if name == "RunOptions":
        from .pipeline import RunOptions

        return RunOptions
    raise AttributeError(name)
