"""One type scale per format across locales, dictionary hyphenation, no dash line starts or
headline widows, and file weight within the format's limit."""
from __future__ import annotations

import io
from pathlib import Path

import numpy as np
from PIL import Image

from assetkit import imaging as im
from assetkit.brand import load_brand
from assetkit.brief import Copy
from assetkit.formats import CATALOG
from assetkit.layout import plan_layout, type_scale
from assetkit.steps.export import ExportParams, encode, fit_weight

ROOT = Path(__file__).resolve().parent.parent
BRAND = load_brand(ROOT / "brand" / "nordlicht")
FONT = ROOT / "brand" / "nordlicht" / "fonts" / "DejaVuSansCondensed.ttf"
COPIES = {
    "en-US": Copy(headline="Spring tastes like coffee", subline="Our new roast, fairly traded", cta="Discover now"),
    "de-DE": Copy(headline="Der Frühling schmeckt nach frischem Kaffee",
                  subline="Unsere neue Frühlingsröstung, fair gehandelt", cta="Jetzt entdecken"),
}


def test_one_type_scale_per_format_across_locales():
    for name in ("meta-square", "iab-half-page", "iab-medium-rectangle", "iab-billboard", "meta-story"):
        fmt = CATALOG[name]
        free = {loc: plan_layout(BRAND, c, fmt, locale=loc) for loc, c in COPIES.items()}
        caps = type_scale(BRAND, COPIES, fmt)
        plans = {loc: plan_layout(BRAND, c, fmt, locale=loc, caps=caps) for loc, c in COPIES.items()}
        sizes = {loc: {n: p.fitted.size for n, p in plan.elements.items()} for loc, plan in plans.items()}
        assert sizes["en-US"] == sizes["de-DE"] == caps, name
        # the longer German copy sets the scale: never larger than German alone would be
        assert all(caps[n] <= free["de-DE"].elements[n].fitted.size for n in caps), name


def test_hyphenation_uses_the_dictionary_and_is_the_same_in_every_width():
    split = im.hyphenator("de-DE")
    f = im.font(FONT, 20)
    word = "Frühlingsröstung"
    pieces = {tuple(split(word, f, w)) for w in (f.getlength(word) * k for k in (0.62, 0.7, 0.8, 0.9))}
    assert pieces == {("Frühlings-", "röstung")}  # a dictionary point, the same in every width
    narrow = split("Kaffeevollautomatenfreundlich", f, 90)
    assert all(f.getlength(p) <= 90 for p in narrow) and "".join(p.rstrip("-") for p in narrow) == \
        "Kaffeevollautomatenfreundlich"
    assert im.hyphenator("xx-XX") is None  # no dictionary: the letter heuristic stays


def test_no_line_starts_with_a_dash_and_headlines_have_no_single_word_widow():
    f = im.font(FONT, 20)
    text = "Frisch geröstet – endlich ist der Frühling da"
    for width in range(120, 400, 7):
        lines, _ = im.wrap_words(text, f, width)
        assert not any(line.lstrip().startswith(("–", "-")) for line in lines), (width, lines)
    fmt = CATALOG["iab-medium-rectangle"]
    for headline in ("Spring tastes like fresh coffee", "Meet the new Acme Tea", "Der Frühling schmeckt nach Kaffee"):
        plan = plan_layout(BRAND, Copy(headline=headline, cta="Go"), fmt, locale="en-US")
        lines = plan.elements["headline"].fitted.lines
        assert len(lines) == 1 or len(lines[-1].split()) > 1, lines


def _noisy(w: int, h: int) -> Image.Image:
    rng = np.random.default_rng(1)  # a soft photo-like gradient with grain: a heavy PNG
    y, x = np.mgrid[0:h, 0:w]
    base = np.stack([x / w * 200 + 30, y / h * 180 + 40, (x + y) / (w + h) * 160 + 60], axis=2)
    return Image.fromarray(np.clip(base + rng.normal(0, 4, (h, w, 3)), 0, 255).astype(np.uint8))


def test_export_brings_a_png_within_its_weight_limit_before_writing():
    img = _noisy(300, 600)
    params = ExportParams()
    data = encode(img, params)
    limit = 150_000
    assert len(data) > limit
    out, info = fit_weight(img, params, None, data, limit)
    assert len(out) <= limit and info["method"] == "png-palette-256"
    decoded = np.asarray(Image.open(io.BytesIO(out)).convert("RGB"), np.int16)
    assert np.abs(decoded - np.asarray(img, np.int16)).mean() < 12  # still the same picture
    jpeg = ExportParams(format="jpeg", quality=95)
    out, info = fit_weight(img, jpeg, None, encode(img, jpeg), 40_000)
    assert len(out) <= 40_000 and info["method"].startswith("jpeg-quality-")
    assert fit_weight(img, params, None, data, None) == (data, {"limit": None, "encoded": len(data),
                                                                "method": "none"})
    assert CATALOG["iab-half-page"].max_bytes == 150_000 and CATALOG["meta-square"].max_bytes == 30_000_000
