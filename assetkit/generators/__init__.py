"""Image generators for the ``generate`` step: the procedural draft generator and diffusers.

Both implement :class:`assetkit.generators.base.Generator`. ``diffusers`` is imported lazily:
torch is only loaded when a model is actually used.
"""
from __future__ import annotations

from .base import GeneratedImage, GenerationRequest, Generator


def get_generator(name: str, **options) -> Generator:
    """Instantiate the generator named ``name`` (``draft`` or ``diffusers``)."""
    if name == "draft":
        from .draft import DraftGenerator

        return DraftGenerator(**options)
    if name == "diffusers":
        from ..extras import require

        require("diffusion", "the diffusers generator (a diffusion model)")
        from .diffusers import DiffusersGenerator

        return DiffusersGenerator(**options)
    raise ValueError(f"unknown generator {name!r}; known: draft, diffusers")


__all__ = ["GenerationRequest", "GeneratedImage", "Generator", "get_generator"]
