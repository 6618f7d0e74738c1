"""Layout planning: where logo and copy go on a format, measured but not drawn.

Pure geometry and text measurement, shared by the ``reframe``, ``compose`` and ``check`` steps
and by ``assetkit validate`` (:func:`fit_problems`), so "fits" means the same thing everywhere.
Steps import this module, never each other.
"""
from __future__ import annotations

import math
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import TYPE_CHECKING, Literal, cast

from PIL import Image
from pydantic import Field

from . import imaging as im
from .brand import COPY_FONT_ROLE
from .config_base import StrictModel
from .files import file_version, load_image
from .formats import AdFormat
from .state import Box
from .typeface import FontStack

if TYPE_CHECKING:  # pragma: no cover
    from .brand import BrandKit
    from .brief import Copy


TEXT_ELEMENTS = ("headline", "subline", "disclaimer")
LEADING = {"headline": 1.08, "subline": 1.22, "disclaimer": 1.2, "cta": 1.0}
FONT_ROLE = COPY_FONT_ROLE

# (max, min) font sizes as fractions of the layout's unit length, per layout family
SIZES = {
    "full": {"headline": (0.092, 0.040), "subline": (0.040, 0.024), "cta": (0.034, 0.024),
             "disclaimer": (0.019, 0.015)},
    "tower": {"headline": (0.15, 0.07), "subline": (0.08, 0.05), "cta": (0.08, 0.05), "disclaimer": (0.05, 0.035)},
    "stack": {"headline": (0.15, 0.07), "subline": (0.072, 0.045), "cta": (0.066, 0.045), "disclaimer": (0.046, 0.035)},
    "row": {"headline": (0.30, 0.12), "subline": (0.16, 0.1), "cta": (0.19, 0.1), "disclaimer": (0.12, 0.1)},
}
MAX_LINES = {"headline": 4, "subline": 4, "disclaimer": 3, "cta": 1}


#: image panel share of a strip's width / a tower's height (the reframe step's default)
DEFAULT_PANEL = 0.38


class LayoutParams(StrictModel):
    """The layout part of the compose step's params (what :func:`plan_layout` reads)."""

    align: Literal["left", "center"] = "left"
    """Text alignment (full and tower layouts)."""
    margin: float = Field(0.05, ge=0, le=0.25)
    """Margin inside the safe zone, as a fraction of the format's short side."""
    headline_min_px: int = Field(9, ge=6, le=200)
    """Absolute floor for the headline size (the format's own minimum may be larger)."""
    body_min_px: int = Field(9, ge=6, le=200)
    """Absolute floor for subline, CTA and disclaimer sizes."""
    show_subline: bool = True
    """Set the brief's subline (off: headline, CTA and disclaimer only)."""
    show_cta: bool = True
    """Draw the CTA button."""
    show_logo: bool = True
    """Place the brand's logo."""
    text_share: float = Field(0.55, gt=0, le=1)
    """Full-bleed layouts: the text block takes at most this share of the height if it can."""
    grow: float = Field(1.4, ge=1, le=2)
    """Tall full-bleed formats: short copy grows up to this × the largest sizes (never past the
    format's height/width ratio) to fill the text block's room; 1 turns it off."""


class FitError(ValueError):
    """Copy that cannot be laid out in a format even at minimum sizes: ``problems`` are
    ``(copy field, message)`` pairs."""

    def __init__(self, problems: list[tuple[str, str]]):
        self.problems = problems
        super().__init__("; ".join(m for _, m in problems))


@dataclass
class Placed:
    """One element of a planned layout: its box and, for text, the fitted lines."""

    name: str
    box: Box
    fitted: im.FittedText | None = None
    text: str = ""


@dataclass
class Plan:
    """Where everything goes on one format (no pixels yet)."""

    fmt: AdFormat
    layout: str  # full / tower / stack / row
    safe: Box
    content: Box
    align: str
    elements: dict[str, Placed] = field(default_factory=dict)
    logo: Box | None = None
    logo_clear: Box | None = None
    dropped: list[str] = field(default_factory=list)
    anchor: str = "bottom"  # full layouts: the text block sits at the bottom (or top)
    direction: str = "ltr"  # rtl: Arabic, Hebrew... copy, right-aligned and mirrored


