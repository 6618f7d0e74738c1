"""The generator interface shared by the draft and diffusers backends."""
from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    from PIL import Image


@dataclass(frozen=True)
class GenerationRequest:
    """One master image to make: a concept variant at one size (an aspect group's native size)."""

    concept: str
    variant: int
    prompt: str
    negative_prompt: str
    width: int
    height: int
    seed: int
    palette: dict[str, str]  # role → '#RRGGBB' (the draft generator paints with these)
    aspect: str = "square"  # square / portrait / landscape
    init_image: Path | None = None  # concept reference image → image-to-image
    product_image: Path | None = None  # product PNG with alpha → packshot inpainting
    focal: tuple[float, float] | None = None


@dataclass
class GeneratedImage:
    """A generated master: the RGB image, its focal point and what made it."""

    image: Image.Image
    focal: tuple[float, float] = (0.5, 0.5)
    params: dict = field(default_factory=dict)  # recorded in manifest and PNG metadata
    compute_seconds: float = 0.0


ProgressFn = Callable[[int, int], None]  # (done, total) in the generator's own units


class Generator(ABC):
    """Makes master images. Subclasses load their model once and reuse it for every request."""

    name: str = "generator"

    @abstractmethod
    def fingerprint(self) -> dict:
        """Everything about the generator that changes its output (model hash, steps, ...)."""

    def native_size(self, aspect: str) -> tuple[int, int]:
        """The master size for an aspect group (square / portrait / landscape)."""
        return {"square": (1024, 1024), "portrait": (832, 1216), "landscape": (1216, 832)}[aspect]

    def size_for_ratio(self, ratio: float) -> tuple[int, int]:
        """A master of the native square's area shaped ``ratio`` (width ÷ height), both sides on
        the model's grid (``masters: shared``: one master cut to every format)."""
        import math

        w, h = self.native_size("square")
        side, m = math.sqrt(w * h), self.size_multiple
        return (max(m, int(side * math.sqrt(ratio) / m + 0.5) * m), max(m, int(side / math.sqrt(ratio) / m + 0.5) * m))

    #: master sides are multiples of this (a diffusion model's latent grid)
    size_multiple: int = 64

    @abstractmethod
    def generate(self, requests: list[GenerationRequest], progress: ProgressFn | None = None) -> list[GeneratedImage]:
        """Make one image per request, in order. Same request → same pixels."""

    def close(self) -> None:  # noqa: B027 -- an optional hook, a no-op by default
        """Free the model (called once at the end of a run)."""
