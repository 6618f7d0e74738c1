"""Pillow helpers: focal-point cover crop, WCAG contrast on real pixels, scrims, text fitting.

Pure functions on PIL images and numpy arrays; nothing here knows about brands or briefs.
"""
from __future__ import annotations

import math
import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import TypeAlias, Union, overload

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont

from .typeface import RTL, FontStack, assign, script_of, visual_runs

RGB = tuple[int, int, int]
Box = tuple[int, int, int, int]


# -- geometry -----------------------------------------------------------------------------
def cover_crop(image: Image.Image, size: tuple[int, int], focal: tuple[float, float] = (0.5, 0.5)
               ) -> tuple[Image.Image, Box, float]:
    """Scale ``image`` uniformly so it covers ``size``, crop around ``focal`` (fractions), clamp.

    Never stretches. Returns ``(cropped, crop_box_in_source_pixels, scale)`` where ``scale``
    maps source pixels to output pixels (the same on both axes).
    """
    tw, th = size
    sw, sh = image.size
    scale = max(tw / sw, th / sh)
    cw, ch = tw / scale, th / scale  # crop window in source pixels (≤ source size)
    fx, fy = focal[0] * sw, focal[1] * sh
    x0 = min(max(fx - cw / 2, 0.0), sw - cw)
    y0 = min(max(fy - ch / 2, 0.0), sh - ch)
    out = image.resize((tw, th), Image.Resampling.LANCZOS, box=(x0, y0, x0 + cw, y0 + ch))
    crop = (int(round(x0)), int(round(y0)), int(round(x0 + cw)), int(round(y0 + ch)))
    return out, crop, scale


def inset(box: Box, dx: float, dy: float | None = None) -> Box:
    """``box`` shrunk by ``dx`` left/right and ``dy`` top/bottom (rounded to pixels)."""
    dy = dx if dy is None else dy
    return (int(round(box[0] + dx)), int(round(box[1] + dy)), int(round(box[2] - dx)), int(round(box[3] - dy)))


def expand(box: Box, d: float, bounds: Box | None = None) -> Box:
    """``box`` grown by ``d`` on every side, clipped to ``bounds`` if given."""
    b = (math.floor(box[0] - d), math.floor(box[1] - d), math.ceil(box[2] + d), math.ceil(box[3] + d))
    return clip(b, bounds) if bounds else b


def clip(box: Box, bounds: Box) -> Box:
    return (max(box[0], bounds[0]), max(box[1], bounds[1]), min(box[2], bounds[2]), min(box[3], bounds[3]))


def overlaps(a: Box, b: Box) -> bool:
    """True when the boxes share at least one pixel (x1/y1 exclusive)."""
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def overlap_area(a: Box, b: Box) -> int:
    """The pixels the boxes share (0 when they do not overlap)."""
    return max(0, min(a[2], b[2]) - max(a[0], b[0])) * max(0, min(a[3], b[3]) - max(a[1], b[1]))


def contains(outer: Box, inner: Box) -> bool:
    return outer[0] <= inner[0] and outer[1] <= inner[1] and inner[2] <= outer[2] and inner[3] <= outer[3]


def union(boxes: Sequence[Box]) -> Box:
    return (min(b[0] for b in boxes), min(b[1] for b in boxes), max(b[2] for b in boxes), max(b[3] for b in boxes))


# -- colour -------------------------------------------------------------------------------
def _linear(c: np.ndarray | float) -> np.ndarray | float:
    c = np.asarray(c, dtype=np.float32) / 255.0
    return np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)


def relative_luminance(rgb: Sequence[int]) -> float:
    """WCAG 2.x relative luminance of an sRGB colour (0 black … 1 white)."""
    return _luminance_of(*map(float, rgb[:3]))


@lru_cache(maxsize=4096)
def _luminance_of(r: float, g: float, b: float) -> float:
    """:func:`relative_luminance`, once per colour (a run asks for its palette's thousands of times)."""
    lr, lg, lb = (float(_linear(v)) for v in (r, g, b))
    return 0.2126 * lr + 0.7152 * lg + 0.0722 * lb


def contrast_ratio(a: Sequence[int], b: Sequence[int]) -> float:
    """WCAG contrast ratio between two colours: 1 (same) … 21 (black on white)."""
    la, lb = relative_luminance(a), relative_luminance(b)
    hi, lo = max(la, lb), min(la, lb)
    return (hi + 0.05) / (lo + 0.05)


_LIN = np.asarray(_linear(np.arange(256)))
_LUM_R, _LUM_G, _LUM_B = (_LIN * 0.2126).astype(np.float32), (_LIN * 0.7152).astype(np.float32), \
    (_LIN * 0.0722).astype(np.float32)
#: measure at most this many pixels per box (a regular subsample of larger boxes)
MAX_MEASURE_PIXELS = 60_000


def luminance_map(pixels: np.ndarray) -> np.ndarray:
    """Per-pixel relative luminance of an ``H×W×3`` uint8 array (lookup tables, no pow per pixel)."""
    return _LUM_R[pixels[..., 0]] + _LUM_G[pixels[..., 1]] + _LUM_B[pixels[..., 2]]