# -- geometry ----------------------------------------------------------------------------
def safe_box(fmt: AdFormat) -> Box:
    """The format's safe zone in pixels."""
    sz = fmt.safe_zone
    w, h = fmt.width, fmt.height
    return (int(math.ceil(sz.left * w)), int(math.ceil(sz.top * h)),
            int(math.floor(w - sz.right * w)), int(math.floor(h - sz.bottom * h)))




def panel_boxes(fmt: AdFormat, panel: float = DEFAULT_PANEL) -> tuple[Box, Box | None]:
    """``(image_box, field_box)`` of a format: the whole canvas for ``full`` layouts; for a
    ``strip`` the image on the left (at most 2× the height wide), for a ``tower`` on top
    (at most 1.6× the width tall)."""
    w, h = fmt.width, fmt.height
    if fmt.layout == "strip":
        pw = int(round(min(panel * w, (2.0 if h >= 80 else 1.2) * h)))  # tiny banners: room for copy
        return (0, 0, pw, h), (pw, 0, w, h)
    if fmt.layout == "tower":
        ph = int(round(min(panel * h, 1.6 * w)))
        return (0, 0, w, ph), (0, ph, w, h)
    return (0, 0, w, h), None


def logo_image(path: str) -> Image.Image:
    """The logo file as RGBA, read through :func:`~assetkit.files.open_input` when first used and
    again when the file changes: one swapped since validation for a FIFO, device or a link to one
    is refused at once (exit 2), never read blocking."""
    return _logo_image(path, file_version(path))


@lru_cache(maxsize=32)
def _logo_image(path: str, version: tuple) -> Image.Image:
    return load_image(path, "RGBA")



def logo_width(brand: BrandKit, fmt: AdFormat, layout: str) -> int:
    """Logo width: ``logo.width`` × the format's short side (strips/towers: up to twice the
    short side, so billboards are not given a postage stamp), never below ``logo.min_width``."""
    assert brand.logo is not None
    short = min(fmt.width, fmt.height)
    base = short if layout == "full" else min(max(fmt.width, fmt.height), 2 * short)
    return max(brand.logo.min_width, int(round(brand.logo.width * base)))


def _sizes(layout: str, unit: float, params: LayoutParams, floors: tuple[int, int] = (0, 0)
           ) -> dict[str, tuple[int, int]]:
    """``{element: (max px, min px)}``; ``floors`` are the kit's minimum legible sizes
    (headline, other text) for the format class: the layout never goes below them."""
    out = {}
    for name, (hi, lo) in SIZES[layout].items():
        floor = max(params.headline_min_px, floors[0]) if name == "headline" else max(params.body_min_px, floors[1])
        mn = max(floor, int(round(lo * unit)))
        out[name] = (max(mn, int(round(hi * unit))), mn)
    return out


def _copy_texts(copy: Copy, brand: BrandKit, locale: str | None, params: LayoutParams) -> dict[str, str]:
    disclaimer = copy.disclaimer or (brand.voice.disclaimer.get(locale, "") if locale else "")
    texts = {"headline": copy.headline.strip(), "subline": (copy.subline or "").strip() if params.show_subline else "",
             "cta": (copy.cta or "").strip() if params.show_cta else "", "disclaimer": disclaimer.strip()}
    return {k: v for k, v in texts.items() if v}


def _short(text: str, n: int = 22) -> str:
    return text if len(text) <= n else text[: n - 1].rstrip() + "…"


# -- stacking text ---------------------------------------------------------------------------
@dataclass
class _Fit:
    name: str
    fitted: im.FittedText | None  # None for the CTA (single line, measured separately)
    w: int
    h: int
    size: int
    text: str


#: _fit_one's answers by its arguments: a campaign sets the same copy at the same width and size
#: for every concept and variant of a format (8× in the example), and wrapping is pure in them
_FITS: dict[tuple, object] = {}
_FITS_MAX = 8192
_UNSET = object()


