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
"""
from __future__ import annotations

import datetime as dt
import getpass
import json
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
SCHEMA_VERSION = 1
DEFAULT_LEDGER = Path(".assetkit") / "ledger.sqlite"
LEDGER_ENV = "ASSETKIT_LEDGER"
BUSY_TIMEOUT_MS = 60_000

CATEGORIES = ("translation", "production", "crm", "social", "photography", "other")
KINDS = ("asset", "translation", "overhead", "review", "manual", "void")

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
    no_baseline INTEGER NOT NULL DEFAULT 0 CHECK (no_baseline IN (0, 1)),
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
    kind TEXT NOT NULL CHECK (kind IN {KINDS!r}),
    category TEXT NOT NULL CHECK (category IN {CATEGORIES!r}),
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
    no_baseline INTEGER NOT NULL DEFAULT 0 CHECK (no_baseline IN (0, 1)),
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

#: Migrations: MIGRATIONS[n] turns schema n-1 into n. Never edit one that has shipped.
MIGRATIONS: dict[int, str] = {1: SCHEMA_V1}


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


def who() -> str:
    """``user@host`` of whoever records an entry ($ASSETKIT_USER overrides the user part)."""
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
                data[f.name] = from_micros(row[f.name + "_micros"])
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
    (f.name + "_micros" if f.name in {"baseline", "actual_compute", "actual_human", "actual_tool", "actual", "saving"}
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
    COALESCE(SUM(CASE WHEN no_baseline = 1 AND kind != 'void' THEN units ELSE 0 END), 0) AS no_baseline_deliverables
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
            self._check_identity(conn)
            if conn.execute("PRAGMA journal_mode").fetchone()[0].lower() != "wal":
                conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA synchronous = NORMAL")
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
        app = conn.execute("PRAGMA application_id").fetchone()[0]
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        if app == APPLICATION_ID:
            if version > SCHEMA_VERSION:
                raise LedgerError(f"{self.name}: ledger schema version {version} was written by a newer "
                                  f"assetkit (this one reads up to {SCHEMA_VERSION}); upgrade assetkit")
            return
        tables = conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
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
               run_id=None, kind=None) -> tuple[str, list]:
        clauses, params = [], []
        lo, hi = _day_bounds(since, until)
        if lo:
            clauses.append("occurred_at >= ?")
            params.append(lo)
        if hi:
            clauses.append("occurred_at < ?")
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
        expr = {"day": "substr(occurred_at, 1, 10)", "year": "substr(occurred_at, 1, 4)"}
        select = ", ".join(f"{expr.get(c, c)} AS {c}" for c in cols)
        where, params = self._where(since, until, campaign, brand, category)
        group = ", ".join(expr.get(c, c) for c in cols)
        sql = f"SELECT {select}, {_SUMS} FROM entries{where} GROUP BY {group} ORDER BY {group}"
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
