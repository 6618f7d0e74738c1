"""The ledger's schema and its migrations (pure declaration: no connection here).

Default location ``.assetkit/ledger.sqlite`` under the working directory (``--ledger PATH`` or
``$ASSETKIT_LEDGER`` override it). The file is an ordinary SQLite database that any tool can
read; assetkit marks it with ``PRAGMA application_id`` (``0x41534B4C``, "ASKL") and versions its
schema with ``PRAGMA user_version``, so a foreign or newer file is refused, never overwritten.

The ledger is **append-only**: triggers abort every UPDATE and DELETE on ``runs``, ``entries``
and ``quotes``. A correction is a new entry (``kind='void'``) that repeats the original's
dimensions with every amount negated and points at it through ``voids_entry_id``; sums over
entries therefore net out by themselves. Every run is written in one ``BEGIN IMMEDIATE``
transaction (complete record or none); concurrent writers wait on ``busy_timeout``.

Schema 4 chains every row of quotes, runs and entries into one sha256 hash chain (table
``chain``, :mod:`assetkit.ledger.chain`): ``assetkit ledger verify`` names the first row changed.

Money is stored as INTEGER *micro-units* of ``currency`` (amount × 10⁶; exact, summable in SQL,
no floats); every duration (hours, minutes, seconds) as INTEGER milliseconds since schema 8 (the
column lists below name the schema-1 columns; see ``SCHEMA_V8`` for the ``*_ms`` columns that
replaced the REAL ones, and the ``invoice`` kind with ``spend_micros``).

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

``rate_totals`` (schema 10) — running sums of ``entries`` (entries, units, estimated human
milliseconds) per day × campaign × brand × card version × applied rates (the ``applied`` JSON) ×
kind × in a run × no_baseline, kept the same way: the report's methodology and sensitivity read it.
"""
from __future__ import annotations

import sqlite3

from .chain import CHAIN_TABLE, HASHED, append_only_triggers

APPLICATION_ID = 0x41534B4C  # "ASKL"
SCHEMA_VERSION = 11

CATEGORIES = ("translation", "production", "crm", "social", "photography", "other")
KINDS_V1 = ("asset", "translation", "overhead", "review", "manual", "void")
#: Entry kinds; ``invoice`` (schema 8) records measured agency spend (``spend_micros``), never a saving.
KINDS = KINDS_V1 + ("invoice",)


def _one_of(column: str, values: tuple[str, ...]) -> str:
    # OR-chains, not IN (...): SQLite evaluates an IN list in a CHECK about twice as slowly per row
    return " OR ".join(f"{column} = '{v}'" for v in values)


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
    kind TEXT NOT NULL CHECK ({_one_of("kind", KINDS_V1)}),
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
""" + "".join(append_only_triggers(t) for t in ("runs", "entries", "quotes"))

#: Dimensions of the ``totals`` table (NULL text dimensions are stored as '').
TOTALS_DIMENSIONS = ("day", "category", "campaign", "brand", "kind", "currency", "no_baseline", "quote_id")


def _totals_from_entries(measures: tuple[str, ...], hours: tuple[str, str, str]) -> str:
    """The statement that adds the entries after ``id > ?`` to ``totals`` (``hours``: the time columns)."""
    return f"""
INSERT INTO totals ({', '.join(TOTALS_DIMENSIONS + measures)})
SELECT substr(occurred_at, 1, 10), category, COALESCE(campaign, ''), COALESCE(brand, ''), kind, currency,
       no_baseline, COALESCE(quote_id, ''), COUNT(*), SUM(units), SUM(baseline_micros),
       SUM(actual_compute_micros), SUM(actual_human_micros), SUM(actual_tool_micros), SUM({hours[0]}),
       SUM({hours[1]}), SUM({hours[2]}), SUM(CASE WHEN no_baseline = 1 THEN units ELSE 0 END)