def measure_contrast(image: Image.Image, box: Box, colour: Sequence[int], percentile: float = 3.0) -> float:
    """Worst-case contrast of ``colour`` against the actual pixels of ``image`` inside ``box``.

    Contrast is computed per pixel and the ``percentile``-th lowest value is returned, so a
    busy background counts by its worst few percent, not its average.
    """
    return contrast_on(box_luminances(image, [box])[0], colour, percentile)


def measured_grid(box: Box, size: tuple[int, int]) -> tuple[Box, int] | None:
    """The pixels :func:`measure_contrast` reads in ``box`` on an image of ``size``: ``(the box
    clipped to the image, step)``, every ``step``-th pixel of every ``step``-th row from its corner
    (at most about :data:`MAX_MEASURE_PIXELS`); ``None`` when the box holds no pixel of the image."""
    x0, y0, x1, y1 = clip(box, (0, 0, size[0], size[1]))
    if x1 <= x0 or y1 <= y0:
        return None
    n = (x1 - x0) * (y1 - y0)
    # a regular grid of a larger box: the low percentile is stable under it
    step = int(np.ceil(np.sqrt(n / MAX_MEASURE_PIXELS))) if n > MAX_MEASURE_PIXELS else 1
    return (x0, y0, x1, y1), step


def grid_pixels(image: Image.Image, boxes: Sequence[Box], mode: str = "RGB") -> list[np.ndarray | None]:
    """Per box, the pixels of its :func:`measured_grid` in ``mode`` (``h×w×3`` for RGB, ``h×w`` for
    an ``L`` mask; ``None``: an empty box), cut from one crop of the boxes' union when that is not
    much larger than the boxes themselves."""
    grids = [measured_grid(b, image.size) for b in boxes]
    live = [g[0] for g in grids if g is not None]
    if not live:
        return [None] * len(grids)
    area = union(live)
    own = sum((b[2] - b[0]) * (b[3] - b[1]) for b in live)
    if len(live) == 1 or (area[2] - area[0]) * (area[3] - area[1]) <= 2 * own:
        crop = image.crop(area)
        pixels = np.asarray(crop if crop.mode == mode else crop.convert(mode))  # no second copy of the pixels
        return [None if g is None else pixels[g[0][1] - area[1]:g[0][3] - area[1]:g[1],
                                              g[0][0] - area[0]:g[0][2] - area[0]:g[1]] for g in grids]
    out: list[np.ndarray | None] = []
    for g in grids:
        if g is None:
            out.append(None)
            continue
        crop = image.crop(g[0])
        out.append(np.asarray(crop if crop.mode == mode else crop.convert(mode))[::g[1], ::g[1]])
    return out


def box_luminances(image: Image.Image, boxes: Sequence[Box]) -> list[np.ndarray | None]:
    """Per box, the relative luminance of the pixels :func:`measure_contrast` reads there (flat;
    ``None``: the box holds no pixel): measured once, compared with any number of colours by
    :func:`contrast_on`."""
    return [None if px is None else luminance_map(px).ravel() for px in grid_pixels(image, boxes)]


def contrast_on(lum: np.ndarray | None, colour: Sequence[int], percentile: float = 3.0) -> float:
    """:func:`measure_contrast` of ``colour`` on a box's :func:`box_luminances` (``None``: 1.0)."""
    if lum is None:
        return 1.0
    lt = relative_luminance(colour)
    ratio = (np.maximum(lum, lt) + 0.05) / (np.minimum(lum, lt) + 0.05)
    k = min(len(ratio) - 1, int(len(ratio) * percentile / 100.0))
    return float(np.partition(ratio, k)[k])


def logo_contrast(logo: Image.Image, behind: Image.Image, alpha_min: int = 128) -> float:
    """Contrast of a logo against the pixels behind it: per ink pixel (alpha ≥ ``alpha_min``) the
    WCAG ratio of the logo over the background to the background, the median over the ink (so a
    mark whose ink mostly vanishes into the background fails, one thin light detail does not)."""
    rgba = np.asarray(logo.convert("RGBA"))
    bg = np.asarray(behind.convert("RGB").resize(logo.size) if behind.size != logo.size else behind.convert("RGB"))
    a = rgba[..., 3:4].astype(np.float32) / 255.0
    ink = a[..., 0] >= alpha_min / 255.0
    if not ink.any():
        return 1.0
    over = (rgba[..., :3] * a + bg * (1 - a)).round().astype(np.uint8)
    return _median_ratio(over, bg, ink)


def ink_contrast(final: Image.Image, behind: Image.Image, alpha: Image.Image, alpha_min: int = 128) -> float:
    """:func:`logo_contrast` measured on a finished image: ``final`` and ``behind`` are the same
    box after and before the logo was drawn, ``alpha`` the drawn logo's alpha (where its ink is)."""
    ink = np.asarray(alpha) >= alpha_min
    a, b = np.asarray(final.convert("RGB")), np.asarray(behind.convert("RGB"))
    if a.shape[:2] != ink.shape or not ink.any():
        return 1.0
    return _median_ratio(a, b, ink)


