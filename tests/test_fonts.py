"""Fonts are real font files from the kit; every character of the copy is in the font that draws it."""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image, ImageDraw

from assetkit import imaging as im
from assetkit.brand import load_brand
from assetkit.brief import Copy
from assetkit.campaign import load_campaign
from assetkit.cli import cli
from assetkit.errors import ConfigError
from assetkit.typeface import FontFileError, FontStack, assign, missing_glyphs, read_font, script_of

ROOT = Path(__file__).resolve().parent.parent
CJK = ROOT / "tests" / "fonts" / "NotoSansCJKjp-subset.otf"
JA = {"headline": "春の新しいロースト、登場。", "subline": "小さな釜で丁寧に焙煎したライトロースト。",
      "cta": "今すぐ見る", "disclaimer": "在庫がなくなり次第終了します。"}


def problems(fn, *args) -> list[str]:
    with pytest.raises(ConfigError) as info:
        fn(*args)
    return [str(p) for p in info.value.problems]


def set_fonts(brand_dir: Path, block: str) -> None:
    p = brand_dir / "brand.yaml"
    text = p.read_text(encoding="utf-8")
    start = text.index("fonts:")
    end = text.index("logo:")
    p.write_text(text[:start] + block + text[end:], encoding="utf-8")


def add_locale(brief: Path, locale: str, copy: dict[str, str]) -> None:
    text = brief.read_text(encoding="utf-8")
    lines = [f"  {locale}:"] + [f"    {k}: {v}" for k, v in copy.items()]
    text = text.replace("concepts:\n", "\n".join(lines) + "\nconcepts:\n")
    brief.write_text(text, encoding="utf-8")


@pytest.mark.parametrize("kind", ["text", "empty", "png", "truncated", "symlink"])
def test_a_file_that_is_not_a_font_is_an_error_at_its_position(workdir, kind):
    fonts = workdir / "brand" / "nordlicht" / "fonts"
    bad = fonts / "Broken.ttf"
    real = (fonts / "DejaVuSansCondensed.ttf").read_bytes()
    if kind == "text":
        bad.write_text("this is not a font\n" * 20)
    elif kind == "empty":
        bad.write_bytes(b"")
    elif kind == "png":
        Image.new("RGB", (40, 40), "red").save(bad, "PNG")
    elif kind == "truncated":
        bad.write_bytes(real[:4000])
    else:
        os.symlink(fonts / "DejaVuSansCondensed.ttf", bad)
    set_fonts(workdir / "brand" / "nordlicht", "fonts:\n  headline: fonts/Broken.ttf\n")
    (msg,) = problems(load_brand, workdir / "brand" / "nordlicht")
    assert msg.startswith("brand/nordlicht/brand.yaml:12:13: fonts.headline: fonts/Broken.ttf ")
    expected = {"text": "is not a TrueType/OpenType font", "empty": "is not a TrueType/OpenType font (only 0 bytes)",
                "png": "is not a TrueType/OpenType font", "truncated": "is not a",
                "symlink": "is a symbolic link"}[kind]
    assert expected in msg
    result = CliRunner().invoke(cli, ["validate", "brand/nordlicht"])
    assert result.exit_code == 2 and "fonts.headline" in result.output


def test_a_broken_font_named_like_a_system_font_is_not_swapped_for_it(workdir):
    # DejaVuSans.ttf is findable on the system by that name: Pillow's truetype() would load it
    fonts = workdir / "brand" / "nordlicht" / "fonts"
    (fonts / "DejaVuSans.ttf").write_text("not a font")
    set_fonts(workdir / "brand" / "nordlicht", "fonts:\n  body: fonts/DejaVuSans.ttf\n")
    (msg,) = problems(load_brand, workdir / "brand" / "nordlicht")
    assert "fonts.body: fonts/DejaVuSans.ttf is not a TrueType/OpenType font" in msg
    with pytest.raises(FontFileError, match=r"DejaVuSans\.ttf cannot be opened by FreeType"):
        im.font(fonts / "DejaVuSans.ttf", 12)