def _fit_one(name: str, text: str, font_path: str | FontStack, width: int, size: int, min_size: int,
             splitter=None) -> _Fit | None:
    """``text`` wrapped and measured at ``size`` into ``width`` (memoised: a copy of the answer)."""
    key = (name, text, font_path, width, size, min_size, splitter)
    hit = _FITS.get(key, _UNSET)  # one lookup: another thread may clear the table meanwhile
    if hit is _UNSET:
        got = _fit_uncached(name, text, font_path, width, size, min_size, splitter)
        if len(_FITS) >= _FITS_MAX:
            _FITS.clear()
        _FITS[key] = got
    else:
        got = cast("_Fit | None", hit)
    if got is None:
        return None
    ft = got.fitted
    if ft is not None:  # callers may mark a placed block (direction): each gets its own
        ft = replace(ft, lines=list(ft.lines), widths=list(ft.widths))
    return replace(got, fitted=ft)


def _fit_uncached(name: str, text: str, font_path: str | FontStack, width: int, size: int, min_size: int,
                  splitter=None) -> _Fit | None:
    f = im.font(font_path, size)
    if name == "cta":
        tw = int(math.ceil(f.getlength(text)))
        pad_x = int(round(size * 1.0))
        bw, bh = tw + 2 * pad_x, int(round(size * 2.1))
        if bw > width:
            return None
        label = im.FittedText([text], size, font_path, bh, tw, size, False, [tw])
        return _Fit(name, label, bw, bh, size, text)
    if splitter is None and isinstance(font_path, FontStack):
        splitter = im.hyphenator(font_path.locale)
    wrapped = im.wrap_words(text, f, width, hyphenate=size <= min_size, splitter=splitter)
    if wrapped is None:
        return None
    lines, hyph = wrapped
    if len(lines) > MAX_LINES[name]:
        return None
    if name == "headline" and len(lines) > 1 and len(lines[-1].split()) == 1 and len(text.split()) > 2:
        for k in (0.92, 0.84, 0.76, 0.68):  # no single-word widow: a narrower measure, same line count
            alt = im.wrap_words(text, f, width * k, hyphenate=hyph, splitter=splitter)
            if alt is not None and len(alt[0]) == len(lines) and len(alt[0][-1].split()) > 1:
                lines = alt[0]
                break
    w, h, widths = im.measure_block(lines, f, LEADING[name])
    ft = im.FittedText(lines, size, font_path, im.line_metrics(f, LEADING[name])[2], w, h, hyph, widths)
    return _Fit(name, ft, w, h, size, text)


def _gap(prev: _Fit, nxt: _Fit) -> int:
    if prev.name == "headline":
        return int(round(prev.size * (0.45 if nxt.name == "subline" else 0.7)))
    return int(round(max(prev.size, nxt.size) * 0.8))


def _stack(texts: dict[str, str], fonts: dict[str, FontStack], sizes: dict[str, tuple[int, int]], width: int,
           height: int, head_width: int | None = None, grow: float = 1.0) -> tuple[list[_Fit], int] | None:
    """Fit the elements in order into ``width``×``height`` at the largest common scale. When
    everything fits at the largest sizes and ``grow`` > 1, the type grows (up to ``grow`` × those
    sizes, one more line at most) while it still fits: short copy uses the room it is given."""
    order = [n for n in ("headline", "subline", "cta", "disclaimer") if n in texts]

    def attempt(scale: float, floor: bool = True) -> tuple[list[_Fit], int, bool] | None:
        fits: list[_Fit] = []
        at_min = True
        for n in order:
            hi, lo = sizes[n]
            size = max(lo, int(round(hi * scale)))
            at_min &= size == lo
            w = head_width if (n == "headline" and head_width) else width
            got = _fit_one(n, texts[n], fonts[n], w, size, lo if floor else 0)  # growing: no hyphenation
            if got is None:
                return None if not at_min else ([], 0, True)
            fits.append(got)
        return fits, sum(f.h for f in fits) + sum(_gap(a, b) for a, b in zip(fits, fits[1:])), at_min

    scale = 1.0
    while True:
        got = attempt(scale)
        if got is not None and got[0] and got[1] <= height:
            if scale == 1.0 and grow > 1.0:
                return _grow(attempt, (got[0], got[1]), height, grow)
            return got[0], got[1]
        if got is not None and got[2]:
            return None
        scale *= 0.93


def _lines(fits: list[_Fit]) -> int:
    return sum(len(f.fitted.lines) if f.fitted is not None else 1 for f in fits)


