"""The ledger file's states (empty, read-only, locked, damaged, newer) and its tamper evidence."""
from __future__ import annotations

import datetime as dt
import hashlib
import os
import sqlite3
from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner
from ledger_fixtures import QUOTE_YAML, manifest

from assetkit.cli import cli
from assetkit.ledger import (
    SCHEMA_V1,
    SCHEMA_V2,
    SCHEMA_V3,
    SCHEMA_VERSION,
    Ledger,
    LedgerError,
    record_run,
    schema,
)
from assetkit.quotes import load_quotes
from assetkit.report import build_report
from assetkit.settings import Settings

NAME = ".assetkit/ledger.sqlite"
ROOT = os.geteuid() == 0  # root ignores file modes: there the read-only cases deny os.access instead


@pytest.fixture(autouse=True, params=["one process", "worker"])
def verify_mode(request, monkeypatch):
    """Every test twice: a full verify in one process, and with a chain.Worker process walking the
    later links (and quick_check) from the smallest ledger on, in batches of 4 links."""
    from assetkit.ledger import chain

    if request.param == "worker":
        monkeypatch.setattr(chain, "PARALLEL_MIN_LINKS", 1)
        monkeypatch.setattr(chain, "WALK_BATCH", 4)
    return request.param


def read_only(monkeypatch, path: Path, mode: int):
    """Make ``path`` read-only: chmod, or for root (whom modes do not stop) the access check."""
    if not ROOT:
        path.chmod(mode)
        return lambda: path.chmod(0o755 if path.is_dir() else 0o644)
    from assetkit.ledger import store

    real = store.os.access
    monkeypatch.setattr(store.os, "access", lambda p, m: False if (Path(p) == path and m & os.W_OK) else real(p, m))
    return lambda: None


def booked(project: Path) -> Path:
    """A ledger with a quote, two runs (with translation entries) and a manual entry."""
    with Ledger() as lg:
        lg.import_quote(load_quotes(QUOTE_YAML)[0], QUOTE_YAML)
    record_run(manifest(), Path("out/manifest.json"), None, None, None)
    record_run(manifest(run_id="20261126T083000Z-cd34ef", finished="2026-11-26T08:31:00+00:00", campaign="c2"),
               Path("out/m2.json"), None, None, None)
    from decimal import Decimal

    from assetkit.settings import load_settings

    with Ledger() as lg:
        lg.add_manual("crm", "Banner set", Decimal(900), Decimal(90), settings=load_settings())
    return project / NAME


def cli_run(*args):
    return CliRunner().invoke(cli, list(args))


def file_state(path: Path) -> tuple:
    """What a reader must never change: the file's bytes and the folder's names."""
    return (hashlib.sha256(path.read_bytes()).hexdigest() if path.exists() else None,
            sorted(p.name for p in path.parent.iterdir()))


def raw(path: Path) -> sqlite3.Connection:
    return sqlite3.connect(path, isolation_level=None)


# -- file states --------------------------------------------------------------------------------

def test_empty_file_is_named_and_never_written_by_readers(ledger_project):
    p = ledger_project / NAME
    p.parent.mkdir()
    p.write_bytes(b"")
    for args in (["ledger", "list"], ["ledger", "verify"], ["quotes", "list"], ["report", "--out", "r.html"]):
        r = cli_run(*args)
        assert (r.exit_code, r.output) == (2, f"Error: {NAME}: empty file (0 bytes), not a ledger yet; it was not "
                                              "changed (a run, `assetkit quotes import` or `assetkit ledger add` makes "
                                              "the ledger)\n"), args
    assert p.read_bytes() == b""
    assert sorted(x.name for x in p.parent.iterdir()) == ["ledger.sqlite"]


def test_readers_leave_the_file_and_folder_as_they_were(ledger_project):
    p = booked(ledger_project)
    with Ledger() as lg:
        lg.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    for extra in ("-wal", "-shm"):
        Path(str(p) + extra).unlink(missing_ok=True)
    before = file_state(p)
    for args in (["ledger", "list"], ["ledger", "show", "1"], ["ledger", "verify"], ["quotes", "list"]):
        assert cli_run(*args).exit_code == 0, args
    assert file_state(p)[0] == before[0]


