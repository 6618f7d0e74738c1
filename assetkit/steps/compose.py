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
from ..brand import hex_to_rgb
from ..files import file_version
from ..layout import LEADING, TEXT_ELEMENTS, FitError, LayoutParams, logo_image, plan_layout, scale_plan, type_scale
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
def _logo_scaled(path: str, width: int, height: int, recolour: tuple[int, int, int] | None = None,
                 version: tuple = ()) -> Image.Image:
    """A logo version scaled to fit ``width``×``height`` (aspect kept), optionally in one colour
    (``version``: the file's :func:`~assetkit.files.file_version`, so a changed file is read again)."""
    logo = logo_image(path)
    scale = min(width / logo.width, height / logo.height)
    out = logo.resize((max(1, int(round(logo.width * scale))), max(1, int(round(logo.height * scale)))),
                      Image.Resampling.LANCZOS)
    if recolour is not None:
        solid = Image.new("RGBA", out.size, recolour + (255,))
        solid.putalpha(out.getchannel("A"))
        out = solid
    return out


def logo_candidates(brand: BrandKit) -> list[tuple[str, str, tuple[int, int, int] | None]]:
    """``(name, file, recolour)`` of every logo the layout may draw: the kit's versions, then
    (with ``allow_recolour``, single-colour logos only) the default in each palette colour."""
    assert brand.logo is not None
    out: list[tuple[str, str, tuple[int, int, int] | None]] = [
        (name, str(brand.logo_path(name)), None) for name in brand.logo.versions()]
    if brand.logo.allow_recolour:
        for role in ("light", "background", "text", "primary"):
            if role in brand.palette:
                out.append((f"recolour:{role}", str(brand.logo_path()), brand.colour(role)))
    return out


def pick_logo(brand: BrandKit, background: Image.Image, box: Box, only: str | None = None
              ) -> tuple[str, Image.Image, float]:
    """The logo version with the best measured contrast on the pixels behind ``box``:
    ``(version, scaled RGBA logo, contrast)`` (ties keep the kit's order: default first);
    ``only``: that version."""
    w, h = box[2] - box[0], box[3] - box[1]
    best: tuple[str, Image.Image, float] | None = None
    for name, path, recolour in logo_candidates(brand):
        if only is not None and name != only:
            continue
        logo = _logo_scaled(path, w, h, recolour, file_version(path))
        behind = background.crop((box[0], box[1], box[0] + logo.width, box[1] + logo.height))
        value = im.logo_contrast(logo, behind)
        if best is None or value > best[2] + 0.05:
            best = (name, logo, value)
    assert best is not None
    return best


def _logo_plate(brand: BrandKit, canvas: Image.Image, background: Image.Image, plan, logo: Image.Image,
                solid_plate: bool = False):
    """Lay a soft plate of a palette colour behind the logo (inside its clear space), raising its
    opacity until the logo measures ≥ the kit's logo contrast (``solid_plate``: at full opacity):
    ``(canvas, background, contrast, plate info)``. The colour is the kit's ``logo.plate_colour``,
    else its background colour behind dark ink and its primary colour behind light ink."""
    import numpy as np

    assert brand.logo is not None
    x0, y0 = plan.logo[0], plan.logo[1]
    box = (x0, y0, x0 + logo.width, y0 + logo.height)
    rgba = np.asarray(logo)
    ink = rgba[..., :3][rgba[..., 3] >= 128]
    dark_ink = im.relative_luminance(tuple(int(v) for v in ink.mean(axis=0))) < 0.3 if len(ink) else True
    role = brand.logo.plate_colour or ("background" if dark_ink else "primary")
    colour = brand.colour(role)
    pad = max(3, int(round(0.25 * logo.height)))
    region = im.clip(im.expand(box, pad), plan.logo_clear or im.expand(box, pad))
    region = im.clip(region, (0, 0, canvas.width, canvas.height))
    local = (box[0] - region[0], box[1] - region[1], box[2] - region[0], box[3] - region[1])
    size = (region[2] - region[0], region[3] - region[1])
    mask = im.scrim_mask(size, local, pad, radius=pad, feather=pad / 3)
    solid = Image.new("RGB", size, colour)
    under = background.crop(region)
    opacity, value, plated = (1.0 if solid_plate else 0.3), 0.0, under
    while True:
        plated = Image.composite(solid, under, im.scale_mask(mask, opacity))
        value = im.logo_contrast(logo, plated.crop(local))
        if value >= brand.checks.min_logo_contrast or opacity >= 1.0:
            break
        opacity = min(1.0, opacity + 0.1)
    a = im.scale_mask(mask, opacity)
    background = background.copy()
    background.paste(plated, region[:2])
    canvas.paste(Image.composite(solid, canvas.crop(region), a), region[:2])
    return canvas, background, value, {"colour": _hex(colour), "opacity": round(opacity, 2)}


