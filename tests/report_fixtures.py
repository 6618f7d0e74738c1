"""Random ledgers for the report tests, written straight into the ledger's schema (v1)."""
from __future__ import annotations

import datetime as dt
import random
from pathlib import Path

from assetkit.ledger import Ledger, chain

KINDS = ("asset", "asset", "asset", "translation", "overhead", "review", "manual")
CATEGORIES = ("production", "social", "crm", "photography", "translation")

ENTRY_COLS = ("run_id", "kind", "category", "campaign", "brand", "units", "occurred_at", "month", "currency",
              "baseline_micros", "actual_compute_micros", "actual_human_micros", "actual_tool_micros",
              "baseline_ms", "actual_ms", "baseline_days", "compute_ms", "device",
              "human_estimated_ms", "review_recorded_ms", "quote_id", "quote_version", "no_baseline",
              "no_baseline_reason", "voids_entry_id", "who", "recorded_at", "asset_path", "manifest_path")


def entry(**kw) -> dict:
    d = {c: None for c in ENTRY_COLS}
    d.update(kind="asset", category="production", units=1, currency="EUR", baseline_micros=0,
             actual_compute_micros=0, actual_human_micros=0, actual_tool_micros=0, baseline_ms=0,
             actual_ms=0, compute_ms=0, human_estimated_ms=0, no_baseline=0, who="t@h",
             recorded_at="2026-01-01T00:00:00Z")
    d.update(kw)
    if d["occurred_at"] and not d["month"]:
        d["month"] = d["occurred_at"][:7]
    return d


def write_ledger(path: str | Path, entries: list[dict], runs: list[dict] | None = None) -> Path:
    """A ledger file holding exactly ``runs`` and ``entries`` (voids may name earlier entry ids)."""
    path = Path(path)
    with Ledger(path) as led, led.transaction() as conn:
        for r in runs or []:
            row = dict(campaign="c", brand="b", finished_at=r.get("finished_at"), month=r["finished_at"][:7],
                       currency="EUR", who="t@h", recorded_at=r["finished_at"])
            row.update(r)
            cols = ", ".join(row)
            conn.execute(f"INSERT INTO runs ({cols}) VALUES ({', '.join('?' * len(row))})", list(row.values()))
        chain.link(conn, "runs", 0)  # rows written outside Ledger's writers are chained the same way
        # The ledger's own insert path, so its running ``totals`` stay in step with ``entries``.
        led._insert_entries([entry(**e) if set(e) != set(ENTRY_COLS) else e for e in entries])
    return path


def random_ledger(path: str | Path, seed: int, n: int = 60, start=dt.date(2026, 1, 1), days: int = 180,
                  campaigns=("Spring launch", "Summer sale", "CRM winback", "<script>alert(1)</script> & co"),
                  brands=("Nordlicht", "Acme"), currencies=("EUR",)) -> Path:
    rng = random.Random(seed)
    runs, entries = [], []
    for i in range(max(1, n // 8)):
        day = start + dt.timedelta(days=rng.randrange(days))
        t = f"{day.isoformat()}T{rng.randrange(24):02d}:{rng.randrange(60):02d}:00Z"
        runs.append({"run_id": f"run-{i}", "campaign": rng.choice(campaigns), "brand": rng.choice(brands),
                     "started_at": t, "finished_at": t, "baseline_days": float(rng.randrange(3, 15)),
                     "actual_ms": rng.randrange(0, 4 * 3_600_000), "no_baseline": 0})
    for _ in range(n):
        run = rng.choice(runs) if rng.random() < 0.85 else None
        kind = rng.choice(KINDS) if run else "manual"
        day = start + dt.timedelta(days=rng.randrange(days))
        nb = 1 if rng.random() < 0.1 else 0
        entries.append(entry(
            run_id=run["run_id"] if run else None, kind=kind,
            category="translation" if kind == "translation" else rng.choice(CATEGORIES),
            campaign=run["campaign"] if run else rng.choice(campaigns + (None,)),
            brand=run["brand"] if run else rng.choice(brands),
            units=0 if kind in ("overhead", "review") else 1,
            occurred_at=f"{day.isoformat()}T{rng.randrange(24):02d}:00:00Z",
            currency=rng.choice(currencies),
            baseline_micros=0 if nb or kind in ("overhead", "review") else rng.randrange(50, 3000) * 1_000_000,
            actual_compute_micros=rng.randrange(0, 2_000_000), actual_human_micros=rng.randrange(0, 80_000_000),
            actual_tool_micros=rng.randrange(0, 5_000_000), baseline_ms=rng.randrange(0, 10 * 3_600_000),
            actual_ms=rng.randrange(0, 2 * 3_600_000), compute_ms=rng.randrange(0, 100_000),
            device=rng.choice(["cpu", "cuda"]), human_estimated_ms=rng.randrange(0, 20 * 60_000),
            review_recorded_ms=rng.randrange(0, 30 * 60_000) if kind == "review" else None,
            quote_id="agency-2026" if not nb else None, quote_version=1 if not nb else None,
            no_baseline=nb, no_baseline_reason="no quote line for format story" if nb else None))
    # a few voids of earlier entries
    for vid in rng.sample(range(1, n + 1), k=min(3, n)):
        o = entries[vid - 1]
        v = dict(o)
        v.update(kind="void", units=-o["units"], voids_entry_id=vid,
                 **{k: -o[k] for k in ("baseline_micros", "actual_compute_micros", "actual_human_micros",
                                       "actual_tool_micros", "baseline_ms", "actual_ms")})
        entries.append(v)
    return write_ledger(path, entries, runs)