def test_read_only_ledger_can_be_read_but_not_written(ledger_project, monkeypatch):
    p = booked(ledger_project)
    with Ledger() as lg:
        lg.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    restore = read_only(monkeypatch, p, 0o444)
    try:
        r = cli_run("ledger", "list")
        assert r.exit_code == 0 and "spring-launch" in r.output
        assert cli_run("ledger", "verify").exit_code == 0
        r = cli_run("ledger", "void", "1", "--reason", "x")
        assert (r.exit_code, r.output) == (2, f"Error: {NAME}: the ledger is read-only; nothing was written (reading "
                                              "it works: `assetkit ledger list`, `assetkit report`)\n")
    finally:
        restore()


def test_read_only_folder_can_be_read_but_not_written(ledger_project, monkeypatch):
    p = booked(ledger_project)
    with Ledger() as lg:
        lg.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    for extra in ("-wal", "-shm"):
        Path(str(p) + extra).unlink(missing_ok=True)
    restore = read_only(monkeypatch, p.parent, 0o555)
    try:
        r = cli_run("ledger", "list")
        assert r.exit_code == 0 and "spring-launch" in r.output, r.output
        assert cli_run("report", "--out", str(ledger_project / "r.md")).exit_code == 0
        r = cli_run("ledger", "void", "1", "--reason", "x")
        assert (r.exit_code, r.output) == (2, f"Error: {NAME}: the ledger's folder .assetkit is read-only; SQLite "
                                              "needs to write its journal there, so nothing was written\n")
    finally:
        restore()


def test_locked_ledger_says_so_and_writes_nothing(ledger_project):
    p = booked(ledger_project)
    holder = raw(p)
    holder.execute("BEGIN IMMEDIATE")
    try:
        with Ledger(timeout_ms=50) as lg, pytest.raises(LedgerError) as err:
            lg.void(1, "x")
        assert str(err.value) == (f"{NAME}: the ledger is locked by another process (waited 0.05 s); nothing was "
                                  "written — retry when it has finished")
        with Ledger(readonly=True, timeout_ms=50) as lg:  # WAL: readers are not blocked by a writer
            assert len(lg.summary()) == 3
    finally:
        holder.execute("ROLLBACK")
        holder.close()


def test_corrupt_page_is_named_by_every_command(ledger_project):
    p = booked(ledger_project)
    with Ledger() as lg:
        lg.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        page = lg.conn.execute("PRAGMA page_size").fetchone()[0]
        root = lg.conn.execute("SELECT rootpage FROM sqlite_master WHERE name = 'entries'").fetchone()[0]
    data = bytearray(p.read_bytes())
    start = (root - 1) * page
    data[start:start + page] = b"\xa5" * page  # the entries table's root page
    p.write_bytes(bytes(data))
    for args in (["ledger", "list"], ["ledger", "verify"], ["report", "--out", "r.html"]):
        r = cli_run(*args)
        assert r.exit_code == 2, (args, r.output)
        assert r.output.startswith(f"Error: {NAME}: the ledger file is damaged ("), (args, r.output)
        assert r.output.count("\n") == 1 and "Traceback" not in r.output
    assert not (ledger_project / "r.html").exists()


def test_newer_schema_is_refused_untouched(ledger_project):
    p = booked(ledger_project)
    c = raw(p)
    c.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    c.close()
    before = hashlib.sha256(p.read_bytes()).hexdigest()
    for args in (["ledger", "list"], ["ledger", "add", "--category", "crm", "--description", "x", "--source", "s",
                                      "--approved-by", "a", "--baseline", "1",
                                      "--actual", "0"]):
        r = cli_run(*args)
        assert (r.exit_code, r.output) == (2, f"Error: {NAME}: ledger schema version {SCHEMA_VERSION + 1} was written "
                                              f"by a newer assetkit (this one reads up to {SCHEMA_VERSION}); upgrade "
                                              "assetkit\n"), args
    assert hashlib.sha256(p.read_bytes()).hexdigest() == before


# -- tamper evidence ----------------------------------------------------------------------------

def test_verify_passes_and_report_marks_as_of(ledger_project):
    booked(ledger_project)
    r = cli_run("ledger", "verify")
    assert r.exit_code == 0
    with Ledger(readonly=True) as lg:
        n = lg.conn.execute("SELECT COUNT(*) FROM chain").fetchone()[0]
        last = lg.conn.execute("SELECT MAX(id), MAX(recorded_at) FROM entries").fetchone()
    assert r.output.startswith(f"{NAME}: verified — {n} chain links, {last[0]} entries, last entry #{last[0]}")
    assert cli_run("report", "--out", "r.md").exit_code == 0
    at = dt.datetime.fromisoformat(last[1].replace("Z", "+00:00"))
    assert f"**As of:** entry #{last[0]} (recorded {at:%b} {at.day}, {at.year} {at:%H:%M:%S} UTC), ledger verified" in \
        (ledger_project / "r.md").read_text()


