"""Pipeline steps by name. A step is a class in its own module; YAML names it.

The registry here is the single list of step names: the built-in steps below, plus any a
plugin registers (:func:`register_step`; entry-point group ``assetkit.steps``).
"""
from __future__ import annotations

from typing import Any

from ..registry import Registry, describe
from .base import Step, StepParams

#: built-in steps: name → "module:Class" (imported only when a pipeline uses the step)
BUILTIN_STEPS: dict[str, str] = {
    "generate": "assetkit.steps.generate:GenerateStep",
    "reframe": "assetkit.steps.reframe:ReframeStep",
    "compose": "assetkit.steps.compose:ComposeStep",
    "check": "assetkit.steps.check:CheckStep",
    "export": "assetkit.steps.export:ExportStep",
}


def _load_plugins() -> None:
    """Register the steps of installed plugin packages (the call point for entry-point group
    ``assetkit.steps``): runs once, before the first lookup."""
    from ..plugins import STEPS, load_entry_points

    for name, target in load_entry_points(STEPS).items():
        REGISTRY.register(name, target)


def _check_name(name: str, cls: type[Step]) -> None:
    if getattr(cls, "name", None) != name:
        raise ValueError(f"step {name!r}: {describe(cls)} calls itself {getattr(cls, 'name', None)!r}")


#: the single list of step names
REGISTRY: Registry[Step] = Registry("step", Step, BUILTIN_STEPS, check=_check_name, load_plugins=_load_plugins)


def register_step(name: str, target: str | type[Step]) -> None:
    """Make ``target`` (a Step class or its ``"module:Class"``) available to pipelines as ``name``."""
    REGISTRY.register(name, target)


def step_names() -> list[str]:
    """Every registered step name: the built-in ones first, in pipeline order, then plugins'."""
    return REGISTRY.names()


def get_step(name: str) -> type[Step]:
    """The Step class registered as ``name``; ValueError listing the known steps otherwise."""
    return REGISTRY.get(name)


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
            plain = isinstance(default, (str, int, float, bool, type(None)))
            params.append({"name": field_name, "type": _type_name(field.annotation), "required": required,
                           "default": default if plain else str(default),
                           "description": " ".join((field.description or "").split())})
        out.append({"name": name, "description": cls.description, "inputs": list(cls.inputs),
                    "provides": list(cls.provides), "params": params})
    return out


def _type_name(annotation: Any) -> str:
    text = getattr(annotation, "__name__", None) if isinstance(annotation, type) else None
    return text or str(annotation).replace("typing.", "")


__all__ = ["BUILTIN_STEPS", "REGISTRY", "Step", "StepParams", "describe_steps", "get_step", "register_step",
           "step_names"]