def _median_ratio(a: np.ndarray, b: np.ndarray, mask: np.ndarray) -> float:
    la, lb = luminance_map(a)[mask], luminance_map(b)[mask]
    ratio = (np.maximum(la, lb) + 0.05) / (np.minimum(la, lb) + 0.05)
    return float(np.median(ratio))


def pick_text_colour(image: Image.Image, boxes: Sequence[Box], candidates: Sequence[RGB],
                     target: float = 4.5, record: dict[tuple, float] | None = None) -> tuple[RGB, float]:
    """The first candidate whose worst-case contrast over all ``boxes`` reaches ``target``.

    Candidates are in order of preference (brand text colour first). When none reaches the
    target, the one with the highest contrast is returned (the caller then adds a scrim).
    ``record``: filled with each box's :func:`measure_contrast` of the returned colour.
    """
    best: tuple[RGB, float, list[float]] | None = None
    lums = box_luminances(image, boxes)  # the pixels are the same for every candidate: read once
    for c in candidates:
        values = [contrast_on(lum, c) for lum in lums]
        value = min(values)
        if best is None or value > best[1] or value >= target:
            best = (tuple(c), value, values)  # type: ignore[assignment]
        if value >= target:
            break
    assert best is not None, "no candidate colours"
    if record is not None:
        record.update(zip((tuple(b) for b in boxes), best[2]))
    return best[0], best[1]


def scrim_mask(size: tuple[int, int], box: Box, pad: int, radius: int, feather: float) -> Image.Image:
    """An ``L`` mask: 255 inside ``box`` grown by ``pad`` (rounded corners), soft outside."""
    m = Image.new("L", size, 0)
    outer = (box[0] - pad, box[1] - pad, box[2] + pad - 1, box[3] + pad - 1)
    # drawn and blurred on the part of the mask the blur can reach, not the whole image: a blur is
    # local (it reads at most 3 × (radius + 2) pixels away, as zeros beyond the shape or the image's
    # own edge pixels), so the part comes out as those pixels of the whole image blurred would
    reach = int(3 * (feather + 2)) + 4 if feather > 0 else 1
    part = expand((outer[0], outer[1], outer[2] + 1, outer[3] + 1), reach, (0, 0, size[0], size[1]))
    if part[2] <= part[0] or part[3] <= part[1]:
        return m
    local = Image.new("L", (part[2] - part[0], part[3] - part[1]), 0)
    d = ImageDraw.Draw(local)
    d.rounded_rectangle((outer[0] - part[0], outer[1] - part[1], outer[2] - part[0], outer[3] - part[1]),
                        radius=radius, fill=255)
    if feather > 0:
        local = local.filter(ImageFilter.GaussianBlur(feather))
        # keep the box itself at full strength whatever the blur did at the corners
        ImageDraw.Draw(local).rectangle((box[0] - part[0], box[1] - part[1], box[2] - 1 - part[0],
                                         box[3] - 1 - part[1]), fill=255)
    m.paste(local, part[:2])
    return m


def gradient_mask(size: tuple[int, int], box: Box, ramp: int, from_bottom: bool) -> Image.Image:
    """An ``L`` mask: full strength over the rows of ``box`` and toward the image edge,
    fading to zero over ``ramp`` pixels on the image side (a classic text gradient)."""
    w, h = size
    y = np.arange(h, dtype=np.float32)
    if from_bottom:
        t = np.clip((y - (box[1] - ramp)) / max(ramp, 1), 0, 1)
    else:
        t = np.clip(((box[3] + ramp) - y) / max(ramp, 1), 0, 1)
    t = t * t * (3 - 2 * t)  # smoothstep
    col = (t * 255).astype(np.uint8)
    return Image.fromarray(np.repeat(col[:, None], w, axis=1), "L")


