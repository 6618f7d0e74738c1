"""The savings ledger: pricing a run, append-only storage, corrections, queries, file safety."""
from __future__ import annotations

import socket
import sqlite3
from decimal import Decimal
from pathlib import Path

import pytest
from ledger_fixtures import QUOTE_YAML, SETTINGS_YAML, manifest

from assetkit import ledger as L
from assetkit.ledger import Ledger, LedgerError, record_run, records, schema, seed_demo
from assetkit.quotes import load_quotes
from assetkit.settings import load_settings


@pytest.fixture
def project(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("ASSETKIT_LEDGER", raising=False)
    monkeypatch.delenv("ASSETKIT_SETTINGS", raising=False)
    monkeypatch.setenv("ASSETKIT_USER", "tester")
    (tmp_path / "assetkit.yaml").write_text(SETTINGS_YAML)
    with Ledger() as lg:
        lg.import_quote(load_quotes(QUOTE_YAML)[0], QUOTE_YAML)
    return tmp_path


def record(m, brief=None):
    return record_run(m, Path("out/manifest.json"), None, None, brief)


def test_run_is_priced_against_the_quote(project):
    rec = record(manifest())
    # per asset (USD, rate 0.80 from 2026-07-01): social 220 / display 140, + art direction 0.25 h × 155,
    # + format template 180 per format shared by 2 locales, + project management 450 shared by 4 assets
    social = Decimal(220) + Decimal("38.75") + 90 + Decimal("112.5")
    display = Decimal(140) + Decimal("38.75") + 90 + Decimal("112.5")
    translation = Decimal(40)  # 10 words × 0.12 is below the 40 USD minimum for de-DE
    assert rec.baseline == (2 * social + 2 * display + translation) * Decimal("0.80")
    assert rec.currency == "EUR" and not rec.no_baseline and rec.quotes_used == ("agency-2026",)
    assert rec.assets_new == 4 and rec.entries == 6  # 4 assets, overhead, translation
    # actual: compute 3 s at 0.36/h, humans 6+6+3+3 min + 12 min translation at 60/h, tool 0.10 per asset
    assert rec.actual == Decimal("0.0003") + Decimal(30) + Decimal("0.4")
    assert rec.saving == rec.baseline - rec.actual
    assert rec.baseline_days == 5
    with Ledger() as lg:
        kinds = [e.kind for e in lg.entries()]
        assert kinds == ["asset"] * 4 + ["overhead", "translation"]
        first = lg.entry(1)
        assert (first.category, first.format_class, first.locale, first.concept) == (
            "social", "social", "en-US", "morning")
        assert first.quote_lines == "social-static,format-template,art-direction,project-management"
        assert first.who == "tester@" + socket.gethostname()
        assert first.occurred_at == "2026-11-25T08:31:00Z" and first.brief_sha256 == "f" * 64
        assert first.manifest_path == "out/manifest.json" and first.run_id == rec.run_id


def test_describe_and_to_dict(project):
    rec = record(manifest())
    assert rec.describe().startswith("saved €")
    assert rec.to_dict()["saving"] == str(rec.saving)


def test_cached_assets_are_not_counted_twice(project):
    record(manifest())
    again = record(manifest(run_id="20261126T090000Z-000001", cached=True))
    assert again.entries == 0 and again.baseline == 0 and again.assets_cached == 4
    assert again.describe().startswith("nothing new to record")


def test_translation_recorded_once_per_copy(project):
    record(manifest(formats=(("meta-square", "social"),)))
    second = record(manifest(run_id="r2", formats=(("iab-leaderboard", "display"),)))
    with Ledger() as lg:
        assert [e.kind for e in lg.entries(run_id=second.run_id)] == ["asset", "asset", "overhead"]


def test_no_baseline_is_flagged_never_zero(project):
    rec = record(manifest(quote="nope-2026"))
    assert rec.no_baseline and rec.baseline == 0
    assert "quote 'nope-2026' named by the brief is not in the ledger" in rec.no_baseline_reason
    assert rec.describe().startswith("NO BASELINE")
    old = record(manifest(run_id="old", finished="2025-03-01T10:00:00Z"))
    assert old.no_baseline and "no valid quote on 2025-03-01" in old.no_baseline_reason
    with Ledger() as lg:
        agg = lg.aggregate(["run_id"])
        assert all(r["no_baseline_deliverables"] == r["deliverables"] for r in agg)


def test_fx_rate_is_dated(project):
    rec = record(manifest(run_id="june", finished="2026-06-15T10:00:00Z"))  # 0.90 before July
    july = record(manifest(run_id="july", finished="2026-07-15T10:00:00Z", campaign="other"))
    assert rec.baseline * Decimal("0.80") == july.baseline * Decimal("0.90")
    with Ledger() as lg:
        assert Decimal(lg.entry(1).fx_rate) == Decimal("0.9")


def test_append_only_triggers(project):
    record(manifest())
    with Ledger() as lg:
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            lg.conn.execute("UPDATE entries SET baseline_micros = 0 WHERE id = 1")
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            lg.conn.execute("DELETE FROM runs")
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            lg.conn.execute("DELETE FROM quotes")


def test_void_reverses_and_only_once(project):
    rec = record(manifest())
    with Ledger() as lg:
        before = lg.aggregate([])[0]
        assert lg.void(1, "wrong format") == [7]
        v = lg.entry(7)
        assert (v.kind, v.voids_entry_id, v.reason, v.units) == ("void", 1, "wrong format", -1)
        assert v.baseline == -lg.entry(1).baseline
        after = lg.aggregate([])[0]
        assert after["deliverables"] == before["deliverables"] - 1
        with pytest.raises(LedgerError, match="already voided"):
            lg.void(1, "again")
        with pytest.raises(LedgerError, match="itself a void"):
            lg.void(7, "x")
        assert len(lg.void(rec.run_id, "bad run")) == 5  # the remaining live entries
        assert lg.aggregate([])[0]["baseline"] == 0


def test_review_replaces_the_estimate(project):
    rec = record(manifest())
    settings = load_settings()
    with Ledger() as lg:
        lg.record_review(rec.run_id, 90, settings)
        human = sum((e.actual_human for e in lg.entries(run_id=rec.run_id)), Decimal(0))
        assert human == Decimal(90)  # 90 min at 60/h, whatever was estimated
        lg.record_review(rec.run_id, 30, settings)
        human = sum((e.actual_human for e in lg.entries(run_id=rec.run_id)), Decimal(0))
        hours = sum(e.actual_hours for e in lg.entries(run_id=rec.run_id))
        assert human == Decimal(30) and hours == pytest.approx(0.5)


def test_manual_entry_converts_currency(project):
    with Ledger() as lg:
        eid = lg.add_manual("CRM", "Newsletter banners", Decimal(1000), Decimal(100), hours=2, baseline_hours=8,
                            currency="USD", settings=load_settings())
        e = lg.entry(eid)
    assert (e.kind, e.category, e.units, e.currency) == ("manual", "crm", 1, "EUR")
    # 100 USD of tools → €80, and 2 h × €60 internal rate: the hours are costed
    assert e.baseline == Decimal(800) and e.actual == Decimal(80 + 120) and e.hours_saved == 6


def test_entries_and_aggregate_filters(project):
    record(manifest(run_id="a", finished="2026-09-30T23:59:59Z", campaign="alpha"))
    record(manifest(run_id="b", finished="2026-10-01T00:00:00Z", campaign="beta"))
    with Ledger() as lg:
        assert {e.run_id for e in lg.entries(until="2026-09-30")} == {"a"}
        assert {e.run_id for e in lg.entries(since="2026-10-01")} == {"b"}
        assert {e.campaign for e in lg.entries(campaign="beta")} == {"beta"}
        months = lg.aggregate(["month"])
        assert [r["month"] for r in months] == ["2026-09", "2026-10"]
        assert months[0]["saving"] == months[0]["baseline"] - months[0]["actual"]
        with pytest.raises(Exception, match="cannot group by"):
            lg.aggregate(["baseline_micros; DROP TABLE entries"])


def test_run_recorded_twice_is_refused(project):
    record(manifest())
    with pytest.raises(LedgerError, match="already in the ledger"):
        record(manifest())


def test_foreign_and_damaged_files_are_never_touched(tmp_path):
    text = tmp_path / "notes.sqlite"
    text.write_text("my notes")
    with pytest.raises(LedgerError, match="not an SQLite database"):
        Ledger(text)
    assert text.read_text() == "my notes"
    foreign = tmp_path / "other.sqlite"
    c = sqlite3.connect(foreign)
    c.execute("CREATE TABLE t (x)")
    c.commit()
    c.close()
    before = foreign.read_bytes()
    with pytest.raises(LedgerError, match="another application"):
        Ledger(foreign)
    assert foreign.read_bytes() == before
    damaged = tmp_path / "damaged.sqlite"
    with Ledger(damaged) as lg:
        lg.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    data = bytearray(damaged.read_bytes())
    data[100:4096] = b"\xff" * (4096 - 100)
    damaged.write_bytes(bytes(data))
    with pytest.raises(LedgerError, match="damaged"):
        Ledger(damaged)
    newer = tmp_path / "newer.sqlite"
    with Ledger(newer) as lg:
        lg.conn.execute("PRAGMA user_version = 99")
    with pytest.raises(LedgerError, match="newer assetkit"):
        Ledger(newer)


def test_missing_ledger_for_reading(tmp_path):
    with pytest.raises(LedgerError, match="no ledger yet"):
        Ledger(tmp_path / "none.sqlite", create=False)


def test_schema_identity(tmp_path):
    with Ledger(tmp_path / "l.sqlite") as lg:
        assert lg.conn.execute("PRAGMA application_id").fetchone()[0] == L.APPLICATION_ID
        assert lg.conn.execute("PRAGMA user_version").fetchone()[0] == L.SCHEMA_VERSION
        assert lg.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_seed_demo_is_realistic_and_reproducible(tmp_path):
    a, b = seed_demo(tmp_path / "a.sqlite"), seed_demo(tmp_path / "b.sqlite")
    with Ledger(a) as la, Ledger(b) as lb:
        rows_a = [e.to_dict() for e in la.entries()]
        assert rows_a == [e.to_dict() for e in lb.entries()]
        cats = {r["category"] for r in la.aggregate(["category"])}
        assert {"translation", "production", "social", "crm"} <= cats
        assert len({r["month"] for r in la.aggregate(["month"])}) == 6
        runs = la.runs()
        assert sum(1 for r in runs if r["quote_requested"] == "print-studio-2026") == 2
        proofs = [r for r in runs if r["generator"] == "draft"]
        assert proofs and all(r["no_baseline"] and "draft proof" in r["no_baseline_reason"] for r in proofs)
        assert sum(1 for r in runs if r["generator"] == "diffusers") > 3 * len(proofs)
        assert len(list(la.entries(kind="void"))) == 1 and len(list(la.entries(kind="review"))) >= 1
        assert len({r["brand"] for r in runs}) >= 2
        same = {}
        for r in runs:
            same.setdefault(r["brief_sha256"], []).append(r["run_id"])
        (_, forced, remade), = [ids for ids in same.values() if len(ids) > 1]  # a wave, its --force re-run, re-make
        assert [e.kind for e in la.entries(run_id=forced)] == ["overhead"]
        revisions = [e for e in la.entries(run_id=remade) if e.kind == "asset"]
        assert [(e.units, e.description) for e in revisions] == [(0, "revision of a delivered asset")] * 2
        assert la.verify().entries == len(rows_a)
    with pytest.raises(Exception, match="already exists"):
        seed_demo(a)


def test_check_ready(project):
    class B:
        quote = "missing-quote"

    with pytest.raises(Exception, match="not in the ledger"):
        L.check_ready(None, None, B())
    B.quote = "agency-2026"
    L.check_ready(None, None, B())


def test_totals_agree_with_entries(tmp_path):
    path = seed_demo(tmp_path / "demo.sqlite")
    with Ledger(path) as lg:
        for group in (["month", "category"], ["campaign"], ["brand", "kind", "no_baseline"], ["quote_id"]):
            fast = lg.aggregate(group, since="2026-07-01", until="2026-10-31")
            slow_sql = lg.aggregate(group + ["format_class"], since="2026-07-01", until="2026-10-31")
            assert sum(r["saving"] for r in fast) == sum(r["saving"] for r in slow_sql)
            assert sum(r["deliverables"] for r in fast) == sum(r["deliverables"] for r in slow_sql)
            assert sum(r["no_baseline_deliverables"] for r in fast) == sum(
                r["no_baseline_deliverables"] for r in slow_sql)
        by_hand = sum((e.saving for e in lg.entries(campaign="spring-launch")), Decimal(0))
        assert sum(r["saving"] for r in lg.aggregate(["campaign"], campaign="spring-launch")) == by_hand


def test_migrates_a_version_1_file(tmp_path):
    path = tmp_path / "v1.sqlite"
    c = sqlite3.connect(path, isolation_level=None)
    c.execute("BEGIN")
    for stmt in schema._statements(L.SCHEMA_V1):
        c.execute(stmt)
    c.execute("INSERT INTO entries (kind, category, occurred_at, month, currency, baseline_micros, units, who,"
              " recorded_at) VALUES ('manual', 'crm', '2026-03-04T12:00:00Z', '2026-03', 'EUR', 5000000, 1, 'a@b',"
              " '2026-03-04T12:00:00Z')")
    c.execute("PRAGMA user_version = 1")
    c.execute(f"PRAGMA application_id = {L.APPLICATION_ID}")
    c.execute("COMMIT")
    c.close()
    with Ledger(path) as lg:
        assert lg.conn.execute("PRAGMA user_version").fetchone()[0] == L.SCHEMA_VERSION
        (row,) = lg.aggregate(["month"])
        assert (row["month"], row["baseline"], row["deliverables"]) == ("2026-03", Decimal(5), 1)


def _totals_recomputed(conn) -> tuple[list, list]:
    """(totals as kept, totals recomputed from every entry), both sorted by their dimensions."""
    dims = ", ".join(L.TOTALS_DIMENSIONS)
    kept = [tuple(r) for r in conn.execute(
        f"SELECT {dims}, {', '.join(schema._TOTALS_MEASURES)} FROM totals ORDER BY {dims}")]
    select = schema._TOTALS_FROM_ENTRIES.split("SELECT", 1)[1].split("ON CONFLICT")[0].replace("WHERE id > ?", "")
    fresh = [tuple(r) for r in conn.execute(f"SELECT {select} ORDER BY 1, 2, 3, 4, 5, 6, 7, 8")]
    return kept, fresh


def _assert_totals_match(conn):
    kept, fresh = _totals_recomputed(conn)
    assert len(kept) == len(fresh)
    for a, b in zip(kept, fresh):
        assert a == pytest.approx(b)


def test_shared_run_values_round_trip_exactly(project, monkeypatch):
    # the run's shared values are written into the INSERT as SQL literals: quoting must be exact
    monkeypatch.setenv("ASSETKIT_USER", "o'neil")
    m = manifest(run_id="20261125T083000Z-quote'1", campaign="O'Brien's \"spring\"; DROP TABLE entries; --")
    m["brand"] = "Café ☕ 'Nordlicht' \\ %s ?1 :x"
    m["brief_sha256"] = "line\nbreak'"
    record_run(m, Path("out/it's/manifest.json"), None, None, None)
    with Ledger() as lg:
        rows = lg.conn.execute("SELECT DISTINCT run_id, campaign, brand, who, manifest_path, brief_sha256, kind, "
                               "device, typeof(variant) FROM entries WHERE kind = 'asset'").fetchall()
        assert [tuple(r) for r in rows] == [(m["run_id"], m["campaign"], m["brand"], f"o'neil@{socket.gethostname()}",
                                             "out/it's/manifest.json", "line\nbreak'", "asset", "cpu", "integer")]
        n = lg.conn.execute("SELECT COUNT(*) FROM entries WHERE run_id = ?", (m["run_id"],)).fetchone()[0]
        assert n == 6  # 4 assets, a translation, overhead
        _assert_totals_match(lg.conn)


@pytest.mark.parametrize("value", [None, 0, -1, 2 ** 63 - 1, -2 ** 63, 2 ** 63, 1.5, -0.25, 1e300, 1e-300, 3.0,
                                   float("inf"), float("nan"), "", "it's", "''", "a\nb", "ü☕", "x\x00y", True,
                                   b"bytes", Decimal("1.5")])
def test_sql_literal_equals_binding(value):
    lit = records._sql_literal(value)
    if lit is None:  # not expressible as a literal with certainty: bound per row instead
        assert (isinstance(value, (bool, bytes, Decimal)) or (isinstance(value, int) and abs(value) >= 2 ** 63)
                or (isinstance(value, float) and value != value or value in (float("inf"),))
                or (isinstance(value, str) and "\x00" in value))
        return
    c = sqlite3.connect(":memory:")
    assert c.execute(f"SELECT {lit}, typeof({lit})").fetchone() == c.execute("SELECT ?, typeof(?)",
                                                                            (value, value)).fetchone()


def test_insert_entries_shared_values_are_checked(project):
    base = dict(category="crm", occurred_at="2026-03-04T12:00:00Z", month="2026-03", units=1,
                baseline_micros=5_000_000)
    shared = dict(kind="manual", currency="EUR", who="a@b", recorded_at="2026-03-04T12:00:00Z",
                  description="nul \x00 inside")  # NUL: bound per row, not a literal
    with Ledger() as lg:
        with pytest.raises(ValueError, match="shared by every row"), lg.transaction():
            lg._insert_entries([dict(base, kind="asset")], shared)
        with pytest.raises(ValueError, match="not in the ledger"), lg.transaction():
            lg._insert_entries([dict(base, colour="red")], shared)
        with pytest.raises(ValueError, match="no entries column"), lg.transaction():
            lg._insert_entries([base], dict(shared, colour="red"))
        assert lg.conn.execute("SELECT COUNT(*) FROM entries").fetchone()[0] == 0
        with lg.transaction():
            lg._insert_entries([base, dict(base, category="social", units=2)], shared)
        got = lg.conn.execute("SELECT kind, category, units, description, who FROM entries ORDER BY id").fetchall()
        assert [tuple(r) for r in got] == [("manual", "crm", 1, "nul \x00 inside", "a@b"),
                                           ("manual", "social", 2, "nul \x00 inside", "a@b")]
        _assert_totals_match(lg.conn)


def test_totals_match_entries_after_every_kind_of_write(tmp_path):
    path = seed_demo(tmp_path / "demo.sqlite")  # runs, manual entries, a void and a review
    with Ledger(path) as lg:
        _assert_totals_match(lg.conn)


def test_a_ledger_that_is_a_symlink_is_refused_by_every_command(project, tmp_path_factory):
    """--ledger naming a symbolic link (dangling or to a real ledger), or a link where SQLite keeps
    its -wal/-shm file: refused with the reason, exit 2, nothing made or changed at the target."""
    from click.testing import CliRunner

    from assetkit.cli import cli

    elsewhere = tmp_path_factory.mktemp("elsewhere")
    add = ["ledger", "add", "--category", "crm", "--description", "x", "--source", "q", "--approved-by", "me",
           "--baseline", "10", "--actual", "1"]
    (project / "lg").mkdir()
    dangling = project / "lg" / "l.sqlite"
    dangling.symlink_to(elsewhere / "new.sqlite")
    r = CliRunner().invoke(cli, add + ["--ledger", str(dangling)])
    assert r.exit_code == 2 and "the ledger is a symbolic link (to " in r.output and "nothing was opened" in r.output
    assert not (elsewhere / "new.sqlite").exists() and list(elsewhere.iterdir()) == []
    real = project / ".assetkit" / "ledger.sqlite"
    before = real.read_bytes()
    link = project / "lg" / "real.sqlite"
    link.symlink_to(real)
    for args in (add, ["ledger", "verify"], ["ledger", "list"], ["report", "--format", "md"]):
        r = CliRunner().invoke(cli, args + ["--ledger", str(link)])
        assert r.exit_code == 2 and "is a symbolic link" in r.output, (args, r.output)
        assert "Traceback" not in r.output and len(r.output.strip().splitlines()) == 1, r.output
    assert real.read_bytes() == before
    (project / ".assetkit" / "ledger.sqlite-wal").unlink(missing_ok=True)
    (project / ".assetkit" / "ledger.sqlite-wal").symlink_to(elsewhere / "wal")
    r = CliRunner().invoke(cli, ["ledger", "verify"])
    assert r.exit_code == 2 and "its wal file is a symbolic link" in r.output and "remove the link" in r.output
    assert not (elsewhere / "wal").exists()