# -- drawing -------------------------------------------------------------------------------
def _hex(colour: Sequence[int]) -> str:
    return "#{:02X}{:02X}{:02X}".format(*colour[:3])


def _button_colours(brand: BrandKit, target: float) -> tuple[tuple[int, int, int], tuple[int, int, int]]:
    """The button's fill is always the kit's CTA colour; the label takes the first palette colour
    (light, background, text, ...) that reaches ``target`` on it, else the best one."""
    fill = brand.cta_fill()
    colours = brand.text_colours()
    prefer = [brand.colour(r) for r in ("light", "background", "text") if r in brand.palette]
    labels = prefer + [c for c in colours if c not in prefer]
    label = max(labels, key=lambda c: im.contrast_ratio(c, fill))
    for c in labels:
        if im.contrast_ratio(c, fill) >= target:
            label = c
            break
    return fill, label


def compose_asset(brand: BrandKit, copy: Copy, frame: Frame, params: ComposeParams | None = None,
                  job: Job | None = None, locale: str | None = None, caps: dict[str, int] | None = None
                  ) -> Composed:
    """Draw logo and copy on ``frame``: text colour (or a scrim) chosen on the actual pixels so
    every text element measures ≥ ``min_contrast``. Raises :class:`FitError` if copy cannot fit."""
    params = params or ComposeParams()
    plan = _plan(brand, copy, frame, params, job, locale, caps)
    return _render(brand, plan, frame.image, params, job)


def _plan(brand: BrandKit, copy: Copy, frame: Frame, params: ComposeParams, job: Job | None, locale: str | None,
          caps: dict[str, int] | None):
    locale = locale or (job.locale if job is not None else None)
    return plan_layout(brand, copy, frame.format, params, field_box=frame.field_box, image_box=frame.image_box,
                       avoid=getattr(frame, "protect", ()),
                       locale=locale, has_field=frame.field_box is not None, caps=caps)


def compose_scaled(brand: BrandKit, copy: Copy, frame: Frame, master: Image.Image, like: Composed, k: int,
                   params: ComposeParams | None = None, job: Job | None = None, locale: str | None = None,
                   caps: dict[str, int] | None = None) -> Image.Image:
    """The asset at ``k``× resolution (an @2x deliverable), rendered, not upscaled: the 1× layout
    (:func:`~assetkit.layout.scale_plan`) with type set at k× size, the logo resampled from its
    file and the picture from the master, with the 1× asset's colours, scrim and logo version."""
    params = params or ComposeParams()
    plan = scale_plan(_plan(brand, copy, frame, params, job, locale, caps), k)
    return _render(brand, plan, frame_at(frame, master, k), params, job, like.info).image