FROM entries WHERE id > ?
GROUP BY 1, 2, 3, 4, 5, 6, 7, 8
ON CONFLICT ({', '.join(TOTALS_DIMENSIONS)}) DO UPDATE SET
    {', '.join(f"{m} = {m} + excluded.{m}" for m in measures)}
"""


#: Schema 2's measures (the hours as REAL; schema 8 made them integer milliseconds).
_TOTALS_MEASURES_V2 = ("entries", "units", "baseline_micros", "actual_compute_micros", "actual_human_micros",
                       "actual_tool_micros", "baseline_hours", "actual_hours", "compute_seconds", "no_baseline_units")
_TOTALS_MEASURES = ("entries", "units", "baseline_micros", "actual_compute_micros", "actual_human_micros",
                    "actual_tool_micros", "baseline_ms", "actual_ms", "compute_ms", "no_baseline_units")
_TOTALS_FROM_ENTRIES_V2 = _totals_from_entries(_TOTALS_MEASURES_V2, ("baseline_hours", "actual_hours",
                                                                     "compute_seconds"))
_TOTALS_FROM_ENTRIES = _totals_from_entries(_TOTALS_MEASURES, ("baseline_ms", "actual_ms", "compute_ms"))

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
{_TOTALS_FROM_ENTRIES_V2.replace("WHERE id > ?", "WHERE id > 0")};
"""

#: Schema 3: the report lists runs without a baseline; a partial index finds their few entries
#: without scanning the table.
SCHEMA_V3 = """
CREATE INDEX entries_no_baseline ON entries (occurred_at) WHERE no_baseline = 1;
"""

#: Schema 4: tamper evidence (the ``chain`` of sha256 links over quotes, runs and entries, see
#: :mod:`assetkit.ledger.chain`; existing rows are chained by the migration), and per entry the
#: output's content hash (a deliverable's identity is booked once; a changed output is a
#: revision) and the rates it was priced with (``applied``: canonical JSON).
SCHEMA_V4 = CHAIN_TABLE + append_only_triggers("chain") + """
ALTER TABLE entries ADD COLUMN content_sha256 TEXT;
ALTER TABLE entries ADD COLUMN applied TEXT;
"""

#: Schema 5: closed periods (``assetkit ledger close``): who closed which days when, and the last
#: entry the close covered. An entry dated into a closed period later is booked on its recording
#: day instead, as a restatement (``reason`` "restates <period> (dated <day>)").
SCHEMA_V5 = """
CREATE TABLE closes (
    id INTEGER PRIMARY KEY,
    period TEXT NOT NULL UNIQUE,
    start TEXT NOT NULL,
    end TEXT NOT NULL,
    closed_at TEXT NOT NULL,
    who TEXT NOT NULL,
    last_entry_id INTEGER NOT NULL
) STRICT;
""" + append_only_triggers("closes")

#: Schema 6: the review app's decisions and the deliveries (``assetkit review`` / ``deliver``), append-only
#: and chained like entries. ``decisions``: one row per decision (the latest covering an asset wins):
#: campaign, scope (asset | master), target (asset or master id), concept, variant, locale and format
#: (NULL for a master), action (approve | reject | change), comment, assets (JSON {asset id: sha256}
#: of every file the decision covers, as the reviewer saw it), reviewer, decided_at (UTC ISO with ms),
#: focus_ms (time spent on it in the page, measured in the browser), manifest_sha256, who.
#: ``deliveries``: campaign, target (folder or zip), assets (JSON {asset id: sha256} delivered), files,
#: bytes, index_sha256, allow_pending, who, delivered_at.
SCHEMA_V6 = """
CREATE TABLE decisions (
    id INTEGER PRIMARY KEY,
    campaign TEXT NOT NULL,
    scope TEXT NOT NULL CHECK (scope = 'asset' OR scope = 'master'),
    target TEXT NOT NULL,
    concept TEXT NOT NULL,
    variant INTEGER NOT NULL,
    locale TEXT,
    format TEXT,
    action TEXT NOT NULL CHECK (action = 'approve' OR action = 'reject' OR action = 'change'),
    comment TEXT,
    assets TEXT NOT NULL,
    reviewer TEXT NOT NULL,
    decided_at TEXT NOT NULL,
    focus_ms INTEGER NOT NULL CHECK (focus_ms >= 0),
    manifest_sha256 TEXT,
    who TEXT NOT NULL
) STRICT;
CREATE INDEX decisions_campaign ON decisions (campaign, id);
CREATE TABLE deliveries (
    id INTEGER PRIMARY KEY,
    campaign TEXT NOT NULL,
    target TEXT NOT NULL,
    assets TEXT NOT NULL,
    files INTEGER NOT NULL,
    bytes INTEGER NOT NULL,
    index_sha256 TEXT NOT NULL,
    allow_pending INTEGER NOT NULL CHECK (allow_pending = 0 OR allow_pending = 1),
    who TEXT NOT NULL,
    delivered_at TEXT NOT NULL
) STRICT;
""" + append_only_triggers("decisions") + append_only_triggers("deliveries")

