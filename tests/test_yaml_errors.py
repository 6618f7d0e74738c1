"""Every problem in a YAML file, reported as file:line:col: field: message — all at once."""
from __future__ import annotations

from pathlib import Path

import pytest

from assetkit.brand import load_brand
from assetkit.brief import load_brief
from assetkit.campaign import load_campaign
from assetkit.errors import ConfigError
from assetkit.pipeline import load_pipeline


def problems(fn, *args) -> list[str]:
    with pytest.raises(ConfigError) as info:
        fn(*args)
    return [str(p) for p in info.value.problems]


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_syntax_error_has_position(workdir):
    f = write(workdir / "bad.yaml", "version: 1\nname: [unclosed\n")
    (msg,) = problems(load_pipeline, f)
    assert msg.startswith("bad.yaml:3:1: YAML syntax error:")


def test_duplicate_keys_are_errors_not_silently_last_wins(workdir):
    f = write(workdir / "dup.yaml", "version: 1\nname: a\nname: b\nsteps: [export]\n")
    assert problems(load_pipeline, f) == ["dup.yaml:3:1: YAML syntax error: duplicate key 'name'"]


def test_brand_all_problems_at_once(workdir):
    f = write(workdir / "brand" / "x" / "brand.yaml", """\
version: 1
name: X
palette:
  primary: "#12345"
  background: "#FFFFFF"
  text: "#000"
logo:
  file: missing.png
  placment: top-left
style:
  keywords: nope
""")
    assert problems(load_brand, f) == [
        "brand/x/brand.yaml:4:12: palette.primary: '#12345' is not a hex colour like '#1B3A4B'",
        "brand/x/brand.yaml:8:9: logo.file: file not found: missing.png (looked for brand/x/missing.png)",
        "brand/x/brand.yaml:9:3: logo.placment: unknown key 'placment'; did you mean 'placement'?",
        "brand/x/brand.yaml:11:13: style.keywords: expected a list, got 'nope'",
    ]


def test_brand_logo_not_an_image_and_no_alpha(workdir):
    from PIL import Image

    d = workdir / "brand" / "y"
    write(d / "logo.png", "not really a png")
    Image.new("RGB", (20, 20), "red").save(d / "flat.png")
    f = write(d / "brand.yaml", 'version: 1\nname: Y\npalette: {primary: "#111111", background: "#FFFFFF", '
                                'text: "#000000"}\nlogo: {file: logo.png}\n')
    assert problems(load_brand, f) == [
        "brand/y/brand.yaml:4:14: logo.file: logo.png is not an image (PNG, JPEG or WebP expected)"]
    f.write_text(f.read_text().replace("logo.png", "flat.png"))
    assert problems(load_brand, f) == [
        "brand/y/brand.yaml:4:14: logo.file: flat.png has no transparency (alpha channel) — a logo needs a "
        "transparent PNG"]


