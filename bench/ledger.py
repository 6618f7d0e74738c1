"""Ledger benchmark: insert 100k asset entries, aggregate and verify 1M entries.

Targets: insert 100k rows < 1 s; aggregate savings by month × category over 1M rows < 1 s;
`ledger verify` (every hash-chain link re-hashed, totals recomputed, quick_check) over 1M < 2 s.

The insert is a real run: a manifest with 100,000 new assets is priced against the example quote
(``_price_run``, as ``Ledger.record_run`` does) and stored by ``Ledger._store_run`` — the runs row,
the entries and the ``totals`` upsert, in one ``BEGIN IMMEDIATE`` transaction with the append-only
triggers, foreign keys and every index in place. "insert" is store + COMMIT (what record_run does
after pricing); pricing is reported apart. Best of --repeat fresh ledgers.

    .venv/bin/python bench/ledger.py [--rows 1000000] [--repeat 3] [--keep DIR] [--insert-only] [--verify-only]

``--verify-only --keep DIR`` builds the big ledger once (about a minute) and reuses it after.
"""
from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from assetkit.formats import CATALOG  # noqa: E402
from assetkit.ledger import Ledger, chain, pricing  # noqa: E402
from assetkit.quotes import load_quotes  # noqa: E402
from assetkit.settings import load_settings  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
SETTINGS_YAML = """\
currency: EUR
compute: {gpu_hour: 2.40, cpu_hour: 0.36}
internal_hourly_rate: 60
tool_cost_per_asset: 0.10
fx:
  - {date: 2026-01-01, from: USD, to: EUR, rate: 0.90}
"""


