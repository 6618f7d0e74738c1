"""The savings ledger: what every run saved against the agency quote, in one SQLite file.

Default location ``.assetkit/ledger.sqlite`` under the working directory (``--ledger PATH`` or
``$ASSETKIT_LEDGER`` override it). The file is an ordinary SQLite database that any tool can
read; assetkit marks it with ``PRAGMA application_id`` (``0x41534B4C``, "ASKL") and versions its
schema with ``PRAGMA user_version``, so a foreign or newer file is refused, never overwritten.

The ledger is **append-only**: triggers abort every UPDATE and DELETE on ``runs``, ``entries``
and ``quotes``. A correction is a new entry (``kind='void'``) that repeats the original's
dimensions with every amount negated and points at it through ``voids_entry_id``; sums over
entries therefore net out by themselves. Every run is written in one ``BEGIN IMMEDIATE``
transaction (complete record or none); concurrent writers wait on ``busy_timeout``.

Money is stored as INTEGER *micro-units* of ``currency`` (amount × 10⁶; exact, summable in SQL,
no floats). Hours and minutes are REAL (they are estimates, not money).

Schema (version 1)
------------------
``runs`` — one row per recorded ``assetkit run`` (a summary *as recorded*; later reviews and
voids are entries, so totals for reporting come from ``entries``):
    run_id (PK, e.g. ``20261125T083000Z-ab12cd``), campaign, brand, brand_slug, pipeline,
    generator, model, device, started_at, finished_at (UTC ISO ``YYYY-MM-DDTHH:MM:SSZ``),
    month (``YYYY-MM`` of finished_at), source_locale, quote_requested (the brief's ``quote:``),
    quotes_used (comma-separated quote ids that gave a baseline), assets_total, assets_new,
    assets_cached, compute_seconds, currency, baseline_micros, actual_micros, baseline_hours,
    actual_hours, baseline_days (agency turnaround: the longest matched line), no_baseline
    (1 when some new deliverable matched no quote line), no_baseline_reason, manifest_path,
    brief_path, brief_sha256, assetkit_version, settings_sha256, who (user@host),
    recorded_at (UTC ISO).

``entries`` — the ledger lines; one per new asset, per translated locale, per manual entry,
per recorded review and per void:
    id (PK), run_id (NULL for manual entries), kind (``asset`` | ``translation`` | ``overhead``
    (run compute not attributable to an asset) | ``review`` (real human time replacing the
    estimate: carries the *difference*) | ``manual`` | ``void``), category (``translation`` |
    ``production`` | ``crm`` | ``social`` | ``photography`` | ``other``), description,
    campaign, brand, locale, format, format_class, concept, variant, asset_path,
    deliverable_key (dedup key: translation entries are recorded once per campaign, locale and
    copy text), units (deliverables this entry adds: 1 for an asset/translation/manual entry, 0
    for overhead/review, minus the original's for a void), words (translation only),
    occurred_at (UTC ISO, when the work happened), month (``YYYY-MM``), currency,
    baseline_micros (what the agency quote would have charged), actual_compute_micros,
    actual_human_micros (human minutes × internal hourly rate), actual_tool_micros (tool
    licences per asset; a manual entry's actual cost), actual_micros and saving_micros
    (generated: actual = compute + human + tool, saving = baseline − actual), baseline_hours
    (agency hours), actual_hours (human hours), hours_saved (generated), baseline_days
    (agency turnaround for this deliverable), compute_seconds, device,
    human_minutes_estimated, review_minutes_recorded (review entries: the real minutes),
    quote_id, quote_version, quote_lines (comma-separated line ids), baseline_currency and
    baseline_source_micros (the baseline in the quote's own currency), fx_rate (decimal text
    used to convert it), no_baseline (1 = a deliverable no quote line matched: its baseline
    is unknown, not zero), no_baseline_reason, voids_entry_id, reason (void/manual note),
    manifest_path, brief_sha256, who, recorded_at.

``quotes`` — imported agency rate cards (``assetkit quotes import``); a changed file with the
same id adds a new version, the highest version is the one matched:
    id (PK), quote_id, version, agency, category, currency, valid_from, valid_to,
    source_file, sha256 (of the canonical JSON), body (canonical JSON of the validated quote,
    amounts as decimal text), who, imported_at.

``meta`` — key/value facts about the file (created_at, created_by).

``totals`` (schema 2) — running sums of ``entries`` per day × category × campaign × brand × kind ×
currency × no_baseline × quote_id, kept in the same transaction as every insert, so reports
over millions of entries read a few thousand rows. Text dimensions that are NULL in entries are
'' here. Measures: entries, units, baseline_micros, actual_compute_micros, actual_human_micros,
actual_tool_micros, baseline_hours, actual_hours, compute_seconds, no_baseline_units.
``Ledger.aggregate`` uses it whenever the grouping and filters allow.
"""
from __future__ import annotations

import datetime as dt
import getpass
import json
import math
import operator
import os
import socket
import sqlite3
from contextlib import contextmanager
from dataclasses import dataclass, fields
from decimal import Decimal
from pathlib import Path
from typing import Any, Iterator

from .errors import AssetkitError, UsageError
from .money import from_micros
from .yamlfile import display_path

APPLICATION_ID = 0x41534B4C  # "ASKL"
SCHEMA_VERSION = 3
DEFAULT_LEDGER = Path(".assetkit") / "ledger.sqlite"
LEDGER_ENV = "ASSETKIT_LEDGER"
BUSY_TIMEOUT_MS = 60_000

CATEGORIES = ("translation", "production", "crm", "social", "photography", "other")
KINDS = ("asset", "translation", "overhead", "review", "manual", "void")

def _one_of(column: str, values: tuple[str, ...]) -> str:
    # OR-chains, not IN (...): SQLite evaluates an IN list in a CHECK about twice as slowly per row
    return " OR ".join(f"{column} = '{v}'" for v in values)


_APPEND_ONLY = """
CREATE TRIGGER {t}_no_update BEFORE UPDATE ON {t}
BEGIN SELECT RAISE(ABORT, 'the assetkit ledger is append-only: {t} cannot be changed (void an entry instead)'); END;
CREATE TRIGGER {t}_no_delete BEFORE DELETE ON {t}
BEGIN SELECT RAISE(ABORT, 'the assetkit ledger is append-only: {t} cannot be deleted (void an entry instead)'); END;
"""

SCHEMA_V1 = f"""
CREATE TABLE meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
) STRICT;

CREATE TABLE quotes (
    id INTEGER PRIMARY KEY,
    quote_id TEXT NOT NULL,
    version INTEGER NOT NULL,
    agency TEXT NOT NULL,
    category TEXT NOT NULL,
    currency TEXT NOT NULL,
    valid_from TEXT NOT NULL,
    valid_to TEXT NOT NULL,
    source_file TEXT,
    sha256 TEXT NOT NULL,
    body TEXT NOT NULL,
    who TEXT NOT NULL,
    imported_at TEXT NOT NULL,
    UNIQUE (quote_id, version),
    UNIQUE (quote_id, sha256)
) STRICT;

CREATE TABLE runs (
    run_id TEXT PRIMARY KEY,
    campaign TEXT NOT NULL,
    brand TEXT NOT NULL,
    brand_slug TEXT,
    pipeline TEXT,
    generator TEXT,
    model TEXT,
    device TEXT,
    started_at TEXT,
    finished_at TEXT NOT NULL,
    month TEXT NOT NULL,
    source_locale TEXT,
    quote_requested TEXT,
    quotes_used TEXT,
    assets_total INTEGER NOT NULL DEFAULT 0,
    assets_new INTEGER NOT NULL DEFAULT 0,
    assets_cached INTEGER NOT NULL DEFAULT 0,
    compute_seconds REAL NOT NULL DEFAULT 0,
    currency TEXT NOT NULL,
    baseline_micros INTEGER NOT NULL DEFAULT 0,
    actual_micros INTEGER NOT NULL DEFAULT 0,
    baseline_hours REAL NOT NULL DEFAULT 0,
    actual_hours REAL NOT NULL DEFAULT 0,
    baseline_days REAL,
    no_baseline INTEGER NOT NULL DEFAULT 0 CHECK (no_baseline = 0 OR no_baseline = 1),
    no_baseline_reason TEXT,
    manifest_path TEXT,
    brief_path TEXT,
    brief_sha256 TEXT,
    assetkit_version TEXT,
    settings_sha256 TEXT,
    who TEXT NOT NULL,
    recorded_at TEXT NOT NULL
) STRICT;
CREATE INDEX runs_finished ON runs (finished_at);
CREATE INDEX runs_campaign ON runs (campaign, finished_at);

CREATE TABLE entries (
    id INTEGER PRIMARY KEY,
    run_id TEXT REFERENCES runs (run_id),
    kind TEXT NOT NULL CHECK ({_one_of("kind", KINDS)}),
    category TEXT NOT NULL CHECK ({_one_of("category", CATEGORIES)}),
    description TEXT,
    campaign TEXT,
    brand TEXT,
    locale TEXT,
    format TEXT,
    format_class TEXT,
    concept TEXT,
    variant INTEGER,
    asset_path TEXT,
    deliverable_key TEXT,
    units INTEGER NOT NULL DEFAULT 0,
    words INTEGER,
    occurred_at TEXT NOT NULL,
    month TEXT NOT NULL,
    currency TEXT NOT NULL,
    baseline_micros INTEGER NOT NULL DEFAULT 0,
    actual_compute_micros INTEGER NOT NULL DEFAULT 0,
    actual_human_micros INTEGER NOT NULL DEFAULT 0,
    actual_tool_micros INTEGER NOT NULL DEFAULT 0,
    actual_micros INTEGER GENERATED ALWAYS AS
        (actual_compute_micros + actual_human_micros + actual_tool_micros) VIRTUAL,
    saving_micros INTEGER GENERATED ALWAYS AS
        (baseline_micros - actual_compute_micros - actual_human_micros - actual_tool_micros) VIRTUAL,
    baseline_hours REAL NOT NULL DEFAULT 0,
    actual_hours REAL NOT NULL DEFAULT 0,
    hours_saved REAL GENERATED ALWAYS AS (baseline_hours - actual_hours) VIRTUAL,
    baseline_days REAL,
    compute_seconds REAL NOT NULL DEFAULT 0,
    device TEXT,
    human_minutes_estimated REAL NOT NULL DEFAULT 0,
    review_minutes_recorded REAL,
    quote_id TEXT,
    quote_version INTEGER,
    quote_lines TEXT,
    baseline_currency TEXT,
    baseline_source_micros INTEGER,
    fx_rate TEXT,
    no_baseline INTEGER NOT NULL DEFAULT 0 CHECK (no_baseline = 0 OR no_baseline = 1),
    no_baseline_reason TEXT,
    voids_entry_id INTEGER REFERENCES entries (id),
    reason TEXT,
    manifest_path TEXT,
    brief_sha256 TEXT,
    who TEXT NOT NULL,
    recorded_at TEXT NOT NULL
) STRICT;
CREATE INDEX entries_occurred ON entries (occurred_at);
CREATE INDEX entries_month_category ON entries (month, category);
CREATE INDEX entries_campaign ON entries (campaign, occurred_at);
CREATE INDEX entries_run ON entries (run_id);
CREATE UNIQUE INDEX entries_voided_once ON entries (voids_entry_id) WHERE voids_entry_id IS NOT NULL;
CREATE INDEX entries_deliverable ON entries (deliverable_key) WHERE deliverable_key IS NOT NULL;
""" + "".join(_APPEND_ONLY.format(t=t) for t in ("runs", "entries", "quotes"))