#: Schema 7: the entries made outside runs (manual entries, invoices and their voids) found
#: without scanning the run entries: the report's own section for manual entries reads them.
SCHEMA_V7 = """
CREATE INDEX entries_off_run ON entries (occurred_at) WHERE run_id IS NULL;
"""

#: Schema 8: every duration is an INTEGER count of milliseconds, exact and summable like money's
#: micros (hours had been REAL: 89.625 h summed to 89.62499…): ``baseline_ms`` / ``actual_ms``
#: (agency and in-house time, ``saved_ms`` generated), ``compute_ms``, ``human_estimated_ms`` and
#: ``review_recorded_ms`` in entries; ``compute_ms``, ``baseline_ms``, ``actual_ms`` in runs and
#: totals. Existing values are rounded half-even to the millisecond once. The ``invoice`` kind
#: records measured agency spend in ``spend_micros`` (never a saving). SQLite cannot change a
#: column's type or a CHECK, so entries, runs and totals are rebuilt; the migration first verifies
#: the hash chain as it was, then re-hashes every link (meta ``rechained_at`` / ``rechained_from``).
#: ``baseline_days`` (a card's turnaround, copied, never summed) stays as the card gave it.
_ENTRIES_V8 = f"""
CREATE TABLE entries_v8 (
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
    baseline_ms INTEGER NOT NULL DEFAULT 0,
    actual_ms INTEGER NOT NULL DEFAULT 0,
    saved_ms INTEGER GENERATED ALWAYS AS (baseline_ms - actual_ms) VIRTUAL,
    baseline_days REAL,
    compute_ms INTEGER NOT NULL DEFAULT 0,
    device TEXT,
    human_estimated_ms INTEGER NOT NULL DEFAULT 0,
    review_recorded_ms INTEGER,
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
    recorded_at TEXT NOT NULL,
    content_sha256 TEXT,
    applied TEXT,
    spend_micros INTEGER NOT NULL DEFAULT 0
) STRICT;
"""

#: ms from a REAL number of ``unit`` ms (hours 3,600,000, minutes 60,000, seconds 1,000), half-even.
def _ms(column: str, unit: int, nullable: bool = False) -> str:
    expr = f"CAST(round({column} * {unit}) AS INTEGER)"
    return f"CASE WHEN {column} IS NULL THEN NULL ELSE {expr} END" if nullable else f"COALESCE({expr}, 0)"


_KEPT_ENTRY_COLUMNS = (
    "id", "run_id", "kind", "category", "description", "campaign", "brand", "locale", "format", "format_class",
    "concept", "variant", "asset_path", "deliverable_key", "units", "words", "occurred_at", "month", "currency",
    "baseline_micros", "actual_compute_micros", "actual_human_micros", "actual_tool_micros", "baseline_days",
    "device", "quote_id", "quote_version", "quote_lines", "baseline_currency", "baseline_source_micros", "fx_rate",
    "no_baseline", "no_baseline_reason", "voids_entry_id", "reason", "manifest_path", "brief_sha256", "who",
    "recorded_at", "content_sha256", "applied")
