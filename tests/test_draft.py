"""The draft generator: deterministic per seed, different across seeds, fast, on palette."""
from __future__ import annotations

import numpy as np
from PIL import Image

from assetkit.generators import get_generator
from assetkit.generators.base import GenerationRequest
from assetkit.generators.draft import DraftGenerator

PALETTE = {"primary": "#1B3A4B", "secondary": "#F2A65A", "accent": "#E4572E", "background": "#F7F3EC",
           "text": "#1A1A1A", "light": "#FFFFFF"}


def request(seed=1, size=(256, 256), **kw):
    return GenerationRequest("spring", 1, "a cup of coffee", "", size[0], size[1], seed, PALETTE, **kw)


def test_same_seed_same_pixels_and_different_seeds_differ():
    g = DraftGenerator()
    a, b, c = g.generate([request(7), request(7), request(8)])
    assert np.array_equal(np.asarray(a.image), np.asarray(b.image))
    assert a.focal == b.focal
    diff = np.abs(np.asarray(a.image, np.int16) - np.asarray(c.image, np.int16)).mean()
    assert diff > 10


def test_output_size_mode_params_and_fingerprint():
    g = get_generator("draft")
    out = g.generate([request(3, (320, 200))])[0]
    assert out.image.size == (320, 200) and out.image.mode == "RGB"
    assert out.params["generator"] == "draft" and out.params["seed"] == 3
    assert out.params["size"] == [320, 200] and out.params["prompt"] == "a cup of coffee"
    assert g.fingerprint() == {"generator": "draft", "version": 2}
    assert g.native_size("portrait") == (832, 1216)


def test_focal_point_is_off_centre_subject_or_the_requested_one():
    g = DraftGenerator()
    for seed in range(5):
        fx, fy = g.generate([request(seed)])[0].focal
        assert 0.25 <= fx <= 0.75 and abs(fx - 0.5) >= 0.09 and 0.3 <= fy <= 0.45
    assert g.generate([request(1, focal=(0.2, 0.7))])[0].focal == (0.2, 0.7)


def test_colours_come_from_the_palette():
    img = np.asarray(DraftGenerator(grain=0).generate([request(2)])[0].image, np.float32)
    palette = np.array([[int(h[i:i + 2], 16) for i in (1, 3, 5)] for h in PALETTE.values()], np.float32)
    # every pixel is a blend of palette colours: its distance to the palette's hull is small;
    # cheap proxy: the mean colour lies within the palette's bounding box
    mean = img.reshape(-1, 3).mean(0)
    assert np.all(mean >= palette.min(0) - 1) and np.all(mean <= palette.max(0) + 1)
    assert img.std() > 10  # not a flat fill


def test_product_image_is_pasted_at_the_focal_point(tmp_path):
    product = Image.new("RGBA", (100, 200), (0, 0, 0, 0))
    product.paste((0, 255, 0, 255), (20, 20, 80, 180))
    path = tmp_path / "product.png"
    product.save(path)
    out = DraftGenerator().generate([request(4, (400, 400), product_image=path, focal=(0.6, 0.5))])[0]
    arr = np.asarray(out.image, np.int16)
    green = (arr[..., 1] > 200) & (arr[..., 0] < 60) & (arr[..., 2] < 60)
    ys, xs = np.nonzero(green)
    assert green.sum() > 2000
    assert abs(xs.mean() - 240) < 6 and abs(ys.mean() - 200) < 6


def test_init_image_tints_the_background(tmp_path):
    ref = Image.new("RGB", (64, 64), "black")
    ref.paste((255, 255, 255), (0, 0, 32, 64))
    path = tmp_path / "ref.png"
    ref.save(path)
    g = DraftGenerator(grain=0)
    plain = np.asarray(g.generate([request(5)])[0].image, np.int16)
    graded = np.asarray(g.generate([request(5, init_image=path)])[0].image, np.int16)
    assert np.abs(plain - graded).mean() > 5
