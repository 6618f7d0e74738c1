"""The ``check`` step: verify every composed asset is on brand, measured on its pixels and boxes."""
from __future__ import annotations

import re
import weakref
from typing import TYPE_CHECKING, Annotated, Literal

from pydantic import AfterValidator, Field

from .. import imaging as im
from ..brand import hex_to_rgb
from ..layout import copy_over_limits, required_elements, safe_box
from ..rules import check_rule_id, severity_of
from ..state import CheckResult, Composed, Frame
from .base import Step, StepParams

if TYPE_CHECKING:  # pragma: no cover
    from ..brand import BrandKit
    from ..brief import Copy
    from ..context import RunContext
    from ..state import RunState

ELEMENTS = ("logo", "headline", "subline", "cta", "disclaimer")
TEXT = ("headline", "subline", "disclaimer")


class CheckParams(StepParams):
    min_contrast: float = Field(4.5, ge=1, le=21)
    """WCAG contrast every text element must reach on the pixels behind it (AA: 4.5)."""
    fail_on: Literal["error", "warning", "never"] = "error"
    """Fail the run when a finding is at least this level (``never``: only report)."""
    severity: dict[Annotated[str, AfterValidator(check_rule_id)], Literal["error", "warning", "off"]] = {}
    """Rule id → error / warning / off, over the brand kit's ``checks.severity``."""


def banned_words_in(text: str, banned: list[str]) -> list[str]:
    """The banned words or phrases that occur in ``text`` as whole words (case-insensitive)."""
    found = []
    for word in banned:
        w = word.strip()
        if w and re.search(r"(?<!\w)" + r"\s+".join(map(re.escape, w.split())) + r"(?!\w)", text, re.IGNORECASE):
            found.append(word)
    return found


def check_asset(brand: BrandKit, copy: Copy, composed: Composed, frame: Frame | None = None,
                min_contrast: float = 4.5, severity: dict[str, str] | None = None) -> list[CheckResult]:
    """Every finding about one composed asset, each under its rule id (:mod:`assetkit.rules`) at
    the severity the kit and pipeline give it: measured on the asset's pixels, boxes and fonts."""
    job = composed.job
    if job is None and frame is None:
        raise ValueError("check_asset needs the composed asset's job or its frame")
    fmt = job.format if job is not None else frame.format
    out: list[CheckResult] = []

    def add(rule: str, message: str) -> None:
        level = severity_of(rule, brand.checks.severity, severity)
        if level != "off":
            out.append(CheckResult(job, rule, level, message))

    boxes = composed.boxes
    info = composed.info
    w, h = composed.image.size
    safe = safe_box(fmt)
    where = f"{fmt.name} ({fmt.width}×{fmt.height}, {fmt.format_class})"
    for name in ELEMENTS:
        b = boxes.get(name)
        if b is None:
            continue
        if not im.contains((0, 0, w, h), b):
            add("safe-zone", f"{name} box {list(b)} is outside the {w}×{h} image")
        elif not im.contains(safe, b):
            add("safe-zone", f"{name} box {list(b)} leaves the safe zone {list(safe)}")

    # required elements: never dropped silently
    texts = {"headline": copy.headline, "subline": copy.subline, "cta": copy.cta, "disclaimer": copy.disclaimer}
    present = [n for n, t in texts.items() if t]
    required = required_elements(brand, present)
    for name in required:
        if name not in boxes and name not in info.get("hidden", []):
            add("required-element", f"{name} is missing: it does not fit {where} at the minimum legible size")
    for name in info.get("dropped", []):
        if name not in required:
            add("dropped", f"{name} left out: it does not fit {where}")

    # contrast, re-measured on the pixels behind the text (frame + scrim, before text)
    background = composed.background or (frame.image if frame is not None else None)
    colour = info.get("text_colour")
    if background is not None and colour:
        rgb = hex_to_rgb(colour)
        for name in TEXT:
            if name in boxes:
                value = im.measure_contrast(background, boxes[name], rgb)
                if value < min_contrast:
                    add("text-contrast", f"{name} contrast {value:.2f}:1 is below {min_contrast}:1 "
                                         f"({colour} on the pixels behind it)")
    cta = info.get("cta_colours")
    if "cta" in boxes and cta:
        value = im.contrast_ratio(hex_to_rgb(cta["label"]), hex_to_rgb(cta["fill"]))
        if value < min_contrast:
            add("text-contrast", f"cta label {cta['label']} on the CTA colour {cta['fill']} is {value:.2f}:1, below "
                                 f"{min_contrast}:1, and no palette colour reaches it")

    # legible sizes (font data: the size each element was set in)
    for name, px in info.get("font_px", {}).items():
        need = brand.checks.headline_px(fmt.format_class) if name == "headline" else \
            brand.checks.text_px(fmt.format_class)
        if px < need:
            add("text-size", f"{name} is set at {px} px, below the minimum {need} px for {fmt.format_class} formats")

    # logo: contrast on its real background, size, clear space
    if brand.logo is not None and "logo" in boxes:
        lb = boxes["logo"]
        lw, lh = lb[2] - lb[0], lb[3] - lb[1]
        if composed.logo_alpha is not None and background is not None:
            value = im.ink_contrast(composed.image.crop(lb), background.crop(lb), composed.logo_alpha)
            floor = brand.checks.min_logo_contrast
            if value < floor:
                add("logo-contrast", f"logo ({info.get('logo_version', 'default')}) measures {value:.2f}:1 against "
                                     f"the pixels behind it, below {floor}:1")
        min_h = brand.checks.logo_px(fmt.format_class)
        if lw < brand.logo.min_width or lh < min_h:
            add("logo-size", f"logo is {lw}×{lh} px, below the minimum {brand.logo.min_width} px wide and "
                             f"{min_h} px high for {fmt.format_class} formats")
        clear = boxes.get("logo_clear", lb)
        for element in ("headline", "subline", "cta", "disclaimer"):
            if element in boxes and im.overlaps(clear, boxes[element]):
                add("logo-clear-space", f"{element} is inside the logo's clear space")
    elif brand.logo is not None and info.get("logo_px") is None and "logo" not in boxes:
        add("required-element", "no logo on this asset")

    # no element on top of another
    drawn = [n for n in ("headline", "subline", "cta", "disclaimer") if n in boxes]
    for i, first in enumerate(drawn):
        for second in drawn[i + 1:]:
            if im.overlaps(boxes[first], boxes[second]):
                add("overlap", f"{first} overlaps {second}")

    # the product of a packshot stays visible
    for product in (frame.protect if frame is not None else []):
        covering = [n for n in drawn if im.overlaps(boxes[n], product)]
        if covering:
            add("covers-product", f"{', '.join(covering)} cover(s) the product: no free band beside it fits the "
                                  f"copy on {where}")

    # palette adherence of the picture (not the copy drawn on it)
    picture = frame.image if frame is not None else background
    if picture is not None:
        for colour_rgb, share, nearest, de in off_palette(brand, picture):
            add("palette", f"dominant colour #{colour_rgb[0]:02X}{colour_rgb[1]:02X}{colour_rgb[2]:02X} "
                           f"({share:.0%} of the picture) is ΔE2000 {de:.1f} from the nearest palette colour "
                           f"{nearest}, above {brand.checks.palette_delta_e:g}")

    # the platform's character limits for the ad's text fields
    for over in copy_over_limits(brand, copy, fmt):
        add("copy-length", f"{over.describe()} on {fmt.name}")

    # words
    for field_name, text in texts.items():
        for word in banned_words_in(text or "", brand.voice.banned_words):
            add("banned-word", f"{field_name} uses the banned word {word!r}")
    return out


