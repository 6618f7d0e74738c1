"""Pipeline steps by name. A step is a class in its own module; YAML names it.

The registry here is the single list of step names: the built-in steps below, plus any a
plugin registers (:func:`register_step`; entry-point group ``assetkit.steps``).
"""
from __future__ import annotations

import difflib
import importlib
from typing import Any

from .base import Step, StepParams

#: built-in steps: name → "module:Class" (imported only when a pipeline uses the step)
BUILTIN_STEPS: dict[str, str] = {
    "generate": "assetkit.steps.generate:GenerateStep",
    "reframe": "assetkit.steps.reframe:ReframeStep",
    "compose": "assetkit.steps.compose:ComposeStep",
    "check": "assetkit.steps.check:CheckStep",
    "export": "assetkit.steps.export:ExportStep",
}

_registry: dict[str, str | type[Step]] = dict(BUILTIN_STEPS)
_plugins_loaded = False


def register_step(name: str, target: str | type[Step]) -> None:
    """Make ``target`` (a Step class or its ``"module:Class"``) available to pipelines as ``name``.

    A name can be registered once; registering the same target again is a no-op."""
    current = _registry.get(name)
    if current is not None and _describe(current) != _describe(target):
        raise ValueError(f"step {name!r} is already registered ({_describe(current)}); "
                         f"cannot register {_describe(target)} under the same name")
    if not isinstance(target, str):
        _check_name(name, target)
    _registry[name] = target


def step_names() -> list[str]:
    """Every registered step name: the built-in ones first, in pipeline order, then plugins'."""
    _load_plugins()
    return list(_registry)


def get_step(name: str) -> type[Step]:
    """The Step class registered as ``name``; ValueError listing the known steps otherwise."""
    _load_plugins()
    if name not in _registry:
        close = difflib.get_close_matches(name, _registry, n=1)
        hint = f"did you mean {close[0]!r}? " if close else ""
        raise ValueError(f"unknown step {name!r}; {hint}known steps: {', '.join(_registry)}")
    target = _registry[name]
    if isinstance(target, str):
        module, cls = target.split(":")
        target = getattr(importlib.import_module(module), cls)
        _check_name(name, target)
        _registry[name] = target
    return target


def _check_name(name: str, cls: type[Step]) -> None:
    if not (isinstance(cls, type) and issubclass(cls, Step)):
        raise TypeError(f"step {name!r}: {cls!r} is not a subclass of assetkit.steps.Step")
    if getattr(cls, "name", None) != name:
        raise ValueError(f"step {name!r}: {_describe(cls)} calls itself {getattr(cls, 'name', None)!r}")


def describe_steps() -> list[dict[str, Any]]:
    """Every registered step with what it needs and provides and each parameter's type, default
    and description (its field docstring): what ``assetkit steps`` prints."""
    out = []
    for name in step_names():
        cls = get_step(name)
        params = []
        for field_name, field in cls.params_model().model_fields.items():
            required = field.is_required()
            default = None if required else field.get_default(call_default_factory=True)
            params.append({"name": field_name, "type": _type_name(field.annotation), "required": required,
                           "default": default if isinstance(default, (str, int, float, bool, type(None))) else str(default),
                           "description": " ".join((field.description or "").split())})
        out.append({"name": name, "description": cls.description, "inputs": list(cls.inputs),
                    "provides": list(cls.provides), "params": params})
    return out


def _type_name(annotation: Any) -> str:
    text = getattr(annotation, "__name__", None) if isinstance(annotation, type) else None
    return text or str(annotation).replace("typing.", "")


def _describe(target: str | type[Step]) -> str:
    return target if isinstance(target, str) else f"{target.__module__}:{target.__qualname__}"


def _load_plugins() -> None:
    """Register the steps of installed plugin packages, once per process (the call point for
    entry-point group ``assetkit.steps``)."""
    global _plugins_loaded
    if _plugins_loaded:
        return
    _plugins_loaded = True


__all__ = ["BUILTIN_STEPS", "Step", "StepParams", "describe_steps", "get_step", "register_step", "step_names"]