def test_unknown_script_code_is_an_error_at_the_key(workdir):
    set_fonts(workdir / "brand" / "nordlicht", "fonts:\n  scripts:\n    Japn: fonts/x.otf\n")
    msgs = problems(load_brand, workdir / "brand" / "nordlicht")
    assert msgs[0].startswith("brand/nordlicht/brand.yaml:13:5: fonts.scripts.Japn: unknown script code 'Japn'; "
                              "did you mean 'Jpan'? use an ISO 15924 code: Latn, Grek")


def test_ja_jp_without_a_cjk_font_is_an_error_at_each_copy_position(workdir):
    brief = workdir / "examples" / "spring-launch" / "brief.yaml"
    add_locale(brief, "ja-JP", JA)
    msgs = problems(load_campaign, brief)
    assert len(msgs) == 4
    assert msgs[0].startswith("examples/spring-launch/brief.yaml:31:15: copy.ja-JP.headline: 13 character(s) in "
                              "ja-JP are not in the font that draws them (fonts/DejaVuSerif-Bold.ttf, headline "
                              "font): '春' (U+6625), 'の' (U+306E)")
    assert msgs[0].endswith("add a font that has them under the brand kit's fonts.scripts "
                            "(Jpan: fonts/your-font.otf)")
    assert msgs[2].startswith("examples/spring-launch/brief.yaml:33:10: copy.ja-JP.cta: 5 character(s)")
    result = CliRunner().invoke(cli, ["run", str(brief), "--out", "out", "--no-ledger"])
    assert result.exit_code == 2 and "copy.ja-JP.subline" in result.output
    assert not Path("out").exists()  # nothing generated


def _cjk_brand(workdir: Path):
    shutil.copy(CJK, workdir / "brand" / "nordlicht" / "fonts" / CJK.name)
    set_fonts(workdir / "brand" / "nordlicht", "fonts:\n  headline: fonts/DejaVuSerif-Bold.ttf\n"
                                               "  body: fonts/DejaVuSansCondensed.ttf\n"
                                               f"  scripts: {{Jpan: fonts/{CJK.name}}}\n")
    return load_brand(workdir / "brand" / "nordlicht")


