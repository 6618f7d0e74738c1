"""What flows between pipeline steps: jobs (deliverables), masters, frames, composed assets."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .formats import AdFormat

if TYPE_CHECKING:  # pragma: no cover
    from PIL import Image

    from .generators.base import GenerationRequest

Box = tuple[int, int, int, int]  # x0, y0, x1, y1 in pixels (x1/y1 exclusive)


@dataclass(frozen=True)
class Job:
    """One deliverable: a concept variant, in one format, in one locale."""

    concept: str
    variant: int
    format: AdFormat
    locale: str
    seed: int
    key: str = ""  # hash of everything that determines the output (set by the planner)
    master: str = ""  # the master it is cut from: "" = its format's aspect group; "shared" = one per variant

    @property
    def master_id(self) -> tuple[str, int, str]:
        return (self.concept, self.variant, self.master or self.format.aspect_group)

    @property
    def frame_id(self) -> tuple[str, int, str]:
        return (self.concept, self.variant, self.format.name)

    def relpath(self, ext: str) -> str:
        return f"{self.locale}/{self.format.name}/{self.concept}-v{self.variant}.{ext}"


@dataclass
class Master:
    """A generated image for (concept, variant, aspect group), before reframing."""

    request: GenerationRequest
    image: Image.Image
    focal: tuple[float, float]
    params: dict
    compute_seconds: float
    key: str
    cached: bool = False

    @property
    def compute_ms(self) -> int:
        """This master's compute in whole milliseconds (0 when it came from the cache): the unit the
        manifest and the ledger split exactly across the deliverables made from it."""
        return 0 if self.cached else round(self.compute_seconds * 1000)


@dataclass
class Frame:
    """A master reframed to a format: the background every locale's copy is composed on.

    ``image_box`` is where the picture sits; ``field_box`` (strip/tower layouts) is the
    brand-colour field that carries the text. ``text_box`` is where text may go (inside the
    format's safe zone).
    """

    concept: str
    variant: int
    format: AdFormat
    image: Image.Image
    image_box: Box
    field_box: Box | None
    master_key: str
    crop: Box | None = None  # the crop taken from the master, in master pixels
    scale: float = 1.0  # master pixels → frame pixels (uniform: never stretched)
    protect: list[Box] = field(default_factory=list)  # what copy must not cover (the product of a packshot)


@dataclass
class Composed:
    """A finished asset image for one job, with the boxes of every element drawn on it."""

    job: Job
    image: Image.Image
    boxes: dict[str, Box] = field(default_factory=dict)  # logo, logo_clear, headline, subline, cta, disclaimer
    info: dict[str, Any] = field(default_factory=dict)  # font sizes, measured contrast, scrim...
    #: the pixels behind the text (frame + scrim) and the drawn logo's alpha (where its ink is), for
    #: the checks: the check step frees both once it has checked the asset (memory of a batch)
    background: Image.Image | None = None
    logo_alpha: Image.Image | None = None
    scaled: dict[int, Image.Image] = field(default_factory=dict)  # k → the asset rendered at k× (@2x)


@dataclass
class CheckResult:
    """One finding of the ``check`` step about one asset (level: error / warning)."""

    job: Job
    check: str
    level: str
    message: str

    def to_dict(self) -> dict:
        return {"asset": self.job.relpath("*"), "check": self.check, "level": self.level, "message": self.message}


@dataclass
class RunState:
    """The data a run accumulates; steps read their ``inputs`` and fill their ``outputs``."""

    jobs: list[Job] = field(default_factory=list)  # every deliverable of the brief
    pending: list[Job] = field(default_factory=list)  # those not already up to date on disk
    masters: dict[tuple[str, int, str], Master] = field(default_factory=dict)
    frames: dict[tuple[str, int, str], Frame] = field(default_factory=dict)
    composed: dict[str, Composed] = field(default_factory=dict)  # by job key
    checks: list[CheckResult] = field(default_factory=list)
    outputs: list[dict] = field(default_factory=list)  # manifest entries written by export
    timings: dict[str, float] = field(default_factory=dict)
    compute_seconds: float = 0.0
    compute_ms: int = 0  # the sum of the new masters' whole milliseconds (what the assets' shares add up to)
    generator_info: dict = field(default_factory=dict)
