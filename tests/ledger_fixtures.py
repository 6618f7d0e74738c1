"""Shared builders for the ledger tests: manifests, settings and quotes without running a pipeline."""
from __future__ import annotations

from pathlib import Path

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
DATA = Path(__file__).resolve().parent / "data"
#: The example card before it had adaptation lines: every deliverable priced by its placement's
#: line (what a card without ``applies_to`` still does); the pricing tests' figures assume it.
QUOTE_YAML = DATA / "agency-2026-no-roles.yaml"
QUOTE_CSV = DATA / "agency-2026-no-roles.csv"
#: The example card as shipped: master, resize, locale version, extra variant and revision lines.
EXAMPLE_YAML = EXAMPLES / "quotes" / "agency-2026.yaml"
EXAMPLE_CSV = EXAMPLES / "quotes" / "agency-2026.csv"

SETTINGS_YAML = """\
currency: EUR
money_locale: en_US
compute: {gpu_hour: 2.40, cpu_hour: 0.36}
internal_hourly_rate: 60
tool_cost_per_asset: 0.10
human_minutes:
  per_asset:
    social: {art_direction: 2, review: 2, fixes: 2}
    display: {art_direction: 1, review: 1, fixes: 1}
  translation_review_per_locale: 12
fx:
  - {date: 2026-01-01, from: USD, to: EUR, rate: 0.90}
  - {date: 2026-07-01, from: USD, to: EUR, rate: 0.80}
"""


def manifest(run_id="20261125T083000Z-ab12cd", finished="2026-11-25T08:31:00+00:00", campaign="spring-launch",
             formats=(("meta-square", "social"), ("iab-leaderboard", "display")), locales=("en-US", "de-DE"),
             concepts=("morning",), cached=False, quote=None, compute=0.5, device="cpu", generator="diffusers",
             copy_source="in-house"):
    assets = []
    for loc in locales:
        for fmt, cls in formats:
            for concept in concepts:
                assets.append({"path": f"{loc}/{fmt}/{concept}-v1.png", "sha256": "0" * 64, "bytes": 1,
                               "format": fmt, "format_class": cls, "width": 1, "height": 1, "locale": loc,
                               "concept": concept, "variant": 1, "seed": 1, "generator": "draft",
                               "compute_seconds": compute, "cached": cached, "key": f"{loc}{fmt}{concept}"})
    copy = {loc: {"headline": "Wake up to Nordlicht", "subline": "Freshly roasted every single morning",
                  "cta": "Shop now", "disclaimer": None, "source": copy_source} for loc in locales}
    return {"assetkit_version": "0.1.0", "run_id": run_id, "started_at": finished, "finished_at": finished,
            "campaign": campaign, "brand": "Nordlicht Coffee", "brand_slug": "nordlicht",
            "brief": "examples/spring-launch/brief.yaml", "brief_sha256": "f" * 64, "pipeline": "social-campaign",
            "source_locale": locales[0], "quote": quote, "device": device,
            "generator": {"name": generator, "model": None if generator == "draft" else "tiny-sd"},
            "timings": {"total": 3.0},
            "compute_seconds": compute * len(assets) + 1.0, "copy": copy, "assets": assets}
