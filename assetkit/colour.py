"""Colour difference (CIEDE2000 through coloraide) and an image's dominant colours."""
from __future__ import annotations

from functools import lru_cache

import numpy as np
from PIL import Image

RGB = tuple[int, int, int]


@lru_cache(maxsize=65536)
def delta_e(a: RGB, b: RGB) -> float:
    """ΔE2000 between two sRGB colours (0 identical; ~2 just noticeable; > 20 clearly different)."""
    from coloraide import Color

    ca = Color("srgb", [v / 255 for v in a[:3]])
    cb = Color("srgb", [v / 255 for v in b[:3]])
    return float(ca.delta_e(cb, method="2000"))


def dominant_colours(image: Image.Image, n: int = 5, min_share: float = 0.05) -> list[tuple[RGB, float]]:
    """The ``n`` most common colours of ``image`` (median-cut on a 96 px thumbnail) with the share
    of pixels each stands for, largest first; colours under ``min_share`` are left out."""
    thumb = image.convert("RGB")  # a copy, also of an RGB image: thumbnail() works in place
    thumb.thumbnail((96, 96))
    q = thumb.quantize(colors=n, method=Image.Quantize.MEDIANCUT)
    pal = q.getpalette() or []
    counts = np.bincount(np.asarray(q).ravel(), minlength=n)
    total = counts.sum()
    out = []
    for i in np.argsort(-counts):
        share = float(counts[i] / total)
        if share >= min_share:
            out.append(((pal[3 * i], pal[3 * i + 1], pal[3 * i + 2]), share))
    return out
