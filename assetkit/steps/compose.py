"""The ``compose`` step: logo, headline, subline, CTA button and disclaimer on each frame.

Layout is planned first (:func:`assetkit.layout.plan_layout`: pure geometry and text
measurement, shared with ``check`` and ``assetkit validate``), then drawn here
(:func:`compose_asset`).
"""
from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from typing import TYPE_CHECKING

from PIL import Image, ImageDraw
from pydantic import Field

from .. import imaging as im
from ..layout import LEADING, TEXT_ELEMENTS, FitError, LayoutParams, logo_image, plan_layout
from ..state import Box, Composed, Frame
from .base import Step, StepParams

if TYPE_CHECKING:  # pragma: no cover
    from ..brand import BrandKit
    from ..brief import Copy
    from ..context import RunContext
    from ..state import Job, RunState


class ComposeParams(StepParams, LayoutParams):
    """The compose step's params: the layout's, plus the contrast every text element must reach."""

    min_contrast: float = Field(4.5, ge=1, le=21)
    """WCAG contrast every text element must reach on the pixels behind it (a scrim is added if needed)."""


@lru_cache(maxsize=256)
def _logo_scaled(path: str, width: int, reversed_: bool, light: tuple[int, int, int]) -> Image.Image:
    logo = logo_image(path)
    h = max(1, int(round(logo.height * width / logo.width)))
    out = logo.resize((width, h), Image.Resampling.LANCZOS)
    if reversed_:
        out = reverse_logo(out, light)
    return out


def reverse_logo(logo: Image.Image, light: tuple[int, int, int] = (255, 255, 255)) -> Image.Image:
    """The logo for dark backgrounds: its dark ink turned ``light``, other colours kept."""
    import numpy as np

    arr = np.asarray(logo.convert("RGBA")).copy()
    lum = im.luminance_map(arr[..., :3])
    dark = lum < 0.12
    arr[dark, 0], arr[dark, 1], arr[dark, 2] = light
    return Image.fromarray(arr, "RGBA")


# -- drawing -------------------------------------------------------------------------------
def _hex(colour: Sequence[int]) -> str:
    return "#{:02X}{:02X}{:02X}".format(*colour[:3])


def _text_candidates(brand: BrandKit) -> list[tuple[int, int, int]]:
    seen, out = set(), []
    for c in (brand.colour("text"), brand.colour("light", "background"), (255, 255, 255),
              brand.colour("primary"), (0, 0, 0)):
        if c not in seen:
            seen.add(c)
            out.append(c)
    return out


def _button_colours(brand: BrandKit, bg: Image.Image, box: Box, target: float):
    """Button fill (accent, else secondary, else primary) that stands out from what is behind
    it, and the label colour with the best-preferred contrast ≥ ``target`` on it."""
    fills = ([brand.colour(r) for r in ("accent", "secondary", "primary") if r in brand.palette]
             or [brand.colour("primary")])
    fill = fills[0]
    for f in fills:
        if im.measure_contrast(bg, box, f, percentile=50) >= 1.5:
            fill = f
            break
    labels = [brand.colour("light", "background"), (255, 255, 255), brand.colour("text"), (0, 0, 0)]
    label = max(labels, key=lambda c: im.contrast_ratio(c, fill))
    for c in labels:
        if im.contrast_ratio(c, fill) >= target:
            label = c
            break
    return fill, label


