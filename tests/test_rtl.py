"""Right-to-left copy: Arabic and Hebrew set right-aligned in a mirrored layout, and lines that mix
fonts ordered by the bidi algorithm (raqm shapes each run) — measured on the drawn pixels."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw, features

from assetkit import imaging as im
from assetkit.brand import load_brand
from assetkit.brief import Copy
from assetkit.formats import CATALOG
from assetkit.layout import plan_layout
from assetkit.state import Job, Master
from assetkit.steps.compose import compose_asset
from assetkit.steps.reframe import reframe_master
from assetkit.typeface import FontStack, bidi_levels, paragraph_direction, visual_runs

ROOT = Path(__file__).resolve().parent.parent
SERIF = str(ROOT / "brand" / "nordlicht" / "fonts" / "DejaVuSerif-Bold.ttf")  # no Arabic or Hebrew in it
SANS = str(ROOT / "assetkit" / "fonts" / "DejaVuSans.ttf")
pytestmark = pytest.mark.skipif(not features.check("raqm"), reason="right-to-left needs Pillow's raqm layout")


def test_bidi_levels_and_visual_order():
    assert paragraph_direction("Nordlicht: קפה", "he-IL") == "rtl"  # the language decides, not the first word
    assert paragraph_direction("Nordlicht: קפה", "en-US") == "ltr"
    assert bidi_levels("אב 12% ג", "rtl") == [1, 1, 1, 2, 2, 2, 1, 1]
    assert visual_runs([("a", "100%.")], "rtl") == [("a", ".", "rtl"), ("a", "100%", "ltr")]
    assert visual_runs([("heb", "שלום "), ("lat", "Nordlicht 2027")], "rtl") == [
        ("lat", "Nordlicht 2027", "ltr"), ("heb", "שלום ", "rtl")]
    assert visual_runs([("lat", "Buy "), ("heb", "שלום"), ("lat", " now")], "ltr") == [
        ("lat", "Buy ", "ltr"), ("heb", "שלום", "rtl"), ("lat", " now", "ltr")]


def _ink(img: Image.Image) -> np.ndarray:
    return np.asarray(img.convert("L")) < 128


def test_a_mixed_font_rtl_line_puts_the_first_word_on_the_right():
    f = im.font(FontStack(SERIF, (("Hebr", SANS),), "he-IL"), 40)
    line = Image.new("RGB", (700, 70), "white")
    f.draw(ImageDraw.Draw(line), (10, 50), "Nordlicht שלום", (0, 0, 0), "ls", "rtl")
    alone = Image.new("RGB", (700, 70), "white")
    latin = im.font(SERIF, 40)
    ImageDraw.Draw(alone).text((10 + f.getlength("Nordlicht שלום") - latin.getlength("Nordlicht"), 50), "Nordlicht",
                               font=latin, fill=(0, 0, 0), anchor="ls")
    a, b = _ink(line), _ink(alone)
    cols = np.where(b.any(axis=0))[0]
    right = slice(cols.min(), cols.max() + 1)
    assert (a[:, right] == b[:, right]).mean() > 0.99  # "Nordlicht", the first word, is drawn at the right end
    assert a[:, :cols.min() - 2].sum() > 100  # and the Hebrew to its left


def flat(fmt, colour=(247, 243, 236)):
    brand = load_brand(ROOT / "brand" / "nordlicht")
    master = Master(None, Image.new("RGB", (1024, 1024), colour), (0.5, 0.5), {}, 0.0, "flat")
    return brand, reframe_master(master, fmt, brand, concept="c", variant=1)


@pytest.mark.parametrize("name", ["meta-square", "iab-billboard", "iab-mobile-banner", "tiktok-feed"])
def test_rtl_copy_is_right_aligned_in_a_mirrored_layout(name, workdir):
    text = (workdir / "brand" / "nordlicht" / "brand.yaml").read_text()
    (workdir / "brand" / "nordlicht" / "fonts" / "DejaVuSans.ttf").write_bytes(Path(SANS).read_bytes())
    (workdir / "brand" / "nordlicht" / "brand.yaml").write_text(text.replace(
        "  cta: fonts/DejaVuSansCondensed-Bold.ttf\n",
        "  cta: fonts/DejaVuSansCondensed-Bold.ttf\n"
        "  scripts: {Arab: fonts/DejaVuSans.ttf, Hebr: fonts/DejaVuSans.ttf}\n"))
    fmt = CATALOG[name]
    brand, frame = flat(fmt)
    brand = load_brand(workdir / "brand" / "nordlicht")
    ar = Copy(headline="الربيع بطعم القهوة" if fmt.height > 60 else "الربيع", cta="اكتشف",
              subline="تحميصنا الخفيف الجديد" if fmt.height > 60 else None)
    en = Copy(headline="Spring tastes like coffee" if fmt.height > 60 else "Spring", cta="Discover")
    c = compose_asset(brand, ar, frame, job=Job("c", 1, fmt, "ar", 1, "k-ar"), locale="ar")
    ltr = plan_layout(brand, en, fmt, field_box=frame.field_box, image_box=frame.image_box, locale="en-US",
                      has_field=frame.field_box is not None)
    assert c.info["direction"] == "rtl" and ltr.direction == "ltr"
    content = plan_layout(brand, ar, fmt, field_box=frame.field_box, image_box=frame.image_box, locale="ar",
                          has_field=frame.field_box is not None).content
    mid = (content[0] + content[2]) / 2
    lb = c.boxes["logo"]
    assert (lb[0] + lb[2]) / 2 > mid > (ltr.logo[0] + ltr.logo[2]) / 2  # the logo moves to the right side
    drawn = np.abs(np.asarray(c.image, np.int16) - np.asarray(c.background, np.int16)).sum(axis=2) > 60
    hb = c.boxes["headline"]
    fitted = plan_layout(brand, ar, fmt, field_box=frame.field_box, image_box=frame.image_box, locale="ar",
                         has_field=frame.field_box is not None).elements["headline"].fitted
    lh = fitted.line_height
    ends = []
    for i in range(len(fitted.lines)):  # every line's ink ends at the box's right edge
        band = drawn[hb[1] + i * lh: hb[1] + (i + 1) * lh, hb[0]:hb[2]]
        cols = np.where(band.any(axis=0))[0]
        assert cols.size and hb[2] - (hb[0] + cols.max()) <= 0.15 * fitted.size, (name, i)  # alef's side bearing
        ends.append(hb[0] + cols.max())
    assert max(ends) - min(ends) <= 3, ends  # right-aligned: the lines end together
    if c.info["layout"] == "row":  # a banner's row mirrored: CTA on the left, logo on the right
        assert c.boxes["cta"][2] <= hb[0] and lb[0] >= hb[2]
