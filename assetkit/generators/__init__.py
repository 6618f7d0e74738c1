"""Image generators for the ``generate`` step, by name: the procedural draft generator and diffusers.

Every backend implements :class:`assetkit.generators.base.Generator` with one ``Config`` model.
The registry here is the single list of backends (plugins add theirs with
:func:`register_generator`; entry-point group ``assetkit.generators``). Backend modules are
imported only when used, so torch is only loaded when a model is actually used.
"""
from __future__ import annotations

from typing import Any

from ..registry import Registry
from .base import GeneratedImage, GenerationRequest, Generator, GeneratorConfig

IPTC = "http://cv.iptc.org/newscodes/digitalsourcetype/"
#: built-in backends: name → "module:Class" (imported only when used)
BUILTIN_GENERATORS = {
    "draft": "assetkit.generators.draft:DraftGenerator",
    "diffusers": "assetkit.generators.diffusers:DiffusersGenerator",
}
#: backends whose pictures do not come from a model trained on sampled data
_UNTRAINED = {"draft"}


def _load_plugins() -> None:
    """Register the backends of installed plugin packages (the call point for entry-point group
    ``assetkit.generators``): runs once, before the first lookup."""
    from ..plugins import GENERATORS, load_entry_points

    for name, target in load_entry_points(GENERATORS).items():
        REGISTRY.register(name, target)


#: the single list of generator backends
REGISTRY: Registry[Generator] = Registry("generator", Generator, BUILTIN_GENERATORS, load_plugins=_load_plugins)


def register_generator(name: str, target: str | type[Generator], *, trained: bool = True) -> None:
    """Make a generator backend available as ``name`` (``trained``: its pictures come from a
    model trained on sampled data, which the IPTC source types in XMP and C2PA then say)."""
    REGISTRY.register(name, target)
    if not trained:
        _UNTRAINED.add(name)


def generator_names() -> list[str]:
    """Every registered backend name, built-in ones first."""
    return REGISTRY.names()


def generator_class(name: str) -> type[Generator]:
    """The backend class registered as ``name``; ValueError listing the known ones otherwise."""
    return REGISTRY.get(name)


def source_types(name: str) -> tuple[str, str]:
    """(master, delivered asset) IPTC digital source types of a backend's pictures (unknown
    names count as trained models: never claim less AI than there may be)."""
    if name in _UNTRAINED:
        return IPTC + "algorithmicMedia", IPTC + "compositeSynthetic"
    return IPTC + "trainedAlgorithmicMedia", IPTC + "compositeWithTrainedAlgorithmicMedia"


def get_generator(name: str, config: GeneratorConfig | None = None, /, **options: Any) -> Generator:
    """Instantiate the backend named ``name`` with ``config`` or ``options`` (see its ``Config``)."""
    return generator_class(name)(config, **options)


__all__ = ["BUILTIN_GENERATORS", "REGISTRY", "GeneratedImage", "GenerationRequest", "Generator", "GeneratorConfig",
           "generator_class", "generator_names", "get_generator", "register_generator", "source_types"]