def apply_scrim(image: Image.Image, boxes: Sequence[Box], text_colour: RGB, scrim_colour: RGB,
                mask: Image.Image, target: float = 4.5, start: float = 0.25, step: float = 0.05,
                in_place: bool = False, record: dict[tuple, float] | None = None
                ) -> tuple[Image.Image, float, float]:
    """Lay ``scrim_colour`` over ``image`` through ``mask``, raising opacity until every box
    measures ≥ ``target`` against ``text_colour``. Returns ``(image, opacity, contrast)``: a new
    image, or with ``in_place`` (an RGB ``image`` the caller owns, e.g. its canvas) ``image`` itself.
    ``record``: filled with each box's :func:`measure_contrast` on the image returned."""
    base = image if in_place and image.mode == "RGB" else image.convert("RGB")  # the scrim is laid on it
    # the opacity is searched on the pixels the measurement reads, and only on them: laying a
    # scrim is per pixel, so the measured grid of each box (its pixels and the mask's under them,
    # side by side in one row) composited at an opacity measures exactly what the whole image
    # composited at that opacity would; the scrim is then laid over the image once
    grids = grid_pixels(base, boxes)
    masks = grid_pixels(mask, boxes, "L")
    live = [(g, m) for g, m in zip(grids, masks) if g is not None and m is not None]
    if live:
        row_base = Image.fromarray(np.concatenate([g.reshape(1, -1, 3) for g, _ in live], axis=1), "RGB")
        row_mask = np.concatenate([m.reshape(1, -1) for _, m in live], axis=1)
        row_solid = Image.new("RGB", row_base.size, scrim_colour)
        cuts = np.cumsum([g.shape[0] * g.shape[1] for g, _ in live])[:-1]
    # the opacities tried are start, start + step, … up to 1.0; the contrast grows with the
    # opacity (the scrim colour is the one that contrasts with the text), so the first that
    # reaches the target is found by bisection over those steps: 4–5 composites, not up to 16
    steps = [start]
    while steps[-1] < 1.0:
        steps.append(min(1.0, steps[-1] + step))
    measured: dict[int, list[float]] = {}  # per step tried: each box's contrast (boxes' order)

    def contrast_at(i: int) -> float:
        if i not in measured:
            values = []
            if live:
                a = Image.fromarray(_opacity_table(steps[i])[row_mask], "L")
                out = Image.composite(row_solid, row_base, a)
                lum = luminance_map(np.asarray(out)[0])
                values = [contrast_on(part, text_colour) for part in np.split(lum, cuts)]
            parts = iter(values)  # an empty box measures 1.0, as in measure_contrast
            measured[i] = [1.0 if g is None or m is None else next(parts) for g, m in zip(grids, masks)]
        return min(measured[i])

    lo, hi = 0, len(steps) - 1  # the answer is the first step that reaches, else the last (1.0)
    while lo < hi:
        mid = (lo + hi) // 2
        if contrast_at(mid) >= target:
            hi = mid
        else:
            lo = mid + 1
    opacity = steps[lo]
    lay_scrim(base, scrim_colour, mask, opacity)
    value = contrast_at(lo)
    if record is not None:
        record.update(zip((tuple(b) for b in boxes), measured[lo]))
    return base, opacity, value


@lru_cache(maxsize=512)
def opacity_lut(opacity: float) -> tuple[int, ...]:
    """The ``point`` table that scales a mask to ``opacity`` (each value ``round(v × opacity)``)."""
    return tuple(int(round(v * opacity)) for v in range(256))


@lru_cache(maxsize=512)
def _opacity_table(opacity: float) -> np.ndarray:
    return np.array(opacity_lut(opacity), dtype=np.uint8)


def scale_mask(mask: Image.Image, opacity: float) -> Image.Image:
    """An ``L`` mask at ``opacity``: ``mask.point(lambda v: int(round(v * opacity)))`` with the table
    made once per opacity (a lambda would be called for all 256 entries on every call)."""
    return (mask if mask.mode == "L" else mask.convert("L")).point(list(opacity_lut(opacity)))


def lay_scrim(image: Image.Image, colour: RGB, mask: Image.Image, opacity: float) -> Image.Image:
    """Lay ``colour`` over ``image`` (in place, and returned) through ``mask`` at ``opacity``: the
    same pixels as ``Image.composite`` of the whole image, composited only where the mask is not 0."""
    box = mask.getbbox()
    if box is None:
        return image
    under = image.crop(box)
    image.paste(Image.composite(Image.new("RGB", under.size, colour), under, scale_mask(mask.crop(box), opacity)),
                box[:2])
    return image


# -- fonts and text -----------------------------------------------------------------------
#: fonts one thread keeps open, by (file, size): each holds FreeType and HarfBuzz state (about
#: 0.4 MB), so the number is capped; a thread's fonts go with it (a run's worker threads come and
#: go with each batch, and a cache keyed by thread id grew with every batch: 934 MB at 2,000 assets)
FONTS_PER_THREAD = 64
#: font files kept in memory (their bytes, read once and shared by every size and thread)
FONT_FILES_KEPT = 16


class _ThreadFonts(threading.local):
    """This thread's open fonts and stacks (FreeType faces are not shared between threads)."""

    def __init__(self) -> None:
        self.fonts: OrderedDict[tuple, ImageFont.FreeTypeFont] = OrderedDict()
        self.stacks: OrderedDict[tuple, StackedFont] = OrderedDict()


_local = _ThreadFonts()
_files: OrderedDict[tuple, _FontBytes] = OrderedDict()
_files_lock = threading.Lock()


class _FontBytes:
    """A font file's bytes, handed to ``FreeTypeFont`` as a file whose ``read()`` returns the one
    shared copy (Pillow keeps what ``read()`` returns; a BytesIO would copy the file per size)."""

    def __init__(self, data: bytes):
        self.data = data

    def read(self, *_: object) -> bytes:
        return self.data