#: Dimensions of the ``totals`` table (NULL text dimensions are stored as '').
TOTALS_DIMENSIONS = ("day", "category", "campaign", "brand", "kind", "currency", "no_baseline", "quote_id")
_TOTALS_MEASURES = ("entries", "units", "baseline_micros", "actual_compute_micros", "actual_human_micros",
                    "actual_tool_micros", "baseline_hours", "actual_hours", "compute_seconds", "no_baseline_units")
_TOTALS_FROM_ENTRIES = f"""
INSERT INTO totals ({', '.join(TOTALS_DIMENSIONS + _TOTALS_MEASURES)})
SELECT substr(occurred_at, 1, 10), category, COALESCE(campaign, ''), COALESCE(brand, ''), kind, currency,
       no_baseline, COALESCE(quote_id, ''), COUNT(*), SUM(units), SUM(baseline_micros),
       SUM(actual_compute_micros), SUM(actual_human_micros), SUM(actual_tool_micros), SUM(baseline_hours),
       SUM(actual_hours), SUM(compute_seconds), SUM(CASE WHEN no_baseline = 1 THEN units ELSE 0 END)
FROM entries WHERE id > ?
GROUP BY 1, 2, 3, 4, 5, 6, 7, 8
ON CONFLICT ({', '.join(TOTALS_DIMENSIONS)}) DO UPDATE SET
    {', '.join(f"{m} = {m} + excluded.{m}" for m in _TOTALS_MEASURES)}
"""

SCHEMA_V2 = f"""
CREATE TABLE totals (
    day TEXT NOT NULL,
    category TEXT NOT NULL,
    campaign TEXT NOT NULL,
    brand TEXT NOT NULL,
    kind TEXT NOT NULL,
    currency TEXT NOT NULL,
    no_baseline INTEGER NOT NULL,
    quote_id TEXT NOT NULL,
    entries INTEGER NOT NULL,
    units INTEGER NOT NULL,
    baseline_micros INTEGER NOT NULL,
    actual_compute_micros INTEGER NOT NULL,
    actual_human_micros INTEGER NOT NULL,
    actual_tool_micros INTEGER NOT NULL,
    baseline_hours REAL NOT NULL,
    actual_hours REAL NOT NULL,
    compute_seconds REAL NOT NULL,
    no_baseline_units INTEGER NOT NULL,
    PRIMARY KEY ({', '.join(TOTALS_DIMENSIONS)})
) STRICT, WITHOUT ROWID;
DROP INDEX entries_month_category;
{_TOTALS_FROM_ENTRIES.replace("WHERE id > ?", "WHERE id > 0")};
"""

#: Schema 3: the report lists runs without a baseline; a partial index finds their few entries
#: without scanning the table.
SCHEMA_V3 = """
CREATE INDEX entries_no_baseline ON entries (occurred_at) WHERE no_baseline = 1;
"""

#: Migrations: MIGRATIONS[n] turns schema n-1 into n. Never edit one that has shipped.
MIGRATIONS: dict[int, str] = {1: SCHEMA_V1, 2: SCHEMA_V2, 3: SCHEMA_V3}



@contextmanager
def _setup_lock(path: Path) -> Iterator[None]:
    """An exclusive ``flock`` on the ledger's folder while a connection checks, creates or
    migrates the schema (milliseconds): SQLite's own locks do not cover switching a new file to
    WAL, and a half-created ledger must not be read as another application's database. No file
    is made for it; where the folder cannot be locked (no ``fcntl``) it is skipped."""
    try:
        import fcntl

        fd = os.open(path.parent, os.O_RDONLY)
    except (ImportError, OSError):
        yield
        return
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing releases the lock

class LedgerError(AssetkitError):
    """The ledger file cannot be used (foreign, damaged, newer) or a ledger command is invalid."""

    exit_code = 2


# -- small helpers --------------------------------------------------------------------------

def ledger_path(path: str | Path | None = None) -> Path:
    """The ledger to use: ``path``, else $ASSETKIT_LEDGER, else ./.assetkit/ledger.sqlite."""
    if path is not None:
        return Path(path)
    env = os.environ.get(LEDGER_ENV)
    if env:
        return Path(env)
    return Path.cwd() / DEFAULT_LEDGER


_resolve_ledger_path = ledger_path


_WHO_OVERRIDE: str | None = None  # seed_demo pins identity and clock for reproducible files
_NOW_OVERRIDE: str | None = None


def who() -> str:
    """``user@host`` of whoever records an entry ($ASSETKIT_USER overrides the user part)."""
    if _WHO_OVERRIDE:
        return _WHO_OVERRIDE
    user = os.environ.get("ASSETKIT_USER")
    if not user:
        try:
            user = getpass.getuser()
        except Exception:  # pragma: no cover - no passwd entry in some containers
            user = "unknown"
    return f"{user}@{socket.gethostname()}"


def utc_iso(value: str | dt.datetime | None = None) -> str:
    """A timestamp (ISO text or datetime; now when None) as UTC ``YYYY-MM-DDTHH:MM:SSZ``."""
    if value is None:
        if _NOW_OVERRIDE:
            return _NOW_OVERRIDE
        t = dt.datetime.now(dt.timezone.utc)
    elif isinstance(value, dt.datetime):
        t = value
    else:
        text = str(value).strip()
        if text.endswith("Z"):
            text = text[:-1] + "+00:00"
        t = dt.datetime.fromisoformat(text)
    if t.tzinfo is None:
        t = t.replace(tzinfo=dt.timezone.utc)
    return t.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _day_bounds(since: dt.date | str | None, until: dt.date | str | None) -> tuple[str | None, str | None]:
    """Inclusive dates → [since, until+1day) ISO text bounds for ``occurred_at``."""
    lo = hi = None
    if since is not None:
        lo = (since if isinstance(since, dt.date) else dt.date.fromisoformat(str(since))).isoformat()
    if until is not None:
        d = until if isinstance(until, dt.date) else dt.date.fromisoformat(str(until))
        hi = (d + dt.timedelta(days=1)).isoformat()
    return lo, hi


