"""Pipeline steps by name. A step is a class in its own module; YAML names it."""
from __future__ import annotations

import difflib
import importlib

from .base import Step, StepParams

#: step name → "module:Class" (imported only when a pipeline uses the step)
REGISTRY: dict[str, str] = {
    "generate": "assetkit.steps.generate:GenerateStep",
    "reframe": "assetkit.steps.reframe:ReframeStep",
    "compose": "assetkit.steps.compose:ComposeStep",
    "check": "assetkit.steps.check:CheckStep",
    "export": "assetkit.steps.export:ExportStep",
}


def step_class(name: str) -> type[Step]:
    """The Step class registered as ``name``; ValueError listing the known steps otherwise."""
    if name not in REGISTRY:
        close = difflib.get_close_matches(name, REGISTRY, n=1)
        hint = f"did you mean {close[0]!r}? " if close else ""
        raise ValueError(f"unknown step {name!r}; {hint}known steps: {', '.join(REGISTRY)}")
    module, cls = REGISTRY[name].split(":")
    return getattr(importlib.import_module(module), cls)


__all__ = ["REGISTRY", "Step", "StepParams", "step_class"]