def compose_asset(brand: BrandKit, copy: Copy, frame: Frame, params: ComposeParams | None = None,
                  job: Job | None = None, locale: str | None = None) -> Composed:
    """Draw logo and copy on ``frame``: text colour (or a scrim) chosen on the actual pixels so
    every text element measures ≥ ``min_contrast``. Raises :class:`FitError` if copy cannot fit."""
    params = params or ComposeParams()
    locale = locale or (job.locale if job is not None else None)
    fmt = frame.format
    plan = plan_layout(brand, copy, fmt, params, field_box=frame.field_box, image_box=frame.image_box,
                       avoid=getattr(frame, "protect", ()),
                       locale=locale, has_field=frame.field_box is not None)
    canvas = frame.image.convert("RGB").copy()
    target = params.min_contrast
    text_boxes = {n: p.box for n, p in plan.elements.items() if n in TEXT_ELEMENTS}
    info: dict = {"layout": plan.layout, "dropped": plan.dropped, "font_px": {}, "lines": {}, "contrast": {},
                  "scrim": False}

    # text colour on the real pixels; a scrim only if no colour reaches the target
    if text_boxes:
        colour, value = im.pick_text_colour(canvas, list(text_boxes.values()), _text_candidates(brand), target)
        if value < target:
            light = im.relative_luminance(colour) > 0.4
            scrim_colour = brand.colour("primary") if light else brand.colour("background")
            block = im.union(list(text_boxes.values()))
            pad = max(6, int(round(min(fmt.width, fmt.height) * 0.03)))
            if plan.layout == "full":
                ramp = max(pad * 2, (block[3] - block[1]) // 2)
                mask = im.gradient_mask(canvas.size, im.expand(block, pad), ramp, from_bottom=plan.anchor == "bottom")
            else:
                mask = im.scrim_mask(canvas.size, block, pad, radius=pad, feather=pad / 3)
            canvas, opacity, value = im.apply_scrim(canvas, list(text_boxes.values()), colour, scrim_colour, mask,
                                                    target)
            info["scrim"] = True
            info["scrim_opacity"] = round(opacity, 2)
            info["scrim_colour"] = _hex(scrim_colour)
        info["text_colour"] = _hex(colour)
    background = canvas.copy()  # what is behind the text: the check step re-measures on this

    draw = ImageDraw.Draw(canvas)
    boxes: dict[str, Box] = {}
    for name, placed in plan.elements.items():
        if name == "cta" or placed.fitted is None:
            continue
        box = im.draw_text(draw, placed.fitted, placed.box, colour, plan.align if plan.layout != "row" else "left",
                           LEADING[name])
        boxes[name] = placed.box if im.contains(placed.box, box) else im.union([placed.box, box])
        info["font_px"][name] = placed.fitted.size
        info["lines"][name] = list(placed.fitted.lines)
        info["contrast"][name] = round(im.measure_contrast(background, boxes[name], colour), 2)

    cta_placed = plan.elements.get("cta")
    cta_fit = cta_placed.fitted if cta_placed is not None else None
    if cta_placed is not None and cta_fit is not None:
        placed = cta_placed
        fill, label = _button_colours(brand, background, placed.box, target)
        x0, y0, x1, y1 = placed.box
        radius = int(round(brand.style.corner_radius * (y1 - y0) / 2))
        draw.rounded_rectangle((x0, y0, x1 - 1, y1 - 1), radius=radius, fill=fill)
        f = cta_fit.font
        im.draw_line(draw, ((x0 + x1) / 2, (y0 + y1) / 2), placed.text, f, label, anchor="mm")
        boxes["cta"] = placed.box
        info["font_px"]["cta"] = cta_fit.size
        info["contrast"]["cta"] = round(im.contrast_ratio(label, fill), 2)
        info["cta_colours"] = {"fill": _hex(fill), "label": _hex(label)}

    if plan.logo is not None:
        lw = plan.logo[2] - plan.logo[0]
        ink = brand.colour("primary")
        reversed_ = im.measure_contrast(background, plan.logo, ink, percentile=50) < 3.0
        logo = _logo_scaled(str(brand.logo_path()), lw, reversed_, brand.colour("light", "background"))
        rgba = canvas.convert("RGBA")
        rgba.alpha_composite(logo, plan.logo[:2])
        canvas = rgba.convert("RGB")
        boxes["logo"] = (plan.logo[0], plan.logo[1], plan.logo[0] + logo.width, plan.logo[1] + logo.height)
        if plan.logo_clear is not None:
            boxes["logo_clear"] = plan.logo_clear
        info["logo_px"] = [logo.width, logo.height]
        info["logo_reversed"] = reversed_

    content = [b for n, b in boxes.items() if n in ("headline", "subline", "cta", "disclaimer")]
    if content:
        boxes["text_area"] = im.union(content)
    info["safe_zone"] = list(plan.safe)
    composed = Composed(job=job, image=canvas, boxes=boxes, info=info)  # type: ignore[arg-type]  # job: None in previews
    composed.background = background  # pixels behind the text, for ``check``
    return composed


class ComposeStep(Step):
    params: ComposeParams
    """Lay out logo, headline, subline, CTA and disclaimer on every pending job's frame."""

    name = "compose"
    description = "draw logo and copy on each frame, fitted to the safe zone with contrast ≥ 4.5:1"
    Params = ComposeParams
    inputs = ("frames",)
    provides = ("composed",)

    def run(self, ctx: RunContext, state: RunState) -> None:
        from ..errors import StepError

        def one(job):
            try:
                return job, compose_asset(ctx.brand, ctx.brief.copy[job.locale], state.frames[job.frame_id],
                                          self.params, job=job), None
            except FitError as exc:
                return job, None, exc

        failures = []
        for job, composed, exc in ctx.map(one, state.pending, "compose"):
            if exc is not None:
                failures.append(f"{job.relpath('png')}: {exc}")
            else:
                state.composed[job.key] = composed
        if failures:
            more = f"\n… and {len(failures) - 10} more" if len(failures) > 10 else ""
            raise StepError("copy does not fit:\n" + "\n".join(failures[:10]) + more)