# -- rows ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class Entry:
    """One ledger line as read back; money as Decimal in ``currency``."""

    id: int
    run_id: str | None
    kind: str
    category: str
    description: str | None
    campaign: str | None
    brand: str | None
    locale: str | None
    format: str | None
    format_class: str | None
    concept: str | None
    variant: int | None
    asset_path: str | None
    units: int
    words: int | None
    occurred_at: str
    month: str
    currency: str
    baseline: Decimal
    actual_compute: Decimal
    actual_human: Decimal
    actual_tool: Decimal
    actual: Decimal
    saving: Decimal
    baseline_hours: float
    actual_hours: float
    hours_saved: float
    baseline_days: float | None
    compute_seconds: float
    device: str | None
    human_minutes_estimated: float
    review_minutes_recorded: float | None
    quote_id: str | None
    quote_version: int | None
    quote_lines: str | None
    baseline_currency: str | None
    baseline_source: Decimal | None
    fx_rate: str | None
    deliverable_key: str | None
    no_baseline: bool
    no_baseline_reason: str | None
    voids_entry_id: int | None
    reason: str | None
    manifest_path: str | None
    brief_sha256: str | None
    who: str
    recorded_at: str

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> "Entry":
        data: dict[str, Any] = {}
        keys = row.keys()
        for f in fields(cls):
            if f.name + "_micros" in keys:
                raw = row[f.name + "_micros"]
                data[f.name] = None if raw is None and f.name == "baseline_source" else from_micros(raw)
            elif f.name == "no_baseline":
                data[f.name] = bool(row[f.name])
            else:
                data[f.name] = row[f.name]
        return cls(**data)

    def to_dict(self) -> dict:
        """JSON-friendly: Decimals as text."""
        return {f.name: (str(getattr(self, f.name)) if isinstance(getattr(self, f.name), Decimal)
                         else getattr(self, f.name)) for f in fields(self)}


ENTRY_SELECT = ", ".join(
    (f.name + "_micros" if f.name in {"baseline", "actual_compute", "actual_human", "actual_tool", "actual", "saving",
                                   "baseline_source"}
     else f.name) for f in fields(Entry))

#: Columns ``Ledger.aggregate`` may group by.
GROUP_COLUMNS = ("month", "day", "year", "category", "campaign", "brand", "kind", "run_id", "locale",
                 "format", "format_class", "concept", "quote_id", "device", "no_baseline", "currency")

_SUMS = """
    COUNT(*) AS entries,
    COALESCE(SUM(units), 0) AS deliverables,
    COALESCE(SUM(baseline_micros), 0) AS baseline_micros,
    COALESCE(SUM(actual_compute_micros), 0) AS actual_compute_micros,
    COALESCE(SUM(actual_human_micros), 0) AS actual_human_micros,
    COALESCE(SUM(actual_tool_micros), 0) AS actual_tool_micros,
    COALESCE(SUM(baseline_hours), 0) AS baseline_hours,
    COALESCE(SUM(actual_hours), 0) AS actual_hours,
    COALESCE(SUM(compute_seconds), 0) AS compute_seconds,
    COALESCE(SUM(CASE WHEN no_baseline = 1 THEN units ELSE 0 END), 0) AS no_baseline_deliverables
"""
_TOTALS_SUMS = """
    SUM(entries) AS entries,
    SUM(units) AS deliverables,
    SUM(baseline_micros) AS baseline_micros,
    SUM(actual_compute_micros) AS actual_compute_micros,
    SUM(actual_human_micros) AS actual_human_micros,
    SUM(actual_tool_micros) AS actual_tool_micros,
    SUM(baseline_hours) AS baseline_hours,
    SUM(actual_hours) AS actual_hours,
    SUM(compute_seconds) AS compute_seconds,
    SUM(no_baseline_units) AS no_baseline_deliverables
"""


# -- the ledger ------------------------------------------------------------------------------

class Ledger:
    """An open ledger file. Use as a context manager; ``Ledger(path, create=False)`` to read.

    Raises LedgerError for a file that is not an assetkit ledger, is damaged, or was written by
    a newer assetkit — the file is never touched in those cases.
    """

    def __init__(self, path: str | Path | None = None, create: bool = True):
        self.path = ledger_path(path)
        self.name = display_path(self.path)
        self.conn = self._connect(create)

    # .. opening ..................................................................................
    def _connect(self, create: bool) -> sqlite3.Connection:
        p = self.path
        if p.is_dir():
            raise LedgerError(f"{self.name}: is a folder, expected the ledger file (.sqlite)")
        if p.exists() and p.stat().st_size > 0:
            with open(p, "rb") as fh:
                header = fh.read(16)
            if header != b"SQLite format 3\x00":
                raise LedgerError(f"{self.name}: not an assetkit ledger (not an SQLite database); "
                                  "refusing to touch it — move it away or choose another --ledger")
        elif not p.exists():
            if not create:
                raise LedgerError(f"{self.name}: no ledger yet (it is created by the first recorded run "
                                  "or `assetkit ledger add`)")
            p.parent.mkdir(parents=True, exist_ok=True)
        try:
            conn = sqlite3.connect(p, isolation_level=None, timeout=BUSY_TIMEOUT_MS / 1000,
                                   check_same_thread=False)
        except sqlite3.Error as exc:
            raise LedgerError(f"{self.name}: cannot open ledger ({exc})") from None
        conn.row_factory = sqlite3.Row
        try:
            conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            with _setup_lock(p):  # two processes creating one ledger: one creates, the other waits
                self._check_identity(conn)
                if conn.execute("PRAGMA journal_mode").fetchone()[0].lower() != "wal":
                    conn.execute("PRAGMA journal_mode = WAL")
                conn.execute("PRAGMA synchronous = NORMAL")  # WAL: a killed process never half-commits
                conn.execute("PRAGMA cache_size = -65536")  # up to 64 MiB: a big run's pages stay in memory
                conn.execute("PRAGMA foreign_keys = ON")
                self._migrate(conn)
        except sqlite3.DatabaseError as exc:
            conn.close()
            raise LedgerError(f"{self.name}: the ledger file is damaged ({exc}); it was not changed — "
                              "restore it from a backup or move it away") from None
        except LedgerError:
            conn.close()
            raise
        return conn

    def _check_identity(self, conn: sqlite3.Connection) -> None:
        own = not conn.in_transaction  # one snapshot: another process may be creating the ledger meanwhile
        if own:
            conn.execute("BEGIN")
        try:
            app = conn.execute("PRAGMA application_id").fetchone()[0]
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            tables = conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
        finally:
            if own:
                conn.execute("COMMIT")
        if app == APPLICATION_ID:
            if version > SCHEMA_VERSION:
                raise LedgerError(f"{self.name}: ledger schema version {version} was written by a newer "
                                  f"assetkit (this one reads up to {SCHEMA_VERSION}); upgrade assetkit")
            return
        if app != 0 or tables or version:
            raise LedgerError(f"{self.name}: an SQLite database of another application, not an assetkit "
                              "ledger; refusing to touch it — choose another --ledger")

    def _migrate(self, conn: sqlite3.Connection) -> None:
        if conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION:
            return
        conn.execute("BEGIN IMMEDIATE")
        try:
            self._check_identity(conn)  # another process may have migrated meanwhile
            current = conn.execute("PRAGMA user_version").fetchone()[0]
            for version in range(current + 1, SCHEMA_VERSION + 1):
                for stmt in _statements(MIGRATIONS[version]):
                    conn.execute(stmt)
                if version == 1:
                    conn.executemany("INSERT INTO meta (key, value) VALUES (?, ?)",
                                     [("created_at", utc_iso()), ("created_by", who())])
                conn.execute(f"PRAGMA user_version = {version}")
            conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> "Ledger":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """``BEGIN IMMEDIATE`` … ``COMMIT``: all or nothing, writers queue on busy_timeout."""
        try:
            self.conn.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            raise LedgerError(f"{self.name}: ledger is locked by another writer ({exc})") from None
        try:
            yield self.conn
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        self.conn.execute("COMMIT")

    # .. reading ..................................................................................
    def _where(self, since=None, until=None, campaign=None, brand=None, category=None,
               run_id=None, kind=None, day_column="occurred_at") -> tuple[str, list]:
        clauses, params = [], []
        lo, hi = _day_bounds(since, until)
        if lo:
            clauses.append(f"{day_column} >= ?")
            params.append(lo)
        if hi:
            clauses.append(f"{day_column} < ?")
            params.append(hi)
        for col, val in (("campaign", campaign), ("brand", brand), ("category", category),
                         ("run_id", run_id), ("kind", kind)):
            if val is not None:
                clauses.append(f"{col} = ?")
                params.append(val)
        return (" WHERE " + " AND ".join(clauses)) if clauses else "", params

    def entries(self, since: dt.date | str | None = None, until: dt.date | str | None = None,
                campaign: str | None = None, brand: str | None = None, category: str | None = None,
                run_id: str | None = None, kind: str | None = None) -> Iterator[Entry]:
        """Entries in id order, filtered by day range (inclusive, UTC) and dimensions."""
        where, params = self._where(since, until, campaign, brand, category, run_id, kind)
        for row in self.conn.execute(f"SELECT {ENTRY_SELECT} FROM entries{where} ORDER BY id", params):
            yield Entry.from_row(row)

    def entry(self, entry_id: int) -> Entry | None:
        row = self.conn.execute(f"SELECT {ENTRY_SELECT} FROM entries WHERE id = ?", (entry_id,)).fetchone()
        return Entry.from_row(row) if row else None

    def aggregate(self, group_by: list[str] | tuple[str, ...] = ("month", "category"), since=None,
                  until=None, campaign=None, brand=None, category=None) -> list[dict]:
        """Sums per group, in SQL. ``currency`` is always part of the group (never mixed).

        Each row: the group columns, ``entries``, ``deliverables``, ``no_baseline_deliverables``,
        Decimal ``baseline``, ``actual_compute``, ``actual_human``, ``actual_tool``, ``actual``,
        ``saving``, and float ``baseline_hours``, ``actual_hours``, ``hours_saved``,
        ``compute_seconds``. Voids net out (their amounts are negated copies).
        """
        cols = list(group_by)
        bad = [c for c in cols if c not in GROUP_COLUMNS]
        if bad:
            raise UsageError(f"cannot group by {', '.join(bad)}; choose from {', '.join(GROUP_COLUMNS)}")
        if "currency" not in cols:
            cols.append("currency")
        fast = all(c in TOTALS_DIMENSIONS or c in ("month", "year") for c in cols)
        if fast:
            expr = {"month": "substr(day, 1, 7)", "year": "substr(day, 1, 4)"}
            expr.update({c: f"NULLIF({c}, '')" for c in ("campaign", "brand", "quote_id")})
            where, params = self._where(since, until, campaign, brand, category, day_column="day")
            sums, table = _TOTALS_SUMS, "totals"
        else:
            expr = {"day": "substr(occurred_at, 1, 10)", "year": "substr(occurred_at, 1, 4)"}
            where, params = self._where(since, until, campaign, brand, category)
            sums, table = _SUMS, "entries"
        select = ", ".join(f"{expr.get(c, c)} AS {c}" for c in cols)
        group = ", ".join(expr.get(c, c) for c in cols)
        sql = f"SELECT {select}, {sums} FROM {table}{where} GROUP BY {group} ORDER BY {group}"
        out = []
        for row in self.conn.execute(sql, params):
            d = {c: row[c] for c in cols}
            d["entries"] = row["entries"]
            d["deliverables"] = row["deliverables"]
            d["no_baseline_deliverables"] = row["no_baseline_deliverables"]
            for k in ("baseline", "actual_compute", "actual_human", "actual_tool"):
                d[k] = from_micros(row[k + "_micros"])
            d["actual"] = d["actual_compute"] + d["actual_human"] + d["actual_tool"]
            d["saving"] = d["baseline"] - d["actual"]
            d["baseline_hours"] = row["baseline_hours"]
            d["actual_hours"] = row["actual_hours"]
            d["hours_saved"] = row["baseline_hours"] - row["actual_hours"]
            d["compute_seconds"] = row["compute_seconds"]
            out.append(d)
        return out

    def summary(self, since=None, until=None, campaign=None, brand=None) -> list[dict]:
        """One row per run (all its entries, reviews and voids netted) and per manual entry.

        Keys: ref (run id, or ``#<entry id>`` for a manual entry), run_id, entry_id, date,
        campaign, brand, categories, deliverables, currency, Decimal baseline/actual/saving,
        baseline_hours, actual_hours, hours_saved, no_baseline (bool), voided (bool).
        """
        where, params = self._where(since, until, campaign, brand)
        sql = f"""
            SELECT COALESCE(run_id, '#' || COALESCE(voids_entry_id, id)) AS ref, run_id,
                   MIN(CASE WHEN run_id IS NULL THEN COALESCE(voids_entry_id, id) END) AS entry_id,
                   MIN(occurred_at) AS occurred_at, MAX(campaign) AS campaign, MAX(brand) AS brand,
                   GROUP_CONCAT(DISTINCT category) AS categories, currency,
                   SUM(units) AS deliverables, SUM(baseline_micros) AS baseline_micros,
                   SUM(actual_micros) AS actual_micros, SUM(baseline_hours) AS baseline_hours,
                   SUM(actual_hours) AS actual_hours,
                   SUM(CASE WHEN no_baseline = 1 THEN units ELSE 0 END) AS no_baseline_units,
                   SUM(kind = 'void') AS voids, SUM(kind != 'void' AND units != 0) AS live
            FROM entries{where}
            GROUP BY ref, currency ORDER BY occurred_at, ref"""
        out = []
        for r in self.conn.execute(sql, params):
            baseline, actual = from_micros(r["baseline_micros"]), from_micros(r["actual_micros"])
            out.append({"ref": r["ref"], "run_id": r["run_id"], "entry_id": r["entry_id"],
                        "date": r["occurred_at"][:10], "campaign": r["campaign"], "brand": r["brand"],
                        "categories": ",".join(sorted(set((r["categories"] or "").split(",")))),
                        "deliverables": r["deliverables"], "currency": r["currency"], "baseline": baseline,
                        "actual": actual, "saving": baseline - actual,
                        "baseline_hours": r["baseline_hours"], "actual_hours": r["actual_hours"],
                        "hours_saved": r["baseline_hours"] - r["actual_hours"],
                        "no_baseline": r["no_baseline_units"] > 0, "voided": r["voids"] > 0 and r["deliverables"] == 0})
        return out

    def runs(self, since=None, until=None, campaign=None, brand=None) -> list[dict]:
        """Run summaries (as recorded), oldest first, as plain dicts."""
        clauses, params = [], []
        lo, hi = _day_bounds(since, until)
        if lo:
            clauses.append("finished_at >= ?")
            params.append(lo)
        if hi:
            clauses.append("finished_at < ?")
            params.append(hi)
        for col, val in (("campaign", campaign), ("brand", brand)):
            if val is not None:
                clauses.append(f"{col} = ?")
                params.append(val)
        where = (" WHERE " + " AND ".join(clauses)) if clauses else ""
        return [dict(r) for r in self.conn.execute(f"SELECT * FROM runs{where} ORDER BY finished_at, run_id",
                                                   params)]

    def run(self, run_id: str) -> dict | None:
        row = self.conn.execute("SELECT * FROM runs WHERE run_id = ?", (run_id,)).fetchone()
        return dict(row) if row else None