def frame_at(frame: Frame, master: Image.Image, k: int) -> Image.Image:
    """The frame's picture at ``k``× resolution, cut from the master with the frame's own crop."""
    w, h = frame.format.width * k, frame.format.height * k
    ix0, iy0, ix1, iy1 = frame.image_box
    iw, ih = (ix1 - ix0) * k, (iy1 - iy0) * k
    cw, ch = min(master.width, (ix1 - ix0) / frame.scale), min(master.height, (iy1 - iy0) / frame.scale)
    crop = frame.crop or (0.0, 0.0, 0.0, 0.0)
    cx0, cy0 = float(crop[0]), float(crop[1])
    cx0, cy0 = min(max(0.0, cx0), master.width - cw), min(max(0.0, cy0), master.height - ch)
    box = (cx0, cy0, cx0 + cw, cy0 + ch)
    panel = master.convert("RGB").resize((iw, ih), Image.Resampling.LANCZOS, box=box)
    if frame.field_box is None:
        return panel
    fx0, fy0 = frame.field_box[:2]
    canvas = Image.new("RGB", (w, h), frame.image.convert("RGB").getpixel((fx0, fy0)))
    canvas.paste(panel, (ix0 * k, iy0 * k))
    return canvas


def _render(brand: BrandKit, plan, image: Image.Image, params: ComposeParams, job: Job | None,
            like: dict | None = None) -> Composed:
    """Draw ``plan`` on ``image``; ``like`` (a 1× asset's info) fixes text colour, scrim and logo
    version so a k× rendering is the same design."""
    fmt = plan.fmt
    canvas = image.convert("RGB")  # a copy (of an RGB image too): drawn on in place
    target = params.min_contrast
    text_boxes = {n: p.box for n, p in plan.elements.items() if n in TEXT_ELEMENTS}
    measured: dict = {}  # box → the contrast of the text colour there on ``background`` (measured already)
    info: dict = {"layout": plan.layout, "direction": plan.direction,
                  "dropped": plan.dropped, "font_px": {}, "lines": {}, "contrast": {},
                  "scrim": False,
                  "hidden": [n for n, shown in (("cta", params.show_cta), ("subline", params.show_subline))
                             if not shown]}

    # text colour on the real pixels; a scrim only if no colour reaches the target
    if text_boxes:
        if like is not None and like.get("text_colour"):
            colour = hex_to_rgb(like["text_colour"])
            value = 0.0 if like.get("scrim") else target
        else:
            colour, value = im.pick_text_colour(canvas, list(text_boxes.values()), brand.text_colours(), target,
                                                record=measured)
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
            if like is not None and like.get("scrim"):  # the 1× asset's scrim, at its opacity
                scrim_colour = hex_to_rgb(like["scrim_colour"])
                opacity = like["scrim_opacity"]
                canvas = im.lay_scrim(canvas, scrim_colour, mask, opacity)
            else:
                canvas, opacity, value = im.apply_scrim(canvas, list(text_boxes.values()), colour, scrim_colour,
                                                        mask, target, in_place=True, record=measured)
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
        box = im.draw_text(draw, placed.fitted, placed.box, colour, plan.align, LEADING[name])
        boxes[name] = placed.box if im.contains(placed.box, box) else im.union([placed.box, box])
        info["font_px"][name] = placed.fitted.size
        info["lines"][name] = list(placed.fitted.lines)
        seen = measured.get(tuple(boxes[name]))
        info["contrast"][name] = round(im.measure_contrast(background, boxes[name], colour) if seen is None
                                       else seen, 2)

    cta_placed = plan.elements.get("cta")
    cta_fit = cta_placed.fitted if cta_placed is not None else None
    if cta_placed is not None and cta_fit is not None:
        placed = cta_placed
        fill, label = _button_colours(brand, target)
        x0, y0, x1, y1 = placed.box
        radius = int(round(brand.style.corner_radius * (y1 - y0) / 2))
        draw.rounded_rectangle((x0, y0, x1 - 1, y1 - 1), radius=radius, fill=fill)
        f = cta_fit.font
        im.draw_line(draw, ((x0 + x1) / 2, (y0 + y1) / 2), placed.text, f, label, anchor="mm",
                     direction=cta_fit.direction)
        boxes["cta"] = placed.box
        info["font_px"]["cta"] = cta_fit.size
        info["contrast"]["cta"] = round(im.contrast_ratio(label, fill), 2)
        info["cta_colours"] = {"fill": _hex(fill), "label": _hex(label)}

    logo_alpha = None
    if plan.logo is not None:
        assert brand.logo is not None
        version, logo, value = pick_logo(brand, background, plan.logo, like.get("logo_version") if like else None)
        mode = brand.logo.plate
        if mode == "always":  # the brand's backing plate on every asset; the version is picked on it
            _, background_plated, _, plate = _logo_plate(brand, canvas.copy(), background, plan, logo, True)
            version, logo, value = pick_logo(brand, background_plated, plan.logo,
                                             like.get("logo_version") if like else None)
            canvas, background, value, plate = _logo_plate(brand, canvas, background, plan, logo, True)
            info["logo_plate"] = plate
        elif mode == "auto" and value < brand.checks.min_logo_contrast:  # no version stands out: a soft plate
            canvas, background, value, plate = _logo_plate(brand, canvas, background, plan, logo)
            info["logo_plate"] = plate
        # the logo over its own box only (alpha compositing is per pixel): not the whole canvas to RGBA and back
        dest = (plan.logo[0], plan.logo[1], plan.logo[0] + logo.width, plan.logo[1] + logo.height)
        under = canvas.crop(dest).convert("RGBA")
        under.alpha_composite(logo)
        canvas.paste(under.convert("RGB"), dest)
        boxes["logo"] = (plan.logo[0], plan.logo[1], plan.logo[0] + logo.width, plan.logo[1] + logo.height)
        if plan.logo_clear is not None:
            boxes["logo_clear"] = plan.logo_clear
        logo_alpha = logo.getchannel("A")
        info["logo_px"] = [logo.width, logo.height]
        info["logo_version"] = version
        info["logo_contrast"] = round(value, 2)

    content = [b for n, b in boxes.items() if n in ("headline", "subline", "cta", "disclaimer")]
    if content:
        boxes["text_area"] = im.union(content)
    info["safe_zone"] = list(plan.safe)
    return Composed(job=job, image=canvas, boxes=boxes, info=info, background=background,  # type: ignore[arg-type]
                    logo_alpha=logo_alpha)  # job: None in previews


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

        scales: dict = {}  # one type scale per frame (format), over every locale of the brief

        def scale_of(job):
            if job.frame_id not in scales:
                frame = state.frames[job.frame_id]
                copies = {loc: ctx.brief.copy[loc].for_format(job.format) for loc in ctx.brief.locales}
                scales[job.frame_id] = type_scale(
                    ctx.brand, copies, job.format, self.params, field_box=frame.field_box,
                    image_box=frame.image_box, has_field=frame.field_box is not None,
                    avoid=getattr(frame, "protect", ()))
            return scales[job.frame_id]

        for job in state.pending:
            scale_of(job)

        pipeline = getattr(ctx, "pipeline", None)  # a step run on its own has no pipeline: 1× only
        export = getattr(pipeline.step("export"), "params", None) if pipeline is not None else None
        k = int(getattr(export, "scale", 1) or 1)
        wanted = list(getattr(export, "scale_formats", []) or [])

        def one(job):
            copy = ctx.brief.copy[job.locale].for_format(job.format)
            frame = state.frames[job.frame_id]
            try:
                composed = compose_asset(ctx.brand, copy, frame, self.params, job=job, caps=scales[job.frame_id])
            except FitError as exc:
                return job, None, exc
            if k > 1 and (not wanted or job.format.name in wanted or job.format.format_class in wanted):
                composed.scaled[k] = compose_scaled(ctx.brand, copy, frame, state.masters[job.master_id].image,
                                                    composed, k, self.params, job=job, caps=scales[job.frame_id])
            return job, composed, None

        failures = []
        for job, composed, exc in ctx.map(one, state.pending, "compose"):
            if exc is not None:
                failures.append(f"{job.relpath('png')}: {exc}")
            else:
                state.composed[job.key] = composed
        if failures:
            more = f"\n… and {len(failures) - 10} more" if len(failures) > 10 else ""
            raise StepError("copy does not fit:\n" + "\n".join(failures[:10]) + more)