def _refused(ledger_project, message: str) -> None:
    for args in (["ledger", "verify"], ["report", "--out", "r.html"]):
        r = cli_run(*args)
        assert (r.exit_code, r.output) == (2, f"Error: {NAME}: does not verify: {message}\n"), args
    assert not (ledger_project / "r.html").exists()


def test_changed_totals_refuse_the_report(ledger_project):
    p = booked(ledger_project)
    c = raw(p)
    c.execute("UPDATE totals SET baseline_micros = baseline_micros * 100")
    c.close()
    r = cli_run("report", "--out", "r.html")
    assert r.exit_code == 2
    assert r.output.startswith(f"Error: {NAME}: does not verify: the running totals differ from the entries "
                               "(baseline_micros: entries ")
    r = cli_run("ledger", "verify")
    assert r.exit_code == 2 and "the running totals for day='2026-11-25'" in r.output
    assert "the totals table was changed outside assetkit" in r.output


def test_changed_rate_totals_refuse_the_report(ledger_project):
    """The methodology's rates-applied counts come from rate_totals (schema 10): a change to it
    is caught by the report's cheap verify and named per group by `ledger verify`."""
    p = booked(ledger_project)
    c = raw(p)
    c.execute("UPDATE rate_totals SET entries = entries * 100")
    c.close()
    r = cli_run("report", "--out", "r.html")
    assert r.exit_code == 2 and not (ledger_project / "r.html").exists()
    assert r.output.startswith(f"Error: {NAME}: does not verify: the running totals differ from the entries "
                               "(rate_totals.entries: entries ")
    r = cli_run("ledger", "verify")
    assert r.exit_code == 2 and "the running rate totals for day='2026-11-25'" in r.output
    assert "the rate_totals table was changed outside assetkit" in r.output


def test_rate_totals_are_the_entries_summed(ledger_project):
    """rate_totals, kept by every insert and built by the schema-10 migration, equals the
    entries grouped by day, campaign, brand, card version, applied rates, kind, run, baseline."""
    p = booked(ledger_project)
    with Ledger(p) as lg:
        lg.add_manual("production", "shoot", Decimal(900), Decimal(300), source="PO-1", approved_by="cfo")
    want = ("SELECT substr(occurred_at, 1, 10), COALESCE(campaign, ''), COALESCE(brand, ''), COALESCE(quote_id, ''), "
            "COALESCE(quote_version, -1), COALESCE(applied, ''), kind, run_id IS NOT NULL, no_baseline, currency, "
            "COALESCE(device, ''), COUNT(*), SUM(units), SUM(human_estimated_ms), SUM(actual_ms), "
            "SUM(actual_human_micros), SUM(compute_ms), SUM(actual_compute_micros) FROM entries "
            "GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11 ORDER BY 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11")
    have = "SELECT * FROM rate_totals ORDER BY 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11"
    c = raw(p)
    kept = c.execute(have).fetchall()
    assert kept == c.execute(want).fetchall() and any(r[6] == "manual" for r in kept) and len(kept) > 2
    assert any(r[10] for r in kept) and any(r[15] for r in kept) and any(r[17] for r in kept)  # device, costs
    c.execute("DROP TABLE rate_totals")  # as schema 9 had it: the migration builds it from the entries
    c.execute("DROP INDEX entries_sums")
    c.execute("DROP INDEX entries_reviews")  # schema 11's
    c.execute("PRAGMA user_version = 9")
    c.close()
    with Ledger(p) as lg:
        assert [tuple(r) for r in lg.conn.execute(have)] == kept
        assert lg.verify().full
        # the report's cheap verify sums every entry through the narrow covering index
        from assetkit.ledger import store

        sql = store._CHEAP_SUMS
        plan = " ".join(r[3] for r in lg.conn.execute("EXPLAIN QUERY PLAN " + sql))
        assert "COVERING INDEX entries_sums" in plan, plan


