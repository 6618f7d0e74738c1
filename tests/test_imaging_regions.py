"""The compose helpers that work on part of an image give exactly what the whole-image way gives.

Each is compared with the whole-image computation it replaces (written out here), on random
pictures, boxes and masks, edges of the image included: scrim masks blurred on the part the
blur reaches, the opacity search on the measured pixels only, a scrim laid only where its
mask is not 0, luminance read once per box for every candidate colour.
"""
from __future__ import annotations

import random

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFilter

from assetkit import imaging as im


def _whole_scrim_mask(size, box, pad, radius, feather):
    m = Image.new("L", size, 0)
    outer = (box[0] - pad, box[1] - pad, box[2] + pad - 1, box[3] + pad - 1)
    ImageDraw.Draw(m).rounded_rectangle(outer, radius=radius, fill=255)
    if feather > 0:
        m = m.filter(ImageFilter.GaussianBlur(feather))
        ImageDraw.Draw(m).rectangle((box[0], box[1], box[2] - 1, box[3] - 1), fill=255)
    return m


def _whole_measure(image, box, colour, percentile=3.0):
    x0, y0, x1, y1 = im.clip(box, (0, 0, image.width, image.height))
    if x1 <= x0 or y1 <= y0:
        return 1.0
    region = np.asarray(image.crop((x0, y0, x1, y1)).convert("RGB"))
    n = region.shape[0] * region.shape[1]
    if n > im.MAX_MEASURE_PIXELS:
        step = int(np.ceil(np.sqrt(n / im.MAX_MEASURE_PIXELS)))
        region = region[::step, ::step]
    lum = im.luminance_map(region).ravel()
    lt = im.relative_luminance(colour)
    ratio = (np.maximum(lum, lt) + 0.05) / (np.minimum(lum, lt) + 0.05)
    k = min(len(ratio) - 1, int(len(ratio) * percentile / 100.0))
    return float(np.partition(ratio, k)[k])


def _whole_apply_scrim(image, boxes, text_colour, scrim_colour, mask, target=4.5, start=0.25, step=0.05):
    base = image.convert("RGB")
    steps = [start]
    while steps[-1] < 1.0:
        steps.append(min(1.0, steps[-1] + step))

    def composite(o):
        a = mask.point(lambda v: int(round(v * o)))
        return Image.composite(Image.new("RGB", base.size, scrim_colour), base, a)

    opacity = steps[-1]
    for o in steps:
        if min(_whole_measure(composite(o), b, text_colour) for b in boxes) >= target:
            opacity = o
            break
    out = composite(opacity)
    return out, opacity, min(_whole_measure(out, b, text_colour) for b in boxes)


def _picture(rng: random.Random, w: int, h: int) -> Image.Image:
    """Noise over a gradient: busy enough that the low percentile depends on every pixel read."""
    g = np.random.default_rng(rng.randint(0, 2**31))
    base = np.linspace(0, rng.randint(60, 255), w, dtype=np.float32)[None, :, None]
    noise = g.integers(0, rng.randint(1, 200), (h, w, 3))
    return Image.fromarray(np.clip(base + noise, 0, 255).astype(np.uint8), "RGB")


def _box(rng: random.Random, w: int, h: int):
    x0, y0 = rng.randint(-40, w - 1), rng.randint(-40, h - 1)
    return (x0, y0, x0 + rng.randint(1, w), y0 + rng.randint(1, h))


@pytest.mark.parametrize("seed", range(3))
def test_scrim_mask_is_the_whole_image_mask(seed):
    rng = random.Random(seed)
    for _ in range(120):
        w, h = rng.randint(10, 600), rng.randint(10, 600)
        args = ((w, h), _box(rng, w, h), rng.randint(0, 50), rng.randint(0, 40),
                rng.choice([0, rng.uniform(0.2, 20), 4.0]))
        assert im.scrim_mask(*args).tobytes() == _whole_scrim_mask(*args).tobytes(), args


@pytest.mark.parametrize("seed", range(4))
def test_apply_scrim_is_the_whole_image_search(seed):
    rng = random.Random(100 + seed)
    for _ in range(6):
        w, h = rng.randint(60, 700), rng.randint(60, 700)
        picture = _picture(rng, w, h)
        boxes = [_box(rng, w, h) for _ in range(rng.randint(1, 4))]
        block = im.union(boxes)
        pad = rng.randint(2, 30)
        mask = im.scrim_mask((w, h), block, pad, pad, pad / 3) if rng.random() < 0.6 else \
            im.gradient_mask((w, h), im.expand(block, pad), pad * 2, from_bottom=rng.random() < 0.5)
        text = rng.choice([(255, 255, 255), (20, 20, 20), (250, 210, 60)])
        scrim = (10, 10, 10) if text != (20, 20, 20) else (245, 245, 245)
        target = rng.choice([3.0, 4.5, 7.0, 30.0])  # 30: never reached, the search ends at 1.0
        got_image, got_opacity, got_value = im.apply_scrim(picture, boxes, text, scrim, mask, target)
        want_image, want_opacity, want_value = _whole_apply_scrim(picture, boxes, text, scrim, mask, target)
        assert (got_opacity, got_value) == (want_opacity, want_value)
        assert got_image.tobytes() == want_image.tobytes()