def _statements(script: str) -> list[str]:
    """Split a schema script into statements (triggers contain ';' inside BEGIN…END)."""
    out, buf = [], ""
    for line in script.splitlines(keepends=True):
        buf += line
        if sqlite3.complete_statement(buf):
            if buf.strip():
                out.append(buf.strip())
            buf = ""
    if buf.strip():
        out.append(buf.strip())
    return out


# -- writing -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class StoredQuote:
    """An imported quote: its ledger version and the validated rate card."""

    quote_id: str
    version: int
    agency: str
    category: str
    currency: str
    valid_from: str
    valid_to: str
    source_file: str | None
    sha256: str
    imported_at: str
    who: str
    quote: Any  # quotes.Quote


@dataclass(frozen=True)
class RunRecord:
    """What recording one run added to the ledger (the runner prints ``describe()``)."""

    run_id: str
    entries: int
    baseline: Decimal
    actual: Decimal
    saving: Decimal
    currency: str
    no_baseline: bool
    no_baseline_reason: str | None = None
    baseline_hours: float = 0.0
    actual_hours: float = 0.0
    baseline_days: float | None = None
    assets_new: int = 0
    assets_cached: int = 0
    quotes_used: tuple[str, ...] = ()
    ledger_path: str = ""
    money_locale: str = "en_US"

    @property
    def hours_saved(self) -> float:
        return self.baseline_hours - self.actual_hours

    def to_dict(self) -> dict:
        return {"run_id": self.run_id, "entries": self.entries, "currency": self.currency,
                "baseline": str(self.baseline), "actual": str(self.actual), "saving": str(self.saving),
                "baseline_hours": round(self.baseline_hours, 4), "actual_hours": round(self.actual_hours, 4),
                "hours_saved": round(self.hours_saved, 4), "baseline_days": self.baseline_days,
                "no_baseline": self.no_baseline, "no_baseline_reason": self.no_baseline_reason,
                "assets_new": self.assets_new, "assets_cached": self.assets_cached,
                "quotes_used": list(self.quotes_used), "ledger": self.ledger_path}

    def describe(self) -> str:
        from .money import format_money

        def m(x: Decimal) -> str:
            return format_money(x, self.currency, self.money_locale)

        if self.entries == 0 or (self.assets_new == 0 and self.baseline == 0 and not self.no_baseline):
            return f"nothing new to record ({self.assets_cached} assets up to date) → {self.ledger_path}"
        if self.no_baseline and self.baseline == 0:
            return (f"NO BASELINE — saving unknown; cost here {m(self.actual)}, {self.actual_hours:.1f} h "
                    f"→ {self.ledger_path}\n  {self.no_baseline_reason}")
        text = (f"saved {m(self.saving)} and {self.hours_saved:.1f} h against "
                f"{', '.join(self.quotes_used) or 'no quote'} (agency {m(self.baseline)}, "
                f"{self.baseline_hours:.1f} h")
        if self.baseline_days:
            text += f", {self.baseline_days:g} days"
        text += f"; here {m(self.actual)}, {self.actual_hours:.1f} h) → {self.ledger_path}"
        if self.no_baseline:
            text += f"\n  NO BASELINE: {self.no_baseline_reason}"
        return text


def _micros_of(amount: Decimal) -> int:
    from .money import to_micros

    return to_micros(amount)


def _split(total: int, n: int) -> list[int]:
    """Split integer micros into n parts that add up exactly (remainder on the first parts)."""
    base, rem = divmod(total, n)
    return [base + (1 if i < rem else 0) for i in range(n)]


def _copy_words(copy: dict | None) -> int:
    return sum(len(str(v or "").split()) for v in (copy or {}).values())


