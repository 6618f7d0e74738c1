"""The generator interface shared by the draft and diffusers backends.

A backend's configuration is one frozen pydantic model (its ``Config``): the options a
pipeline's generate step accepts, the constructor's argument and what its fingerprint is made
of — written once, validated once (the diffusers library's ``register_to_config`` idea).
"""
from __future__ import annotations

import difflib
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from pydantic import ValidationError

from ..config_base import StrictModel
from ..errors import ModelError

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


#: how :func:`place_product` places a packshot's product (part of a packshot master's key)
PRODUCT_PLACEMENT = 2  # 2: one rule for every backend (never enlarged, ≤ 55 % of the short side)


@dataclass
class PlacedProduct:
    """A packshot's product as placed on a master: the RGBA pixels at their size, where they go."""

    image: Image.Image  # RGBA, at the placed size
    box: tuple[int, int, int, int]  # where it is pasted on the canvas
    scale: float  # placed size ÷ the product file's size

    @property
    def opaque_box(self) -> tuple[int, int, int, int]:
        """The box of the product's visible (non-transparent) pixels on the canvas."""
        x, y = self.box[:2]
        bx0, by0, bx1, by1 = self.image.getchannel("A").getbbox() or (0, 0, self.image.width, self.image.height)
        return x + bx0, y + by0, x + bx1, y + by1


def place_product(path: Path, width: int, height: int, focal: tuple[float, float] | None) -> PlacedProduct:
    """Where every backend puts a packshot's product (an alpha PNG) on a ``width``×``height``
    master: its longest side at most 55 % of the master's short side (room for copy beside it in
    every format), never enlarged, centred on ``focal`` and kept inside."""
    from PIL import Image

    from ..files import load_image

    product = load_image(path, "RGBA")  # re-checked now: a regular file still, as validated
    scale = min(1.0, 0.55 * min(width, height) / max(product.size))
    if scale < 1.0:
        product = product.resize((max(1, round(product.width * scale)), max(1, round(product.height * scale))),
                                 Image.Resampling.LANCZOS)
    cx, cy = focal or (0.5, 0.5)
    x = min(max(0, round(cx * width - product.width / 2)), width - product.width)
    y = min(max(0, round(cy * height - product.height / 2)), height - product.height)
    return PlacedProduct(product, (x, y, x + product.width, y + product.height), scale)


ProgressFn = Callable[[int, int], None]  # (done, total) in the generator's own units


#: ``Field(..., json_schema_extra=NOT_OUTPUT)`` marks an option that never changes the images
#: (batching, a safety switch): the one kind of field left out of a generator's fingerprint
NOT_OUTPUT: dict[str, Any] = {"fingerprint": False}


class GeneratorConfig(StrictModel):
    """Base of every backend's config: unknown options are errors, values are frozen.

    The fingerprint is derived from it: every field is in it unless marked :data:`NOT_OUTPUT`,
    so an option added later changes the cache keys by itself (nothing to remember)."""

    @classmethod
    def output_fields(cls) -> list[str]:
        """The fields that change the images (every field not marked :data:`NOT_OUTPUT`)."""
        return [name for name, f in cls.model_fields.items()
                if not (isinstance(f.json_schema_extra, dict) and f.json_schema_extra.get("fingerprint") is False)]

    def fingerprint(self, resolved: dict[str, Any] | None = None) -> dict[str, Any]:
        """``{field: value}`` for every output field; ``resolved`` gives the value a field stands
        for where the config leaves it to the backend (a preset's steps, the detected device, a
        file's hash instead of its path). A name in ``resolved`` that is not an output field is a
        programming error."""
        resolved = resolved or {}
        fields = self.output_fields()
        stray = sorted(set(resolved) - set(fields))
        if stray:
            raise TypeError(f"{type(self).__name__}.fingerprint: not output fields: {', '.join(stray)}")
        return {name: resolved[name] if name in resolved else getattr(self, name) for name in fields}


class Generator(ABC):
    """Makes master images. Subclasses load their model once and reuse it for every request.

    ``Generator(config)`` or ``Generator(**options)`` (validated by ``Config``: an unknown or bad
    option is a :class:`ModelError`); ``base_dir`` is where relative paths in the config are
    looked up, ``log`` where warnings go (``warnings.warn`` by default).
    """

    name: ClassVar[str] = "generator"
    #: the constructor's argument: every option, and what the fingerprint is made of
    Config: ClassVar[type[GeneratorConfig]] = GeneratorConfig
    #: the options a pipeline's generate step may set (``Config`` or a base of it; what the
    #: run fills in itself, like the brand's style LoRA, is only in ``Config``)
    Options: ClassVar[type[GeneratorConfig]] = GeneratorConfig
    #: requests the generate step hands to one :meth:`generate` call
    batch_size: int = 4

    def __init__(self, config: GeneratorConfig | None = None, /, *, base_dir: Path | None = None,
                 log: Callable[[str], None] | None = None, **options: Any):
        if config is None:
            config = make_config(self.Config, self.name, options)
        elif options:
            raise TypeError(f"{type(self).__name__}: give a config or options, not both")
        elif not isinstance(config, self.Config):
            raise TypeError(f"{type(self).__name__} takes a {self.Config.__name__}, not {type(config).__name__}")
        self.config = config
        self.base_dir = base_dir
        self._log = log

    def log(self, message: str) -> None:
        """A warning about this run (the run's progress log, or ``warnings.warn``)."""
        if self._log is not None:
            self._log(message)
        else:
            import warnings

            warnings.warn(message, stacklevel=2)

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

    def timings(self) -> dict[str, float]:
        """Where the generator's time went in this run, seconds by part (``generate.model_load``,
        ``generate.prompt_encode``...): the run adds them to its manifest's timings. ``{}`` by default."""
        return {}


def make_config(model: type[GeneratorConfig], generator: str, options: dict[str, Any]) -> GeneratorConfig:
    """``model(**options)``, or a :class:`ModelError` naming every bad option at once."""
    try:
        return model(**options)
    except ValidationError as exc:
        lines = []
        for err in exc.errors(include_url=False):
            where = ".".join(str(p) for p in err["loc"])
            if err["type"] == "extra_forbidden":
                close = difflib.get_close_matches(where, model.model_fields, n=1)
                hint = f"did you mean {close[0]!r}?" if close else f"options: {', '.join(model.model_fields) or 'none'}"
                lines.append(f"unknown option {where!r} for the {generator} generator; {hint}")
            else:
                msg = err["msg"].removeprefix("Value error, ")
                lines.append(f"{where}: {msg}" if where else msg)
        raise ModelError("\n".join(lines)) from None