def _font_file(path: str) -> tuple[tuple, _FontBytes]:
    """The bytes of the font file at ``path``, read through :func:`~assetkit.files.open_input`
    when first used (or changed): a font swapped since validation for a FIFO, device or link to
    one is refused at once (exit 2), never read blocking; what was checked is what is drawn."""
    from .files import MAX_FONT_BYTES, file_version, read_input
    from .yamlfile import display_path

    key = (path, *file_version(path))
    with _files_lock:
        hit = _files.get(key)
        if hit is not None:
            _files.move_to_end(key)
            return key, hit
    got = _FontBytes(read_input(path, MAX_FONT_BYTES, display_path(path)))
    with _files_lock:
        _files[key] = got
        while len(_files) > FONT_FILES_KEPT:
            _files.popitem(last=False)
    return key, got


def _kept(table: OrderedDict, key: tuple, make):
    got = table.get(key)
    if got is None:
        got = table[key] = make()
        while len(table) > FONTS_PER_THREAD:
            table.popitem(last=False)
    else:
        table.move_to_end(key)
    return got


#: bytes of rendered text masks kept (shared by all threads): a campaign draws one headline, at one
#: size and position, on every concept and variant of a format and locale
TEXT_MASK_BYTES = 24 << 20


class _TextMasks:
    """Rendered text masks by everything that decides their pixels, least recently used dropped
    first. Rendering holds Python's lock (FreeType runs inside it), so a text drawn again on
    another asset costs two threads nothing."""

    def __init__(self, budget: int):
        self.budget = budget
        self.used = 0
        self.table: OrderedDict[tuple, tuple] = OrderedDict()
        self.lock = threading.Lock()

    def get(self, key: tuple):
        with self.lock:
            hit = self.table.get(key)
            if hit is not None:
                self.table.move_to_end(key)
            return hit

    def put(self, key: tuple, value: tuple) -> None:
        mask = value[0]
        size = mask.size[0] * mask.size[1] * (4 if mask.mode == "RGBA" else 1)
        if size > self.budget // 8:  # a huge text is drawn, not kept
            return
        with self.lock:
            if key not in self.table:
                self.table[key] = value
                self.used += size
            while self.used > self.budget:
                _, (old, _) = self.table.popitem(last=False)
                self.used -= old.size[0] * old.size[1] * (4 if old.mode == "RGBA" else 1)


_masks = _TextMasks(TEXT_MASK_BYTES)


class _MaskCachingFont(ImageFont.FreeTypeFont):
    """A ``FreeTypeFont`` whose :meth:`getmask2` (what ``ImageDraw.text`` draws) is looked up in
    the shared :class:`_TextMasks` first: the same mask FreeType would render, rendered once."""

    file_key: tuple = ()

    def getmask2(self, text, mode="", direction=None, features=None, language=None, stroke_width=0,
                 anchor=None, ink=0, start=None, *args, **kwargs):
        if args or mode == "RGBA" or not isinstance(text, str):  # RGBA masks are changed by the caller
            return super().getmask2(text, mode, direction, features, language, stroke_width, anchor, ink, start,
                                    *args, **kwargs)
        key = (self.file_key, self.size, self.index, self.layout_engine, text, mode, direction,
               tuple(features) if features else None, language, stroke_width, anchor, ink,
               tuple(start) if start else None, tuple(sorted(kwargs.items())))
        hit = _masks.get(key)
        if hit is None:
            hit = super().getmask2(text, mode, direction, features, language, stroke_width, anchor, ink, start,
                                   **kwargs)
            _masks.put(key, hit)
        return hit


def _font(path: str, size: int) -> ImageFont.FreeTypeFont:
    file_key, data = _font_file(path)

    def make() -> ImageFont.FreeTypeFont:
        # FreeType reads the checked bytes in memory; ImageFont.truetype() would instead fall
        # back to a system font of the same file name when this one cannot be read
        try:
            f = _MaskCachingFont(data, size)  # type: ignore[arg-type]
            f.file_key = file_key
            return f
        except OSError as exc:
            from .typeface import FontFileError
            from .yamlfile import display_path

            raise FontFileError(f"{display_path(path)} cannot be opened by FreeType ({exc})") from None

    return _kept(_local.fonts, (file_key, size), make)


#: what text is measured and drawn with: one font file, or a role's font with its script fonts
AnyFont: TypeAlias = Union[ImageFont.FreeTypeFont, "StackedFont"]  # noqa: UP007 (forward reference)


@overload
def font(path: str | Path, size: int) -> ImageFont.FreeTypeFont: ...
@overload
def font(path: str | Path | FontStack, size: int) -> AnyFont: ...
def font(path: str | Path | FontStack, size: int) -> AnyFont:
    """A cached TrueType font (one instance per thread, at most :data:`FONTS_PER_THREAD`). A
    :class:`~assetkit.typeface.FontStack` with script fonts gives a :class:`StackedFont`."""
    if isinstance(path, FontStack):
        if path.scripts:
            stack = path
            return _kept(_local.stacks, (stack, int(size)), lambda: StackedFont(stack, int(size)))
        path = path.primary
    return _font(str(path), int(size))


