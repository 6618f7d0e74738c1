"""Reframe, compose and check on every catalog format with long German copy, measured on pixels."""
from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from PIL import Image

from assetkit import imaging as im
from assetkit.brand import load_brand
from assetkit.brief import Copy, load_brief
from assetkit.formats import CATALOG, resolve_format
from assetkit.generators.base import GenerationRequest
from assetkit.generators.draft import DraftGenerator
from assetkit.layout import fit_problems, panel_boxes, safe_box
from assetkit.state import Job, Master, RunState
from assetkit.steps.check import CheckParams, CheckStep, banned_words_in, check_asset
from assetkit.steps.compose import ComposeParams, ComposeStep, compose_asset
from assetkit.steps.reframe import ReframeParams, ReframeStep, reframe_master

ROOT = Path(__file__).resolve().parent.parent
BRAND = load_brand(ROOT / "brand" / "nordlicht")
COPY = {
    "en-US": Copy(headline="Spring tastes like coffee", subline="Our new roast: smooth, bright and fairly traded",
                  cta="Discover now", disclaimer="Offer valid until 30 April while supplies last.",
                  formats={"iab-mobile-banner": {"headline": "Spring in a cup", "cta": "Shop"}}),
    "de-DE": Copy(headline="Der Frühling schmeckt nach Kaffee",
                  subline="Unsere neue Röstung: Kaffeevollautomatenfreundlich und fair gehandelt",
                  cta="Jetzt entdecken", disclaimer="Angebot gültig bis 30.04. Solange der Vorrat reicht.",
                  formats={"iab-mobile-banner": {"headline": "Frühling im Becher", "cta": "Mehr"}}),
}
TEXT = ("headline", "subline", "cta", "disclaimer")


def make_master(aspect: str, seed: int = 3) -> Master:
    g = DraftGenerator()
    w, h = g.native_size(aspect)
    req = GenerationRequest("spring", 1, "coffee", "", w, h, seed, BRAND.palette, aspect)
    out = g.generate([req])[0]
    return Master(req, out.image, out.focal, out.params, 0.0, f"m-{aspect}-{seed}")


@pytest.fixture(scope="module")
def masters():
    return {a: make_master(a) for a in ("square", "portrait", "landscape")}


def job(fmt, locale="de-DE", variant=1):
    return Job("spring", variant, fmt, locale, 1, key=f"{fmt.name}-{locale}-{variant}")


def fake_ctx(copy=COPY, brand=BRAND):
    return SimpleNamespace(brand=brand, brief=SimpleNamespace(copy=copy, locales=list(copy)),
                           map=lambda fn, items, label: [fn(i) for i in items])


@pytest.fixture(scope="module")
def composed_all(masters):
    out = []
    for locale in COPY:
        for fmt in CATALOG.values():
            frame = reframe_master(masters[fmt.aspect_group], fmt, BRAND)
            copy = COPY[locale].for_format(fmt)
            out.append((fmt, locale, frame, compose_asset(BRAND, copy, frame, job=job(fmt, locale))))
    return out


def test_reframe_is_exact_size_and_never_stretched(masters):
    for fmt in CATALOG.values():
        master = masters[fmt.aspect_group]
        frame = reframe_master(master, fmt, BRAND)
        assert frame.image.size == (fmt.width, fmt.height)
        iw = frame.image_box[2] - frame.image_box[0]
        ih = frame.image_box[3] - frame.image_box[1]
        cw, ch = frame.crop[2] - frame.crop[0], frame.crop[3] - frame.crop[1]
        assert iw / cw == pytest.approx(frame.scale, rel=0.01) and ih / ch == pytest.approx(frame.scale, rel=0.01)
        fx, fy = master.focal[0] * master.image.width, master.focal[1] * master.image.height
        assert frame.crop[0] <= fx <= frame.crop[2] and frame.crop[1] <= fy <= frame.crop[3]
        if fmt.layout == "full":
            assert frame.field_box is None and frame.image_box == (0, 0, fmt.width, fmt.height)
        else:
            assert frame.field_box is not None and not im.overlaps(frame.field_box, frame.image_box)
            fx0, fy0, fx1, fy1 = frame.field_box
            field = np.asarray(frame.image.crop((fx0, fy0, fx1, fy1)))
            assert np.all(field == BRAND.colour("primary"))