def test_apply_scrim_leaves_its_input_alone():
    rng = random.Random(7)
    picture = _picture(rng, 200, 120)
    before = picture.tobytes()
    mask = im.scrim_mask((200, 120), (20, 20, 180, 60), 8, 8, 3)
    im.apply_scrim(picture, [(20, 20, 180, 60)], (255, 255, 255), (0, 0, 0), mask)
    assert picture.tobytes() == before


def test_lay_scrim_is_a_whole_image_composite_and_draws_in_place():
    rng = random.Random(3)
    for _ in range(20):
        w, h = rng.randint(20, 400), rng.randint(20, 400)
        picture = _picture(rng, w, h)
        mask = im.scrim_mask((w, h), _box(rng, w, h), rng.randint(0, 20), 5, rng.uniform(0, 8))
        o = rng.choice([0.25, 0.5, 0.85, 1.0])
        want = Image.composite(Image.new("RGB", (w, h), (200, 30, 30)), picture,
                               mask.point(lambda v, o=o: int(round(v * o))))
        got = picture.copy()
        assert im.lay_scrim(got, (200, 30, 30), mask, o) is got
        assert got.tobytes() == want.tobytes()
    empty = Image.new("L", (30, 30), 0)
    picture = _picture(rng, 30, 30)
    assert im.lay_scrim(picture.copy(), (0, 0, 0), empty, 1.0).tobytes() == picture.tobytes()


def test_box_luminances_measure_what_measure_contrast_measures():
    rng = random.Random(11)
    for _ in range(30):
        w, h = rng.randint(30, 900), rng.randint(30, 900)
        picture = _picture(rng, w, h)
        if rng.random() < 0.3:
            picture = picture.convert("RGBA")
        boxes = [_box(rng, w, h) for _ in range(rng.randint(1, 5))] + [(w + 5, 0, w + 9, 4)]  # one outside
        lums = im.box_luminances(picture, boxes)
        assert lums[-1] is None and im.contrast_on(None, (0, 0, 0)) == 1.0
        for colour in ((255, 255, 255), (0, 0, 0), (120, 200, 90)):
            for box, lum in zip(boxes, lums):
                want = _whole_measure(picture, box, colour)
                assert im.contrast_on(lum, colour) == want
                assert im.measure_contrast(picture, box, colour) == want


def test_pick_text_colour_is_the_per_candidate_measurement():
    rng = random.Random(5)
    candidates = [(255, 255, 255), (30, 30, 30), (250, 200, 40), (0, 90, 160)]
    for _ in range(15):
        w, h = rng.randint(50, 600), rng.randint(50, 600)
        picture = _picture(rng, w, h)
        boxes = [_box(rng, w, h) for _ in range(3)]
        target = rng.choice([2.0, 4.5, 9.0])
        want = best = None
        for c in candidates:  # the whole-image way: each candidate measured on every box anew
            value = min(_whole_measure(picture, b, c) for b in boxes)
            if value >= target:
                want = (c, value)
                break
            if best is None or value > best[1]:
                best = (c, value)
        assert im.pick_text_colour(picture, boxes, candidates, target) == (want or best)


def test_relative_luminance_is_the_same_for_any_spelling_of_a_colour():
    lum = im.relative_luminance((12, 200, 99))
    assert im.relative_luminance([12, 200, 99]) == lum
    assert im.relative_luminance(np.array([12, 200, 99, 255], dtype=np.uint8)) == lum
    assert im.relative_luminance((12.0, 200.0, 99.0)) == lum
    r, g, b = (float(im._linear(v)) for v in (12, 200, 99))
    assert lum == 0.2126 * r + 0.7152 * g + 0.0722 * b


def test_opacity_lut_is_the_rounded_scale():
    for o in (0.25, 0.3, 0.55, 1.0):
        assert im.opacity_lut(o) == tuple(int(round(v * o)) for v in range(256))


def test_scale_mask_is_the_point_of_the_rounded_scale():
    rng = random.Random(9)
    mask = im.scrim_mask((300, 200), (40, 30, 250, 150), 12, 12, 4.0)
    noise = Image.fromarray(np.random.default_rng(2).integers(0, 256, (50, 70), dtype=np.uint8), "L")
    for o in (0.25, 0.3, 0.45, 0.7, 1.0, rng.random()):
        for m in (mask, noise):
            got = im.scale_mask(m, o)
            assert got.mode == "L" and got.size == m.size
            assert got.tobytes() == m.point(lambda v, o=o: int(round(v * o))).tobytes()