class StackedFont:
    """A role's font plus the kit's script fonts at one size: measures and draws a text run by
    run, each run in the font that has its script (shaping and bidi within a run by raqm)."""

    def __init__(self, stack: FontStack, size: int):
        self.stack, self.size = stack, size
        self._fonts = {p: _font(p, size) for p in stack.paths()}
        self._runs: dict[str, list[tuple[ImageFont.FreeTypeFont, str]]] = {}
        metrics = [f.getmetrics() for f in self._fonts.values()]
        self._metrics = (max(a for a, _ in metrics), max(d for _, d in metrics))

    def runs(self, text: str) -> list[tuple[ImageFont.FreeTypeFont, str]]:
        got = self._runs.get(text)
        if got is None:
            got = [(self._fonts[p], t) for p, t in assign(text, self.stack)]
            if len(self._runs) < 4096:
                self._runs[text] = got
        return got

    def getlength(self, text: str) -> float:
        return sum(f.getlength(t) for f, t in self.runs(text))

    def getmetrics(self) -> tuple[int, int]:
        return self._metrics

    def draw(self, draw: ImageDraw.ImageDraw, xy: tuple[float, float], text: str, fill, anchor: str = "ls",
             direction: str | None = None) -> None:
        """Draw ``text`` at ``xy`` with a Pillow-style anchor (``l``/``m``/``r`` + ``s``/``m``):
        the font runs in visual order (bidi levels in a paragraph of ``direction``, default the
        line's own), each shaped in its own direction by raqm."""
        runs = self.runs(text)
        width = sum(f.getlength(t) for f, t in runs)
        x, y = xy
        if anchor[0] == "m":
            x -= width / 2
        elif anchor[0] == "r":
            x -= width
        if anchor[1] == "m":  # Pillow's middle: halfway between ascender and descender
            ascent, descent = self._metrics
            y += (ascent - descent) / 2
        paths = {id(f): p for p, f in self._fonts.items()}
        if direction == "rtl" or any(script_of(ch) in RTL for ch in text):
            from .typeface import paragraph_direction

            para = direction or paragraph_direction(text)
            for path, t, seg_dir in visual_runs([(paths[id(f)], t) for f, t in runs], para):
                f = self._fonts[path]
                draw.text((x, y), t, font=f, fill=fill, anchor="ls", direction=seg_dir)
                x += f.getlength(t, direction=seg_dir)
            return
        for f, t in runs:
            draw.text((x, y), t, font=f, fill=fill, anchor="ls")
            x += f.getlength(t)


def draw_line(draw: ImageDraw.ImageDraw, xy: tuple[float, float], text: str, f, fill, anchor: str = "ls",
              direction: str | None = None) -> None:
    """``draw.text`` for one line in a plain or stacked font (``direction``: the paragraph's)."""
    if isinstance(f, StackedFont):
        f.draw(draw, xy, text, tuple(fill), anchor, direction)
    else:
        draw.text(xy, text, font=f, fill=tuple(fill), anchor=anchor, direction=direction)


@dataclass
class FittedText:
    """Text wrapped into lines at one font size, with the block's measured size."""

    lines: list[str]
    size: int
    font_path: str | FontStack
    line_height: int
    width: int
    height: int
    hyphenated: bool = False
    widths: list[int] = field(default_factory=list)
    direction: str | None = None  # the paragraph's (rtl for Arabic, Hebrew...); None: each line's own

    @property
    def font(self) -> AnyFont:
        return font(self.font_path, self.size)


def line_metrics(f: AnyFont, leading: float) -> tuple[int, int, int]:
    """``(ascent, descent, line_height)`` of a font with ``leading`` × size line spacing."""
    ascent, descent = f.getmetrics()
    return ascent, descent, max(int(round(f.size * leading)), 1)


_VOWELS = set("aeiouyäöüéèàáóíúâêô")


def _split_long_word(word: str, f: AnyFont, max_width: float) -> list[str] | None:
    """Hyphenate ``word`` into pieces each ≤ ``max_width`` (keeps ≥ 3 letters per piece)."""
    pieces, rest = [], word
    while f.getlength(rest) > max_width:
        fitting = [i for i in range(len(rest) - 3, 2, -1) if f.getlength(rest[:i] + "-") <= max_width]
        # prefer a syllable-like break: before a consonant that is followed by a vowel
        good = [i for i in fitting if rest[i].lower() not in _VOWELS and rest[i + 1].lower() in _VOWELS
                and rest[i - 1].isalpha()]
        cut = good[0] if good else (fitting[0] if fitting else None)
        if cut is None:
            return None
        pieces.append(rest[:cut] + "-")
        rest = rest[cut:]
    pieces.append(rest)
    return pieces


#: no line starts with these (closing marks, small kana) nor ends with the opening ones (JIS X 4051 kinsoku)
_NO_LINE_START = set("、。，．・：；？！ー」』）】〕〉》’”"
                     "ぁぃぅぇぉっゃゅょゎァィゥェォッャュョヮヵヶ々〻‐゠–〜" "!),.:;?]}%")
_NO_LINE_END = set("「『（【〔〈《‘“([{")
_CJK = {"Hira", "Kana", "Hani"}


def _is_cjk(ch: str) -> bool:
    return script_of(ch) in _CJK or "\u3000" <= ch <= "\u303f" or "\uff00" <= ch <= "\uffef"