def _glyph(path: str, ch: str, size: int = 40) -> np.ndarray:
    img = Image.new("L", (size * 2, size * 2), 0)
    ImageDraw.Draw(img).text((size // 2, size // 2), ch, font=im.font(path, size), fill=255)
    return np.asarray(img)


def test_ja_jp_with_a_script_font_validates_and_draws_no_tofu(workdir):
    brand = _cjk_brand(workdir)
    brief = workdir / "examples" / "spring-launch" / "brief.yaml"
    add_locale(brief, "ja-JP", JA)
    load_campaign(brief)  # no problems
    stack = brand.font_stack("headline", "ja-JP")
    runs = assign(JA["headline"], stack)
    assert [(Path(p).name, t) for p, t in runs] == [(CJK.name, JA["headline"])]
    assert missing_glyphs(JA["headline"], stack) == {}
    # every character as drawn differs from the .notdef (tofu) glyph of its font; the main font
    # alone draws tofu for the same character (the test can fail)
    for path, run in runs:
        notdef = _glyph(path, "\ue000")  # a private-use code point no font here maps
        for ch in run:
            assert not np.array_equal(_glyph(path, ch), notdef), ch
    primary = stack.primary
    assert np.array_equal(_glyph(primary, "春"), _glyph(primary, "\ue000"))

    # and on a composed asset: the headline's pixels match the CJK font's rendering, not tofu
    from assetkit.formats import CATALOG
    from assetkit.generators.base import GenerationRequest
    from assetkit.generators.draft import DraftGenerator
    from assetkit.state import Job, Master
    from assetkit.steps.compose import compose_asset
    from assetkit.steps.reframe import reframe_master

    fmt = CATALOG["meta-square"]
    g = DraftGenerator()
    w, h = g.native_size("square")
    req = GenerationRequest("c", 1, "coffee", "", w, h, 1, brand.palette, "square")
    out = g.generate([req])[0]
    frame = reframe_master(Master(req, out.image, out.focal, out.params, 0.0, "m"), fmt, brand)
    c = compose_asset(brand, Copy(**JA), frame, job=Job("c", 1, fmt, "ja-JP", 1, "k"))
    box = c.boxes["headline"]
    ink = np.asarray(c.image.crop(box).convert("L"), dtype=np.int16)
    back = np.asarray(c.background.crop(box).convert("L"), dtype=np.int16)
    assert (np.abs(ink - back) > 60).mean() > 0.05  # text was drawn
    lines = c.info["lines"]["headline"]
    assert lines and not any(line.startswith(("、", "。")) for line in lines)


def test_arabic_and_hebrew_are_drawn_by_their_script_fonts(workdir):
    fonts = workdir / "brand" / "nordlicht" / "fonts"
    from assetkit.brand import FALLBACK_FONTS

    shutil.copy(FALLBACK_FONTS["body"], fonts / "DejaVuSans.ttf")
    brand_dir = workdir / "brand" / "nordlicht"
    set_fonts(brand_dir, "fonts:\n  headline: fonts/DejaVuSerif-Bold.ttf\n  body: fonts/DejaVuSansCondensed.ttf\n")
    brief = workdir / "examples" / "spring-launch" / "brief.yaml"
    add_locale(brief, "ar", {"headline": "ربيع القهوة الجديد", "cta": "اكتشف الآن"})
    msgs = problems(load_campaign, brief)
    assert any("copy.ar.headline" in m and "(Arab: fonts/your-font.otf)" in m for m in msgs)
    set_fonts(brand_dir, "fonts:\n  headline: fonts/DejaVuSerif-Bold.ttf\n  body: fonts/DejaVuSansCondensed.ttf\n"
                         "  scripts: {Arab: fonts/DejaVuSans.ttf, Hebr: fonts/DejaVuSans.ttf}\n")
    load_campaign(brief)
    brand = load_brand(brand_dir)
    stack = brand.font_stack("headline", "ar")
    mixed = assign("Nordlicht: ربيع 2027", stack)
    assert [(Path(p).name, t) for p, t in mixed] == [("DejaVuSerif-Bold.ttf", "Nordlicht: "),
                                                      ("DejaVuSans.ttf", "ربيع 2027")]


def test_script_detection_and_cjk_line_breaks():
    assert script_of("春") == "Hani" and script_of("の") == "Hira" and script_of("ロ") == "Kana"
    assert script_of("ب") == "Arab" and script_of("ש") == "Hebr" and script_of("a") == "Latn"
    assert script_of("1") is None and script_of("、") is None
    f = im.font(CJK, 20)
    width = f.getlength("春の新しいロースト、") + 1
    assert im.wrap_words(JA["headline"], f, width)[0] == ["春の新しいロースト、", "登場。"]
    # one pixel less: the comma may not start a line, so it goes down with the character before it
    assert im.wrap_words(JA["headline"], f, width - 2)[0] == ["春の新しいロース", "ト、登場。"]
    assert all(not line.startswith(("、", "。", "ー")) for line in im.wrap_words(JA["subline"], f, 90)[0])


def test_read_font_reports_cmap_and_collections(tmp_path):
    info = read_font(CJK)
    assert info.has("春") and not info.has("한")
    stack = FontStack(str(ROOT / "assetkit" / "fonts" / "DejaVuSans.ttf"), (("Jpan", str(CJK)),), "ja-JP")
    assert missing_glyphs("春 and 한", stack) == {stack.primary: ["한"]}
