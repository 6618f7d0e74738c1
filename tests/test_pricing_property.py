"""Property test of the pricing rules: for random sequences of runs of one campaign, the ledger's
baselines equal an independent recomputation of the method (drafts excluded, one baseline per
deliverable, re-renders booked once, changed outputs as revisions, master / resize / locale /
variant lines, a flat fee once per campaign, the card's validity dates, dated FX conversion and
translation only for in-house copy)."""
from __future__ import annotations

import datetime as dt
import tempfile
from decimal import ROUND_HALF_EVEN, Decimal
from pathlib import Path

from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from assetkit.ledger import Ledger
from assetkit.quotes import Quote
from assetkit.report import build_report
from assetkit.report.model import ALL_TIME
from assetkit.settings import Settings

CARD = {
    "id": "prop-card", "agency": "Test Agency", "currency": "USD", "valid_from": "2026-01-01",
    "valid_to": "2026-02-28",
    "lines": [
        {"id": "master", "service": "production", "unit": "per_asset", "unit_price": "200", "hours_per_unit": "1.5",
         "applies_to": ["master"]},
        {"id": "variant", "service": "production", "unit": "per_asset", "unit_price": "120", "hours_per_unit": "1",
         "applies_to": ["variant"]},
        {"id": "resize", "service": "production", "unit": "per_asset", "unit_price": "50", "hours_per_unit": "0.4",
         "applies_to": ["resize"]},
        {"id": "locale", "service": "production", "unit": "per_asset", "unit_price": "40", "hours_per_unit": "0.3",
         "applies_to": ["locale"]},
        {"id": "revision", "service": "production", "unit": "per_asset", "unit_price": "30",
         "hours_per_unit": "0.25", "applies_to": ["revision"]},
        {"id": "pm", "unit": "flat", "unit_price": "400", "hours_per_unit": "3"},
        {"id": "translation", "service": "translation", "unit": "per_word", "unit_price": "0.1",
         "hours_per_unit": "0.003", "minimum": "35"},
    ]}
for _line in CARD["lines"]:
    _line["description"] = f"{_line['id']} line"
PRICE = {"master": Decimal(200), "variant": Decimal(120), "resize": Decimal(50), "locale": Decimal(40),
         "revision": Decimal(30)}
FX = [{"date": "2026-01-01", "from": "USD", "to": "EUR", "rate": "0.9"},
      {"date": "2026-02-01", "from": "USD", "to": "EUR", "rate": "0.8"}]
FORMATS = (("meta-square", "social"), ("iab-leaderboard", "display"))
SOURCE, OTHER = "en-US", "de-DE"
COPY = {"headline": "Wake up to Nordlicht", "subline": "Freshly roasted every morning", "cta": "Shop now"}
WORDS = 10


def micros(x: Decimal) -> Decimal:
    """Rounded half-even to 10⁻⁶, as the ledger stores money."""
    return x.quantize(Decimal("0.000001"), ROUND_HALF_EVEN)


def usd_eur(day: dt.date) -> Decimal:
    return Decimal("0.8") if day >= dt.date(2026, 2, 1) else Decimal("0.9")


ASSET = st.tuples(st.sampled_from(["a", "b"]), st.sampled_from([1, 2]), st.sampled_from(FORMATS),
                  st.sampled_from([SOURCE, OTHER]), st.sampled_from(["x", "y"]))
RUN = st.tuples(st.booleans(), st.integers(-20, 80), st.lists(ASSET, min_size=1, max_size=8, unique_by=lambda a: a[:4]))


def manifest(i: int, draft: bool, day: dt.date, assets, copy_source: str) -> dict:
    at = f"{day.isoformat()}T10:{i:02d}:00Z"
    return {"run_id": f"run-{i:02d}", "started_at": at, "finished_at": at, "campaign": "camp", "brand": "B",
            "source_locale": SOURCE, "device": "cpu", "compute_seconds": 1.0 * len(assets) + 1,
            "generator": {"name": "draft" if draft else "diffusers", "model": None},
            "copy": {loc: dict(COPY, source=copy_source) for loc in (SOURCE, OTHER)},
            "assets": [{"path": f"{loc}/{fmt}/{c}-v{v}.png", "sha256": sha * 64, "format": fmt, "format_class": cls,
                        "locale": loc, "concept": c, "variant": v, "compute_seconds": 1.0, "cached": False}
                       for c, v, (fmt, cls), loc, sha in assets]}


