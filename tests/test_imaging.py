"""Pillow helpers: WCAG contrast, cover crop, contrast on real pixels, scrims, text fitting."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from assetkit import imaging as im

FONTS = Path(__file__).resolve().parent.parent / "brand" / "nordlicht" / "fonts"
BOLD = FONTS / "DejaVuSansCondensed-Bold.ttf"


def test_contrast_ratio_matches_wcag_reference_values():
    assert im.contrast_ratio((0, 0, 0), (255, 255, 255)) == pytest.approx(21.0)
    assert im.contrast_ratio((0x77, 0x77, 0x77), (255, 255, 255)) == pytest.approx(4.48, abs=0.01)
    assert im.contrast_ratio((0x76, 0x76, 0x76), (255, 255, 255)) == pytest.approx(4.54, abs=0.01)
    assert im.contrast_ratio((10, 20, 30), (10, 20, 30)) == pytest.approx(1.0)
    assert im.relative_luminance((255, 255, 255)) == pytest.approx(1.0)


@pytest.mark.parametrize("src,dst,focal", [((1216, 832), (300, 1050), (0.8, 0.3)),
                                           ((1024, 1024), (728, 90), (0.1, 0.9)),
                                           ((832, 1216), (1080, 1920), (0.5, 0.5)),
                                           ((400, 300), (1200, 1200), (0.0, 1.0))])
def test_cover_crop_never_stretches_and_keeps_focal_point(src, dst, focal):
    img = Image.new("RGB", src)
    out, crop, scale = im.cover_crop(img, dst, focal)
    assert out.size == dst
    cw, ch = crop[2] - crop[0], crop[3] - crop[1]
    # uniform scale: crop aspect equals target aspect (within rounding) and scale = dst/crop on both axes
    assert dst[0] / cw == pytest.approx(scale, rel=0.01)
    assert dst[1] / ch == pytest.approx(scale, rel=0.01)
    assert crop[0] >= 0 and crop[1] >= 0 and crop[2] <= src[0] and crop[3] <= src[1]
    fx, fy = focal[0] * src[0], focal[1] * src[1]
    assert crop[0] <= fx <= crop[2] and crop[1] <= fy <= crop[3]


def test_cover_crop_centres_on_focal_point_when_there_is_room():
    # a red dot at (0.7, 0.5) of a wide image ends up in the middle of a square crop
    img = Image.new("RGB", (2000, 1000), "white")
    img.paste((255, 0, 0), (1390, 490, 1410, 510))
    out, crop, _ = im.cover_crop(img, (200, 200), (0.7, 0.5))
    arr = np.asarray(out)
    ys, xs = np.nonzero((arr[..., 0] > 200) & (arr[..., 1] < 80))
    assert abs(xs.mean() - 100) < 2 and abs(ys.mean() - 100) < 2


def test_measure_contrast_counts_the_worst_pixels_of_a_busy_background():
    img = Image.new("RGB", (100, 100), "black")
    assert im.measure_contrast(img, (0, 0, 100, 100), (255, 255, 255)) == pytest.approx(21.0)
    # 10 % white stripes: the average is dark, the worst case is white-on-white
    arr = np.zeros((100, 100, 3), np.uint8)
    arr[::10] = 255
    busy = Image.fromarray(arr)
    assert im.measure_contrast(busy, (0, 0, 100, 100), (255, 255, 255)) < 1.5
    assert im.measure_contrast(busy, (0, 0, 100, 100), (255, 255, 255), percentile=50) > 15


def test_pick_text_colour_prefers_first_candidate_that_passes():
    light = Image.new("RGB", (50, 50), (247, 243, 236))
    dark = Image.new("RGB", (50, 50), (27, 58, 75))
    cands = [(26, 26, 26), (255, 255, 255)]
    assert im.pick_text_colour(light, [(0, 0, 50, 50)], cands)[0] == (26, 26, 26)
    assert im.pick_text_colour(dark, [(0, 0, 50, 50)], cands)[0] == (255, 255, 255)


def test_scrim_raises_opacity_until_contrast_is_met():
    mid = Image.new("RGB", (200, 100), (128, 128, 128))
    box = (20, 20, 180, 80)
    assert im.measure_contrast(mid, box, (255, 255, 255)) < 4.5
    mask = im.scrim_mask(mid.size, box, pad=8, radius=8, feather=3)
    out, opacity, value = im.apply_scrim(mid, [box], (255, 255, 255), (27, 58, 75), mask, 4.5)
    assert value >= 4.5 and im.measure_contrast(out, box, (255, 255, 255)) >= 4.5
    assert 0.25 <= opacity < 1.0
    assert out.getpixel((2, 2)) == (128, 128, 128)  # outside the scrim untouched


def test_long_compound_is_hyphenated_only_when_asked():
    f = im.font(BOLD, 9)
    assert im.wrap_words("Frühlingsangebot Kaffeevollautomaten", f, 50, hyphenate=False) is None
    lines, hyphenated = im.wrap_words("Frühlingsangebot Kaffeevollautomaten", f, 50, hyphenate=True)
    assert hyphenated and all(f.getlength(line) <= 50 for line in lines)
    assert "".join(line.rstrip("-") for line in lines).replace(" ", "") == "FrühlingsangebotKaffeevollautomaten"
    big = im.font(BOLD, 30)
    lines, _ = im.wrap_words("Der Frühling schmeckt nach Kaffee", big, 200, hyphenate=False)
    assert len(lines) >= 2 and all(big.getlength(line) <= 200 for line in lines)
    assert " ".join(lines) == "Der Frühling schmeckt nach Kaffee"


def test_font_cache_returns_same_object():
    assert im.font(BOLD, 20) is im.font(BOLD, 20)
    assert im.font(BOLD, 20) is not im.font(BOLD, 21)


def test_contact_sheet_has_title_and_every_thumbnail():
    items = [(Image.new("RGB", (300, 250), (228, 87, 46)), "iab-medium-rectangle\nspring-v1"),
             (Image.new("RGB", (728, 90), (27, 58, 75)), "iab-leaderboard\nspring-v1"),
             (Image.new("RGB", (160, 600), (242, 166, 90)), "iab-wide-skyscraper\nspring-v2")]
    sheet = im.contact_sheet(items, "spring-launch · de-DE", "3 assets", thumb=200)
    arr = np.asarray(sheet)
    assert sheet.mode == "RGB" and sheet.width >= 3 * 200
    for colour in [(228, 87, 46), (27, 58, 75), (242, 166, 90)]:
        assert (np.all(arr == colour, axis=-1)).sum() > 1000
    assert tuple(arr[2, 2]) == (246, 246, 244)
