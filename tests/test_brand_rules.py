"""Brand rules that gate delivery, measured on pixels and font data: logo versions and contrast,
required elements, legible sizes, colours by role — and the kit's bad input at file:line:col."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

from assetkit import imaging as im
from assetkit.brand import load_brand
from assetkit.brief import Copy
from assetkit.campaign import load_campaign
from assetkit.cli import cli
from assetkit.errors import ConfigError
from assetkit.formats import CATALOG
from assetkit.state import Job, Master
from assetkit.steps.check import check_asset
from assetkit.steps.compose import compose_asset
from assetkit.steps.reframe import reframe_master

ROOT = Path(__file__).resolve().parent.parent
COPY = Copy(headline="Spring tastes like coffee", subline="Our new light roast", cta="Discover now")


def problems(fn, *args) -> list[str]:
    with pytest.raises(ConfigError) as info:
        fn(*args)
    return [str(p) for p in info.value.problems]


def flat(colour, fmt, brand):
    master = Master(None, Image.new("RGB", (1024, 1024), colour), (0.5, 0.5), {}, 0.0, f"flat-{colour}")
    return reframe_master(master, fmt, brand, concept="c", variant=1)


def compose(brand, colour, fmt_name="meta-square", copy=COPY):
    fmt = CATALOG[fmt_name]
    frame = flat(colour, fmt, brand)
    return frame, compose_asset(brand, copy, frame, job=Job("c", 1, fmt, "en-US", 1, f"k-{colour}"))


def edit_kit(workdir: Path, old: str, new: str) -> Path:
    p = workdir / "brand" / "nordlicht" / "brand.yaml"
    text = p.read_text(encoding="utf-8")
    assert old in text
    p.write_text(text.replace(old, new), encoding="utf-8")
    return p.parent


def test_layout_picks_the_logo_version_with_the_best_measured_contrast():
    brand = load_brand(ROOT / "brand" / "nordlicht")
    for colour, version in (((247, 243, 236), "default"), ((27, 58, 75), "on_dark"), ((20, 20, 20), "on_dark")):
        frame, c = compose(brand, colour)
        assert c.info["logo_version"] == version, colour
        lb = c.boxes["logo"]
        measured = im.ink_contrast(c.image.crop(lb), c.background.crop(lb), c.logo_alpha)
        assert measured >= 3.0 and abs(measured - c.info["logo_contrast"]) < 0.3
        assert not [r for r in check_asset(brand, COPY, c, frame) if r.check == "logo-contrast"]


def test_a_logo_that_vanishes_into_its_background_is_an_error():
    brand = load_brand(ROOT / "brand" / "nordlicht")
    frame, c = compose(brand, (27, 58, 75))  # the navy field: the default logo would be invisible
    lb = c.boxes["logo"]
    default = Image.open(brand.logo_path()).convert("RGBA").resize((lb[2] - lb[0], lb[3] - lb[1]))
    assert im.logo_contrast(default, c.background.crop(lb)) < 1.5  # what recolouring used to ship
    c.image.paste(c.background.crop(lb), lb[:2])  # the logo drawn in the colour behind it
    found = [r for r in check_asset(brand, COPY, c, frame) if r.check == "logo-contrast"]
    assert found and found[0].level == "error" and "below 3.0:1" in found[0].message


def test_without_an_on_dark_version_a_plate_keeps_the_logo_visible(workdir):
    brand = load_brand(edit_kit(workdir, "  on_dark: logo-on-dark.png  # the brand's own version for dark ones\n", ""))
    frame, c = compose(brand, (27, 58, 75))
    assert c.info["logo_version"] == "default" and c.info["logo_plate"]["colour"] == brand.palette["background"]
    assert c.info["logo_contrast"] >= 3.0
    assert not [r for r in check_asset(brand, COPY, c, frame) if r.level == "error"]


def test_recolour_only_when_allowed_and_only_single_colour_logos(workdir):
    kit = edit_kit(workdir, "  on_dark: logo-on-dark.png  # the brand's own version for dark ones\n",
                   "  allow_recolour: true\n")
    (msg,) = problems(load_brand, kit)
    assert msg.startswith("brand/nordlicht/brand.yaml:17:19: logo.allow_recolour: the logo has ")
    assert "only a single-colour logo may be recoloured" in msg
    mono = Image.new("RGBA", (200, 60), (0, 0, 0, 0))
    mono.paste((27, 58, 75, 255), (10, 10, 190, 50))
    mono.save(kit / "mono.png")
    edit_kit(workdir, "  default: logo.png          # for light backgrounds\n", "  default: mono.png\n")
    brand = load_brand(kit)
    frame, c = compose(brand, (27, 58, 75))
    assert c.info["logo_version"].startswith("recolour:") and c.info["logo_contrast"] >= 3.0


@pytest.mark.parametrize("case", ["jpeg", "no-alpha", "cta", "min", "bytes", "script"])
def test_bad_kit_input_is_an_error_at_its_position_and_nothing_runs(workdir, case):
    kit = workdir / "brand" / "nordlicht"
    if case == "jpeg":
        Image.new("RGB", (60, 20), "navy").save(kit / "dark.jpg", "JPEG")
        edit_kit(workdir, "on_dark: logo-on-dark.png", "on_dark: dark.jpg")
        expect = "brand/nordlicht/brand.yaml:17:12: logo.on_dark: dark.jpg is a JPEG file; a logo is a PNG"
    elif case == "no-alpha":
        Image.new("RGB", (60, 20), "navy").save(kit / "dark.png", "PNG")
        edit_kit(workdir, "on_dark: logo-on-dark.png", "on_dark: dark.png")
        expect = "brand/nordlicht/brand.yaml:17:12: logo.on_dark: dark.png has no transparency"
    elif case == "cta":
        edit_kit(workdir, "style:\n", "cta_colour: \"#00FF00\"\nstyle:\n")
        expect = "brand/nordlicht/brand.yaml:22:13: cta_colour: '#00FF00' is not in the palette"
    elif case == "min":
        edit_kit(workdir, "style:\n", "checks:\n  min_text_px: {display: 0}\nstyle:\n")
        expect = "brand/nordlicht/brand.yaml:23:26: checks.min_text_px.display: must be at least 1, got 0"
    elif case == "bytes":
        edit_kit(workdir, "style:\n", "checks:\n  max_bytes: {display: 0KB}\nstyle:\n")
        expect = "brand/nordlicht/brand.yaml:23:24: checks.max_bytes.display: a file-weight limit must be a " \
                 "positive size, got '0KB'"
    else:
        edit_kit(workdir, "  cta: fonts/DejaVuSansCondensed-Bold.ttf\n",
                 "  cta: fonts/DejaVuSansCondensed-Bold.ttf\n  scripts: {Klingon: fonts/DejaVuSerif-Bold.ttf}\n")
        expect = "brand/nordlicht/brand.yaml:15:13: fonts.scripts.Klingon: unknown script code 'Klingon'"
    msgs = problems(load_brand, kit)
    assert msgs[0].startswith(expect), msgs
    result = CliRunner().invoke(cli, ["run", "examples/spring-launch/brief.yaml", "--out", "out", "--no-ledger"])
    assert result.exit_code == 2 and expect in result.output
    assert not Path("out").exists()


def test_a_required_cta_that_cannot_fit_is_an_error_at_validate(workdir):
    brief = workdir / "examples" / "spring-launch" / "brief.yaml"
    text = brief.read_text().replace("  - iab-wide-skyscraper\n", "  - iab-wide-skyscraper\n  - iab-mobile-banner\n")
    brief.write_text(text)
    msgs = problems(load_campaign, brief)
    cta = [m for m in msgs if "copy.en-US.cta" in m]
    assert cta and cta[0].startswith("examples/spring-launch/brief.yaml:24:10: copy.en-US.cta: cta does not fit "
                                     "iab-mobile-banner (320×50) at the minimum legible size")
    assert "copy.en-US.formats.iab-mobile-banner" in cta[0]
    # a per-format override fixes it
    text = text.replace("    cta: Discover now\n", "    cta: Discover now\n    formats:\n      iab-mobile-banner: "
                        "{headline: Spring in a cup, cta: Shop}\n")
    text = text.replace("    cta: Jetzt entdecken\n", "    cta: Jetzt entdecken\n    formats:\n      display: "
                        "{headline: Frühling im Becher, cta: Mehr}\n")
    brief.write_text(text)
    load_campaign(brief)
    text = text.replace("iab-mobile-banner: {headline", "iab-mobile-baner: {headline")
    brief.write_text(text)
    (msg,) = problems(load_campaign, brief)
    assert msg.startswith("examples/spring-launch/brief.yaml:26:7: copy.en-US.formats.iab-mobile-baner: "
                          "'iab-mobile-baner' is not a format of this brief"), msg


def test_text_below_the_minimum_size_is_an_error():
    brand = load_brand(ROOT / "brand" / "nordlicht")
    frame, c = compose(brand, (247, 243, 236), "iab-medium-rectangle")
    assert all(px >= 11 for px in c.info["font_px"].values())
    assert not [r for r in check_asset(brand, COPY, c, frame) if r.check == "text-size"]
    c.info["font_px"]["cta"] = 9
    found = [r for r in check_asset(brand, COPY, c, frame) if r.check == "text-size"]
    assert found and found[0].message == "cta is set at 9 px, below the minimum 11 px for display formats"


def test_cta_fill_is_always_the_cta_colour_and_the_label_changes_instead(workdir):
    brand = load_brand(ROOT / "brand" / "nordlicht")
    for colour in ((228, 87, 46), (247, 243, 236), (27, 58, 75)):  # even on an accent-coloured picture
        _, c = compose(brand, colour)
        x0, y0, x1, y1 = c.boxes["cta"]
        assert c.image.getpixel(((x0 + x1) // 2, y0 + 2)) == (228, 87, 46)
    pale = load_brand(edit_kit(workdir, "  accent: \"#E4572E\"      # ember: call-to-action buttons",
                               "  accent: \"#F7D9C4\""))
    _, c = compose(pale, (27, 58, 75))
    assert c.info["cta_colours"] == {"fill": "#F7D9C4", "label": "#1A1A1A"}  # dark label on a pale button
    text = np.asarray(c.image.convert("RGB"))
    assert not ((text == 0).all(axis=2)).any()  # no pure black anywhere: the brand's text is #1A1A1A


NO_ON_DARK = "  on_dark: logo-on-dark.png  # the brand's own version for dark ones\n"


def test_the_logo_plate_is_the_brands_setting_and_checked_either_way(workdir):
    kit = edit_kit(workdir, NO_ON_DARK, "  plate: never\n")
    brand = load_brand(kit)
    frame, c = compose(brand, (27, 58, 75))  # navy: only the dark default logo, and no plate allowed
    assert "logo_plate" not in c.info
    lb = c.boxes["logo"]
    pad = (c.image.getpixel((lb[0] - 3, lb[1] - 3)))
    assert pad == (27, 58, 75)  # nothing behind the logo but the picture
    found = [r for r in check_asset(brand, COPY, c, frame) if r.check == "logo-contrast"]
    assert found and found[0].level == "error" and "below 3.0:1" in found[0].message

    edit_kit(workdir, "  plate: never\n", "  plate: always\n  plate_colour: light\n")
    brand = load_brand(kit)
    for colour in ((247, 243, 236), (27, 58, 75)):  # light and dark masters: a solid white plate on both
        frame, c = compose(brand, colour)
        assert c.info["logo_plate"] == {"colour": "#FFFFFF", "opacity": 1.0}
        lb = c.boxes["logo"]
        assert c.image.getpixel((lb[0] - 2, (lb[1] + lb[3]) // 2)) == (255, 255, 255)
        measured = im.ink_contrast(c.image.crop(lb), c.background.crop(lb), c.logo_alpha)
        assert measured >= 3.0 and not [r for r in check_asset(brand, COPY, c, frame) if r.check == "logo-contrast"]

    edit_kit(workdir, "  plate_colour: light\n", "  plate_colour: pink\n")
    (msg,) = problems(load_brand, kit)
    assert msg.startswith("brand/nordlicht/brand.yaml:15:1: logo: plate_colour 'pink' is not a palette role")


def test_copy_over_a_platforms_limit_is_an_error_at_its_position(workdir):
    brief = workdir / "examples" / "spring-launch" / "brief.yaml"
    long = "Spring tastes like fresh coffee, roasted in Tromsø"  # 50 characters: Meta's headline is 40
    brief.write_text(brief.read_text().replace("headline: Spring tastes like fresh coffee", f"headline: {long}"))
    (msg,) = problems(load_campaign, brief)
    assert msg.startswith("examples/spring-launch/brief.yaml:21:15: copy.en-US.headline: headline has 50 characters, "
                          "over the 40 of the Meta headline (meta-square, meta-portrait, meta-story, meta-landscape): "
                          "shorten it by 10")
    result = CliRunner().invoke(cli, ["run", str(brief), "--out", "out", "--no-ledger"])
    assert result.exit_code == 2 and "copy.en-US.headline: headline has 50 characters" in result.output
    assert not Path("out").exists()
    # a per-format override for the Meta formats fixes it
    text = brief.read_text().replace("    cta: Discover now\n", "    cta: Discover now\n    formats:\n      social: "
                                     "{headline: Spring tastes like coffee}\n", 1)
    brief.write_text(text)
    load_campaign(brief)
    # the kit's own limits: display headlines of at most 30 characters (Google's responsive display)
    edit_kit(workdir, "style:\n", "checks:\n  max_chars: {display: {headline: 30}}\nstyle:\n")
    msgs = problems(load_campaign, brief)
    assert any("copy.en-US.headline: headline has 50 characters, over the 30 of the IAB headline "
               "(iab-medium-rectangle" in m for m in msgs)
    assert any("copy.de-DE.headline: headline has 33 characters, over the 30" in m for m in msgs)
    brand = load_brand(workdir / "brand" / "nordlicht")
    frame, c = compose(brand, (247, 243, 236), "iab-medium-rectangle")
    found = [r for r in check_asset(brand, Copy(headline=long, cta="Go"), c, frame) if r.check == "copy-length"]
    assert [r.level for r in found] == ["error"] and found[0].message.endswith("on iab-medium-rectangle")
    edit_kit(workdir, "max_chars: {display: {headline: 30}}", "max_chars: {Instagram: {headline: 30}}")
    (msg,) = problems(load_brand, workdir / "brand" / "nordlicht")
    assert msg.startswith("brand/nordlicht/brand.yaml:23:3: checks.max_chars: 'Instagram' is not a "
                          "platform (IAB, LinkedIn, Meta, TikTok)")