def expected(runs, copy_source: str) -> tuple[Decimal, int, int]:
    """(baseline in EUR, baselined deliverables, draft proofs) by the method, computed here."""
    booked: dict[tuple, str] = {}
    visuals: set[tuple] = set()
    fee = translated = False
    total, units, proofs = Decimal(0), 0, 0
    for draft, day, assets in runs:
        if draft:
            proofs += len(assets)
            continue
        if not dt.date(2026, 1, 1) <= day <= dt.date(2026, 2, 28):
            continue  # no valid quote on the run's day: no baseline, nothing booked
        rate = usd_eur(day)
        visuals_before = set(visuals)
        seen: set[tuple] = set()
        priced = []  # [role, asset]
        for c, v, (fmt, _cls), loc, sha in assets:
            key = (c, v, fmt, loc)
            if key in booked:
                if booked[key] != sha:
                    priced.append(["revision", (c, v, fmt, loc, sha)])
                continue
            vis = (c, v)
            if loc != SOURCE:
                role = "locale"
            elif vis in visuals_before or vis in seen:
                role = "resize"
            else:
                role = "master" if v == 1 else "variant"
            if loc == SOURCE:
                seen.add(vis)
            priced.append([role, (c, v, fmt, loc, sha)])
        for p in priced:  # a visual without its source-locale asset in the run: its first asset is the master
            vis = p[1][:2]
            if p[0] == "locale" and vis not in seen and vis not in visuals_before:
                p[0] = "master" if vis[1] == 1 else "variant"
                seen.add(vis)
        members = [p for p in priced if p[0] != "revision"]
        shares = [Decimal(0)] * len(members)
        if members and not fee:
            base, rem = divmod(400 * 1_000_000, len(members))
            shares = [Decimal(base + (1 if j < rem else 0)) / 1_000_000 for j in range(len(members))]
            fee = True
        j = 0
        new_other = False
        for role, (c, v, fmt, loc, sha) in priced:
            src = PRICE[role]
            if role != "revision":
                src += shares[j]
                j += 1
                units += 1
                visuals.add((c, v))
                new_other = new_other or loc == OTHER
            total += micros(src * rate)
            booked[(c, v, fmt, loc)] = sha
        if new_other and copy_source == "in-house" and not translated:
            total += micros(max(Decimal("0.1") * WORDS, Decimal(35)) * rate)
            units += 1
            translated = True
    return total, units, proofs


@hsettings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(runs=st.lists(RUN, min_size=1, max_size=6), copy_source=st.sampled_from(["in-house", "agency"]))
def test_ledger_baselines_equal_an_independent_recomputation(runs, copy_source):
    runs = [(draft, dt.date(2025, 12, 20) + dt.timedelta(days=d), assets) for draft, d, assets in runs]
    runs.sort(key=lambda r: r[1])
    settings = Settings(fx=FX, internal_hourly_rate=60)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "l.sqlite"
        with Ledger(path) as lg:
            lg.import_quote(Quote.model_validate(CARD))
            for i, (draft, day, assets) in enumerate(runs):
                lg.record_run(manifest(i, draft, day, assets, copy_source), None, settings)
            entries = list(lg.entries())
            lg.verify(full=True)
        want_baseline, want_units, want_proofs = expected(runs, copy_source)
        got = sum((e.baseline for e in entries if not e.no_baseline), Decimal(0))
        assert got == want_baseline
        assert sum(e.units for e in entries if not e.no_baseline) == want_units
        # every deliverable identity is booked at most once as a new asset
        keys = [e.deliverable_key for e in entries if e.kind == "asset" and e.units > 0 and not e.no_baseline]
        assert len(keys) == len(set(keys))
        data = build_report(path, ALL_TIME, settings=settings, generated_on=dt.date(2026, 6, 1), thumbnails=False)
        assert data.current.run_baseline == want_baseline
        assert data.current.run_deliverables == want_units
        assert sum(p.assets for p in data.methodology.proofs) == want_proofs
