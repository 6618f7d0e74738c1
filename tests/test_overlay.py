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
