"""The checks made visible: contact-sheet badges with rule ids, and the --show-checks overlay."""
from __future__ import annotations

import numpy as np
from PIL import Image

from assetkit.overlay import LEVEL_COLOUR, check_overlay


def test_overlay_draws_boxes_and_findings():
    img = Image.new("RGB", (1080, 1080), (240, 240, 240))
    boxes = {"headline": (100, 700, 600, 800), "logo": (60, 60, 260, 120), "logo_clear": (30, 30, 290, 150)}
    info = {"safe_zone": [0, 0, 1080, 1080], "font_px": {"headline": 64}, "contrast": {"headline": 9.1},
            "logo_version": "on_dark", "logo_contrast": 4.2}
    out = check_overlay(img, boxes, info, [{"check": "text-size", "level": "error", "message": "cta is 9 px"}])
    assert out.width == 1080 and out.height > 1080  # a strip for the findings under the asset
    arr = np.asarray(out)
    assert (arr[700, 100:600] == (255, 0, 170)).all(axis=1).mean() > 0.5 or \
        (arr[700:800, 100] == (255, 0, 170)).all(axis=1).mean() > 0.5  # the headline's box is outlined
    strip = arr[1080:]
    assert (np.abs(strip.astype(int) - LEVEL_COLOUR["error"]).sum(axis=2) < 60).any()  # the finding, in red
    small = check_overlay(Image.new("RGB", (300, 250), "white"), {"cta": (10, 10, 90, 40)}, {"font_px": {"cta": 11}})
    assert small.size == (600, 500)  # small formats drawn at 2×


def test_contact_sheet_badges_never_cover_the_asset():
    from assetkit.imaging import contact_sheet
    from assetkit.overlay import badge

    tile = Image.new("RGB", (280, 44), (27, 58, 75))  # a 320×50 banner's thumbnail: logo in its top-left
    tile.paste((255, 255, 255), (4, 4, 60, 40))
    mark = badge([{"check": "logo-contrast", "level": "error", "message": "x"},
                  {"check": "palette", "level": "warning", "message": "y"}])
    assert mark == ("✕ logo-contrast", LEVEL_COLOUR["error"])  # errors only, when there are errors
    sheet = np.asarray(contact_sheet([(tile, "iab-mobile-banner\nc v1", mark)], "t", thumb=280)).astype(int)
    plain = np.asarray(contact_sheet([(tile, "iab-mobile-banner\nc v1")], "t", thumb=280)).astype(int)
    ys, xs = np.where(np.abs(plain - (255, 255, 255)).sum(axis=2) == 0)
    y0, x0 = ys.min(), xs.min()  # where the thumbnail's white logo block is on the sheet
    assert (sheet[y0:y0 + 36, x0:x0 + 56] == 255).all()  # the logo is untouched by the mark
    tile_box = sheet[y0 - 4:y0 + 40, x0 - 4:x0 + 276]
    assert (np.abs(tile_box - np.asarray(tile)).sum(axis=2) == 0).mean() > 0.97  # nor is the rest of the tile
    red = np.abs(sheet - LEVEL_COLOUR["error"]).sum(axis=2) < 30
    assert red[y0 + 40:].sum() > 200  # the badge sits under the picture
    assert red[:, :x0 - 4].sum() > 30  # and a frame around it


def test_labels_never_cover_each_other_and_prefer_free_space():
    from PIL import Image, ImageDraw

    from assetkit import imaging as im
    from assetkit.brand import FALLBACK_FONTS
    from assetkit.overlay import _tag
    _area = im.overlap_area

    canvas = Image.new("RGB", (300, 250))
    draw, font = ImageDraw.Draw(canvas), im.font(FALLBACK_FONTS["body"], 11)
    # a logo in the corner, a headline right under it, a subline under that: the cramped 300×250 case
    boxes = [(20, 4, 170, 60), (20, 70, 280, 95), (20, 98, 280, 130)]
    placed: list = []
    for b in boxes:
        _tag(draw, b, "a label of some length", (255, 0, 0), font, placed, boxes)
    _tag(draw, (0, 0, 300, 250), "safe zone", (0, 0, 255), font, placed, boxes, inside=True)
    assert len(placed) == 4
    assert all(_area(a, b) == 0 for i, a in enumerate(placed) for b in placed[i + 1:])
    assert all(min(r) >= 0 and r[2] <= 300 and r[3] <= 250 for r in placed)
    assert sum(_area(placed[-1], b) for b in boxes) == 0  # the safe-zone label found a free corner