class _Writer:
    """Pricing and inserts; mixed into Ledger."""

    conn: sqlite3.Connection

    # .. quotes .....................................................................................
    def import_quote(self, quote, source_file: str | Path | None = None) -> tuple[str, int, str]:
        """Store a validated Quote. Returns (quote_id, version, 'new' | 'updated' | 'unchanged')."""
        sha = quote.sha256
        with self.transaction() as c:
            same = c.execute("SELECT version FROM quotes WHERE quote_id = ? AND sha256 = ?",
                             (quote.id, sha)).fetchone()
            if same:
                return quote.id, same[0], "unchanged"
            last = c.execute("SELECT MAX(version) FROM quotes WHERE quote_id = ?", (quote.id,)).fetchone()[0]
            version = (last or 0) + 1
            c.execute("INSERT INTO quotes (quote_id, version, agency, category, currency, valid_from, valid_to,"
                      " source_file, sha256, body, who, imported_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                      (quote.id, version, quote.agency, quote.category, quote.currency,
                       quote.valid_from.isoformat(), quote.valid_to.isoformat(),
                       display_path(source_file) if source_file else None, sha, quote.canonical_json(),
                       who(), utc_iso()))
        return quote.id, version, "new" if version == 1 else "updated"

    def quotes(self, all_versions: bool = False) -> list[StoredQuote]:
        """Imported quotes (latest version of each unless ``all_versions``), by id."""
        from .quotes import Quote

        sql = "SELECT * FROM quotes q"
        if not all_versions:
            sql += " WHERE version = (SELECT MAX(version) FROM quotes WHERE quote_id = q.quote_id)"
        sql += " ORDER BY quote_id, version"
        out = []
        for r in self.conn.execute(sql):
            out.append(StoredQuote(r["quote_id"], r["version"], r["agency"], r["category"], r["currency"],
                                   r["valid_from"], r["valid_to"], r["source_file"], r["sha256"],
                                   r["imported_at"], r["who"], Quote.model_validate_json(r["body"])))
        return out

    # .. runs ......................................................................................
    def record_run(self, manifest: dict, manifest_path: str | Path | None, settings, brief=None) -> RunRecord:
        """Price a run's new deliverables against the quotes and append them in one transaction."""
        run_id = manifest.get("run_id")
        if not run_id:
            raise LedgerError("the run manifest has no run_id; cannot record it")
        quotes = self.quotes()
        with self.transaction() as c:
            if c.execute("SELECT 1 FROM runs WHERE run_id = ?", (run_id,)).fetchone():
                raise LedgerError(f"run {run_id} is already in the ledger {self.name}")
            run_row, batches = _price_run(manifest, manifest_path, settings, brief, quotes, self._has_deliverable)
            self._store_run(run_row, batches)
        return RunRecord(
            run_id=run_id, entries=sum(len(rows) for _, rows in batches),
            baseline=from_micros(run_row["baseline_micros"]),
            actual=from_micros(run_row["actual_micros"]),
            saving=from_micros(run_row["baseline_micros"] - run_row["actual_micros"]),
            currency=run_row["currency"], no_baseline=bool(run_row["no_baseline"]),
            no_baseline_reason=run_row["no_baseline_reason"], baseline_hours=run_row["baseline_hours"],
            actual_hours=run_row["actual_hours"], baseline_days=run_row["baseline_days"],
            assets_new=run_row["assets_new"], assets_cached=run_row["assets_cached"],
            quotes_used=tuple(q for q in (run_row["quotes_used"] or "").split(",") if q),
            ledger_path=self.name, money_locale=settings.money_locale)

    def _has_deliverable(self, key: str) -> bool:
        return self.conn.execute(
            "SELECT 1 FROM entries e WHERE deliverable_key = ? AND kind != 'void' AND NOT EXISTS "
            "(SELECT 1 FROM entries v WHERE v.voids_entry_id = e.id)", (key,)).fetchone() is not None

    def _store_run(self, run_row: dict, batches: list[tuple[dict | None, list[dict]]]) -> None:
        """Insert a priced run (``_price_run``'s result); the caller holds the transaction."""
        cols = list(run_row)
        self.conn.execute(f"INSERT INTO runs ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})",
                          [run_row[k] for k in cols])
        for shared, rows in batches:
            self._insert_entries(rows, shared)

    def _insert_entries(self, rows: list[dict], shared: dict | None = None) -> None:
        """Append entries and add them to ``totals``; the caller holds the transaction.

        ``rows``: dicts of column → value; a missing column gets its schema default. ``shared``:
        values that every row has (the run's dimensions), written into the statement once instead
        of being bound per row — per-row binding is most of a bulk insert's cost. A row then
        must not repeat a shared column. Rows holding exactly the other columns take the fast path.
        """
        if not rows:
            return
        literals: dict[str, str] = {}
        bound_shared: dict[str, Any] = {}
        for col, value in (shared or {}).items():
            if col not in _ENTRY_COLUMN_SET:
                raise ValueError(f"no entries column {col!r}")
            lit = _sql_literal(value)
            if lit is None:
                bound_shared[col] = value  # (rare) not expressible as a literal: bound per row
            else:
                literals[col] = lit
        varying = [c for c in ENTRY_COLUMNS if c not in literals]
        cols = varying + list(literals)
        sql = (f"INSERT INTO entries ({', '.join(cols)}) VALUES "
               f"({', '.join(['?'] * len(varying) + list(literals.values()))})")
        last = self.conn.execute("SELECT COALESCE(MAX(id), 0) FROM entries").fetchone()[0]
        self.conn.executemany(sql, _row_tuples(rows, varying, bound_shared, set(shared or ())))
        self.conn.execute(_totals_sql(literals), (last,))

    # .. corrections and manual entries .......................................................................
    def add_manual(self, category: str, description: str, baseline: Decimal, actual: Decimal,
                   hours: float = 0.0, baseline_hours: float = 0.0, currency: str | None = None,
                   campaign: str | None = None, brand: str | None = None, on: dt.date | None = None,
                   settings=None) -> int:
        """Append a manual entry (work done outside assetkit runs); returns its id."""
        from .money import FxError, check_currency, to_decimal
        from .quotes import _check_category
        from .settings import Settings

        settings = settings or Settings()
        try:
            category = _check_category(category)
        except ValueError as exc:
            raise UsageError(str(exc)) from None
        if not description or not description.strip():
            raise UsageError("a manual entry needs a --description")
        baseline, actual = to_decimal(baseline), to_decimal(actual)
        if baseline < 0 or actual < 0 or hours < 0 or baseline_hours < 0:
            raise UsageError("amounts and hours must be zero or more (use `assetkit ledger void` to correct)")
        day = on or dt.date.today()
        cur = settings.currency
        src = currency or cur
        try:
            check_currency(src)
            rate = settings.fx_table.rate(src, cur, day)
        except (ValueError, FxError) as exc:
            raise UsageError(str(exc)) from None
        now = utc_iso()
        occurred = now if on is None else f"{day.isoformat()}T12:00:00Z"
        row = dict(kind="manual", category=category, description=description.strip(), campaign=campaign,
                   brand=brand, units=1, occurred_at=occurred, month=occurred[:7], currency=cur,
                   baseline_micros=_micros_of(baseline * rate), actual_tool_micros=_micros_of(actual * rate),
                   baseline_hours=float(baseline_hours), actual_hours=float(hours),
                   baseline_currency=src, baseline_source_micros=_micros_of(baseline),
                   fx_rate=str(rate) if src != cur else None, who=who(), recorded_at=now)
        with self.transaction():
            self._insert_entries([row])
            return self.conn.execute("SELECT last_insert_rowid()").fetchone()[0]

    def void(self, target: int | str, reason: str) -> list[int]:
        """Reverse an entry (by id) or every live entry of a run (by run id); returns new ids."""
        if not reason or not reason.strip():
            raise UsageError("a void needs a --reason")
        with self.transaction() as c:
            if isinstance(target, int) or str(target).isdigit():
                rows = c.execute("SELECT * FROM entries WHERE id = ?", (int(target),)).fetchall()
                if not rows:
                    raise LedgerError(f"no ledger entry {target}")
                r = rows[0]
                if r["kind"] == "void":
                    raise LedgerError(f"entry {target} is itself a void; it cannot be voided")
                if c.execute("SELECT id FROM entries WHERE voids_entry_id = ?", (r["id"],)).fetchone():
                    raise LedgerError(f"entry {target} is already voided")
            else:
                if not c.execute("SELECT 1 FROM runs WHERE run_id = ?", (target,)).fetchone():
                    raise LedgerError(f"no run {target} in the ledger")
                rows = c.execute("SELECT * FROM entries e WHERE run_id = ? AND kind != 'void' AND NOT EXISTS "
                                 "(SELECT 1 FROM entries v WHERE v.voids_entry_id = e.id) ORDER BY id",
                                 (target,)).fetchall()
                if not rows:
                    raise LedgerError(f"run {target} has no live entries to void")
            now, me = utc_iso(), who()
            new = []
            for r in rows:
                d = {k: r[k] for k in r.keys() if k not in _GENERATED and k != "id"}
                for k in ("units", "words", "baseline_micros", "actual_compute_micros", "actual_human_micros",
                          "actual_tool_micros", "baseline_hours", "actual_hours", "compute_seconds",
                          "human_minutes_estimated", "baseline_source_micros"):
                    if d.get(k) is not None:
                        d[k] = -d[k]
                d.update(kind="void", voids_entry_id=r["id"], reason=reason.strip(), deliverable_key=None,
                         who=me, recorded_at=now)
                new.append(d)
            first = c.execute("SELECT COALESCE(MAX(id), 0) FROM entries").fetchone()[0]
            self._insert_entries(new)
        return list(range(first + 1, first + 1 + len(new)))

    def record_review(self, run_id: str, minutes: float, settings=None, note: str | None = None) -> list[int]:
        """Real human minutes for a run replace its estimate (entries carry the difference)."""
        from .settings import Settings

        settings = settings or Settings()
        if minutes < 0:
            raise UsageError(f"--minutes must be zero or more, got {minutes:g}")
        with self.transaction() as c:
            run = c.execute("SELECT * FROM runs WHERE run_id = ?", (run_id,)).fetchone()
            if run is None:
                raise LedgerError(f"no run {run_id} in the ledger")
            cur = run["currency"]
            day = dt.date.today()
            try:
                rate = settings.fx_table.rate(settings.currency, cur, day) * settings.internal_hourly_rate
            except ValueError as exc:
                raise UsageError(str(exc)) from None
            per_cat = c.execute(
                "SELECT category, SUM(human_minutes_estimated) AS est, SUM(actual_hours) AS hours, "
                "SUM(actual_human_micros) AS human FROM entries WHERE run_id = ? GROUP BY category ORDER BY category",
                (run_id,)).fetchall()
            total_est = sum(max(r["est"] or 0, 0) for r in per_cat)
            now, me = utc_iso(), who()
            rows = []
            targets = ([(r, (max(r["est"] or 0, 0) / total_est) if total_est else 0) for r in per_cat]
                       if total_est else [])
            if not targets:
                targets = [({"category": "production", "hours": 0, "human": 0}, 1)]
            for r, share in targets:
                want_min = Decimal(str(minutes)) * Decimal(str(share))
                want_micros = _micros_of(want_min / 60 * rate)
                rows.append(dict(
                    run_id=run_id, kind="review", category=r["category"], campaign=run["campaign"],
                    brand=run["brand"], description=note or f"recorded review time: {minutes:g} min",
                    occurred_at=run["finished_at"], month=run["month"], currency=cur,
                    actual_human_micros=want_micros - (r["human"] or 0),
                    actual_hours=float(want_min) / 60 - (r["hours"] or 0),
                    review_minutes_recorded=float(want_min), manifest_path=run["manifest_path"],
                    brief_sha256=run["brief_sha256"], who=me, recorded_at=now))
            first = c.execute("SELECT COALESCE(MAX(id), 0) FROM entries").fetchone()[0]
            self._insert_entries(rows)
        return list(range(first + 1, first + 1 + len(rows)))