def test_the_report_reads_one_snapshot_and_verifies_that_one(ledger_project):
    """The report's figures and its cheap verify (on a second connection, in a thread) read the
    same commit; an entry committed in between is in neither — and where the second connection
    would see it, the verify runs on the report's own connection instead."""
    p = booked(ledger_project)
    with Ledger(p, readonly=True) as lg, lg.snapshot() as conn:
        before = conn.execute("SELECT COUNT(*), MAX(id) FROM entries").fetchone()
        with Ledger(p) as writer:  # another process's commit, after the report's snapshot began
            writer.add_manual("production", "shoot", Decimal(900), Decimal(300), source="PO-2", approved_by="cfo")
        done = lg.verify_alongside()()
        assert (done.entries, done.last_entry) == tuple(before)
        assert conn.execute("SELECT MAX(id) FROM entries").fetchone()[0] == before[1]
    with Ledger(p, readonly=True) as lg, lg.snapshot():
        assert lg.verify_alongside()().last_entry == before[1] + 1
    data = build_report(p, settings=Settings())
    assert data.as_of_entry == before[1] + 1 and data.current.entries == before[0] + 1


def test_dropped_trigger_is_named(ledger_project):
    p = booked(ledger_project)
    c = raw(p)
    c.execute("DROP TRIGGER entries_no_update")
    c.close()
    _refused(ledger_project,
             "trigger entries_no_update is missing (the append-only guard was removed outside assetkit)")


def test_edited_entry_is_named_even_with_the_trigger_put_back(ledger_project):
    p = booked(ledger_project)
    c = raw(p)
    trigger = c.execute("SELECT sql FROM sqlite_master WHERE name = 'entries_no_update'").fetchone()[0]
    c.execute("DROP TRIGGER entries_no_update")
    c.execute("UPDATE entries SET description = 'edited' WHERE id = 2")
    c.execute(trigger)
    c.close()
    r = cli_run("ledger", "verify")
    assert (r.exit_code, r.output) == (2, f"Error: {NAME}: does not verify: first bad entry 2: entries row 2 does not "
                                          "match its hash (changed after it was recorded)\n")


def test_row_added_outside_assetkit_is_named(ledger_project):
    p = booked(ledger_project)
    c = raw(p)
    c.execute("INSERT INTO entries (kind, category, occurred_at, month, currency, baseline_micros, units, who, "
              "recorded_at) VALUES ('manual', 'crm', '2026-11-27T12:00:00Z', '2026-11', 'EUR', 5000000, 1, 'x', 'y')")
    c.close()
    with Ledger(readonly=True) as lg:
        n = lg.conn.execute("SELECT MAX(id) FROM entries").fetchone()[0]
    r = cli_run("ledger", "verify")
    assert r.exit_code == 2
    assert f"does not verify: first bad entry {n}: {n} entries rows but {n - 1} chain links (row {n} has none" \
        in r.output


def test_migration_chains_an_older_ledger(tmp_path):
    path = tmp_path / "v3.sqlite"
    c = raw(path)
    c.execute("BEGIN")
    for script in (SCHEMA_V1, SCHEMA_V2, SCHEMA_V3):
        for stmt in schema._statements(script):
            c.execute(stmt)
    c.execute("INSERT INTO entries (kind, category, occurred_at, month, currency, baseline_micros, units, who,"
              " recorded_at) VALUES ('manual', 'crm', '2026-03-04T12:00:00Z', '2026-03', 'EUR', 5000000, 1, 'a@b',"
              " '2026-03-04T12:00:00Z')")
    c.execute("INSERT INTO totals VALUES ('2026-03-04', 'crm', '', '', 'manual', 'EUR', 0, '', 1, 1, 5000000, 0, 0,"
              " 0, 0.0, 0.0, 0.0, 0)")
    c.execute("PRAGMA user_version = 3")
    c.execute("PRAGMA application_id = 1095977804")
    c.execute("COMMIT")
    c.close()
    with Ledger(path, readonly=True) as lg:  # a reader upgrades a writable older file, then reads
        assert lg.conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        assert lg.verify().links == 1