_DASHES = {"-", "–", "—", "−"}


def break_tokens(text: str) -> list[tuple[str, str]]:
    """``(token, glue)`` pieces a line may break between: words (glue ``" "``) and, in Chinese
    and Japanese, single characters (glue ``""``) except where kinsoku rules forbid a break. A
    free-standing dash stays with the word before it: no line starts with a dash."""
    out: list[tuple[str, str]] = []
    for chunk in text.split():
        if chunk in _DASHES and out:
            out[-1] = (out[-1][0] + " " + chunk, out[-1][1])
            continue
        if not any(_is_cjk(c) for c in chunk):
            out.append((chunk, " "))
            continue
        piece, glue = chunk[0], " "
        for prev, ch in zip(chunk, chunk[1:]):
            if (_is_cjk(prev) or _is_cjk(ch)) and ch not in _NO_LINE_START and prev not in _NO_LINE_END \
                    and not (prev.isascii() and ch.isascii()):
                out.append((piece, glue))
                piece, glue = ch, ""
            else:
                piece += ch
        out.append((piece, glue))
    return out


@lru_cache(maxsize=64)
def _has_dictionary(locale: str) -> bool:
    import pyphen

    lang = locale.replace("-", "_").split("_")[0]
    return any(k.split("_")[0] == lang for k in pyphen.LANGUAGES)


@lru_cache(maxsize=64)
def _pyphen(locale: str):
    import pyphen

    tag = locale.replace("-", "_")
    lang = tag.split("_")[0]
    for cand in (tag, lang):
        if cand in pyphen.LANGUAGES:
            return pyphen.Pyphen(lang=cand)
    same = sorted(k for k in pyphen.LANGUAGES if k.split("_")[0] == lang)
    return pyphen.Pyphen(lang=same[0]) if same else None


@lru_cache(maxsize=64)
def hyphenator(locale: str | None):
    """A ``splitter`` for :func:`wrap_words` that breaks long words only at the locale's
    dictionary hyphenation points (pyphen), the same points for a word in every format: the word
    is halved at its most balanced point, and only a half that still does not fit is halved
    again. ``None`` when there is no dictionary for the locale (the letter heuristic is used)."""
    if not locale or not _has_dictionary(locale):
        return None

    def split(word: str, f, max_width: float) -> list[str] | None:
        dic = _pyphen(locale)  # loaded on the first word that needs it (a dictionary takes ~0.8 s)
        if "-" in word.strip("-"):  # a compound with its own hyphens breaks there first
            head, _, tail = word.partition("-")
            parts = [head + "-"] if f.getlength(head + "-") <= max_width else split(head + "-", f, max_width)
            rest = [tail] if f.getlength(tail) <= max_width else split(tail, f, max_width)
            return None if parts is None or rest is None else parts + rest
        return _halve(word, f, max_width, dic)

    return split


def _halve(word: str, f, max_width: float, dic) -> list[str] | None:
    if f.getlength(word) <= max_width:
        return [word]
    core = word.rstrip("-")
    points = [p for p in dic.positions(core) if 2 <= p <= len(core) - 2]
    if not points:
        return None
    p = min(points, key=lambda i: (abs(2 * i - len(core)), i))
    head, tail = core[:p] + "-", core[p:] + word[len(core):]
    a, b = _halve(head, f, max_width, dic), _halve(tail, f, max_width, dic)
    return None if a is None or b is None else a + b


def wrap_words(text: str, f, max_width: float, hyphenate: bool = False, splitter=None
               ) -> tuple[list[str], bool] | None:
    """Greedy word wrap to ``max_width`` (Chinese and Japanese break between characters).
    ``None`` when a word is wider than the box (unless ``hyphenate``: such words are split by
    ``splitter(word, font, width)``, default :func:`_split_long_word`). Returns
    ``(lines, hyphenated)``."""
    splitter = splitter or _split_long_word
    lines: list[str] = []
    current = ""
    hyph = False
    for word, glue in break_tokens(text):
        if f.getlength(word) > max_width:
            if not hyphenate:
                return None
            parts = splitter(word, f, max_width)
            if parts is None:
                return None
            hyph = True
        else:
            parts = [word]
        for j, part in enumerate(parts):
            trial = f"{current}{glue}{part}" if current else part
            if j > 0:  # the previous piece ended in a hyphen: break after it
                lines.append(current)
                current = part
            elif f.getlength(trial) <= max_width:
                current = trial
            else:
                if current:
                    lines.append(current)
                current = part
    if current:
        lines.append(current)
    return lines, hyph


def measure_block(lines: list[str], f: AnyFont, leading: float) -> tuple[int, int, list[int]]:
    """Width and height of lines set in ``f`` (height: first ascent to last descent)."""
    ascent, descent, lh = line_metrics(f, leading)
    widths = [int(math.ceil(f.getlength(line))) for line in lines]
    return (max(widths) if widths else 0), (len(lines) - 1) * lh + ascent + descent, widths