_KEPT_RUN_COLUMNS = (
    "run_id", "campaign", "brand", "brand_slug", "pipeline", "generator", "model", "device", "started_at",
    "finished_at", "month", "source_locale", "quote_requested", "quotes_used", "assets_total", "assets_new",
    "assets_cached", "currency", "baseline_micros", "actual_micros", "baseline_days", "no_baseline",
    "no_baseline_reason", "manifest_path", "brief_path", "brief_sha256", "assetkit_version", "settings_sha256",
    "who", "recorded_at")

SCHEMA_V8 = f"""
DROP TRIGGER entries_no_update;
DROP TRIGGER entries_no_delete;
DROP TRIGGER runs_no_update;
DROP TRIGGER runs_no_delete;
{_ENTRIES_V8}
INSERT INTO entries_v8 ({", ".join(_KEPT_ENTRY_COLUMNS)}, baseline_ms, actual_ms, compute_ms, human_estimated_ms,
                        review_recorded_ms)
SELECT {", ".join(_KEPT_ENTRY_COLUMNS)}, {_ms("baseline_hours", 3_600_000)}, {_ms("actual_hours", 3_600_000)},
       {_ms("compute_seconds", 1000)}, {_ms("human_minutes_estimated", 60_000)},
       {_ms("review_minutes_recorded", 60_000, nullable=True)}
FROM entries ORDER BY id;
DROP TABLE entries;
ALTER TABLE entries_v8 RENAME TO entries;
CREATE INDEX entries_occurred ON entries (occurred_at);
CREATE INDEX entries_campaign ON entries (campaign, occurred_at);
CREATE INDEX entries_run ON entries (run_id);
CREATE UNIQUE INDEX entries_voided_once ON entries (voids_entry_id) WHERE voids_entry_id IS NOT NULL;
CREATE INDEX entries_deliverable ON entries (deliverable_key) WHERE deliverable_key IS NOT NULL;
CREATE INDEX entries_no_baseline ON entries (occurred_at) WHERE no_baseline = 1;
CREATE INDEX entries_off_run ON entries (occurred_at) WHERE run_id IS NULL;

CREATE TABLE runs_v8 (
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
    compute_ms INTEGER NOT NULL DEFAULT 0,
    currency TEXT NOT NULL,
    baseline_micros INTEGER NOT NULL DEFAULT 0,
    actual_micros INTEGER NOT NULL DEFAULT 0,
    baseline_ms INTEGER NOT NULL DEFAULT 0,
    actual_ms INTEGER NOT NULL DEFAULT 0,
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
INSERT INTO runs_v8 ({", ".join(_KEPT_RUN_COLUMNS)}, compute_ms, baseline_ms, actual_ms)
SELECT {", ".join(_KEPT_RUN_COLUMNS)}, {_ms("compute_seconds", 1000)}, {_ms("baseline_hours", 3_600_000)},
       {_ms("actual_hours", 3_600_000)}
FROM runs ORDER BY rowid;
DROP TABLE runs;
ALTER TABLE runs_v8 RENAME TO runs;
CREATE INDEX runs_finished ON runs (finished_at);
CREATE INDEX runs_campaign ON runs (campaign, finished_at);

DROP TABLE totals;
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
    baseline_ms INTEGER NOT NULL,
    actual_ms INTEGER NOT NULL,
    compute_ms INTEGER NOT NULL,
    no_baseline_units INTEGER NOT NULL,
    PRIMARY KEY ({', '.join(TOTALS_DIMENSIONS)})
) STRICT, WITHOUT ROWID;
{_TOTALS_FROM_ENTRIES.replace("WHERE id > ?", "WHERE id > 0")};
""" + append_only_triggers("entries") + append_only_triggers("runs")