def _v7_ledger(path):
    """A schema-7 ledger (hours REAL) holding a run and two entries, chained as schema 7 chained them."""
    from assetkit.ledger import chain
    from assetkit.ledger.schema import HASHED_V7, MIGRATIONS

    c = raw(path)
    c.execute("BEGIN")
    for version in range(1, 8):
        for stmt in schema._statements(MIGRATIONS[version]):
            c.execute(stmt)
    c.execute("INSERT INTO meta VALUES ('created_at', '2026-01-01T00:00:00Z')")
    c.execute("INSERT INTO runs (run_id, campaign, brand, finished_at, month, currency, compute_seconds, "
              "baseline_hours, actual_hours, who, recorded_at) VALUES ('r1', 'c', 'b', '2026-10-01T10:00:00Z', "
              "'2026-10', 'EUR', 2.5, 89.625, 0.1, 'a@b', '2026-10-01T10:00:00Z')")
    for hours, minutes in ((40.125, 6.0), (49.5, 2.5)):  # 89.625 h: a float sum prints 89.62 at 2 decimals
        c.execute("INSERT INTO entries (run_id, kind, category, occurred_at, month, currency, baseline_micros, "
                  "units, baseline_hours, actual_hours, compute_seconds, human_minutes_estimated, who, recorded_at) "
                  "VALUES ('r1', 'asset', 'production', '2026-10-01T10:00:00Z', '2026-10', 'EUR', 5000000, 1, ?, "
                  "?, 1.25, ?, 'a@b', '2026-10-01T10:00:00Z')", (hours, minutes / 60, minutes))
    c.execute(schema._TOTALS_FROM_ENTRIES_V2, (0,))
    hashed = {**chain.HASHED, **HASHED_V7}
    for table in ("runs", "entries"):
        chain.link_legacy(c, table, 0, hashed)
    c.execute("PRAGMA user_version = 7")
    c.execute("PRAGMA application_id = 1095977804")
    c.execute("COMMIT")
    return c


def test_hours_become_integer_milliseconds_and_the_chain_is_rehashed(tmp_path):
    """Schema 8: every duration is INTEGER ms (no REAL column holds hours, minutes or seconds);
    a schema-7 file is converted, its chain verified first and re-hashed, and it then verifies."""
    path = tmp_path / "v7.sqlite"
    _v7_ledger(path).close()
    with Ledger(path) as lg:
        c = lg.conn
        assert c.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        got = [tuple(r) for r in c.execute("SELECT baseline_ms, actual_ms, compute_ms, human_estimated_ms, saved_ms "
                                           "FROM entries ORDER BY id")]
        assert got == [(144_450_000, 360_000, 1250, 360_000, 144_090_000),
                       (178_200_000, 150_000, 1250, 150_000, 178_050_000)]
        run = tuple(c.execute("SELECT compute_ms, baseline_ms, actual_ms FROM runs").fetchone())
        assert run == (2500, 322_650_000, 360_000)
        real = [(t, col[1]) for t in ("entries", "runs", "totals")
                for col in c.execute(f"PRAGMA table_info({t})") if col[2] == "REAL"]
        assert real == [("entries", "baseline_days"), ("runs", "baseline_days")]  # a card's turnaround, never summed
        meta = dict(c.execute("SELECT key, value FROM meta").fetchall())
        assert meta["rechained_why"] == ("schema 9: rows hashed as SQLite serialises them (json_array); "
                                     "schema 8: durations as integer milliseconds")
        assert len(meta["rechained_from"]) == 64
        assert lg.verify().links == 3
        (row,) = lg.aggregate(["month"])
        assert row["baseline_hours"] == Decimal("89.625")  # exact: no float sum
        with pytest.raises(sqlite3.IntegrityError):
            c.execute("UPDATE entries SET baseline_ms = 0")  # the triggers came back
    r = CliRunner().invoke(cli, ["ledger", "verify", "--ledger", str(path)])
    assert r.exit_code == 0 and "verified — 3 chain links, 2 entries" in r.output


def test_a_tampered_older_ledger_is_not_upgraded(tmp_path):
    path = tmp_path / "v7.sqlite"
    c = _v7_ledger(path)
    c.execute("DROP TRIGGER entries_no_update")
    c.execute("UPDATE entries SET baseline_micros = baseline_micros * 100 WHERE id = 2")
    c.close()
    with pytest.raises(LedgerError, match=r"does not verify \(entries row 2: entries row 2 does not match its hash"):
        Ledger(path)
    c = raw(path)
    assert c.execute("PRAGMA user_version").fetchone()[0] == 7  # untouched
    c.close()


def _edit(p: Path, table: str, sql: str, args: tuple = ()) -> None:
    """Run ``sql`` against ``table`` with plain sqlite3, the append-only triggers dropped and put back."""
    c = raw(p)
    triggers = [r[0] for r in c.execute("SELECT sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = ?",
                                        (table,))]
    c.execute(f"DROP TRIGGER {table}_no_update")
    c.execute(f"DROP TRIGGER {table}_no_delete")
    c.execute(sql, args)
    for t in triggers:
        c.execute(t)
    c.close()