def _grow(attempt, best: tuple[list[_Fit], int], height: int, grow: float) -> tuple[list[_Fit], int]:
    """The largest scale up to ``grow`` at which the stack still fits ``height`` with at most one
    line more than at scale 1 (and no word hyphenated that was not)."""
    lines, hyph = _lines(best[0]), any(f.fitted is not None and f.fitted.hyphenated for f in best[0])
    scale = 1.0
    while scale * 1.05 <= grow + 1e-9:
        scale *= 1.05
        got = attempt(scale, floor=False)
        if got is None or not got[0] or got[1] > height or _lines(got[0]) > lines + 1 or \
                (not hyph and any(f.fitted is not None and f.fitted.hyphenated for f in got[0])):
            break
        best = (got[0], got[1])
    return best


def _free_band(texts, fonts, sizes, area: Box, avoid: Sequence[Box], plan: Plan, sizes_floor: int):
    """The band of ``area`` beside the ``avoid`` boxes where the copy fits largest:
    ``(band, stack_result, anchor)``, or None when the copy does not collide or fits nowhere."""
    hits = [b for b in avoid if im.overlaps(b, area)]
    if not hits:
        return None
    gap = max(6, sizes_floor // 40)
    x0, y0, x1, y1 = area
    top, bottom = min(b[1] for b in hits), max(b[3] for b in hits)
    left, right = min(b[0] for b in hits), max(b[2] for b in hits)
    bands = [((x0, bottom + gap, x1, y1), "bottom"), ((x0, y0, x1, top - gap), "top"),
             ((x0, y0, left - gap, y1), "bottom"), ((right + gap, y0, x1, y1), "bottom")]
    best = None
    for band, anchor in bands:
        bw, bh = band[2] - band[0], band[3] - band[1]
        if bw < 40 or bh < 20:
            continue
        got = _stack(texts, fonts, sizes, bw, bh, int(bw * 0.92))
        if got is None:
            continue
        head = got[0][0].size if got[0] else 0
        if best is None or head > best[0]:
            best = (head, band, got, anchor)
    if best is None:
        return None
    return best[1], best[2], best[3]


def _blame(texts: dict[str, str], fonts: dict[str, FontStack], sizes: dict[str, tuple[int, int]], width: int,
           height: int, fmt: AdFormat) -> list[tuple[str, str]]:
    """Why the stack does not fit at minimum sizes, per copy field."""
    where = f"{fmt.name} ({fmt.width}×{fmt.height})"
    problems, fits = [], []
    for n, text in texts.items():
        lo = sizes[n][1]
        got = _fit_one(n, text, fonts[n], width, lo, lo)
        f = im.font(fonts[n], lo)
        if got is None:
            if n == "cta":
                need = int(math.ceil(f.getlength(text))) + 2 * lo
                problems.append((n, f"{n} does not fit {where} even at {lo} px: {_short(text)!r} needs {need} px, "
                                    f"box is {width} px"))
            else:
                need = int(math.ceil(f.getlength(text) / MAX_LINES[n]))
                problems.append((n, f"{n} does not fit {where} even at {lo} px: {_short(text)!r} needs {need} px "
                                    f"per line in {MAX_LINES[n]} lines, box is {width} px"))
        else:
            fits.append(got)
    if not problems and fits:
        total = sum(f.h for f in fits) + sum(_gap(a, b) for a, b in zip(fits, fits[1:]))
        big = max(fits, key=lambda f: f.h)
        problems.append((big.name, f"{big.name} does not fit {where} even at {big.size} px: "
                                   f"{_short(big.text)!r} with the rest of the copy needs {total} px height, "
                                   f"box is {height} px"))
    return problems


# -- planning ------------------------------------------------------------------------------
def plan_layout(brand: BrandKit, copy: Copy, fmt: AdFormat, params: LayoutParams | None = None,
                field_box: Box | None = None, image_box: Box | None = None, locale: str | None = None,
                has_field: bool | None = None, avoid: Sequence[Box] = (), caps: dict[str, int] | None = None) -> Plan:
    """Place logo and copy on ``fmt`` without drawing. Raises :class:`FitError` when the
    copy cannot fit even at minimum sizes (after dropping what may be dropped).

    ``avoid`` are boxes the copy must not cover (a packshot's product): on full-bleed layouts
    the copy goes into the largest free band beside them where it fits best."""
    params = params or LayoutParams()
    w, h = fmt.width, fmt.height
    if has_field is None and field_box is None and image_box is None:
        image_box, field_box = panel_boxes(fmt)
    safe = safe_box(fmt)
    short = min(w, h)
    texts = _copy_texts(copy, brand, locale, params)
    fonts = {n: brand.font_stack(FONT_ROLE[n], locale) for n in ("headline", "subline", "cta", "disclaimer")}
    show_logo = params.show_logo and brand.logo is not None
    required = brand.voice.disclaimer_required

    if field_box is None:
        m = max(4, int(round(params.margin * short)))
        content = im.inset(safe, m)
        layout, unit = "full", short
    else:
        region = im.clip(field_box, safe)
        fw, fh = region[2] - region[0], region[3] - region[1]
        if fmt.layout == "tower" or fh > fw:
            m = max(4, int(round(params.margin * 1.6 * fw)))
            layout, unit = "tower", fw
        elif fh - 2 * max(4, params.margin * fh) >= 150:
            m = max(4, int(round(params.margin * fh)))
            layout, unit = "stack", fh
        else:
            m = max(4, int(round(0.1 * fh)))
            layout, unit = "row", fh
        content = im.inset(region, m)
    plan = Plan(fmt, layout, safe, content, params.align if layout != "row" else "left")
    cls = fmt.format_class
    sizes = _sizes(layout, unit, params, (brand.checks.headline_px(cls), brand.checks.text_px(cls)))
    if caps:  # the campaign's type scale for this format: every locale sets an element at most this size
        sizes = {n: (max(lo, caps.get(n, hi)), lo) for n, (hi, lo) in sizes.items()}
    # tall full-bleed formats: short copy grows into the room (up to params.grow, not past the format's ratio)
    grow = 1.0 if caps or layout != "full" else max(1.0, min(params.grow, fmt.height / fmt.width))
    if layout == "row" and "subline" in texts:
        texts.pop("subline")
        plan.dropped.append("subline")

    # logo
    cx0, cy0, cx1, cy1 = content
    if show_logo and brand.logo is not None:
        lw = logo_width(brand, fmt, "full" if layout == "full" else layout)
        lw = min(lw, cx1 - cx0) if layout != "row" else lw
        with_logo = logo_image(str(brand.logo_path()))
        lh = max(1, int(round(with_logo.height * lw / with_logo.width)))
        if layout == "row" and lh > cy1 - cy0:
            lh = cy1 - cy0
            lw = max(brand.logo.min_width, int(round(with_logo.width * lh / with_logo.height)))
            lh = max(1, int(round(with_logo.height * lw / with_logo.width)))
        min_h = brand.checks.logo_px(cls)  # never smaller than the class's legible logo height
        room_h = (cy1 - cy0) if layout == "row" else max(1, (cy1 - cy0) // 3)
        if lh < min_h:
            lh = min(min_h, room_h)
            lw = max(lw, int(math.ceil(with_logo.width * lh / with_logo.height)))
            if layout != "row":
                lw = min(lw, cx1 - cx0)
            lh = max(1, int(round(with_logo.height * lw / with_logo.width)))
        placement = brand.logo.placement
        vert, _, horiz = placement.partition("-")
        if layout == "row":
            x, y = cx0, cy0 + (cy1 - cy0 - lh) // 2
        else:
            if layout in ("tower", "stack"):
                vert = "top"
                horiz = "center" if params.align == "center" else horiz
            if horiz == "left":
                x = cx0
            elif horiz == "right":
                x = cx1 - lw
            else:
                x = cx0 + (cx1 - cx0 - lw) // 2
            y = cy0 if vert == "top" else cy1 - lh
        plan.logo = (x, y, x + lw, y + lh)
        plan.logo_clear = im.expand(plan.logo, brand.logo.clear_space * lh, (0, 0, w, h))
        plan.anchor = "bottom" if vert == "top" else "top"

    if layout == "row":
        _plan_row(plan, texts, fonts, sizes, params, required)
        return _set_direction(plan, texts, locale, mirror=True)

    # vertical stack below (or above) the logo's clear space
    if plan.logo_clear is not None:
        if plan.anchor == "bottom":
            area = (cx0, max(cy0, plan.logo_clear[3]), cx1, cy1)
        else:
            area = (cx0, cy0, cx1, min(cy1, plan.logo_clear[1]))
    else:
        area = content
    aw, ah = area[2] - area[0], area[3] - area[1]
    attempts: list[tuple[int, int]] = [(aw, ah)]
    if layout == "full":
        attempts.insert(0, (aw, int(ah * params.text_share)))
        if fmt.ratio > 1.3 and plan.align == "left":
            # landscape: keep the copy in a column on the left, clear of the picture's subject
            attempts.insert(0, (int(aw * 0.6), int(ah * params.text_share)))
    result = None
    band = _free_band(texts, fonts, sizes, area, avoid, plan, sizes_floor=short) if layout == "full" and avoid else None
    if band is not None:
        area, result, plan.anchor = band
        aw, ah = area[2] - area[0], area[3] - area[1]
    for col_w, limit in ([] if result else attempts):
        head_w = int(col_w * 0.92) if layout == "full" else col_w
        result = _stack(texts, fonts, sizes, col_w, limit, head_w, grow)
        if result:
            break
    head_w = int(aw * 0.92) if layout == "full" else aw
    if result is None:  # optional copy goes (and is reported) before sizes go below minimum
        result = _drop_optional(texts, fonts, sizes, aw, ah, head_w, plan, required)
    if result is None:
        raise FitError(_blame(texts, fonts, sizes, aw, ah, fmt))
    fits, total = result
    if layout == "full":
        y = area[3] - total if plan.anchor == "bottom" else area[1]
    else:  # tower / stack: logo and copy as one group, centred in the field
        shift = (ah - total) // 2
        y = area[1] + shift
        if plan.logo is not None:
            plan.logo = (plan.logo[0], plan.logo[1] + shift, plan.logo[2], plan.logo[3] + shift)
            clear = brand.logo.clear_space if brand.logo is not None else 0.0
            plan.logo_clear = im.expand(plan.logo, clear * (plan.logo[3] - plan.logo[1]), (0, 0, w, h))
    for i, f in enumerate(fits):
        if i:
            y += _gap(fits[i - 1], f)
        if plan.align == "center":
            x = area[0] + (aw - f.w) // 2
        else:
            x = area[0]
        plan.elements[f.name] = Placed(f.name, (x, y, x + f.w, y + f.h), f.fitted, f.text)
        y += f.h
    return _set_direction(plan, texts, locale, mirror=band is None)


def _set_direction(plan: Plan, texts: dict[str, str], locale: str | None, mirror: bool) -> Plan:
    """Right-to-left copy (Arabic, Hebrew...): every line set right to left and right-aligned,
    and (``mirror``) the layout mirrored inside its content box — logo and copy start on the
    right. A packshot's band beside the product is kept as it is (mirroring could cover it)."""
    from .typeface import paragraph_direction

    if paragraph_direction(texts.get("headline", ""), locale) != "rtl":
        return plan
    for placed in plan.elements.values():
        if placed.fitted is not None:
            placed.fitted.direction = "rtl"
    if plan.align == "left":
        plan.align = "right"
    if mirror:
        x0, x1 = plan.content[0], plan.content[2]

        def flip(b: Box) -> Box:
            return (x0 + x1 - b[2], b[1], x0 + x1 - b[0], b[3])

        for placed in plan.elements.values():
            placed.box = flip(placed.box)
        if plan.logo is not None:
            plan.logo = flip(plan.logo)
        if plan.logo_clear is not None:
            plan.logo_clear = im.clip(flip(plan.logo_clear), (0, 0, plan.fmt.width, plan.fmt.height))
    plan.direction = "rtl"
    return plan


def _drop_optional(texts: dict[str, str], fonts: dict[str, FontStack], sizes: dict[str, tuple[int, int]],
                   aw: int, ah: int, head_w: int, plan: Plan, required: bool):
    """The stack with the least optional copy dropped, the subline before the disclaimer: a
    subline is marketing, a disclaimer the offer's terms (kept when it fits even where the brand
    does not require it; a required one is never dropped here). Tries: without the subline, then
    without the disclaimer (the subline kept), then without both. The dropped are reported."""
    optional = [n for n in ("subline", "disclaimer") if n in texts and not (n == "disclaimer" and required)]
    tries = [[n] for n in optional] + ([optional] if len(optional) == 2 else [])
    for drop in tries:
        kept = {n: t for n, t in texts.items() if n not in drop}
        result = _stack(kept, fonts, sizes, aw, ah, head_w)
        if result is not None:
            for n in drop:
                texts.pop(n)
                plan.dropped.append(n)
            return result
    for n in optional:  # nothing fits: blame what is left once the optional copy is gone
        texts.pop(n)
        plan.dropped.append(n)
    return None


def _plan_row(plan: Plan, texts: dict[str, str], fonts: dict[str, FontStack], sizes: dict[str, tuple[int, int]],
              params: LayoutParams, required: bool) -> None:
    """Very wide, short banners: [logo] [headline / disclaimer] [CTA] in one row."""
    cx0, cy0, cx1, cy1 = plan.content
    ch = cy1 - cy0
    fmt = plan.fmt
    left = (plan.logo_clear[2] if plan.logo_clear else cx0)
    left = max(left, cx0)
    gap = max(4, int(round(ch * 0.15)))
    while True:
        cta = None
        right = cx1
        if "cta" in texts:
            hi, lo = sizes["cta"]
            size = hi
            while size >= lo:
                cta = _fit_one("cta", texts["cta"], fonts["cta"], 10 ** 6, size, lo)
                if cta is not None and cta.h <= ch:
                    break
                size -= 1
            if cta is None or cta.h > ch:
                cta = None
            else:
                right = cx1 - cta.w - gap
        col = (left + (gap if plan.logo_clear else 0), right)
        col_w = col[1] - col[0]
        column = {n: t for n, t in texts.items() if n in ("headline", "disclaimer")}
        result = _stack(column, fonts, sizes, col_w, ch) if col_w > 10 else None
        if result is None and "disclaimer" in column and not required:
            column.pop("disclaimer")
            result = _stack(column, fonts, sizes, col_w, ch)
            if result is not None:
                texts.pop("disclaimer")
                plan.dropped.append("disclaimer")
        if result is not None:
            break
        if "cta" in texts:  # the whole banner is the link: the button goes before the headline does
            texts.pop("cta")
            plan.dropped.append("cta")
            continue
        problems = _blame(column, fonts, sizes, max(col_w, 1), ch, fmt) if col_w > 10 else \
            [("headline", f"headline does not fit {fmt.name} ({fmt.width}×{fmt.height}): no room beside logo and CTA")]
        raise FitError(problems)
    fits, total = result
    y = cy0 + (ch - total) // 2
    for i, f in enumerate(fits):
        if i:
            y += _gap(fits[i - 1], f)
        plan.elements[f.name] = Placed(f.name, (col[0], y, col[0] + f.w, y + f.h), f.fitted, f.text)
        y += f.h
    if cta is not None:
        x = cx1 - cta.w
        y = cy0 + (ch - cta.h) // 2
        plan.elements["cta"] = Placed("cta", (x, y, x + cta.w, y + cta.h), cta.fitted, cta.text)


def scale_plan(plan: Plan, k: int) -> Plan:
    """The same layout at ``k``× resolution (an @2x deliverable): every box ×k, every text element
    the same lines at k× the size (re-measured in the font at that size, not upscaled)."""
    import dataclasses

    def mul(b: Box) -> Box:
        return (b[0] * k, b[1] * k, b[2] * k, b[3] * k)

    fmt = dataclasses.replace(plan.fmt, width=plan.fmt.width * k, height=plan.fmt.height * k)
    out = dataclasses.replace(plan, fmt=fmt, safe=mul(plan.safe), content=mul(plan.content), elements={},
                              logo=mul(plan.logo) if plan.logo else None,
                              logo_clear=mul(plan.logo_clear) if plan.logo_clear else None)
    for name, placed in plan.elements.items():
        ft = placed.fitted
        if ft is None:
            out.elements[name] = Placed(name, mul(placed.box), None, placed.text)
            continue
        f = im.font(ft.font_path, ft.size * k)
        widths = [int(math.ceil(f.getlength(line))) for line in ft.lines]
        line_height = im.line_metrics(f, LEADING[name])[2] if name != "cta" else ft.line_height * k
        big = dataclasses.replace(ft, size=ft.size * k, line_height=line_height, widths=widths,
                                  width=max(widths) if widths else 0, height=ft.height * k)
        out.elements[name] = Placed(name, mul(placed.box), big, placed.text)
    return out


def type_scale(brand: BrandKit, copies: dict[str, Copy], fmt: AdFormat, params: LayoutParams | None = None,
               **frame) -> dict[str, int]:
    """One type scale per format across the campaign's locales: for each element the size that
    fits every locale (the longest copy sets it), so en-US and de-DE of a format look like one
    family. ``copies`` are the locales' copy for ``fmt``; ``frame`` the frame's boxes
    (``field_box``, ``image_box``, ``has_field``, ``avoid``) as for :func:`plan_layout`."""
    key = (id(brand), fmt, params.model_dump_json() if params is not None else "",
           tuple((loc, c.model_dump_json()) for loc, c in copies.items()), repr(sorted(frame.items())))
    hit = _SCALES.get(key)
    if hit is not None and hit[0] is brand:
        return dict(hit[1])
    caps: dict[str, int] | None = None
    for _ in range(4):  # a capped locale may wrap differently: settle in a few rounds
        sizes: dict[str, int] = {}
        for locale, copy in copies.items():
            try:
                plan = plan_layout(brand, copy, fmt, params, locale=locale, caps=caps, **frame)
            except FitError:
                continue
            for name, placed in plan.elements.items():
                if placed.fitted is not None:
                    sizes[name] = min(sizes.get(name, 10**6), placed.fitted.size)
        if sizes == caps:
            break
        caps = sizes
    with _SCALES_LOCK:
        if len(_SCALES) > 512:
            _SCALES.clear()
        _SCALES[key] = (brand, dict(caps or {}))
    return caps or {}


#: type scales already worked out (frames of one format share field and image boxes)
_SCALES: dict[tuple, tuple] = {}
_SCALES_LOCK = threading.Lock()


def fit_problems(brand: BrandKit, copy: Copy, fmt: AdFormat, params: LayoutParams | None = None,
                 locale: str | None = None) -> list[tuple[str, str]]:
    """``(copy field, message)`` for copy that cannot fit ``fmt`` even at minimum sizes.

    Measures text only (no rendering), fast enough to run for every locale × format.
    """
    try:
        plan = plan_layout(brand, copy, fmt, params, locale=locale)
    except FitError as exc:
        return exc.problems
    return [(name, f"{name} does not fit {fmt.name} ({fmt.width}×{fmt.height}) at the minimum legible size and "
                   f"would be left out; a required element is never dropped: shorten it or give a per-format "
                   f"override (copy.{locale or '<locale>'}.formats.{fmt.name}: {{{name}: ...}})")
            for name in required_dropped(brand, plan)]


def required_elements(brand: BrandKit, texts: Sequence[str]) -> list[str]:
    """The copy elements an asset must carry: headline, the CTA when the copy has one, the
    disclaimer when the brand requires it."""
    out = ["headline"]
    if "cta" in texts:
        out.append("cta")
    if "disclaimer" in texts and brand.voice.disclaimer_required:
        out.append("disclaimer")
    return out


def required_dropped(brand: BrandKit, plan: Plan) -> list[str]:
    """Required elements the plan left out for lack of room."""
    return [n for n in plan.dropped if n in required_elements(brand, plan.dropped + list(plan.elements))]


@dataclass(frozen=True)
class OverLimit:
    """A copy field longer than the platform's limit for it on a format."""

    field: str
    length: int
    limit: int
    platform: str
    called: str  # what the platform calls the field

    def describe(self) -> str:
        return (f"{self.field} has {self.length} characters, over the {self.limit} of the {self.platform} "
                f"{self.called}")


def copy_over_limits(brand: BrandKit, copy: Copy, fmt: AdFormat) -> list[OverLimit]:
    """Copy fields longer than the platform's limit for them on ``fmt``
    (:meth:`~assetkit.brand.Checks.copy_limits`)."""
    from .formats import COPY_FIELD_NAMES, copy_length

    out = []
    for name, limit in brand.checks.copy_limits(fmt).items():
        text = getattr(copy, name, None)
        n = copy_length(text) if text else 0
        if n > limit:
            called = COPY_FIELD_NAMES.get(fmt.platform, {}).get(name, name)
            out.append(OverLimit(name, n, limit, fmt.platform if fmt.platform != "custom" else fmt.name, called))
    return out
