"""The ``check`` step: verify every composed asset is on brand, measured on its pixels and boxes."""
from __future__ import annotations

import re
from typing import TYPE_CHECKING, Literal

from pydantic import Field

from .. import imaging as im
from ..brand import hex_to_rgb
from ..layout import safe_box
from ..state import CheckResult, Composed, Frame
from .base import Step, StepParams

if TYPE_CHECKING:  # pragma: no cover
    from ..brand import BrandKit
    from ..brief import Copy
    from ..context import RunContext
    from ..state import RunState

ELEMENTS = ("logo", "headline", "subline", "cta", "disclaimer")
TEXT = ("headline", "subline", "disclaimer")
LEVELS = {"warning": 1, "error": 2}


class CheckParams(StepParams):
    min_contrast: float = Field(4.5, ge=1, le=21)
    """WCAG contrast every text element must reach on the pixels behind it (AA: 4.5)."""
    fail_on: Literal["error", "warning", "never"] = "error"
    """Stop the run when a finding is at least this level (``never``: only report)."""


def banned_words_in(text: str, banned: list[str]) -> list[str]:
    """The banned words or phrases that occur in ``text`` as whole words (case-insensitive)."""
    found = []
    for word in banned:
        w = word.strip()
        if w and re.search(r"(?<!\w)" + r"\s+".join(map(re.escape, w.split())) + r"(?!\w)", text, re.IGNORECASE):
            found.append(word)
    return found


def check_asset(brand: BrandKit, copy: Copy, composed: Composed, frame: Frame | None = None,
                min_contrast: float = 4.5) -> list[CheckResult]:
    """Every finding about one composed asset: safe zone, contrast, logo size and clear space,
    overlaps, banned words and the required disclaimer."""
    job = composed.job
    if job is None and frame is None:
        raise ValueError("check_asset needs the composed asset's job or its frame")
    fmt = job.format if job is not None else frame.format
    out: list[CheckResult] = []

    def add(check: str, level: str, message: str) -> None:
        out.append(CheckResult(job, check, level, message))

    boxes = composed.boxes
    w, h = composed.image.size
    safe = safe_box(fmt)
    for name in ELEMENTS:
        b = boxes.get(name)
        if b is None:
            continue
        if not im.contains((0, 0, w, h), b):
            add("inside-image", "error", f"{name} box {list(b)} is outside the {w}×{h} image")
        elif not im.contains(safe, b):
            add("safe-zone", "error", f"{name} box {list(b)} leaves the safe zone {list(safe)}")

    # contrast, re-measured on the pixels behind the text (frame + scrim, before text)
    background = getattr(composed, "background", None) or (frame.image if frame is not None else None)
    colour = composed.info.get("text_colour")
    if background is not None and colour:
        rgb = hex_to_rgb(colour)
        for name in TEXT:
            if name in boxes:
                value = im.measure_contrast(background, boxes[name], rgb)
                if value < min_contrast:
                    add("contrast", "error", f"{name} contrast {value:.2f}:1 is below {min_contrast}:1 "
                                             f"({colour} on the pixels behind it)")
    cta = composed.info.get("cta_colours")
    if "cta" in boxes and cta:
        value = im.contrast_ratio(hex_to_rgb(cta["label"]), hex_to_rgb(cta["fill"]))
        if value < min_contrast:
            add("contrast", "error", f"cta label contrast {value:.2f}:1 on its button is below {min_contrast}:1")

    # logo: size, clear space
    if brand.logo is not None and "logo" in boxes:
        lw = boxes["logo"][2] - boxes["logo"][0]
        if lw < brand.logo.min_width:
            add("logo-size", "error", f"logo is {lw} px wide, below the brand's minimum {brand.logo.min_width} px")
        clear = boxes.get("logo_clear", boxes["logo"])
        for name in ("headline", "subline", "cta", "disclaimer"):
            if name in boxes and im.overlaps(clear, boxes[name]):
                add("logo-clear-space", "error", f"{name} is inside the logo's clear space")
    elif brand.logo is not None and composed.info.get("logo_px") is None and "logo" not in boxes:
        add("logo", "warning", "no logo on this asset")

    # no element on top of another
    present = [n for n in ("headline", "subline", "cta", "disclaimer") if n in boxes]
    for i, first in enumerate(present):
        for second in present[i + 1:]:
            if im.overlaps(boxes[first], boxes[second]):
                add("overlap", "error", f"{first} overlaps {second}")

    # the product of a packshot stays visible
    for product in (frame.protect if frame is not None else []):
        covering = [n for n in ("headline", "subline", "cta", "disclaimer") if n in boxes
                    and im.overlaps(boxes[n], product)]
        if covering:
            add("covers-product", "warning", f"{', '.join(covering)} cover(s) the product: no free band beside "
                                             f"it fits the copy on {fmt.name} ({fmt.width}×{fmt.height})")

    # words
    texts = {"headline": copy.headline, "subline": copy.subline, "cta": copy.cta, "disclaimer": copy.disclaimer}
    for field_name, text in texts.items():
        for word in banned_words_in(text or "", brand.voice.banned_words):
            add("banned-word", "error", f"{field_name} uses the banned word {word!r}")
    if brand.voice.disclaimer_required and "disclaimer" not in boxes:
        add("disclaimer", "error", "the brand requires a disclaimer and this asset has none")
    for name in composed.info.get("dropped", []):
        if name in ("cta", "disclaimer"):
            add("dropped", "warning", f"{name} left out: it does not fit {fmt.name} ({fmt.width}×{fmt.height})")
    return out


class CheckStep(Step):
    params: CheckParams
    """Check every composed asset: safe zone, contrast, logo, overlaps, banned words, disclaimer."""

    name = "check"
    description = "verify safe zone, text contrast, logo size and clear space, banned words, disclaimer"
    Params = CheckParams
    inputs = ("composed",)
    provides = ("checks",)

    def run(self, ctx: RunContext, state: RunState) -> None:
        from ..errors import StepError

        todo = [j for j in state.pending if j.key in state.composed]

        def one(job):
            return check_asset(ctx.brand, ctx.brief.copy[job.locale], state.composed[job.key],
                               state.frames.get(job.frame_id), self.params.min_contrast)

        results = [r for rs in ctx.map(one, todo, "check") for r in rs]
        state.checks.extend(results)
        if self.params.fail_on == "never":
            return
        threshold = LEVELS[self.params.fail_on]
        failing = [r for r in results if LEVELS.get(r.level, 0) >= threshold]
        if failing:
            lines = [f"{r.job.relpath('png')}: {r.check}: {r.message}" for r in failing[:10]]
            more = f"\n… and {len(failing) - 10} more" if len(failing) > 10 else ""
            raise StepError(f"{len(failing)} check(s) failed:\n" + "\n".join(lines) + more)
