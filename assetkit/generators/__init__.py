"""Image generators for the ``generate`` step, by name: the procedural draft generator and diffusers.

Every backend implements :class:`assetkit.generators.base.Generator` with one ``Config`` model.
The registry here is the single list of backends (plugins add theirs with
:func:`register_generator`; entry-point group ``assetkit.generators``). Backend modules are
imported only when used, so torch is only loaded when a model is actually used.
"""
from __future__ import annotations

import difflib
import importlib
from dataclasses import dataclass
from typing import Any

from .base import GeneratedImage, GenerationRequest, Generator, GeneratorConfig

IPTC = "http://cv.iptc.org/newscodes/digitalsourcetype/"


@dataclass(frozen=True)
class Backend:
    """A registered generator: where its class is and how its pictures are made (IPTC digital
    source types of a master and of a delivered asset composed on it)."""

    target: str | type[Generator]  # "module:Class" or the class
    master_source: str
    asset_source: str


_registry: dict[str, Backend] = {
    "draft": Backend("assetkit.generators.draft:DraftGenerator", IPTC + "algorithmicMedia",
                     IPTC + "compositeSynthetic"),
    "diffusers": Backend("assetkit.generators.diffusers:DiffusersGenerator", IPTC + "trainedAlgorithmicMedia",
                         IPTC + "compositeWithTrainedAlgorithmicMedia"),
}
_plugins_loaded = False


def register_generator(name: str, target: str | type[Generator], *, trained: bool = True) -> None:
    """Make a generator backend available as ``name`` (``trained``: its pictures come from a
    model trained on sampled data, which the IPTC source types in XMP and C2PA then say)."""
    kind = "trainedAlgorithmicMedia" if trained else "algorithmicMedia"
    asset = "compositeWithTrainedAlgorithmicMedia" if trained else "compositeSynthetic"
    entry = Backend(target, IPTC + kind, IPTC + asset)
    current = _registry.get(name)
    if current is not None and _describe(current.target) != _describe(target):
        raise ValueError(f"generator {name!r} is already registered ({_describe(current.target)})")
    _registry[name] = entry


def generator_names() -> list[str]:
    """Every registered backend name, built-in ones first."""
    _load_plugins()
    return list(_registry)


def generator_class(name: str) -> type[Generator]:
    """The backend class registered as ``name``; ValueError listing the known ones otherwise."""
    _load_plugins()
    entry = _registry.get(name)
    if entry is None:
        close = difflib.get_close_matches(name, _registry, n=1)
        hint = f"did you mean {close[0]!r}? " if close else ""
        raise ValueError(f"unknown generator {name!r}; {hint}known: {', '.join(_registry)}")
    target = entry.target
    if isinstance(target, str):
        module, cls = target.split(":")
        target = getattr(importlib.import_module(module), cls)
        if not (isinstance(target, type) and issubclass(target, Generator)):
            raise TypeError(f"generator {name!r}: {entry.target} is not a Generator subclass")
        _registry[name] = Backend(target, entry.master_source, entry.asset_source)
    return target


def source_types(name: str) -> tuple[str, str]:
    """(master, delivered asset) IPTC digital source types of a backend's pictures (unknown
    names count as trained models: never claim less AI than there may be)."""
    entry = _registry.get(name) or _registry["diffusers"]
    return entry.master_source, entry.asset_source


def get_generator(name: str, config: GeneratorConfig | None = None, /, **options: Any) -> Generator:
    """Instantiate the backend named ``name`` with ``config`` or ``options`` (see its ``Config``)."""
    return generator_class(name)(config, **options)


def _describe(target: str | type) -> str:
    return target if isinstance(target, str) else f"{target.__module__}:{target.__qualname__}"


def _load_plugins() -> None:
    """Register the backends of installed plugin packages, once per process (the call point for
    entry-point group ``assetkit.generators``)."""
    global _plugins_loaded
    if _plugins_loaded:
        return
    _plugins_loaded = True


__all__ = ["Backend", "GeneratedImage", "GenerationRequest", "Generator", "GeneratorConfig", "generator_class",
           "generator_names", "get_generator", "register_generator", "source_types"]
