"""Work shared between assets is done once, with the pixels and findings of doing it each time.

A text drawn again (the same headline at one size and position on every concept and variant of a
format and locale) reuses FreeType's mask; a frame checked for each of its locales on two threads
has its dominant colours measured once; the scrim laid in place on the compose canvas gives the
image the copying search gives.
"""
from __future__ import annotations

import random
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from assetkit import imaging as im

ROOT = Path(__file__).resolve().parent.parent
FONT = ROOT / "brand" / "nordlicht" / "fonts"


def _a_font_file() -> Path:
    return sorted(p for p in FONT.iterdir() if p.suffix.lower() in (".ttf", ".otf"))[0]


def _drawn(font, text: str, xy=(13.4, 40.7), anchor="ls", direction=None) -> bytes:
    canvas = Image.new("RGB", (420, 90), (240, 230, 220))
    ImageDraw.Draw(canvas).text(xy, text, font=font, fill=(26, 26, 26), anchor=anchor, direction=direction)
    return canvas.tobytes()


def test_a_text_drawn_again_reuses_its_mask_with_freetypes_pixels(monkeypatch):
    path = _a_font_file()
    masks = im._TextMasks(1 << 20)
    monkeypatch.setattr(im, "_masks", masks)
    plain = ImageFont.FreeTypeFont(str(path), 31)
    cached = im.font(path, 31)
    assert isinstance(cached, im._MaskCachingFont)
    rendered = []
    real = ImageFont.FreeTypeFont.getmask2

    def counting(self, *args, **kwargs):
        rendered.append(args[0])
        return real(self, *args, **kwargs)

    monkeypatch.setattr(ImageFont.FreeTypeFont, "getmask2", counting)
    for text, xy, anchor in [("Frühlingsröstung", (13.4, 40.7), "ls"), ("Shop now", (200.5, 45.0), "mm"),
                             ("Frühlingsröstung", (13.9, 40.2), "ls")]:  # another sub-pixel start: its own mask
        first = _drawn(cached, text, xy, anchor)
        again = _drawn(cached, text, xy, anchor)
        assert first == again == _drawn(plain, text, xy, anchor)
    # the plain font rendered each of its 3 draws; the caching one its 3 distinct texts once for 6 draws
    assert len(rendered) == 3 + 3
    assert len(masks.table) == 3


def test_the_mask_store_keeps_to_its_budget():
    masks = im._TextMasks(10_000)
    for i in range(50):
        core = Image.new("L", (30, 30)).im  # 900 bytes each
        masks.put(("t", i), (core, (0, 0)))
    assert masks.used <= 10_000 and len(masks.table) == 11
    assert masks.get(("t", 49)) is not None and masks.get(("t", 0)) is None
    masks.put(("huge",), (Image.new("L", (100, 100)).im, (0, 0)))  # over an eighth of the budget: not kept
    assert masks.get(("huge",)) is None


def test_a_frame_checked_for_two_locales_on_two_threads_is_measured_once(workdir, monkeypatch):
    from assetkit import colour
    from assetkit.context import RunOptions
    from assetkit.runner import run_brief

    calls = []
    real = colour.dominant_colours

    def counting(image, *args, **kwargs):
        calls.append(id(image))
        return real(image, *args, **kwargs)

    monkeypatch.setattr(colour, "dominant_colours", counting)
    brief = workdir / "examples" / "spring-launch" / "brief.yaml"
    brief.write_text(brief.read_text().replace("variants: 2", "variants: 1"))  # 32 assets of 16 frames
    one = run_brief(brief, RunOptions(out=workdir / "one", jobs=1, record=False, stream=False))
    frames = len(calls)
    calls.clear()
    two = run_brief(brief, RunOptions(out=workdir / "two", jobs=2, record=False, stream=False))
    assert len(calls) == frames == len({a["master"] + a["format"] for a in two.manifest["assets"]})
    # the same findings in the same order, whatever order the threads checked the assets in
    assert one.manifest["checks"] == two.manifest["checks"]
    assert [a["sha256"] for a in one.manifest["assets"]] == [a["sha256"] for a in two.manifest["assets"]]


def test_the_scrim_laid_in_place_is_the_copying_search():
    rng = random.Random(11)
    picture = Image.effect_noise((240, 160), 60).convert("RGB")
    boxes = [(20, 90, 220, 130), (20, 135, 120, 150)]
    mask = im.scrim_mask(picture.size, im.union(boxes), 8, 8, 3)
    for _ in range(3):
        colour = (rng.randrange(256), rng.randrange(256), rng.randrange(256))
        want, opacity, value = im.apply_scrim(picture, boxes, (255, 255, 255), colour, mask)
        canvas = picture.copy()
        got, got_opacity, got_value = im.apply_scrim(canvas, boxes, (255, 255, 255), colour, mask, in_place=True)
        assert got is canvas and got.tobytes() == want.tobytes()
        assert (got_opacity, got_value) == (opacity, value)
