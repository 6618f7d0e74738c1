"""Ledger benchmark: insert 100k asset entries, aggregate 1M entries by month and category.

Targets: insert 100k rows < 1 s; aggregate savings by month × category over 1M rows < 1 s.

    .venv/bin/python bench/ledger.py [--rows 1000000] [--keep DIR]
"""
from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from assetkit.formats import CATALOG  # noqa: E402
from assetkit.ledger import Ledger  # noqa: E402


def rows(n: int, rng: random.Random, run_prefix: str) -> list[dict]:
    fmts = list(CATALOG.values())
    cats = ["social", "production", "translation", "crm"]
    out = []
    for i in range(n):
        f = fmts[i % len(fmts)]
        month = 1 + (i * 12 // n)
        ts = f"2026-{month:02d}-{1 + i % 28:02d}T10:00:00Z"
        out.append({
            "run_id": None, "kind": "asset", "category": cats[i % 4], "campaign": f"campaign-{i % 40}",
            "brand": f"brand-{i % 5}", "locale": ("en-US", "de-DE", "fr-FR")[i % 3], "format": f.name,
            "format_class": f.format_class, "concept": f"c{i % 3}", "variant": 1,
            "asset_path": f"x/{i}.png", "units": 1, "occurred_at": ts, "month": ts[:7], "currency": "EUR",
            "baseline_micros": rng.randint(100, 400) * 1_000_000, "actual_compute_micros": rng.randint(1, 9000),
            "actual_human_micros": rng.randint(2, 9) * 1_000_000, "actual_tool_micros": 100_000,
            "baseline_hours": 1.6, "actual_hours": 0.1, "baseline_days": 5.0, "compute_seconds": 2.5,
            "device": "cuda:0", "human_minutes_estimated": 6.0, "quote_id": "agency-2026", "quote_version": 1,
            "quote_lines": "social-static,art-direction", "no_baseline": 0, "manifest_path": "out/manifest.json",
            "brief_sha256": "f" * 64, "who": "bench@host", "recorded_at": ts})
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=1_000_000, help="rows for the aggregate test")
    ap.add_argument("--keep", type=Path, help="write the ledgers here instead of a temp folder")
    args = ap.parse_args()
    rng = random.Random(1)
    folder = args.keep or Path(tempfile.mkdtemp(prefix="assetkit-bench-"))
    folder.mkdir(parents=True, exist_ok=True)

    # 1) 100k asset rows in one transaction (one big run / an import), executemany
    batch = rows(100_000, rng, "r")
    path = folder / "insert.sqlite"
    path.unlink(missing_ok=True)
    with Ledger(path) as lg:
        t, cpu = time.perf_counter(), time.process_time()
        with lg.transaction():
            lg._insert_entries(batch)
        insert_s, insert_cpu = time.perf_counter() - t, time.process_time() - cpu
    print(f"insert 100,000 asset entries (one transaction, indexes + totals upsert): {insert_s:.3f} s wall, "
          f"{insert_cpu:.3f} s CPU ({100_000 / insert_s:,.0f} rows/s) target < 1 s "
          f"{'OK' if insert_s < 1 else 'MISSED'}")

    # 2) aggregate over N rows
    big = folder / "aggregate.sqlite"
    big.unlink(missing_ok=True)
    with Ledger(big) as lg:
        t = time.perf_counter()
        for start in range(0, args.rows, 100_000):
            chunk = batch if start + 100_000 <= args.rows else batch[: args.rows - start]
            with lg.transaction():
                lg._insert_entries(chunk)
        fill_s = time.perf_counter() - t
        print(f"fill {args.rows:,} entries: {fill_s:.1f} s")
        lg.conn.execute("ANALYZE")
    with Ledger(big) as lg:  # fresh connection: cold statement cache, warm OS cache
        for label, group in (("month × category", ["month", "category"]), ("campaign", ["campaign"]),
                             ("brand × month", ["brand", "month"])):
            t = time.perf_counter()
            result = lg.aggregate(group)
            agg_s = time.perf_counter() - t
            total = sum(r["saving"] for r in result)
            print(f"aggregate {args.rows:,} entries by {label}: {agg_s:.3f} s, {len(result)} groups, "
                  f"saving €{total:,.2f}" + (f" target < 1 s {'OK' if agg_s < 1 else 'MISSED'}"
                                              if label == "month × category" else ""))
        t = time.perf_counter()
        result = lg.aggregate(["month", "format_class"])  # not in totals: full scan of entries
        print(f"aggregate {args.rows:,} entries by month × format_class (full scan, no totals): "
              f"{time.perf_counter() - t:.3f} s, {len(result)} groups")
        t = time.perf_counter()
        n = sum(1 for _ in lg.entries(since="2026-11-01", campaign="campaign-7"))
        print(f"entries(since=2026-11-01, campaign=campaign-7): {n:,} rows in {time.perf_counter() - t:.3f} s")
    print(f"file size: {big.stat().st_size / 1e6:.0f} MB ({folder})")


if __name__ == "__main__":
    main()