def _changed(column: str, kind: str) -> str:
    """SQL: a different value for ``column`` that its CHECKs allow."""
    if column == "kind":
        return "CASE kind WHEN 'manual' THEN 'asset' ELSE 'manual' END"
    if column == "category":
        return "CASE category WHEN 'crm' THEN 'social' ELSE 'crm' END"
    if column in ("no_baseline", "allow_pending"):
        return f"1 - {column}"
    if kind == "INTEGER":
        return f"COALESCE({column}, 0) + 1"
    if kind == "REAL":
        return f"COALESCE({column}, 0) + 1"
    return f"COALESCE({column}, '') || 'x'"


@pytest.mark.parametrize("table", ["entries", "runs", "quotes"])
def test_every_hashed_column_of_every_table_is_covered(ledger_project, table):
    """Changing any one hashed column of a row (with the triggers put back) is named by verify
    and refused by the report — the canonical row SQLite builds covers every column."""
    from assetkit.ledger import chain

    p = booked(ledger_project)
    c = raw(p)
    types = {r[1]: r[2] for r in c.execute(f"PRAGMA table_info({table})")}
    row_id = c.execute(f"SELECT MAX(rowid) FROM {table}").fetchone()[0]
    c.close()
    assert set(chain.HASHED[table]) <= set(types)
    backup = p.read_bytes()
    what = {"entries": "entry", "runs": "run row", "quotes": "quote row"}[table]
    for column in chain.HASHED[table]:
        p.write_bytes(backup)
        for suffix in ("-wal", "-shm"):
            Path(f"{p}{suffix}").unlink(missing_ok=True)
        _edit(p, table, f"UPDATE {table} SET {column} = {_changed(column, types[column])} WHERE rowid = ?", (row_id,))
        _refused_at(ledger_project, f"first bad {what} {row_id}: {table} row {row_id} does not match its hash "
                                    "(changed after it was recorded)", full_only=True)


def _refused_at(ledger_project, message: str, full_only: bool = False) -> None:
    r = cli_run("ledger", "verify")
    assert (r.exit_code, r.output) == (2, f"Error: {NAME}: does not verify: {message}\n")
    if not full_only:
        r = cli_run("report", "--out", "r.html")
        assert r.exit_code == 2 and "does not verify" in r.output
        assert not (ledger_project / "r.html").exists()


def test_one_ulp_of_a_real_and_a_hidden_nul_are_named(ledger_project):
    """A REAL changed in its last bit, and text with a NUL and more appended (which SQLite's
    ``quote`` would cut at the NUL), both break the chain."""
    import math

    p = booked(ledger_project)
    c = raw(p)
    n = c.execute("SELECT MAX(id) FROM entries WHERE baseline_days IS NOT NULL").fetchone()[0]
    days = c.execute("SELECT baseline_days FROM entries WHERE id = ?", (n,)).fetchone()[0]
    c.close()
    backup = p.read_bytes()
    _edit(p, "entries", "UPDATE entries SET baseline_days = ? WHERE id = ?", (math.nextafter(days, math.inf), n))
    _refused_at(ledger_project, f"first bad entry {n}: entries row {n} does not match its hash (changed after it "
                                "was recorded)")
    p.write_bytes(backup)
    for suffix in ("-wal", "-shm"):
        Path(f"{p}{suffix}").unlink(missing_ok=True)
    _edit(p, "entries", "UPDATE entries SET who = who || ? WHERE id = 1", ("\x00evil",))
    _refused_at(ledger_project, "first bad entry 1: entries row 1 does not match its hash (changed after it was "
                                "recorded)", full_only=True)


def swap_entries_1_and_2(p: Path) -> None:
    """Entries 1 and 2 swapped, and their chain links' row ids swapped too (each hash matches its row)."""
    c = raw(p)
    c.execute("CREATE TABLE swap AS SELECT * FROM entries WHERE id IN (1, 2)")
    c.close()
    cols = ", ".join(f"{c} = (SELECT {c} FROM swap e WHERE e.id = 3 - entries.id)" for c in schema.ENTRY_COLUMNS)
    _edit(p, "entries", f"UPDATE entries SET {cols} WHERE id IN (1, 2)")
    c = raw(p)
    c.execute("DROP TABLE swap")
    c.execute("DROP TRIGGER chain_no_update")
    c.execute("UPDATE chain SET row_id = -row_id WHERE tbl = 'entries' AND row_id IN (1, 2)")
    c.execute("UPDATE chain SET row_id = 3 + row_id WHERE tbl = 'entries' AND row_id IN (-1, -2)")
    c.execute(_trigger("chain", "update"))
    c.close()