#: Schema 9: no table changes; the chain hashes each row's canonical serialisation as SQLite
#: builds it (``json_array`` of the hashed columns, see :mod:`assetkit.ledger.chain`) instead of
#: Python's ``repr`` of the row (SQLite serialising rows is cheaper than Python reading them; the
#: measured cost of a verify is in bench/ledger.py). The migration verifies the chain as schema 8
#: hashed it, then re-hashes every link (meta ``rechained_at`` / ``rechained_from``).
SCHEMA_V9 = ""

#: Each ``rate_totals`` column as an entry gives it (NULL text is '' and a NULL version -1): its
#: dimensions, then the measures summed.
RATE_COLUMNS = {
    "day": "substr(occurred_at, 1, 10)", "campaign": "COALESCE(campaign, '')", "brand": "COALESCE(brand, '')",
    "quote_id": "COALESCE(quote_id, '')", "quote_version": "COALESCE(quote_version, -1)",
    "applied": "COALESCE(applied, '')", "kind": "kind", "in_run": "run_id IS NOT NULL", "no_baseline": "no_baseline",
    "currency": "currency", "device": "COALESCE(device, '')",
    "entries": "1", "units": "units", "human_ms": "human_estimated_ms", "actual_ms": "actual_ms",
    "actual_human_micros": "actual_human_micros", "compute_ms": "compute_ms",
    "actual_compute_micros": "actual_compute_micros"}
#: Schema 10's dimensions and measures of ``rate_totals`` (never edit: its migration uses them).
RATE_DIMENSIONS_V10 = ("day", "campaign", "brand", "quote_id", "quote_version", "applied", "kind", "in_run",
                       "no_baseline")
RATE_MEASURES_V10 = ("entries", "units", "human_ms")
#: Schema 11's: also per currency and device, with the in-house time and the human and compute
#: cost, so the methodology's human-time and compute tables print what each rate applied came to.
RATE_DIMENSIONS = RATE_DIMENSIONS_V10 + ("currency", "device")
RATE_MEASURES = RATE_MEASURES_V10 + ("actual_ms", "actual_human_micros", "compute_ms", "actual_compute_micros")


def rate_totals_upsert(table: str = "rate_totals", dimensions: tuple[str, ...] = RATE_DIMENSIONS,
                       measures: tuple[str, ...] = RATE_MEASURES) -> str:
    """SQL: each entry after ``id > ?`` added to its group of ``table`` (``rate_totals`` or a copy).
    One lookup per entry among a run's few groups: GROUP BY would sort the long ``applied`` texts."""
    return f"""
INSERT INTO {table} ({', '.join(dimensions + measures)})
SELECT {', '.join(RATE_COLUMNS[c] for c in dimensions + measures)}
FROM entries WHERE id > ?
ON CONFLICT ({', '.join(dimensions)}) DO UPDATE SET
    {', '.join(f"{m} = {m} + excluded.{m}" for m in measures)}
"""


#: Adds the entries after ``id > ?`` to ``rate_totals``.
RATE_TOTALS_FROM_ENTRIES = rate_totals_upsert()

#: What the report's cheap verify sums over every entry (and the last recorded_at): schema 10
#: keeps them in one covering index, which that scan reads instead of the entries' wide rows.
SUMS_COLUMNS = ("units", "baseline_micros", "actual_compute_micros", "actual_human_micros", "actual_tool_micros",
                "baseline_ms", "actual_ms", "compute_ms", "no_baseline", "human_estimated_ms", "recorded_at")

