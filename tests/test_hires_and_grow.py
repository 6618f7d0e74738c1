"""@2x deliverables rendered at double resolution (not upscaled), and short copy growing into the room
of tall formats — measured on pixels and the layout."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from click.testing import CliRunner
from PIL import Image

from assetkit.brand import load_brand
from assetkit.brief import Copy
from assetkit.cli import cli
from assetkit.formats import CATALOG
from assetkit.layout import SIZES, plan_layout, type_scale
from assetkit.state import Job, Master
from assetkit.steps.compose import compose_asset, compose_scaled
from assetkit.steps.reframe import reframe_master

ROOT = Path(__file__).resolve().parent.parent
BRAND = load_brand(ROOT / "brand" / "nordlicht")
COPY = Copy(headline="Spring tastes like coffee", subline="Our new light roast", cta="Discover now")


def _master() -> Master:
    y, x = np.mgrid[0:1024, 0:1024]
    img = np.stack([x / 4, y / 4, (x + y) / 8], axis=2).astype(np.uint8)
    return Master(None, Image.fromarray(img), (0.5, 0.5), {}, 0.0, "grad")


def _ink_rows(composed, box) -> int:
    diff = np.abs(np.asarray(composed.image, np.int16) - np.asarray(composed.background, np.int16)).sum(axis=2)
    rows = np.where((diff[box[1]:box[3], box[0]:box[2]] > 60).any(axis=1))[0]
    return int(rows.max() - rows.min() + 1)


def _blur(drawn: np.ndarray, behind: np.ndarray) -> float:
    """Edge pixels per ink pixel: half-covered pixels (10–70 % of the way from background to ink)
    over fully inked ones — an upscaled glyph has twice as wide soft edges as one drawn at size."""
    d = np.abs(drawn.astype(np.float32) - behind.astype(np.float32)).sum(axis=2)
    full = d.max()
    return float(((d > 0.1 * full) & (d < 0.7 * full)).sum() / max(1, (d >= 0.7 * full).sum()))


def test_an_at_2x_asset_is_rendered_at_double_resolution_not_upscaled():
    master = _master()
    for name in ("iab-mobile-banner", "iab-medium-rectangle", "iab-billboard"):
        fmt = CATALOG[name]
        frame = reframe_master(master, fmt, BRAND, concept="c", variant=1)
        copy = Copy(headline="Spring in a cup", cta="Shop") if name == "iab-mobile-banner" else COPY
        one = compose_asset(BRAND, copy, frame, job=Job("c", 1, fmt, "en-US", 1, "k"))
        two = compose_scaled(BRAND, copy, frame, master.image, one, 2, job=Job("c", 1, fmt, "en-US", 1, "k"))
        assert two.size == (fmt.width * 2, fmt.height * 2), name
        hb = one.boxes["headline"]
        big = tuple(v * 2 for v in hb)
        h1 = _ink_rows(one, hb)
        upscaled = np.asarray(one.image.resize(two.size, Image.Resampling.LANCZOS))
        drawn = np.asarray(two)
        crop = (slice(big[1], big[3]), slice(big[0], big[2]))
        # the same layout: the headline's ink sits in the doubled box, twice as tall (±2 px)
        behind = np.asarray(one.background.resize(two.size, Image.Resampling.LANCZOS), np.int16)
        rows = np.where((np.abs(drawn.astype(np.int16) - behind).sum(axis=2)[crop] > 60).any(axis=1))[0]
        assert abs((rows.max() - rows.min() + 1) - 2 * h1) <= 3, (name, h1, rows.max() - rows.min() + 1)
        # drawn at 2×: crisper glyph edges than the 1× asset upscaled
        assert _blur(drawn[crop], behind[crop]) < 0.8 * _blur(upscaled[crop], behind[crop]), name
        # same colours: the CTA fill is the brand's accent at 2× too
        cx0, cy0, cx1, cy1 = (v * 2 for v in one.boxes["cta"])
        assert two.getpixel(((cx0 + cx1) // 2, cy0 + 3)) == (228, 87, 46)


def test_run_writes_at_2x_files_for_the_formats_asked(workdir):
    (workdir / "hires.yaml").write_text(
        "version: 1\nsteps:\n  - generate: {}\n  - reframe: {}\n  - compose: {}\n  - check: {}\n"
        "  - export: {scale: 2, scale_formats: [display]}\n")
    brief = workdir / "examples" / "spring-launch" / "brief.yaml"
    text = brief.read_text()
    brief.write_text(text.replace("variants: 2", "variants: 1").replace("  - meta-portrait\n", "").replace(
        "  - meta-story\n", "").replace("  - meta-landscape\n", "").replace("  - iab-half-page\n", "").replace(
        "  - iab-wide-skyscraper\n", "").replace("  - roastery\n", ""))
    result = CliRunner().invoke(cli, ["run", str(brief), "--out", "out", "--no-ledger", "--pipeline", "hires.yaml",
                                      "--progress", "none"])
    assert result.exit_code == 0, result.output
    campaign = Path("out") / "spring-launch"
    manifest = json.loads((campaign / "manifest.json").read_text())
    for a in manifest["assets"]:
        if a["format_class"] != "display":
            assert a["scaled"] == [] and not list((campaign / Path(a["path"]).parent).glob("*@2x.png"))
            continue
        (s,) = a["scaled"]
        with Image.open(campaign / s["path"]) as im2:
            assert im2.size == (a["width"] * 2, a["height"] * 2) == (s["width"], s["height"])
        assert s["path"] == a["path"].replace(".png", "@2x.png") and s["bytes"] <= 150_000
    bad = CliRunner().invoke(cli, ["validate", "hires.yaml"])
    assert bad.exit_code == 0
    (workdir / "hires.yaml").write_text((workdir / "hires.yaml").read_text().replace("[display]", "[dispaly]"))
    bad = CliRunner().invoke(cli, ["validate", "hires.yaml"])
    assert bad.exit_code == 2 and "hires.yaml:7:24: steps[4].export.scale_formats: unknown format 'dispaly'" in \
        bad.output and "or a format class: social, display, video, print" in bad.output


def test_short_copy_grows_into_a_tall_format_and_keeps_one_scale():
    fmt = CATALOG["tiktok-feed"]
    copies = {"en-US": COPY, "de-DE": Copy(headline="Frühling im Becher", subline="Unsere neue helle Röstung",
                                           cta="Jetzt entdecken")}
    plan = plan_layout(BRAND, COPY, fmt, locale="en-US")
    unit = min(fmt.width, fmt.height)
    top = int(round(SIZES["full"]["headline"][0] * unit))  # the largest size before growing
    size = plan.elements["headline"].fitted.size
    assert top < size <= 1.4 * top + 1
    text_top = min(p.box[1] for p in plan.elements.values())
    below_logo = plan.content[3] - plan.logo_clear[3]
    used = plan.content[3] - text_top
    assert used >= 0.45 * below_logo  # the copy takes the room it is given (text_share 0.55)
    square = plan_layout(BRAND, COPY, CATALOG["meta-square"], locale="en-US")
    assert square.elements["headline"].fitted.size <= int(round(SIZES["full"]["headline"][0] * 1080))  # squares don't
    caps = type_scale(BRAND, copies, fmt)
    sizes = {loc: {n: p.fitted.size for n, p in plan_layout(BRAND, c, fmt, locale=loc, caps=caps).elements.items()}
             for loc, c in copies.items()}
    assert sizes["en-US"] == sizes["de-DE"] == caps and caps["headline"] > top  # one scale, grown