_GENERATED = {"actual_micros", "saving_micros", "hours_saved"}
_ENTRY_DEFAULTS = {"units": 0, "baseline_micros": 0, "actual_compute_micros": 0, "actual_human_micros": 0,
                   "actual_tool_micros": 0, "baseline_hours": 0.0, "actual_hours": 0.0, "compute_seconds": 0.0,
                   "human_minutes_estimated": 0.0, "no_baseline": 0}
#: The columns an insert writes (all of ``entries`` but ``id`` and the generated ones), in table order.
ENTRY_COLUMNS = (
    "run_id", "kind", "category", "description", "campaign", "brand", "locale", "format", "format_class",
    "concept", "variant", "asset_path", "deliverable_key", "units", "words", "occurred_at", "month", "currency",
    "baseline_micros", "actual_compute_micros", "actual_human_micros", "actual_tool_micros", "baseline_hours",
    "actual_hours", "baseline_days", "compute_seconds", "device", "human_minutes_estimated",
    "review_minutes_recorded", "quote_id", "quote_version", "quote_lines", "baseline_currency",
    "baseline_source_micros", "fx_rate", "no_baseline", "no_baseline_reason", "voids_entry_id", "reason",
    "manifest_path", "brief_sha256", "who", "recorded_at")
_ENTRY_COLUMN_SET = frozenset(ENTRY_COLUMNS)


def _sql_literal(value) -> str | None:
    """``value`` as an SQLite literal equal to binding it, or None where that is not certain."""
    if value is None:
        return "NULL"
    if type(value) is int:
        return str(value) if -2 ** 63 <= value < 2 ** 63 else None
    if type(value) is float:
        return repr(value) if math.isfinite(value) else None
    if type(value) is str:
        # SQLite string literals have one escape ('' for '); NUL cannot appear in statement text
        return None if "\x00" in value else "'" + value.replace("'", "''") + "'"
    return None


def _row_tuples(rows, varying: list[str], bound_shared: dict, shared: set) -> Iterator[tuple]:
    """Each row as a tuple of the ``varying`` columns (defaults filled in), checked for stray keys."""
    get = operator.itemgetter(*varying) if len(varying) > 1 else (lambda r: (r[varying[0]],))
    n = len(varying)
    base = {c: _ENTRY_DEFAULTS.get(c) for c in varying}
    base.update(bound_shared)
    allowed = _ENTRY_COLUMN_SET - shared
    for r in rows:
        if len(r) == n:  # the fast path: exactly the varying columns
            try:
                yield get(r)
                continue
            except KeyError:
                pass
        stray = r.keys() - allowed
        if stray:
            raise ValueError(f"entry columns {', '.join(sorted(stray))} are "
                             f"{'shared by every row' if stray <= shared else 'not in the ledger'}")
        yield get({**base, **r})


def _totals_sql(literals: dict[str, str]) -> str:
    """``_TOTALS_FROM_ENTRIES`` for rows whose ``literals`` columns are constants: those dimensions
    are not grouped on (fewer sort keys), the statement is otherwise the same."""
    if not literals:
        return _TOTALS_FROM_ENTRIES
    e = {c: literals.get(c, c) for c in ("occurred_at", "category", "campaign", "brand", "kind", "currency",
                                         "no_baseline", "quote_id", "units", "baseline_micros",
                                         "actual_compute_micros", "actual_human_micros", "actual_tool_micros",
                                         "baseline_hours", "actual_hours", "compute_seconds")}
    dims = [(f"substr({e['occurred_at']}, 1, 10)", "occurred_at"), (e["category"], "category"),
            (f"COALESCE({e['campaign']}, '')", "campaign"), (f"COALESCE({e['brand']}, '')", "brand"),
            (e["kind"], "kind"), (e["currency"], "currency"), (e["no_baseline"], "no_baseline"),
            (f"COALESCE({e['quote_id']}, '')", "quote_id")]
    group = [str(i) for i, (_, col) in enumerate(dims, 1) if col not in literals] or ["1"]
    return f"""
INSERT INTO totals ({', '.join(TOTALS_DIMENSIONS + _TOTALS_MEASURES)})
SELECT {', '.join(x for x, _ in dims)}, COUNT(*), SUM({e['units']}), SUM({e['baseline_micros']}),
       SUM({e['actual_compute_micros']}), SUM({e['actual_human_micros']}), SUM({e['actual_tool_micros']}),
       SUM({e['baseline_hours']}), SUM({e['actual_hours']}), SUM({e['compute_seconds']}),
       SUM(CASE WHEN {e['no_baseline']} = 1 THEN {e['units']} ELSE 0 END)
FROM entries WHERE id > ?
GROUP BY {', '.join(group)}
ON CONFLICT ({', '.join(TOTALS_DIMENSIONS)}) DO UPDATE SET
    {', '.join(f"{m} = {m} + excluded.{m}" for m in _TOTALS_MEASURES)}
"""

# Ledger gets the writing methods (kept apart above for reading order).
for _name, _fn in list(vars(_Writer).items()):
    if not _name.startswith("__"):
        setattr(Ledger, _name, _fn)


# -- pricing ----------------------------------------------------------------------------------