#: Schema 10: ``rate_totals``, running sums of entries per day × campaign × brand × card version ×
#: applied rates (the ``applied`` JSON) × kind × in a run × no_baseline — entries, units and
#: estimated human milliseconds — kept in every insert's transaction as ``totals`` is: the
#: report's methodology (rates applied, with counts) and its sensitivity (minutes per
#: deliverable) read a few thousand rows instead of grouping every entry's ``applied`` text.
#: Derived, like ``totals``: ``ledger verify`` re-derives it from the entries. And ``entries_sums``
#: (SUMS_COLUMNS): the report's cheap verify scans this narrow index, not the entries.
SCHEMA_V10 = f"""
CREATE TABLE rate_totals (
    day TEXT NOT NULL,
    campaign TEXT NOT NULL,
    brand TEXT NOT NULL,
    quote_id TEXT NOT NULL,
    quote_version INTEGER NOT NULL,
    applied TEXT NOT NULL,
    kind TEXT NOT NULL,
    in_run INTEGER NOT NULL,
    no_baseline INTEGER NOT NULL,
    entries INTEGER NOT NULL,
    units INTEGER NOT NULL,
    human_ms INTEGER NOT NULL,
    PRIMARY KEY ({', '.join(RATE_DIMENSIONS_V10)})
) STRICT, WITHOUT ROWID;
{rate_totals_upsert(dimensions=RATE_DIMENSIONS_V10, measures=RATE_MEASURES_V10).replace("WHERE id > ?",
                                                                                        "WHERE id > 0")};
CREATE INDEX entries_sums ON entries ({', '.join(SUMS_COLUMNS)});
"""

#: Schema 11: ``rate_totals`` also per currency and device, with the in-house time (``actual_ms``)
#: and the human and compute cost of each group (rebuilt from the entries); ``entries_reviews``, the
#: review entries by run (a run's turnaround includes the review time recorded for it).
_RATE_INTEGERS = frozenset(("quote_version", "in_run", "no_baseline"))


def _rate_totals_table(dimensions: tuple[str, ...], measures: tuple[str, ...]) -> str:
    """SQL: ``CREATE TABLE rate_totals`` with these dimensions (its key) and integer measures."""
    cols = [f"    {c} {'INTEGER' if c in _RATE_INTEGERS or c in measures else 'TEXT'} NOT NULL,"
            for c in dimensions + measures]
    return ("CREATE TABLE rate_totals (\n" + "\n".join(cols) + f"\n    PRIMARY KEY ({', '.join(dimensions)})\n"
            ") STRICT, WITHOUT ROWID")


SCHEMA_V11 = f"""
DROP TABLE rate_totals;
{_rate_totals_table(RATE_DIMENSIONS, RATE_MEASURES)};
{rate_totals_upsert().replace("WHERE id > ?", "WHERE id > 0")};
CREATE INDEX entries_reviews ON entries (run_id) WHERE kind = 'review';
"""

#: Migrations: MIGRATIONS[n] turns schema n-1 into n. Never edit one that has shipped.
MIGRATIONS: dict[int, str] = {1: SCHEMA_V1, 2: SCHEMA_V2, 3: SCHEMA_V3, 4: SCHEMA_V4, 5: SCHEMA_V5,
                               6: SCHEMA_V6, 7: SCHEMA_V7, 8: SCHEMA_V8, 9: SCHEMA_V9, 10: SCHEMA_V10,
                               11: SCHEMA_V11}

#: Triggers every verified ledger has (``assetkit ledger verify`` checks they are there).
TRIGGERS = tuple(f"{t}_no_{op}" for t in ("runs", "entries", "quotes", "chain", "closes", "decisions",
                                                "deliveries")
                 for op in ("update", "delete"))

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


_GENERATED = {"actual_micros", "saving_micros", "saved_ms"}
_ENTRY_DEFAULTS = {"units": 0, "baseline_micros": 0, "actual_compute_micros": 0, "actual_human_micros": 0,
                   "actual_tool_micros": 0, "baseline_ms": 0, "actual_ms": 0, "compute_ms": 0,
                   "human_estimated_ms": 0, "no_baseline": 0, "spend_micros": 0}