def test_swapped_rows_with_their_links_swapped_are_named(ledger_project):
    """Two entries' contents swapped and their chain links' row ids swapped too (so each hash
    matches its row): each table's links must follow its rowid order."""
    swap_entries_1_and_2(booked(ledger_project))
    r = cli_run("ledger", "verify")
    assert r.exit_code == 2
    assert "does not verify: first bad entry 1: chain link" in r.output
    assert "entries row 1 is out of its table's order" in r.output


def test_deleted_entry_is_named(ledger_project):
    p = booked(ledger_project)
    _edit(p, "entries", "DELETE FROM entries WHERE id = (SELECT MAX(id) FROM entries)")
    r = cli_run("ledger", "verify")
    assert r.exit_code == 2 and "chain links (rows were deleted)" in r.output


def test_deleted_entry_with_its_link_is_named(ledger_project):
    """A row deleted together with its chain link: the next link no longer follows the one
    before it (the links are numbered without gaps)."""
    p = booked(ledger_project)
    c = raw(p)
    seq = c.execute("SELECT seq FROM chain WHERE tbl = 'entries' AND row_id = 2").fetchone()[0]
    c.close()
    _edit(p, "entries", "DELETE FROM entries WHERE id = 2")
    _edit(p, "chain", "DELETE FROM chain WHERE seq = ?", (seq,))
    r = cli_run("ledger", "verify")
    assert (r.exit_code, r.output) == (2, f"Error: {NAME}: does not verify: first bad entry 3: chain link {seq} is "
                                          "missing (links were deleted)\n")


def _as_schema_8(p: Path, tamper: bool = False) -> None:
    """Re-chain ``p`` as schema 8 hashed rows (``repr``), and mark it schema 8; ``tamper``: then
    change entry 2 (the chain no longer matches it)."""
    from assetkit.ledger import chain

    c = raw(p)
    c.execute("DROP TRIGGER chain_no_delete")
    c.execute("DELETE FROM chain")
    for table in ("quotes", "runs", "entries"):
        chain.link_legacy(c, table, 0, chain.HASHED)
    c.execute(_trigger("chain", "delete"))
    if tamper:
        c.execute("DROP TRIGGER entries_no_update")
        c.execute("UPDATE entries SET baseline_micros = baseline_micros + 1 WHERE id = 2")
        c.execute(_trigger("entries", "update"))
    c.execute("DROP TABLE rate_totals")  # schema 10's
    c.execute("DROP INDEX entries_sums")
    c.execute("DROP INDEX entries_reviews")  # schema 11's
    c.execute("PRAGMA user_version = 8")
    c.close()


def _trigger(table: str, op: str) -> str:
    from assetkit.ledger import chain

    return next(s for s in schema._statements(chain.append_only_triggers(table)) if f"{table}_no_{op} " in s)


def test_a_schema_8_ledger_is_verified_then_rechained(ledger_project):
    """Schema 9 changes how rows are hashed: an untampered schema-8 file verifies with the old
    hashes and is re-chained with the new ones; a tampered one is not upgraded."""
    p = booked(ledger_project)
    backup = p.read_bytes()
    _as_schema_8(p)
    with Ledger(p) as lg:
        assert lg.conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        meta = dict(lg.conn.execute("SELECT key, value FROM meta").fetchall())
        assert meta["rechained_why"] == "schema 9: rows hashed as SQLite serialises them (json_array)"
        assert lg.verify().links == lg.conn.execute("SELECT COUNT(*) FROM chain").fetchone()[0]
    p.write_bytes(backup)
    for suffix in ("-wal", "-shm"):
        Path(f"{p}{suffix}").unlink(missing_ok=True)
    _as_schema_8(p, tamper=True)
    with pytest.raises(LedgerError, match=r"does not verify \(entries row 2: entries row 2 does not match"):
        Ledger(p)
    c = raw(p)
    assert c.execute("PRAGMA user_version").fetchone()[0] == 8  # untouched
    c.close()