def _price_run(manifest: dict, manifest_path, settings, brief, stored: list[StoredQuote],
               has_key) -> tuple[dict, list[tuple[dict | None, list[dict]]]]:
    """(runs row, entry batches) for one manifest. Pure apart from ``has_key`` (dedup lookup).

    A batch is ``(shared, rows)`` for ``Ledger._insert_entries``: the asset entries carry only their
    own values (every column except the run's ``shared`` ones), the others whole rows.
    """
    import hashlib

    from .money import FxError

    cur = settings.currency
    fx = settings.fx_table
    finished = utc_iso(manifest.get("finished_at") or manifest.get("started_at"))
    day = dt.date.fromisoformat(finished[:10])
    now, me = utc_iso(), who()
    campaign, brand = manifest.get("campaign") or "", manifest.get("brand") or ""
    generator = manifest.get("generator") or {}
    named = manifest.get("quote") or (getattr(brief, "quote", None) if brief is not None else None)
    common = dict(run_id=manifest["run_id"], campaign=campaign, brand=brand, occurred_at=finished,
                  month=finished[:7], currency=cur,
                  manifest_path=display_path(manifest_path) if manifest_path else None,
                  brief_sha256=manifest.get("brief_sha256"), who=me, recorded_at=now)

    quote_reason = None
    if named:
        candidates = [s for s in stored if s.quote_id == named]
        if not candidates:
            quote_reason = f"quote {named!r} named by the brief is not in the ledger (assetkit quotes import FILE)"
    else:
        candidates = [s for s in stored if s.quote.valid_on(day)]
        if not candidates:
            quote_reason = (f"no imported quote is valid on {day.isoformat()} (assetkit quotes list; "
                            "assetkit quotes import FILE)")

    def choose(fmt, fclass, locale, words: bool):
        """Best (stored quote, [lines]) for one deliverable, or (None, [])."""
        best, best_key = (None, []), None
        for s in candidates:
            by_service: dict[str, Any] = {}
            for line in s.quote.lines:
                if (line.unit == "per_word") != words:
                    continue
                ok = (line.match.locales is None or locale in line.match.locales) if words else \
                    line.match.matches(fmt, fclass, locale)
                if not ok:
                    continue
                prev = by_service.get(line.service_key)
                if prev is None or line.match.specificity > prev.match.specificity:
                    by_service[line.service_key] = line
            if not by_service:
                continue
            key = (max(l.match.specificity for l in by_service.values()), s.quote.valid_from, s.quote_id)
            if best_key is None or key > best_key:
                best, best_key = (s, list(by_service.values())), key
        return best

    def convert(source_micros: int, s: StoredQuote) -> tuple[int | None, str | None, str | None]:
        try:
            rate = fx.rate(s.currency, cur, day)
        except FxError as exc:
            return None, None, str(exc)
        return _micros_of(from_micros(source_micros) * rate), (str(rate) if s.currency != cur else None), None

    assets = manifest.get("assets") or []
    new = [a for a in assets if not a.get("cached")]
    rows: list[dict] = []
    # Asset entries: the run's values once, every other column in each row (complete rows take
    # the insert's fast path; see Ledger._insert_entries).
    asset_shared = dict(common, kind="asset", device=manifest.get("device"), description=None, words=None,
                        deliverable_key=None, review_minutes_recorded=None, voids_entry_id=None, reason=None)
    asset_template = {c: _ENTRY_DEFAULTS.get(c) for c in ENTRY_COLUMNS if c not in asset_shared}
    missing: dict[str, int] = {}

    # assets: first choose lines, then share per_format / flat prices within the run
    chosen = [choose(a.get("format"), a.get("format_class"), a.get("locale"), False) for a in new]
    groups: dict[tuple, list[int]] = {}
    for i, (s, lines) in enumerate(chosen):
        for line in lines:
            if line.unit == "per_format":
                groups.setdefault((s.quote_id, line.id, new[i].get("format")), []).append(i)
            elif line.unit == "flat":
                groups.setdefault((s.quote_id, line.id), []).append(i)
    shares: dict[tuple, dict[int, tuple[int, float]]] = {}
    for key, members in groups.items():
        s = next(chosen[i][0] for i in members)
        line = next(l for l in s.quote.lines if l.id == key[1])
        parts = _split(_micros_of(line.unit_price), len(members))
        shares[key] = {i: (parts[j], float(line.hours_per_unit) / len(members)) for j, i in enumerate(members)}

    run_secs = float(manifest.get("compute_seconds") or 0)
    device = manifest.get("device")
    compute_rate = settings.compute.per_hour(device)
    internal = settings.internal_hourly_rate
    asset_secs = 0.0
    for i, a in enumerate(new):
        s, lines = chosen[i]
        fclass = a.get("format_class") or "social"
        secs = float(a.get("compute_seconds") or 0)
        asset_secs += secs
        minutes = settings.human_minutes.for_class(fclass).total
        row = dict(asset_template, locale=a.get("locale"), format=a.get("format"), format_class=fclass,
                   concept=a.get("concept"), variant=a.get("variant"), asset_path=a.get("path"), units=1,
                   compute_seconds=secs,
                   actual_compute_micros=_micros_of(Decimal(str(secs)) / 3600 * compute_rate),
                   actual_human_micros=_micros_of(minutes / 60 * internal),
                   actual_tool_micros=_micros_of(settings.tool_cost_per_asset),
                   human_minutes_estimated=float(minutes), actual_hours=float(minutes) / 60)
        if s is None:
            row.update(category="social" if fclass == "social" else "production", no_baseline=1,
                       no_baseline_reason=quote_reason or f"no quote line matches format {a.get('format')} "
                                                          f"({fclass}), locale {a.get('locale')}")
            missing[f"{a.get('format')} ({fclass})"] = missing.get(f"{a.get('format')} ({fclass})", 0) + 1
        else:
            src, hours, days = 0, 0.0, 0.0
            for line in lines:
                if line.unit == "per_asset":
                    src += _micros_of(line.unit_price)
                    hours += float(line.hours_per_unit)
                elif line.unit == "per_hour":
                    src += _micros_of(line.unit_price * line.hours_per_unit)
                    hours += float(line.hours_per_unit)
                else:
                    key = (s.quote_id, line.id, a.get("format")) if line.unit == "per_format" else (s.quote_id, line.id)
                    m, h = shares[key][i]
                    src += m
                    hours += h
                days = max(days, float(line.turnaround_days))
            baseline, fx_rate, err = convert(src, s)
            main = max(lines, key=lambda l: (l.unit in ("per_asset", "per_hour"), l.match.specificity))
            row.update(category=s.quote.line_category(main), quote_id=s.quote_id, quote_version=s.version,
                       quote_lines=",".join(l.id for l in lines), baseline_currency=s.currency,
                       baseline_source_micros=src, baseline_hours=hours, baseline_days=days)
            if err:
                row.update(no_baseline=1, no_baseline_reason=err)
                missing[f"{a.get('format')} (FX)"] = missing.get(f"{a.get('format')} (FX)", 0) + 1
            else:
                row.update(baseline_micros=baseline, fx_rate=fx_rate)
        rows.append(row)

    n_assets = len(rows)
    overhead = run_secs - asset_secs
    if new and overhead > 0.0005:
        rows.append(dict(common, kind="overhead", category="production", units=0, compute_seconds=overhead,
                         device=device, description="run compute not attributable to one asset (model load, setup)",
                         actual_compute_micros=_micros_of(Decimal(str(overhead)) / 3600 * compute_rate)))

    # translation: once per campaign, locale and copy text
    copies = manifest.get("copy") or {}
    source = manifest.get("source_locale") or (brief.source if brief is not None else None) or next(iter(copies), None)
    new_locales = {a.get("locale") for a in new}
    for locale, copy in copies.items():
        if locale == source or locale not in new_locales:
            continue
        text = json.dumps({"campaign": campaign, "locale": locale, "copy": copy}, sort_keys=True)
        key = "translation:" + hashlib.sha256(text.encode()).hexdigest()
        if has_key(key):
            continue
        words = brief.copy[locale].words() if brief is not None and locale in getattr(brief, "copy", {}) \
            else _copy_words(copy)
        minutes = settings.human_minutes.translation_review_per_locale
        row = dict(common, kind="translation", category="translation", locale=locale, deliverable_key=key,
                   units=1, words=words, description=f"copy {source} → {locale}, {words} words",
                   actual_human_micros=_micros_of(minutes / 60 * internal),
                   human_minutes_estimated=float(minutes), actual_hours=float(minutes) / 60)
        s, lines = choose(None, None, locale, True)
        if s is None:
            row.update(no_baseline=1, no_baseline_reason=quote_reason or f"no per_word quote line matches locale {locale}")
            missing[f"translation {locale}"] = 1
        else:
            src = sum(_micros_of(max(l.unit_price * words, l.minimum)) for l in lines)
            baseline, fx_rate, err = convert(src, s)
            row.update(category=s.quote.line_category(lines[0]), quote_id=s.quote_id, quote_version=s.version,
                       quote_lines=",".join(l.id for l in lines), baseline_currency=s.currency,
                       baseline_source_micros=src, baseline_hours=sum(float(l.hours_per_unit) * words for l in lines),
                       baseline_days=max(float(l.turnaround_days) for l in lines))
            if err:
                row.update(no_baseline=1, no_baseline_reason=err)
                missing[f"translation {locale} (FX)"] = 1
            else:
                row.update(baseline_micros=baseline, fx_rate=fx_rate)
        rows.append(row)

    deliverables = [r for r in rows if r["units"]]
    n_missing = sum(1 for r in deliverables if r.get("no_baseline"))
    reason = None
    if n_missing:
        detail = quote_reason or "; ".join(f"{k} ×{v}" if v > 1 else k for k, v in sorted(missing.items()))
        if not quote_reason:
            fx_errors = sorted({r["no_baseline_reason"] for r in deliverables
                                if r.get("no_baseline") and "rate" in (r["no_baseline_reason"] or "")})
            if fx_errors:
                detail += " — " + "; ".join(fx_errors)
        reason = f"{n_missing} of {len(deliverables)} new deliverables have no agency baseline: {detail}"
    settings_sha = None
    if getattr(settings, "path", None):
        try:
            settings_sha = hashlib.sha256(Path(settings.path).read_bytes()).hexdigest()
        except OSError:
            pass
    days = [r.get("baseline_days") for r in rows if r.get("baseline_days") is not None]
    run_row = dict(
        run_id=manifest["run_id"], campaign=campaign, brand=brand, brand_slug=manifest.get("brand_slug"),
        pipeline=manifest.get("pipeline"), generator=generator.get("name"), model=generator.get("model"),
        device=device, started_at=utc_iso(manifest["started_at"]) if manifest.get("started_at") else None,
        finished_at=finished, month=finished[:7], source_locale=source, quote_requested=named,
        quotes_used=",".join(sorted({r["quote_id"] for r in rows if r.get("quote_id")})) or None,
        assets_total=len(assets), assets_new=len(new), assets_cached=len(assets) - len(new),
        compute_seconds=run_secs or asset_secs, currency=cur,
        baseline_micros=sum(r.get("baseline_micros", 0) for r in rows),
        actual_micros=sum(r.get("actual_compute_micros", 0) + r.get("actual_human_micros", 0)
                          + r.get("actual_tool_micros", 0) for r in rows),
        baseline_hours=sum(r.get("baseline_hours", 0.0) for r in rows),
        actual_hours=sum(r.get("actual_hours", 0.0) for r in rows),
        baseline_days=max(days) if days else None, no_baseline=1 if n_missing else 0,
        no_baseline_reason=reason, manifest_path=common["manifest_path"],
        brief_path=manifest.get("brief"), brief_sha256=manifest.get("brief_sha256"),
        assetkit_version=manifest.get("assetkit_version"), settings_sha256=settings_sha, who=me, recorded_at=now)
    return run_row, [(asset_shared, rows[:n_assets]), (None, rows[n_assets:])]