def run_manifest(n: int, rng: random.Random, run_id: str) -> dict:
    """A finished run's manifest with ``n`` new assets (formats × locales × concepts)."""
    fmts = list(CATALOG.values())
    locales = ["en-US", "de-DE", "fr-FR", "es-ES", "ja-JP"]
    assets = []
    for i in range(n):
        f, loc, concept = fmts[i % len(fmts)], locales[(i // len(fmts)) % len(locales)], f"c{i // 50}"
        assets.append({"path": f"{loc}/{f.name}/{concept}-v1.png", "format": f.name, "format_class": f.format_class,
                       "locale": loc, "concept": concept, "variant": 1, "cached": False,
                       "compute_seconds": round(rng.uniform(2, 9), 3)})
    copy = {loc: {"headline": "Wake up to Nordlicht", "subline": "Freshly roasted every morning", "cta": "Shop now"}
            for loc in locales}
    return {"assetkit_version": "0.1.0", "run_id": run_id, "started_at": "2026-11-25T08:00:00+00:00",
            "finished_at": "2026-11-25T09:30:00+00:00", "campaign": "spring-launch", "brand": "Nordlicht Coffee",
            "brand_slug": "nordlicht", "brief": "campaigns/spring-launch/brief.yaml", "brief_sha256": "f" * 64,
            "pipeline": "social-campaign", "source_locale": "en-US", "quote": None, "device": "cuda:0",
            "generator": {"name": "diffusers", "model": "sd-turbo"},
            "compute_seconds": round(sum(a["compute_seconds"] for a in assets) + 25, 3), "copy": copy,
            "assets": assets}


def insert_run(folder: Path, n: int, repeat: int, link=None, label: str = "") -> float:
    """Time record_run's store step (after pricing) for an n-asset run, best of ``repeat``;
    ``link`` replaces ``chain.link`` (the baselines: no chain, the schema-8 ``repr`` chain)."""
    real_link = chain.link
    if link is not None:
        from assetkit.ledger import records

        records.chain.link = link
    try:
        return _insert_run(folder, n, repeat, label)
    finally:
        chain.link = real_link


def _insert_run(folder: Path, n: int, repeat: int, label: str) -> float:
    (folder / "settings.yaml").write_text(SETTINGS_YAML)
    settings = load_settings(folder / "settings.yaml")
    quote = load_quotes(ROOT / "examples" / "quotes" / "agency-2026.yaml")[0]
    manifest = run_manifest(n, random.Random(1), "20261125T080000Z-bench0")
    best = None
    for k in range(repeat):
        path = folder / f"insert-{k}.sqlite"
        path.unlink(missing_ok=True)
        with Ledger(path) as lg:
            lg.import_quote(quote, "examples/quotes/agency-2026.yaml")
            quotes = lg.quotes()
            with lg.transaction():  # Ledger.record_run, timed in two parts
                t = time.perf_counter()
                run_row, batches = pricing._price_run(manifest, f"out/spring-launch/{manifest['run_id']}/manifest.json",
                                                settings, None, quotes, lg)
                price_s = time.perf_counter() - t
                t, cpu = time.perf_counter(), time.process_time()
                lg._store_run(run_row, batches)
            insert_s, insert_cpu = time.perf_counter() - t, time.process_time() - cpu
            entries = lg.conn.execute("SELECT COUNT(*), SUM(baseline_micros), SUM(units) FROM entries").fetchone()
            totals = lg.conn.execute("SELECT SUM(entries), SUM(baseline_micros), SUM(units) FROM totals").fetchone()
            assert tuple(entries) == tuple(totals), (tuple(entries), tuple(totals))
            assets = lg.conn.execute("SELECT COUNT(*) FROM entries WHERE kind = 'asset' AND run_id = ?",
                                     (manifest["run_id"],)).fetchone()[0]
            assert assets == n, assets
        print(f"  [{k + 1}/{repeat}] price {n:,} assets {price_s:.3f} s; insert {entries[0]:,} entries "
              f"{insert_s:.3f} s wall, {insert_cpu:.3f} s CPU")
        if best is None or insert_s < best[0]:
            best = (insert_s, insert_cpu, entries[0])
    insert_s, insert_cpu, count = best
    print(f"insert a {n:,}-asset run{label} ({count:,} entries; runs row, indexes, FKs, triggers, totals upsert, "
          "COMMIT): "
          f"{insert_s:.3f} s wall, {insert_cpu:.3f} s CPU ({count / insert_s:,.0f} rows/s) best of {repeat}, "
          f"target < 1 s {'OK' if insert_s < 1 else 'MISSED'}  (load average {os.getloadavg()[0]:.2f})")
    return insert_cpu


#: Assets per run of the big ledger (a real campaign run: concepts × variants × formats × locales).
RUN_ASSETS = 100
#: Runs per transaction while the big ledger is filled.
RUNS_PER_COMMIT = 50


def campaign_manifest(k: int, runs: int, rng: random.Random) -> dict:
    """Run ``k`` of ``runs`` of the big ledger: RUN_ASSETS new assets of fresh concepts (each output
    with its own content hash), one of 40 campaigns of 5 brands, finished on a day of 2026."""
    fmts = list(CATALOG.values())
    locales = ("en-US", "de-DE", "fr-FR")
    day = dt.date(2026, 1, 1) + dt.timedelta(days=k * 364 // max(runs - 1, 1))
    m = run_manifest(RUN_ASSETS, rng, f"{day:%Y%m%d}T10{k % 60:02d}00Z-b{k:06d}")
    for i, a in enumerate(m["assets"]):
        f, loc = fmts[i % len(fmts)], locales[(i // len(fmts)) % len(locales)]
        concept, variant = f"r{k}-c{i // (len(fmts) * len(locales) * 2)}", 1 + (i // (len(fmts) * len(locales))) % 2
        a.update(path=f"{loc}/{f.name}/{concept}-v{variant}.png", format=f.name, format_class=f.format_class,
                 locale=loc, concept=concept, variant=variant, sha256=f"{rng.getrandbits(256):064x}")
    m.update(campaign=f"campaign-{k % 40}", brand=f"brand-{k % 5}", brand_slug=f"brand-{k % 5}",
             started_at=f"{day}T09:00:00+00:00", finished_at=f"{day}T10:00:00+00:00")
    m["copy"] = {loc: m["copy"]["en-US"] for loc in locales}
    return m


def fill(big: Path, n: int, rng: random.Random) -> None:
    """The big ledger, as a real one holds ``n`` entries: runs of RUN_ASSETS new assets priced
    against the example card (``_price_run``, as ``record_run`` does: masters, resizes, locale
    versions, variants, flat fees once per campaign, applied rates and content keys on every
    entry), RUNS_PER_COMMIT runs a transaction; and per 100 runs a recorded review of a run,
    five manual entries (``ledger add``), an agency invoice and a void of a manual entry."""
    (big.parent / "settings.yaml").write_text(SETTINGS_YAML)
    settings = load_settings(big.parent / "settings.yaml")
    quote = load_quotes(ROOT / "examples" / "quotes" / "agency-2026.yaml")[0]
    big.unlink(missing_ok=True)
    runs = -(-n // RUN_ASSETS)
    t = time.perf_counter()
    with Ledger(big) as lg:
        lg.import_quote(quote, "examples/quotes/agency-2026.yaml")
        quotes = lg.quotes()
        k = count = 0
        while count < n:
            with lg.transaction():
                for _ in range(RUNS_PER_COMMIT):
                    m = campaign_manifest(k, runs, rng)
                    run_row, batches = pricing._price_run(m, f"out/{m['campaign']}/{m['run_id']}/manifest.json",
                                                          settings, None, quotes, lg)
                    lg._store_run(run_row, batches)
                    count += sum(len(rows) for _, rows in batches)
                    k += 1
            if k % 100 == 0:
                day = dt.date.fromisoformat(m["finished_at"][:10])
                lg.record_review(m["run_id"], 20.0, settings)
                ids = [lg.add_manual("production", f"studio shoot {k}-{j}", Decimal(1800 + j * 100), Decimal(450),
                                     hours=6.0, baseline_hours=24.0, campaign=m["campaign"], brand=m["brand"],
                                     on=day, settings=settings, source=f"PO-{k}-{j}", approved_by="cfo@bench")
                       for j in range(5)]
                lg.add_invoice("Agency GmbH", Decimal(2400), "production", f"INV-{k}", "cfo@bench", day,
                               campaign=m["campaign"], brand=m["brand"], settings=settings)
                lg.void(ids[0], "booked twice")
            if k % 2000 == 0:
                print(f"  fill: {k:,} runs, {count:,} entries, {time.perf_counter() - t:.0f} s", flush=True)
        lg.conn.execute("ANALYZE")
        total = lg.conn.execute("SELECT COUNT(*) FROM entries").fetchone()[0]
    print(f"fill {total:,} entries ({k:,} runs of {RUN_ASSETS} assets, manual entries, invoices, reviews, voids): "
          f"{time.perf_counter() - t:.1f} s")


def _has_entries(big: Path, n: int) -> bool:
    if not big.exists():
        return False
    with Ledger(big) as lg:  # built by this fill (entries in runs), with n entries or a run's worth more
        entries, runs = lg.conn.execute("SELECT (SELECT COUNT(*) FROM entries), (SELECT COUNT(*) FROM runs)").fetchone()
        return runs > 0 and n <= entries < n + RUNS_PER_COMMIT * (RUN_ASSETS + 20)


def report_over(path: Path, n: int) -> None:
    """The savings report (all figures, its cheap verify, HTML) over the big ledger."""
    from assetkit.report import build_and_render
    from assetkit.report.html import render_html
    from assetkit.report.model import parse_period
    from assetkit.settings import Settings

    t, c = time.perf_counter(), time.process_time()
    build_and_render(render_html, path, parse_period("all"), None, settings=Settings(), thumbnails=False,
                     charts=True)  # as `assetkit report --format html` does
    s, cpu = time.perf_counter() - t, time.process_time() - c
    print(f"report (build_and_render with render_html, all time) over {n:,} entries: {s:.3f} s wall, {cpu:.3f} s CPU, "
          f"target < 2 s {'OK' if s < 2 else 'MISSED'}")
    import subprocess

    walls = []
    for _ in range(3):  # the command itself, a fresh process each time (imports included)
        t = time.perf_counter()
        subprocess.run([str(Path(sys.executable).parent / "assetkit"), "report", "--ledger", str(path), "--format",
                        "html", "--out", str(path.parent / "report.html")], check=True, cwd=path.parent,
                       capture_output=True)
        walls.append(time.perf_counter() - t)
    print(f"`assetkit report --format html` over {n:,} entries (the command, a fresh process, 3 runs): "
          + " / ".join(f"{w:.2f}" for w in walls) + f" s, target < 2 s {'OK' if max(walls) < 2 else 'MISSED'}")


def migrate(big: Path, path: Path, n: int) -> None:
    """Schema 8 → 9 on a copy of the big ledger re-chained as schema 8 did (``repr``): the old full
    verify of that file side by side with the migration (which runs it, then re-chains)."""
    import shutil
    import sqlite3

    from assetkit.ledger.schema import _statements
    from assetkit.ledger.store import Store

    shutil.copyfile(big, path)
    c = sqlite3.connect(path, isolation_level=None)
    c.execute("BEGIN")
    c.execute("DROP TRIGGER chain_no_delete")
    c.execute("DELETE FROM chain")
    for table in ("quotes", "runs", "entries"):
        chain.link_legacy(c, table, 0, chain.HASHED)
    c.execute(next(s for s in _statements(chain.append_only_triggers("chain")) if "chain_no_delete " in s))
    c.execute("DROP TABLE rate_totals")  # schema 10 and 11 keep it
    c.execute("DROP INDEX entries_sums")
    c.execute("DROP INDEX entries_reviews")  # schema 11's
    c.execute("PRAGMA user_version = 8")
    c.execute("COMMIT")
    t, cpu = time.perf_counter(), time.process_time()
    chain.verify_legacy(c, chain.HASHED)
    old_s, old_cpu = time.perf_counter() - t, time.process_time() - cpu
    c.close()
    print(f"schema-8 chain re-hash (the old `ledger verify`'s chain part) over {n:,} entries: {old_s:.3f} s wall, "
          f"{old_cpu:.3f} s CPU")
    t, cpu = time.perf_counter(), time.process_time()
    Store(path).close()
    mig_s, mig_cpu = time.perf_counter() - t, time.process_time() - cpu
    print(f"migration schema 8 → 9 (verify the old chain, re-chain) over {n:,} entries: {mig_s:.3f} s wall, "
          f"{mig_cpu:.3f} s CPU = {mig_cpu / old_cpu:.2f}× the old chain re-hash")
    with Store(path) as st:
        t, cpu = time.perf_counter(), time.process_time()
        chain.verify(st.conn)
        new_cpu = time.process_time() - cpu
        print(f"schema-9 chain re-hash over {n:,} entries: {time.perf_counter() - t:.3f} s wall, {new_cpu:.3f} s CPU "
              f"= {new_cpu / old_cpu:.2f}× the schema-8 one measured above")
    path.unlink()


def _children_cpu() -> float:
    import resource

    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def _previous_chain_walk(conn, upto: int = 1 << 62) -> int:
    """The chain walk as verify did it before the worker (the baseline): one query, each link's
    row looked up and serialised by SQLite, fetched and hashed link by link, in one process."""
    import hashlib

    chain._check_counts(conn, chain.HASHED)
    chain._check_numbering(conn)
    prefixes, sha, prev, checked = chain._prefixes(), hashlib.sha256, chain.GENESIS, 0
    last = dict.fromkeys(prefixes, 0)
    cur = chain._plain(conn)
    cur.execute(chain._linked_rows_sql("seq > ? AND seq <= ?"), (0, upto))
    while batch := cur.fetchmany(50_000):
        for seq, table, row_id, stored, canon in batch:
            assert canon is not None and row_id > last[table], seq
            last[table] = row_id
            assert sha(prev + prefixes[table] + canon).digest() == stored, seq
            prev = stored
        checked += len(batch)
    return checked


def verify_figures(lg: Ledger, rows: int) -> None:
    """The full `ledger verify` (wall and CPU, the worker process's CPU included) and its parts,
    side by side with the previous one-process verify; then the report's cheap verify."""
    from assetkit.ledger import store

    c = lg.conn
    t, cpu, kid = time.perf_counter(), time.process_time(), _children_cpu()
    res = lg.verify(full=True)
    s, own, kid = time.perf_counter() - t, time.process_time() - cpu, _children_cpu() - kid
    print(f"ledger verify (full: every link re-hashed, totals recomputed, triggers, quick_check) over {rows:,} "
          f"entries: {s:.3f} s wall, {own + kid:.3f} s CPU ({own:.3f} here + {kid:.3f} in the worker process), "
          f"{res.links:,} links, target < 2 s {'OK' if s < 2 else 'MISSED'}")
    parts = {}
    for label, fn in (("chain walk (one process)", lambda: chain.verify(c)),
                      ("totals recomputed", lambda: store._check_totals(c, lg.name, True)),
                      ("quick_check", lambda: c.execute(store.QUICK_CHECK).fetchall())):
        t, cpu = time.perf_counter(), time.process_time()
        fn()
        parts[label] = (time.perf_counter() - t, time.process_time() - cpu)
    print("  its parts, one at a time in one process: " + "; ".join(
        f"{k} {w:.3f} s wall / {u:.3f} s CPU" for k, (w, u) in parts.items()))
    saved = chain.PARALLEL_MIN_LINKS
    chain.PARALLEL_MIN_LINKS = 1 << 62
    try:
        t, cpu = time.perf_counter(), time.process_time()
        lg.verify(full=True)
        one_s, one_cpu = time.perf_counter() - t, time.process_time() - cpu
    finally:
        chain.PARALLEL_MIN_LINKS = saved
    t, cpu = time.perf_counter(), time.process_time()
    c.execute(store.QUICK_CHECK).fetchall()
    _previous_chain_walk(c)
    store._check_totals(c, lg.name, True)
    old_s, old_cpu = time.perf_counter() - t, time.process_time() - cpu
    print(f"  side by side in this run: the same verify in one process {one_s:.3f} s wall / {one_cpu:.3f} s CPU; "
          f"the previous verify (one process, row-by-row walk) {old_s:.3f} s wall / {old_cpu:.3f} s CPU — "
          f"full verify wall = {s / old_s:.2f}× the previous one")
    t, cpu = time.perf_counter(), time.process_time()
    res = lg.verify(full=False)
    print(f"report's verify (cheap part: the last {store.VERIFY_TAIL} links, counts, grand totals) over {rows:,} "
          f"entries: {time.perf_counter() - t:.3f} s wall, {time.process_time() - cpu:.3f} s CPU")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=1_000_000, help="rows for the aggregate test")
    ap.add_argument("--keep", type=Path, help="write the ledgers here instead of a temp folder")
    ap.add_argument("--repeat", type=int, default=3, help="insert runs (fresh ledgers); the best is reported")
    ap.add_argument("--insert-only", action="store_true", help="skip the aggregate test")
    ap.add_argument("--verify-only", action="store_true",
                    help="only the verify figures (and the report): reuse --keep DIR's big ledger when it has --rows "
                         "entries, else build it")
    args = ap.parse_args()
    rng = random.Random(1)
    folder = args.keep or Path(tempfile.mkdtemp(prefix="assetkit-bench-"))
    folder.mkdir(parents=True, exist_ok=True)

    print(f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}, {os.cpu_count()} CPUs")
    big = folder / "aggregate.sqlite"
    if args.verify_only:
        if not _has_entries(big, args.rows):
            fill(big, args.rows, rng)
        with Ledger(big) as lg:
            verify_figures(lg, args.rows)
        report_over(big, args.rows)
        return

    # 1) a run with 100k new assets, recorded in one transaction (Ledger.record_run's path)
    cpu = insert_run(folder, 100_000, args.repeat)
    base = insert_run(folder, 100_000, args.repeat, lambda conn, table, after: None, " [baseline: no chain]")
    legacy = insert_run(folder, 100_000, args.repeat,
                        lambda conn, table, after: chain.link_legacy(conn, table, after, chain.HASHED),
                        " [baseline: schema-8 repr chain]")
    print(f"insert CPU: {cpu:.3f} s = {cpu / base:.2f}× no chain ({base:.3f} s), {cpu / legacy:.2f}× the schema-8 "
          f"chain ({legacy:.3f} s)")
    if args.insert_only:
        return

    # 2) aggregate over N rows (varied months, campaigns, brands, categories; many totals groups)
    fill(big, args.rows, rng)
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
        verify_figures(lg, args.rows)
    report_over(big, args.rows)
    migrate(big, folder / "schema8.sqlite", args.rows)
    print(f"file size: {big.stat().st_size / 1e6:.0f} MB ({folder})")


if __name__ == "__main__":
    main()