def draw_text(draw: ImageDraw.ImageDraw, fitted: FittedText, box: Box, fill: Sequence[int],
              align: str = "left", leading: float = 1.15) -> Box:
    """Draw ``fitted`` with its block's top-left at ``box``'s corner (lines aligned within the
    box width). Returns the tight box of the drawn block."""
    f = fitted.font
    ascent, _, lh = line_metrics(f, leading)
    x0, y0, x1, _ = box
    xs = []
    for i, (line, w) in enumerate(zip(fitted.lines, fitted.widths)):
        if align == "center":
            x = x0 + (x1 - x0 - w) / 2
        elif align == "right":
            x = x1 - w
        else:
            x = x0
        xs.append((x, x + w))
        draw_line(draw, (x, y0 + ascent + i * lh), line, f, fill, "ls", fitted.direction)
    return (int(math.floor(min(a for a, _ in xs))), y0, int(math.ceil(max(b for _, b in xs))), y0 + fitted.height)


# -- contact sheets -----------------------------------------------------------------------
#: a contact-sheet tile: thumbnail, label ("format\nconcept"), optional mark ``(text, colour)``
SheetItem: TypeAlias = Union[tuple[Image.Image, str], tuple[Image.Image, str, "tuple[str, RGB] | None"]]  # noqa: UP007


def contact_sheet(items: Sequence[SheetItem], title: str, subtitle: str = "", thumb: int = 280,
                  columns: int | None = None, background: RGB = (246, 246, 244), ink: RGB = (30, 30, 30),
                  font_path: str | Path | None = None, bold_path: str | Path | None = None) -> Image.Image:
    """A presentable grid of thumbnails: each fitted into ``thumb``×``thumb`` with a soft
    shadow and a label under it (``"format\\nconcept-v1"``), a title line on top. A tile's mark
    (its check findings) frames the thumbnail and is written as a pill under the label: outside the
    picture, so it never hides the asset's logo or copy."""
    from .brand import FALLBACK_FONTS

    regular = str(font_path or FALLBACK_FONTS["body"])
    bold = str(bold_path or FALLBACK_FONTS["headline"])
    n = max(len(items), 1)
    cols = columns or min(n, max(1, int(math.ceil(math.sqrt(n * 1.4)))))
    rows = int(math.ceil(n / cols))
    gap, pad = 28, 48
    label_f, small_f = font(regular, 15), font(regular, 13)
    title_f, sub_f = font(bold, 30), font(regular, 17)
    marked = any(len(item) > 2 and item[2] for item in items)
    label_h = 44 + (26 if marked else 0)
    head_h = 64 + (28 if subtitle else 0)
    W = pad * 2 + cols * thumb + (cols - 1) * gap
    H = pad * 2 + head_h + rows * (thumb + label_h) + (rows - 1) * gap
    sheet = Image.new("RGB", (W, H), background)
    d = ImageDraw.Draw(sheet)
    d.text((pad, pad), title, font=title_f, fill=ink, anchor="lt")
    if subtitle:
        d.text((pad, pad + 42), subtitle, font=sub_f, fill=(110, 110, 110), anchor="lt")
    d.line((pad, pad + head_h - 14, W - pad, pad + head_h - 14), fill=(218, 218, 214), width=1)
    shadow_cache: dict[tuple[int, int], Image.Image] = {}
    for i, item in enumerate(items):
        img, label = item[0], item[1]
        mark = item[2] if len(item) > 2 else None
        r, c = divmod(i, cols)
        cx = pad + c * (thumb + gap)
        cy = pad + head_h + r * (thumb + label_h + gap)
        t = img.convert("RGB")  # a copy, also of an RGB image
        t.thumbnail((thumb, thumb), Image.Resampling.LANCZOS)
        tx = cx + (thumb - t.width) // 2
        ty = cy + (thumb - t.height)  # bottom-aligned: labels line up
        key = t.size
        if key not in shadow_cache:
            sh = Image.new("L", (t.width + 24, t.height + 24), 0)
            ImageDraw.Draw(sh).rectangle((12, 14, 12 + t.width, 14 + t.height), fill=70)
            shadow_cache[key] = sh.filter(ImageFilter.GaussianBlur(6))
        sheet.paste((0, 0, 0), (tx - 12, ty - 12), shadow_cache[key])
        sheet.paste(t, (tx, ty))
        first, _, second = label.partition("\n")
        d.text((cx, cy + thumb + 10), first, font=label_f, fill=ink, anchor="lt")
        if second:
            d.text((cx, cy + thumb + 28), second, font=small_f, fill=(120, 120, 120), anchor="lt")
        if mark:
            text, colour = mark
            d.rectangle((tx - 4, ty - 4, tx + t.width + 3, ty + t.height + 3), outline=colour, width=3)
            while small_f.getlength(text) > thumb - 14 and len(text) > 4:
                text = text[:-2].rstrip(", ") + "…"
            py = cy + thumb + 46
            d.rounded_rectangle((cx, py, cx + int(small_f.getlength(text)) + 12, py + 20), radius=6, fill=colour)
            d.text((cx + 6, py + 10), text, font=small_f, fill=(255, 255, 255), anchor="lm")
    return sheet
