"""A realistic, reproducible demo ledger (``examples/demo-ledger``)."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

from ..errors import UsageError
from ..yamlfile import display_path
from . import store
from .records import Ledger
from .store import utc_iso

_DEMO_BRANDS = {
    "Nordlicht Coffee": ["spring-launch", "cold-brew-summer", "autumn-blend"],
    "Alpenrad Bikes": ["trail-season", "city-commute"],
    "Mareva Skincare": ["glow-serum"],
}
_DEMO_MANUAL = [
    ("translation", "Newsletter translation de/fr (agency would charge per word)", 420, 60, 1.5, 6),
    ("photography", "Product packshots made in-house with the studio light kit", 1800, 350, 6, 14),
    ("crm", "Email banner set for the loyalty programme", 950, 90, 3, 8),
    ("social", "Community-management post templates", 600, 40, 2, 5),
    ("other", "Trade-fair poster resized for three stands", 380, 25, 1, 3),
]


def seed_demo(path: str | Path, months: int = 6, seed: int = 7, end: dt.date = dt.date(2026, 11, 30),
              settings=None) -> Path:
    """Write a realistic, reproducible demo ledger at ``path`` (which must not exist yet).

    ``months`` months up to ``end``: model runs (diffusers, one wave of new concepts each) for three
    brands / six campaigns priced against the example card ``examples/quotes/agency-2026.yaml``
    (masters, resizes, locale versions, variants), each campaign's first wave preceded by a
    draft-proof run (recorded, not counted), copy per locale written by the agency, in-house or by
    machine, manual translation / photography / CRM / social entries, two runs naming a quote
    that was never imported (no baseline), one recorded review, a voided duplicate entry, a
    --force re-run that books nothing and a re-make with two revisions.
    Same arguments → same file contents (identity and clock are pinned).
    """
    import random

    from ..formats import CATALOG
    from ..quotes import load_quotes
    from ..settings import Settings

    path = Path(path)
    if path.exists():
        raise UsageError(f"{display_path(path)} already exists; seed_demo only writes a new file")
    settings = settings or Settings()
    rng = random.Random(seed)
    quote_file = Path(__file__).resolve().parent.parent.parent / "examples" / "quotes" / "agency-2026.yaml"
    quote = load_quotes(quote_file)[0] if quote_file.exists() else _builtin_demo_quote()
    formats = list(CATALOG.values())
    locales = ["en-US", "de-DE", "fr-FR", "es-ES", "ja-JP"]
    # month starts, oldest first
    first = dt.date(end.year, end.month, 1)
    starts = []
    for i in range(months):
        y, m = first.year, first.month - i
        while m <= 0:
            m, y = m + 12, y - 1
        starts.append(dt.date(y, m, 1))
    starts.reverse()
    saved = (store._WHO_OVERRIDE, store._NOW_OVERRIDE)
    try:
        store._WHO_OVERRIDE = "demo@assetkit"
        store._NOW_OVERRIDE = f"{starts[0].isoformat()}T00:00:00Z"
        with Ledger(path) as lg:
            lg.import_quote(quote, "examples/quotes/agency-2026.yaml")
            runs: list[str] = []
            model_runs: list[dict] = []
            proofed: set[str] = set()
            no_baseline_left = 2
            wave = 0
            for mi, start in enumerate(starts):
                for r in range(rng.randint(3, 5)):
                    brand = rng.choice(sorted(_DEMO_BRANDS))
                    campaign = rng.choice(_DEMO_BRANDS[brand])
                    day = start + dt.timedelta(days=rng.randint(0, 27))
                    when = dt.datetime(day.year, day.month, day.day, rng.randint(7, 18), rng.randint(0, 59),
                                       tzinfo=dt.UTC)
                    wave += 1
                    locs = ["en-US"] + rng.sample(locales[1:], rng.randint(0, 3))
                    fmts = rng.sample(formats, rng.randint(2, 5))
                    concepts = [f"w{wave}-c{i + 1}" for i in range(rng.randint(1, 3))]
                    variants = rng.choice([1, 1, 2])
                    # a campaign's first wave is laid out with draft proofs first (not counted), then made
                    if campaign not in proofed:
                        proofed.add(campaign)
                        proof = _demo_manifest(rng, when - dt.timedelta(days=1), campaign, brand, locs, fmts,
                                               concepts, variants, "draft", None)
                        store._NOW_OVERRIDE = utc_iso(proof["finished_at"])
                        lg.record_run(proof, f"out/{campaign}/{proof['run_id']}/manifest.json", settings)
                        runs.append(proof["run_id"])
                    named = None
                    if no_baseline_left and mi in (1, months - 2) and r == 0:
                        named, no_baseline_left = "print-studio-2026", no_baseline_left - 1
                    manifest = _demo_manifest(rng, when, campaign, brand, locs, fmts, concepts, variants, "diffusers",
                                              named)
                    store._NOW_OVERRIDE = utc_iso(manifest["finished_at"])
                    lg.record_run(manifest, f"out/{campaign}/{manifest['run_id']}/manifest.json", settings)
                    runs.append(manifest["run_id"])
                    if not named:
                        model_runs.append(manifest)
                # manual entries this month
                for cat, desc, base, actual, hours, bh in rng.sample(_DEMO_MANUAL, 2):
                    day = start + dt.timedelta(days=rng.randint(0, 27))
                    store._NOW_OVERRIDE = f"{day.isoformat()}T16:00:00Z"
                    brand = rng.choice(sorted(_DEMO_BRANDS))
                    factor = Decimal(rng.randint(80, 120)) / 100
                    lg.add_manual(cat, desc, Decimal(base) * factor, Decimal(actual), hours=hours, baseline_hours=bh,
                                  campaign=rng.choice(_DEMO_BRANDS[brand]), brand=brand, on=day, settings=settings,
                                  source=f"agency quote HF-{day:%Y%m}-{rng.randint(100, 999)}",
                                  approved_by="Head of Marketing")
            # corrections: a duplicated manual entry voided, and real review time for one run
            last = starts[-1] + dt.timedelta(days=2)
            store._NOW_OVERRIDE = f"{last.isoformat()}T09:00:00Z"
            dup = lg.add_manual("crm", "Email banner set for the loyalty programme (entered twice)", Decimal(950),
                                Decimal(90), hours=3, baseline_hours=8, campaign="glow-serum",
                                brand="Mareva Skincare", on=last, settings=settings, source="agency quote HF-dup",
                                approved_by="Head of Marketing")
            store._NOW_OVERRIDE = f"{last.isoformat()}T09:05:00Z"
            lg.void(dup, "entered twice")
            reviewed = model_runs[len(model_runs) // 2]
            lg.record_review(reviewed["run_id"], 95, settings, "art director's timesheet")
            # the method's edge cases: a --force re-run of an unchanged wave books nothing new; a
            # re-made wave where two outputs changed books two revisions
            again = model_runs[-2]
            for k, changed in ((1, 0), (2, 2)):
                when = dt.datetime.fromisoformat(again["finished_at"]) + dt.timedelta(hours=k)
                store._NOW_OVERRIDE = utc_iso(when)
                redo = dict(again, run_id=when.strftime("%Y%m%dT%H%M%SZ") + f"-{rng.getrandbits(24):06x}",
                            started_at=when.isoformat(), finished_at=when.isoformat(),
                            assets=[dict(a, sha256=(f"{rng.getrandbits(256):064x}" if n < changed else a["sha256"]))
                                    for n, a in enumerate(again["assets"])])
                lg.record_run(redo, f"out/{redo['campaign']}/{redo['run_id']}/manifest.json", settings)
    finally:
        store._WHO_OVERRIDE, store._NOW_OVERRIDE = saved
    import sqlite3

    conn = sqlite3.connect(path)  # shipped as one self-contained file: readers make no -wal/-shm beside it
    conn.execute("PRAGMA journal_mode = DELETE")
    conn.close()
    return path


def _demo_manifest(rng, when: dt.datetime, campaign: str, brand: str, locs: list[str], fmts: list, concepts: list[str],
                   variants: int, generator: str, named: str | None) -> dict:
    """A finished run's manifest as the runner writes it (assets with content hashes)."""
    gpu = generator != "draft"
    run_id = when.strftime("%Y%m%dT%H%M%SZ") + f"-{rng.getrandbits(24):06x}"
    assets = []
    for loc in locs:
        for f in fmts:
            for c in concepts:
                for v in range(1, variants + 1):
                    assets.append({"path": f"{loc}/{f.name}/{c}-v{v}.png", "format": f.name,
                                   "format_class": f.format_class, "locale": loc, "concept": c, "variant": v,
                                   "cached": False, "sha256": f"{rng.getrandbits(256):064x}",
                                   "compute_seconds": round(rng.uniform(2, 9) if gpu else rng.uniform(0.05, 0.4), 3)})
    words = rng.randint(14, 40)
    copy = {loc: {"headline": " ".join(["word"] * (words // 2)), "subline": " ".join(["w"] * (words - words // 2)),
                  "cta": None, "disclaimer": None,
                  "source": "agency" if loc == "en-US" else rng.choice(["in-house", "machine", "agency"])}
            for loc in locs}
    return {"assetkit_version": "0.1.0", "run_id": run_id, "started_at": when.isoformat(),
            "finished_at": (when + dt.timedelta(minutes=rng.randint(1, 20))).isoformat(),
            "campaign": campaign, "brand": brand, "brand_slug": brand.split()[0].lower(),
            "brief": f"campaigns/{campaign}/brief.yaml", "brief_sha256": f"{rng.getrandbits(256):064x}",
            "pipeline": "social-campaign", "source_locale": "en-US", "quote": named,
            "device": "cuda:0" if gpu else "cpu",
            "generator": {"name": generator, "model": "sd-turbo" if gpu else None},
            "compute_seconds": round(sum(a["compute_seconds"] for a in assets) + (25 if gpu else 0.5), 3),
            "copy": copy, "assets": assets}


def _builtin_demo_quote():  # pragma: no cover - only when examples/ is not shipped
    from ..quotes import Quote

    return Quote.model_validate({
        "id": "agency-2026", "agency": "Harbour & Finch Creative", "currency": "USD",
        "valid_from": "2026-01-01", "valid_to": "2026-12-31",
        "lines": [
            {"id": "social-static", "service": "production", "category": "social", "description": "Static social ad",
             "unit": "per_asset", "unit_price": "220", "hours_per_unit": "1.6", "turnaround_days": "5",
             "match": {"format_class": ["social"]}},
            {"id": "display-banner", "service": "production", "description": "IAB banner", "unit": "per_asset",
             "unit_price": "140", "hours_per_unit": "1.0", "turnaround_days": "4",
             "match": {"format_class": ["display"]}},
            {"id": "translation", "description": "Translation per word", "unit": "per_word", "unit_price": "0.14",
             "hours_per_unit": "0.0032", "turnaround_days": "3"}]})