def off_palette(brand: BrandKit, picture) -> list[tuple[tuple[int, int, int], float, str, float]]:
    """Dominant colours of ``picture`` further than the kit's ΔE2000 threshold from every palette
    colour: ``(colour, share, nearest palette role, ΔE)``."""
    from ..colour import delta_e

    found = []
    palette = {role: hex_to_rgb(v) for role, v in brand.palette.items()}
    for rgb, share in _dominant(picture):
        role, de = min(((r, delta_e(rgb, c)) for r, c in palette.items()), key=lambda t: t[1])
        if de > brand.checks.palette_delta_e:
            found.append((rgb, share, role, de))
    return found


def _dominant(picture):
    """:func:`~assetkit.colour.dominant_colours` of ``picture``, once per picture: a frame is
    checked once per locale. The cache holds the picture weakly (an entry goes when its picture
    is freed), so it never keeps a batch's frames alive after the batch is exported."""
    from ..colour import dominant_colours

    key = id(picture)
    hit = _DOMINANT.get(key)
    if hit is None or hit[0]() is not picture:
        ref = weakref.ref(picture, lambda _ref, key=key: _forget(key, _ref))
        hit = (ref, dominant_colours(picture))
        _DOMINANT[key] = hit
    return hit[1]


def _forget(key: int, ref: weakref.ref) -> None:
    """Drop the cache entry of a freed picture (unless the id is already another picture's)."""
    hit = _DOMINANT.get(key)
    if hit is not None and hit[0] is ref:
        _DOMINANT.pop(key, None)


#: id(picture) → (weak reference to the picture, its dominant colours)
_DOMINANT: dict[int, tuple[weakref.ref, list]] = {}


class CheckStep(Step):
    params: CheckParams
    """Check every composed asset: safe zone, contrast, logo, overlaps, banned words, disclaimer."""

    name = "check"
    description = "verify safe zone, text contrast, logo size and clear space, banned words, disclaimer"
    Params = CheckParams
    inputs = ("composed",)
    provides = ("checks",)

    def run(self, ctx: RunContext, state: RunState) -> None:
        from ..campaign import effective_copy

        todo = [j for j in state.pending if j.key in state.composed]

        def one(job):
            copy = effective_copy(ctx.brand, ctx.brief.copy[job.locale], job.locale).for_format(job.format)
            composed = state.composed[job.key]
            found = check_asset(ctx.brand, copy, composed, state.frames.get(job.frame_id),
                                self.params.min_contrast, self.params.severity)
            # only the checks read these (a full-size image each): freed now, not when the batch is exported
            composed.background = composed.logo_alpha = None
            return found

        # a frame's jobs (one per locale) are next to each other: checked side by side, both threads
        # would measure the frame's dominant colours at once (the cache misses twice). Checked in
        # the order first job of every frame, then the second ones…, each frame is measured once
        # and its later jobs find it in the cache; the findings keep the jobs' order
        count: dict = {}
        rank = []  # 1 for a frame's first job, 2 for its second, …
        for job in todo:
            count[job.frame_id] = count.get(job.frame_id, 0) + 1
            rank.append(count[job.frame_id])
        order = sorted(range(len(todo)), key=lambda i: (rank[i], i))
        found = dict(zip(order, ctx.map(one, [todo[i] for i in order], "check")))
        # findings are recorded, not raised: every asset is checked and exported with its findings in
        # the manifest and on the contact sheet; the run then fails on them (runner.gate)
        state.checks.extend(r for i in range(len(todo)) for r in found[i])