def test_strip_and_tower_panels():
    img, fld = panel_boxes(CATALOG["iab-leaderboard"])
    assert img[0] == 0 and fld[2] == 728 and img[2] == fld[0] and img[2] <= 2 * 90
    img, fld = panel_boxes(CATALOG["iab-portrait"])
    assert img[1] == 0 and fld[3] == 1050 and img[3] == fld[1]
    assert panel_boxes(CATALOG["meta-square"]) == ((0, 0, 1080, 1080), None)


def test_every_format_every_locale_is_on_brand(composed_all):
    for fmt, locale, _frame, c in composed_all:
        where = f"{fmt.name} {locale}"
        boxes = c.boxes
        safe = safe_box(fmt)
        assert c.image.size == (fmt.width, fmt.height), where
        assert "headline" in boxes and "logo" in boxes, where
        for name in ("logo", *TEXT):
            if name in boxes:
                assert im.contains(safe, boxes[name]), f"{where}: {name} {boxes[name]} outside {safe}"
        present = [n for n in TEXT if n in boxes]
        for i, a in enumerate(present):
            assert not im.overlaps(boxes["logo_clear"], boxes[a]), f"{where}: {a} in logo clear space"
            for b in present[i + 1:]:
                assert not im.overlaps(boxes[a], boxes[b]), f"{where}: {a} overlaps {b}"
        logo_w = boxes["logo"][2] - boxes["logo"][0]
        assert logo_w >= BRAND.logo.min_width, where
        lh = boxes["logo"][3] - boxes["logo"][1]
        clear = boxes["logo_clear"]
        assert boxes["logo"][0] - clear[0] >= min(boxes["logo"][0], int(0.5 * lh)), where
        # contrast measured on the final image's pixels behind each text element
        text_rgb = tuple(int(c.info["text_colour"][i:i + 2], 16) for i in (1, 3, 5))
        for name in ("headline", "subline", "disclaimer"):
            if name in boxes:
                assert im.measure_contrast(c.background, boxes[name], text_rgb) >= 4.5, f"{where}: {name}"
                assert c.info["contrast"][name] >= 4.5
        # text really was drawn: pixels in the headline box differ from the background
        hb = boxes["headline"]
        diff = np.abs(np.asarray(c.image.crop(hb), np.int16) - np.asarray(c.background.crop(hb), np.int16))
        assert diff.max() > 100, where
        if "cta" in boxes:
            assert c.info["contrast"]["cta"] >= 4.5
            x0, y0, x1, y1 = boxes["cta"]
            fill = c.image.getpixel(((x0 + x1) // 2, y0 + 2))
            assert fill == tuple(int(c.info["cta_colours"]["fill"][i:i + 2], 16) for i in (1, 3, 5)), where


def test_every_format_every_locale_passes_the_error_level_rules(composed_all):
    """Required elements, legible sizes, logo contrast (measured), text contrast: no error on any
    catalog format in either locale."""
    for fmt, locale, frame, c in composed_all:
        where = f"{fmt.name} {locale}"
        copy = COPY[locale].for_format(fmt)
        assert "headline" in c.boxes and "cta" in c.boxes, where
        errors = [(r.check, r.message) for r in check_asset(BRAND, copy, c, frame) if r.level == "error"]
        assert errors == [], where
        lb = c.boxes["logo"]
        assert im.ink_contrast(c.image.crop(lb), c.background.crop(lb), c.logo_alpha) >= 3.0, where
        need = {"display": (14, 11), "social": (32, 16)}[fmt.format_class]
        for name, px in c.info["font_px"].items():
            assert px >= (need[0] if name == "headline" else need[1]), (where, name, px)
        # colours by role: the CTA fill is the kit's cta colour, text only palette colours
        assert c.info["cta_colours"]["fill"] == BRAND.palette["accent"], where
        palette = {v.upper() for v in BRAND.palette.values()}
        assert c.info["text_colour"] in palette and c.info["cta_colours"]["label"] in palette, where


def test_full_formats_keep_subline_and_tiny_banners_drop_it(composed_all):
    for fmt, locale, _, c in composed_all:
        if fmt.name in ("iab-mobile-banner", "iab-leaderboard"):
            assert "subline" not in c.boxes and "subline" in c.info["dropped"]
        else:
            assert "subline" in c.boxes, f"{fmt.name} {locale}"


def test_the_offer_disclaimer_outranks_the_subline_where_copy_must_go(composed_all):
    # the brand does not require a disclaimer, but the brief gave one: it is the offer's terms, so
    # where copy has to go the subline goes first (de-DE 160×600 kept the subline and lost it)
    assert not BRAND.voice.disclaimer_required
    for fmt, locale, _, c in composed_all:
        where = f"{fmt.name} {locale}"
        assert "disclaimer" in c.boxes or "subline" not in c.boxes, where
        if "disclaimer" in c.info["dropped"]:
            assert "subline" in c.info["dropped"] or fmt.layout == "row", where


def test_the_example_campaigns_german_skyscraper_keeps_its_offer_terms(masters):
    # the example brief's de-DE copy on 160×600: subline and disclaimer do not both fit
    brief = load_brief(ROOT / "examples" / "spring-launch" / "brief.yaml")
    fmt = CATALOG["iab-wide-skyscraper"]
    frame = reframe_master(masters[fmt.aspect_group], fmt, BRAND)
    c = compose_asset(BRAND, brief.copy["de-DE"].for_format(fmt), frame, job=job(fmt))
    assert "disclaimer" in c.boxes and "subline" not in c.boxes and c.info["dropped"] == ["subline"]


def test_the_subline_stays_when_only_leaving_out_the_disclaimer_makes_room(masters):
    fmt = CATALOG["iab-wide-skyscraper"]
    frame = reframe_master(masters[fmt.aspect_group], fmt, BRAND)
    long = " ".join(["Angebot gültig bis 30.04. Solange der Vorrat reicht."] * 6)  # more than its 3 lines
    copy = COPY["de-DE"].model_copy(update={"subline": "Fair gehandelt", "disclaimer": long}).for_format(fmt)
    c = compose_asset(BRAND, copy, frame, job=job(fmt))
    assert "subline" in c.boxes and "disclaimer" not in c.boxes and c.info["dropped"] == ["disclaimer"]


def test_tiny_banner_logo_is_not_oversized(composed_all):
    for fmt, _, _, c in composed_all:
        if fmt.name == "iab-mobile-banner":
            lx0, ly0, lx1, ly1 = c.boxes["logo"]
            assert lx1 - lx0 <= 0.25 * fmt.width and ly1 - ly0 <= fmt.height


def flat_frame(colour, fmt):
    master = Master(None, Image.new("RGB", (1024, 1024), colour), (0.5, 0.5), {}, 0.0, "flat")
    return reframe_master(master, fmt, BRAND, concept="c", variant=1)


def test_text_colour_or_scrim_on_bright_and_dark_frames():
    fmt = CATALOG["meta-square"]
    for colour, expect in (((250, 250, 250), "#1A1A1A"), ((20, 30, 40), "#FFFFFF")):
        c = compose_asset(BRAND, COPY["en-US"], flat_frame(colour, fmt), job=job(fmt, "en-US"))
        assert c.info["text_colour"] == expect and c.info["scrim"] is False
    # black and white stripes: no colour reaches 4.5 on every pixel → a scrim, and the text passes on it
    stripes = np.zeros((1024, 1024, 3), np.uint8)
    stripes[:, ::16] = 255
    stripes[:, 1::16] = 255
    master = Master(None, Image.fromarray(stripes), (0.5, 0.5), {}, 0.0, "stripes")
    frame = reframe_master(master, fmt, BRAND, concept="c", variant=1)
    c = compose_asset(BRAND, COPY["en-US"], frame, job=job(fmt, "en-US"))
    assert c.info["scrim"] is True
    assert min(c.info["contrast"][n] for n in ("headline", "subline", "disclaimer")) >= 4.5
    before = np.asarray(frame.image.crop(c.boxes["headline"]), np.int16)
    after = np.asarray(c.background.crop(c.boxes["headline"]), np.int16)
    assert np.abs(after - before).max() > 50  # the scrim changed the pixels behind the text
    assert 0 < c.info["scrim_opacity"] <= 1


def test_fit_problems_reports_copy_that_cannot_fit():
    banner = CATALOG["iab-mobile-banner"]
    assert fit_problems(BRAND, COPY["de-DE"].for_format(banner), banner) == []
    assert fit_problems(BRAND, COPY["de-DE"], CATALOG["meta-square"]) == []
    long = Copy(headline="Kaffeevollautomatenreinigungstabletten " * 4 + "jetzt im Frühlingsangebot")
    problems = fit_problems(BRAND, long, CATALOG["iab-mobile-banner"])
    assert problems and problems[0][0] == "headline"
    assert "iab-mobile-banner (320×50)" in problems[0][1] and "px" in problems[0][1]
    required = BRAND.model_copy(update={"voice": BRAND.voice.model_copy(update={"disclaimer_required": True})})
    legal = Copy(headline="Spring", disclaimer="Angebot gültig bis 30.04. Solange der Vorrat reicht. " * 4)
    problems = fit_problems(required, legal, CATALOG["iab-mobile-banner"])
    assert problems and {f for f, _ in problems} <= {"headline", "disclaimer"}


def test_steps_run_standalone_and_check_passes(masters):
    fmts = [CATALOG[n] for n in ("meta-square", "iab-leaderboard", "iab-wide-skyscraper")]
    jobs = [job(f, loc) for f in fmts for loc in COPY]
    state = RunState(jobs=jobs, pending=list(jobs))
    state.masters = {j.master_id: masters[j.format.aspect_group] for j in jobs}
    ctx = fake_ctx()
    ReframeStep(ReframeParams()).run(ctx, state)
    assert len(state.frames) == 3  # one frame per concept/variant/format, shared by locales
    ComposeStep(ComposeParams()).run(ctx, state)
    assert set(state.composed) == {j.key for j in jobs}
    CheckStep(CheckParams()).run(ctx, state)
    assert [r for r in state.checks if r.level == "error"] == []


def test_check_finds_banned_words_missing_disclaimer_and_overlaps(masters):
    fmt = CATALOG["meta-square"]
    frame = reframe_master(masters["square"], fmt, BRAND)
    bad = Copy(headline="The best ever CHEAP coffee", cta="Buy")
    c = compose_asset(BRAND, bad, frame, job=job(fmt, "fr-FR"))
    required = BRAND.model_copy(update={"voice": BRAND.voice.model_copy(update={"disclaimer_required": True})})
    found = {(r.check, r.message) for r in check_asset(required, bad, c, frame)}
    assert ("banned-word", "headline uses the banned word 'cheap'") in found
    assert ("banned-word", "headline uses the banned word 'best ever'") in found
    c.boxes["cta"] = c.boxes["headline"]
    c.boxes["subline"] = (0, 0, 40, 40)
    checks = {r.check for r in check_asset(BRAND, bad, c, frame)}
    assert {"overlap", "logo-clear-space"} <= checks
    state = RunState(jobs=[c.job], pending=[c.job], composed={c.job.key: c})
    CheckStep(CheckParams()).run(fake_ctx(copy={"fr-FR": bad}), state)  # recorded; the runner fails the run
    assert {r.check for r in state.checks if r.level == "error"} >= {"banned-word", "overlap"}
    quiet = CheckParams(severity={"banned-word": "off", "overlap": "warning"})
    assert {(r.check, r.level) for r in check_asset(BRAND, bad, c, frame, severity=quiet.severity)
            if r.check in ("banned-word", "overlap")} == {("overlap", "warning")}


def test_banned_words_are_whole_words_case_insensitive():
    assert banned_words_in("So CHEAP!", ["cheap"]) == ["cheap"]
    assert banned_words_in("cheaply made", ["cheap"]) == []
    assert banned_words_in("the best  ever cup", ["best ever"]) == ["best ever"]


def test_custom_format_composes(masters):
    fmt = resolve_format("1600x900")
    frame = reframe_master(masters[fmt.aspect_group], fmt, BRAND)
    c = compose_asset(BRAND, COPY["de-DE"], frame, job=job(fmt))
    assert im.contains(safe_box(fmt), c.boxes["text_area"])


# -- packshots: the copy never covers the product ---------------------------------------------
PRODUCT = ROOT / "examples" / "packshot" / "product.png"


def packshot_master(aspect: str, focal=(0.7, 0.5)) -> Master:
    g = DraftGenerator()
    w, h = g.native_size(aspect)
    req = GenerationRequest("bag", 1, "coffee bag", "", w, h, 7, BRAND.palette, aspect, product_image=PRODUCT,
                            focal=focal)
    out = g.generate([req])[0]
    return Master(req, out.image, out.focal, out.params, 0.0, f"p-{aspect}")


def test_draft_packshot_keeps_the_product_pixels_and_records_its_box():
    m = packshot_master("square")
    x0, y0, x1, y1 = m.params["product_box"]
    with Image.open(PRODUCT) as p:
        product = p.convert("RGBA")
    k = (x1 - x0) / product.getchannel("A").getbbox()[2]
    assert 0.2 < k < 1.0 and x1 > x0 and y1 > y0
    # the middle of the product (the label) is opaque in the PNG: it must be there in the master
    label = np.asarray(m.image.crop((x0 + (x1 - x0) // 3, y0 + (y1 - y0) // 2, x1 - (x1 - x0) // 3,
                                     y0 + (y1 - y0) // 2 + 10)).convert("RGB"), dtype=int)
    assert abs(label.mean(axis=(0, 1)) - np.array([27, 58, 75])).max() < 25  # navy label colour


@pytest.mark.parametrize("name", ["meta-square", "meta-story", "iab-medium-rectangle", "iab-half-page",
                                  "meta-portrait", "linkedin-landscape"])
def test_copy_goes_beside_the_product(name):
    fmt = CATALOG[name]
    master = packshot_master(fmt.aspect_group)
    frame = reframe_master(master, fmt, BRAND, ReframeParams(), "bag", 1)
    assert frame.protect, "the product's box is carried into the frame"
    for locale in COPY:
        c = compose_asset(BRAND, COPY[locale], frame, ComposeParams(), job(fmt, locale))
        for n in TEXT:
            if n in c.boxes:
                assert not im.overlaps(c.boxes[n], frame.protect[0]), (name, locale, n)
        assert not [r for r in check_asset(BRAND, COPY[locale], c, frame) if r.check == "covers-product"]


def test_check_flags_copy_over_the_product():
    fmt = CATALOG["meta-square"]
    frame = reframe_master(packshot_master("square", focal=(0.5, 0.5)), fmt, BRAND, ReframeParams(), "bag", 1)
    c = compose_asset(BRAND, COPY["en-US"], frame, ComposeParams(), job(fmt, "en-US"))
    frame.protect = [(0, 0, fmt.width, fmt.height)]  # pretend the product fills the frame
    found = [r for r in check_asset(BRAND, COPY["en-US"], c, frame) if r.check == "covers-product"]
    assert found and found[0].level == "error" and "cover(s) the product" in found[0].message


def test_the_recorded_text_contrast_is_a_fresh_measurement_on_the_background(composed_all):
    """compose records each text element's contrast from what choosing the colour and scrim
    measured: it equals measuring the element's box on the background again, on every format."""
    from assetkit.brand import hex_to_rgb

    scrims = 0
    for fmt, locale, _frame, c in composed_all:
        colour = hex_to_rgb(c.info["text_colour"])
        scrims += bool(c.info["scrim"])
        for name, value in c.info["contrast"].items():
            if name != "cta":  # the CTA's is its label on its fill
                fresh = im.measure_contrast(c.background, c.boxes[name], colour)
                assert value == round(fresh, 2), (fmt.name, locale, name)
    assert scrims  # the scrim's own measurements are among those compared