# -- the runner's entry point -------------------------------------------------------------------

def record_run(manifest: dict, manifest_path: Path, ledger_path: Path | None, settings_path: Path | None,
               brief) -> RunRecord:
    """Record a finished run (called by the runner unless --no-ledger). One transaction."""
    from .settings import load_settings

    settings = load_settings(settings_path)
    with Ledger(ledger_path) as ledger:
        return ledger.record_run(manifest, manifest_path, settings, brief)


def check_ready(ledger_path: Path | None, settings_path: Path | None, brief=None) -> None:
    """Fail early (before a run starts) on bad settings, an unusable ledger or an unknown quote."""
    from .settings import load_settings

    load_settings(settings_path)
    path = _resolve_ledger_path(ledger_path)
    named = getattr(brief, "quote", None)
    if not path.exists():
        if named:
            raise UsageError(f"the brief names quote {named!r}, but there is no ledger yet at "
                             f"{display_path(path)}; import it with: assetkit quotes import FILE")
        return
    with Ledger(path, create=False) as ledger:
        if named and named not in {q.quote_id for q in ledger.quotes()}:
            known = ", ".join(q.quote_id for q in ledger.quotes()) or "none imported"
            raise UsageError(f"the brief names quote {named!r}, which is not in the ledger {ledger.name} "
                             f"(known: {known}); import it with: assetkit quotes import FILE")


# -- demo data ----------------------------------------------------------------------------------

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

    ``months`` months up to ``end``: runs for three brands / six campaigns priced against the
    example quote ``examples/quotes/agency-2026.yaml`` (runs dated before 2026 have no valid
    quote), manual translation / photography / CRM / social entries, two runs naming a quote
    that was never imported (no baseline), one recorded review and a voided duplicate entry.
    Same arguments → same file contents (identity and clock are pinned).
    """
    import random

    global _WHO_OVERRIDE, _NOW_OVERRIDE
    from .formats import CATALOG
    from .quotes import load_quotes
    from .settings import Settings

    path = Path(path)
    if path.exists():
        raise UsageError(f"{display_path(path)} already exists; seed_demo only writes a new file")
    settings = settings or Settings()
    rng = random.Random(seed)
    quote_file = Path(__file__).resolve().parent.parent / "examples" / "quotes" / "agency-2026.yaml"
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
    saved = (_WHO_OVERRIDE, _NOW_OVERRIDE)
    try:
        _WHO_OVERRIDE = "demo@assetkit"
        _NOW_OVERRIDE = f"{starts[0].isoformat()}T00:00:00Z"
        with Ledger(path) as lg:
            lg.import_quote(quote, "examples/quotes/agency-2026.yaml")
            runs = []
            no_baseline_left = 2
            for mi, start in enumerate(starts):
                for r in range(rng.randint(3, 5)):
                    brand = rng.choice(sorted(_DEMO_BRANDS))
                    campaign = rng.choice(_DEMO_BRANDS[brand])
                    day = start + dt.timedelta(days=rng.randint(0, 27))
                    when = dt.datetime(day.year, day.month, day.day, rng.randint(7, 18), rng.randint(0, 59),
                                       tzinfo=dt.timezone.utc)
                    locs = ["en-US"] + rng.sample(locales[1:], rng.randint(0, 3))
                    fmts = rng.sample(formats, rng.randint(2, 5))
                    concepts = [f"c{i + 1}" for i in range(rng.randint(1, 3))]
                    gpu = rng.random() < 0.7
                    named = None
                    if no_baseline_left and mi in (1, months - 2) and r == 0:
                        named, no_baseline_left = "print-studio-2026", no_baseline_left - 1
                    run_id = when.strftime("%Y%m%dT%H%M%SZ") + f"-{rng.getrandbits(24):06x}"
                    assets = []
                    for loc in locs:
                        for f in fmts:
                            for c in concepts:
                                assets.append({"path": f"{loc}/{f.name}/{c}-v1.png", "format": f.name,
                                               "format_class": f.format_class, "locale": loc, "concept": c,
                                               "variant": 1, "cached": False,
                                               "compute_seconds": round(rng.uniform(2, 9) if gpu else rng.uniform(0.05, 0.4), 3)})
                    words = rng.randint(14, 40)
                    copy = {loc: {"headline": " ".join(["word"] * (words // 2)), "subline": " ".join(["w"] * (words - words // 2)),
                                  "cta": None, "disclaimer": None} for loc in locs}
                    manifest = {"assetkit_version": "0.1.0", "run_id": run_id, "started_at": when.isoformat(),
                                "finished_at": (when + dt.timedelta(minutes=rng.randint(1, 20))).isoformat(),
                                "campaign": campaign, "brand": brand, "brand_slug": brand.split()[0].lower(),
                                "brief": f"campaigns/{campaign}/brief.yaml", "brief_sha256": f"{rng.getrandbits(256):064x}",
                                "pipeline": "social-campaign", "source_locale": "en-US", "quote": named,
                                "device": "cuda:0" if gpu else "cpu",
                                "generator": {"name": "diffusers" if gpu else "draft", "model": "sd-turbo" if gpu else None},
                                "compute_seconds": round(sum(a["compute_seconds"] for a in assets) + (25 if gpu else 0.5), 3),
                                "copy": copy, "assets": assets}
                    _NOW_OVERRIDE = utc_iso(manifest["finished_at"])
                    lg.record_run(manifest, f"out/{campaign}/{run_id}/manifest.json", settings)
                    runs.append(run_id)
                # manual entries this month
                for cat, desc, base, actual, hours, bh in rng.sample(_DEMO_MANUAL, 2):
                    day = start + dt.timedelta(days=rng.randint(0, 27))
                    _NOW_OVERRIDE = f"{day.isoformat()}T16:00:00Z"
                    brand = rng.choice(sorted(_DEMO_BRANDS))
                    factor = Decimal(rng.randint(80, 120)) / 100
                    lg.add_manual(cat, desc, Decimal(base) * factor, Decimal(actual), hours=hours, baseline_hours=bh,
                                  campaign=rng.choice(_DEMO_BRANDS[brand]), brand=brand, on=day, settings=settings)
            # corrections: a duplicated manual entry voided, and real review time for one run
            last = starts[-1] + dt.timedelta(days=2)
            _NOW_OVERRIDE = f"{last.isoformat()}T09:00:00Z"
            dup = lg.add_manual("crm", "Email banner set for the loyalty programme (entered twice)", Decimal(950),
                                Decimal(90), hours=3, baseline_hours=8, campaign="glow-serum",
                                brand="Mareva Skincare", on=last, settings=settings)
            _NOW_OVERRIDE = f"{last.isoformat()}T09:05:00Z"
            lg.void(dup, "entered twice")
            lg.record_review(runs[len(runs) // 2], 95, settings, "art director's timesheet")
    finally:
        _WHO_OVERRIDE, _NOW_OVERRIDE = saved
    return path


def _builtin_demo_quote():  # pragma: no cover - only when examples/ is not shipped
    from .quotes import Quote

    return Quote.model_validate({
        "id": "agency-2026", "agency": "Harbour & Finch Creative", "currency": "USD",
        "valid_from": "2026-01-01", "valid_to": "2026-12-31",
        "lines": [
            {"id": "social-static", "service": "production", "category": "social", "description": "Static social ad",
             "unit": "per_asset", "unit_price": "220", "hours_per_unit": "1.6", "turnaround_days": "5",
             "match": {"format_class": ["social"]}},
            {"id": "display-banner", "service": "production", "description": "IAB banner", "unit": "per_asset",
             "unit_price": "140", "hours_per_unit": "1.0", "turnaround_days": "4", "match": {"format_class": ["display"]}},
            {"id": "translation", "description": "Translation per word", "unit": "per_word", "unit_price": "0.14",
             "hours_per_unit": "0.0032", "turnaround_days": "3"}]})