#: The columns an insert writes (all of ``entries`` but ``id`` and the generated ones), in table order.
ENTRY_COLUMNS = (
    "run_id", "kind", "category", "description", "campaign", "brand", "locale", "format", "format_class",
    "concept", "variant", "asset_path", "deliverable_key", "units", "words", "occurred_at", "month", "currency",
    "baseline_micros", "actual_compute_micros", "actual_human_micros", "actual_tool_micros", "baseline_ms",
    "actual_ms", "baseline_days", "compute_ms", "device", "human_estimated_ms",
    "review_recorded_ms", "quote_id", "quote_version", "quote_lines", "baseline_currency",
    "baseline_source_micros", "fx_rate", "no_baseline", "no_baseline_reason", "voids_entry_id", "reason",
    "manifest_path", "brief_sha256", "who", "recorded_at", "content_sha256", "applied", "spend_micros")
#: Milliseconds per unit of the duration columns (the ledger's integer unit of time).
MS_PER_HOUR, MS_PER_MINUTE, MS_PER_SECOND = 3_600_000, 60_000, 1000
_ENTRY_COLUMN_SET = frozenset(ENTRY_COLUMNS)

#: The columns of the review tables an insert writes (all but ``id``), hashed in this order.
DECISION_COLUMNS = ("campaign", "scope", "target", "concept", "variant", "locale", "format", "action", "comment",
                    "assets", "reviewer", "decided_at", "focus_ms", "manifest_sha256", "who")
DELIVERY_COLUMNS = ("campaign", "target", "assets", "files", "bytes", "index_sha256", "allow_pending", "who",
                    "delivered_at")

#: The hashed columns of runs and entries up to schema 7 (hours as REAL): what the schema 8
#: migration verifies the chain with before it re-hashes every link.
HASHED_V7 = {
    "runs": ("run_id", "campaign", "brand", "brand_slug", "pipeline", "generator", "model", "device", "started_at",
             "finished_at", "month", "source_locale", "quote_requested", "quotes_used", "assets_total",
             "assets_new", "assets_cached", "compute_seconds", "currency", "baseline_micros", "actual_micros",
             "baseline_hours", "actual_hours", "baseline_days", "no_baseline", "no_baseline_reason",
             "manifest_path", "brief_path", "brief_sha256", "assetkit_version", "settings_sha256", "who",
             "recorded_at"),
    "entries": (
        "run_id", "kind", "category", "description", "campaign", "brand", "locale", "format", "format_class",
        "concept", "variant", "asset_path", "deliverable_key", "units", "words", "occurred_at", "month", "currency",
        "baseline_micros", "actual_compute_micros", "actual_human_micros", "actual_tool_micros", "baseline_hours",
        "actual_hours", "baseline_days", "compute_seconds", "device", "human_minutes_estimated",
        "review_minutes_recorded", "quote_id", "quote_version", "quote_lines", "baseline_currency",
        "baseline_source_micros", "fx_rate", "no_baseline", "no_baseline_reason", "voids_entry_id", "reason",
        "manifest_path", "brief_sha256", "who", "recorded_at", "content_sha256", "applied"),
}

HASHED.update({
    "quotes": ("quote_id", "version", "agency", "category", "currency", "valid_from", "valid_to", "source_file",
               "sha256", "body", "who", "imported_at"),
    "runs": ("run_id", "campaign", "brand", "brand_slug", "pipeline", "generator", "model", "device", "started_at",
             "finished_at", "month", "source_locale", "quote_requested", "quotes_used", "assets_total",
             "assets_new", "assets_cached", "compute_ms", "currency", "baseline_micros", "actual_micros",
             "baseline_ms", "actual_ms", "baseline_days", "no_baseline", "no_baseline_reason",
             "manifest_path", "brief_path", "brief_sha256", "assetkit_version", "settings_sha256", "who",
             "recorded_at"),
    "entries": ENTRY_COLUMNS,
    "closes": ("period", "start", "end", "closed_at", "who", "last_entry_id"),
    "decisions": DECISION_COLUMNS,
    "deliveries": DELIVERY_COLUMNS,
})