def test_truncated_image_and_decompression_bomb(workdir, monkeypatch):
    from PIL import Image

    import assetkit.files as files

    d = workdir / "brand" / "z"
    d.mkdir(parents=True)
    Image.new("RGBA", (400, 400), (10, 20, 30, 128)).save(d / "logo.png")
    data = (d / "logo.png").read_bytes()
    (d / "cut.png").write_bytes(data[: len(data) // 2])
    f = write(d / "brand.yaml", 'version: 1\nname: Z\npalette: {primary: "#111111", background: "#FFFFFF", '
                                'text: "#000000"}\nlogo: {file: cut.png}\n')
    (msg,) = problems(load_brand, f)
    assert msg.startswith("brand/z/brand.yaml:4:14: logo.file: cut.png is damaged or truncated")
    f.write_text(f.read_text().replace("cut.png", "logo.png"))
    monkeypatch.setattr(files, "MAX_INPUT_PIXELS", 100_000)
    assert problems(load_brand, f) == [
        "brand/z/brand.yaml:4:14: logo.file: logo.png is 400×400 = 160,000 pixels, over the limit of 100,000 "
        "(possible decompression bomb)"]


BRIEF = """\
version: 1
campaign: spring
brand: ../../brand/nordlicht
seed: 1
formats: [meta-square, meta-sqare, 300x250]
copy:
  en-US:
    headline: Hello
  xx-YY:
    headline: Hallo
concepts:
  - id: ../escape
    prompt: a cup
  - id: ok
    promt: typo
"""


def test_brief_problems_with_positions(workdir):
    f = write(workdir / "examples" / "b" / "brief.yaml", BRIEF)
    got = problems(load_brief, f)
    assert got == [
        "examples/b/brief.yaml:5:24: formats[1]: unknown format 'meta-sqare'; did you mean 'meta-square'? valid "
        "formats: meta-square, meta-portrait, meta-story, meta-landscape, tiktok-feed, linkedin-landscape, "
        "linkedin-square, iab-medium-rectangle, iab-leaderboard, iab-wide-skyscraper, iab-half-page, "
        "iab-billboard, iab-mobile-banner, iab-portrait or a custom WxH like 1600x900",
        "examples/b/brief.yaml:9:3: copy.xx-YY: unknown locale 'xx-YY'; use a language tag like en-US, de-DE, fr-FR or "
        "pt-BR",
        "examples/b/brief.yaml:12:9: concepts[0].id: concept id '../escape' becomes a file name: use letters, "
        "digits, '-' and '_' only (1–64 characters, starting with a letter or digit)",
        "examples/b/brief.yaml:14:5: concepts[1].prompt: missing required key 'prompt'",
        "examples/b/brief.yaml:15:5: concepts[1].promt: unknown key 'promt'; did you mean 'prompt'?",
    ]


def test_yaml_12_keeps_ratio_strings_and_no(workdir):
    # PyYAML (YAML 1.1) would read 16:9 as 969 and `no` as false
    f = write(workdir / "examples" / "c" / "brief.yaml", BRIEF.replace("meta-sqare, 300x250", "16:9")
              .replace("xx-YY", "de-DE").replace("../escape", "a").replace("promt", "prompt"))
    (msg,) = problems(load_brief, f)
    assert "unknown format '16:9'" in msg


def test_pipeline_unknown_step_and_bad_params(workdir):
    f = write(workdir / "p.yaml", """\
version: 1
steps:
  - generate: {}
  - reframe: {}
  - composee: {}
  - export:
      format: gif
      qualty: 80
""")
    got = problems(load_pipeline, f)
    assert got[0] == ("p.yaml:5:5: steps[2].composee: unknown step 'composee'; did you mean 'compose'? known "
                      "steps: generate, reframe, compose, check, export")
    assert got[1] == "p.yaml:7:15: steps[3].export.format: 'gif' is not one of 'png', 'jpeg' or 'webp'"
    assert got[2] == "p.yaml:8:7: steps[3].export.qualty: unknown key 'qualty'; did you mean 'quality'?"


def test_pipeline_step_order_checked(workdir):
    f = write(workdir / "p.yaml", "version: 1\nsteps:\n  - compose: {}\n  - generate: {}\n")
    assert problems(load_pipeline, f) == [
        "p.yaml:2:1: steps: the pipeline has no 'export' step, so a run would write no assets and no manifest: "
        "add '- export: {}' as its last step",
        "p.yaml:3:5: steps[0]: step 'compose' needs frames, made by reframe: put that step before it"]


def test_banned_word_in_copy_points_at_copy(workdir):
    f = workdir / "examples" / "spring-launch" / "brief.yaml"
    f.write_text(f.read_text().replace("Discover now", "Cheap coffee"))
    got = problems(load_campaign, f)
    assert got == ["examples/spring-launch/brief.yaml:23:10: copy.en-US.cta: uses the banned word 'cheap' "
                   "(brand voice of Nordlicht Coffee)"]


def test_missing_brand_file_named_relative_to_brief(workdir):
    f = workdir / "examples" / "spring-launch" / "brief.yaml"
    f.write_text(f.read_text().replace("../../brand/nordlicht", "../../brand/nope"))
    assert problems(load_brief, f) == [
        "examples/spring-launch/brief.yaml:5:8: brand: file not found: ../../brand/nope "
        "(looked for brand/nope)"]


def test_copy_that_cannot_fit_points_at_the_copy(workdir):
    f = workdir / "examples" / "spring-launch" / "brief.yaml"
    f.write_text(f.read_text().replace("  - iab-wide-skyscraper\n", "  - iab-wide-skyscraper\n  - 120x40\n"))
    assert problems(load_campaign, f) == [
        "examples/spring-launch/brief.yaml:22:15: copy.en-US.headline: headline does not fit 120x40 (120×40): "
        "no room beside logo and CTA",
        "examples/spring-launch/brief.yaml:27:15: copy.de-DE.headline: headline does not fit 120x40 (120×40): "
        "no room beside logo and CTA",
    ]


def test_cross_field_errors_point_at_the_field_they_are_about(workdir, monkeypatch):
    """A check across fields (run after the fields validated) names its field and its line:col,
    never the start of the file."""
    from assetkit.quotes import load_quotes
    from assetkit.settings import load_settings

    brief = workdir / "examples" / "spring-launch" / "brief.yaml"
    text = brief.read_text()
    dup = text.replace("  - id: roastery\n", "  - id: morning-ritual\n")
    assert problems(load_brief, write(brief, dup)) == [
        "examples/spring-launch/brief.yaml:37:9: concepts[1].id: concept ids must be unique; repeated: morning-ritual"]
    src = text.replace("source_locale: en-US", "source_locale: fr-FR")
    assert problems(load_brief, write(brief, src)) == [
        "examples/spring-launch/brief.yaml:9:16: source_locale: 'fr-FR' has no copy; locales with copy: en-US, de-DE"]
    brand = workdir / "brand" / "nordlicht" / "brand.yaml"
    both = brand.read_text().replace("  placement: top-left\n", "  placement: top-left\n  file: logo.png\n")
    assert problems(load_brand, write(brand, both)) == [
        "brand/nordlicht/brand.yaml:19:9: logo.file: give the logo as 'default' or as 'file', not both"]
    quote = write(workdir / "q.yaml", "id: q1\nagency: A\ncurrency: EUR\nvalid_from: 2026-01-01\nvalid_to: 2026-12-31\n"
                  "lines:\n  - {id: l1, description: a, unit: per_asset, unit_price: 1}\n"
                  "  - {id: l1, description: b, unit: per_asset, unit_price: 2}\n")
    assert problems(load_quotes, quote) == ["q.yaml:8:10: lines[1].id: line ids must be unique; repeated: l1"]
    csv = workdir / "q.csv"
    csv.write_text("quote_id,agency,currency,valid_from,valid_to,line_id,description,unit,unit_price\n"
                   "q1,A,EUR,2026-06-01,2026-01-01,l1,a,per_asset,1\n")
    assert problems(load_quotes, csv) == ["q.csv:2:21: valid_to: 2026-01-01 is before valid_from 2026-06-01"]
    settings = write(workdir / "assetkit.yaml", "fx:\n  - {date: 2026-01-01, from: USD, to: EUR, rate: 0.9}\n"
                     "  - {date: 2026-01-01, from: USD, to: EUR, rate: 0.8}\n")
    assert problems(load_settings, settings) == ["assetkit.yaml:3:5: fx[1]: two rates for USD→EUR on 2026-01-01"]
    pipe = write(workdir / "p.yaml", "version: 1\nname: p\nsteps:\n  - generate: {generator: diffusers, model: m, "
                 "width: 512}\n  - reframe: {}\n  - compose: {}\n  - export: {}\n")
    (msg,) = problems(load_pipeline, pipe)
    assert msg.startswith("p.yaml:4:55: steps[0].generate.width: give both width and height, or neither"), msg
