"""The ledger's records: entries, runs and quotes, read and appended (the :class:`Ledger`)."""
from __future__ import annotations

import datetime as dt
import json
import math
import operator
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass, fields
from decimal import Decimal
from pathlib import Path
from typing import Any

from ..errors import UsageError
from ..money import from_micros
from ..yamlfile import display_path
from . import chain, rollups
from .pricing import _applied, _micros_of, _price_run
from .schema import (
    _ENTRY_COLUMN_SET,
    _ENTRY_DEFAULTS,
    _GENERATED,
    _TOTALS_FROM_ENTRIES,
    _TOTALS_MEASURES,
    ENTRY_COLUMNS,
    RATE_TOTALS_FROM_ENTRIES,
    TOTALS_DIMENSIONS,
)
from .store import LedgerError, Store, _day_bounds, utc_iso, who
from .store import ledger_path as resolve_ledger_path
from .units import MS_PER_HOUR, MS_PER_MINUTE, MS_PER_SECOND, hours, to_ms

# -- rows ---------------------------------------------------------------------------------

#: Entry fields read from the integer-millisecond columns: field → (column, ms per unit).
_TIME_FIELDS = {"baseline_hours": ("baseline_ms", MS_PER_HOUR), "actual_hours": ("actual_ms", MS_PER_HOUR),
                "hours_saved": ("saved_ms", MS_PER_HOUR), "compute_seconds": ("compute_ms", MS_PER_SECOND),
                "human_minutes_estimated": ("human_estimated_ms", MS_PER_MINUTE),
                "review_minutes_recorded": ("review_recorded_ms", MS_PER_MINUTE)}

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
    baseline_hours: Decimal  # stored as integer ms (``baseline_ms``), exact
    actual_hours: Decimal
    hours_saved: Decimal
    baseline_days: float | None
    compute_seconds: Decimal
    device: str | None
    human_minutes_estimated: Decimal
    review_minutes_recorded: Decimal | None
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
    spend: Decimal = Decimal(0)  # measured agency spend (invoice entries)

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> Entry:
        data: dict[str, Any] = {}
        keys = row.keys()
        for f in fields(cls):
            if f.name in _TIME_FIELDS:
                col, per = _TIME_FIELDS[f.name]
                raw = row[col]
                data[f.name] = None if raw is None else Decimal(raw) / per
            elif f.name + "_micros" in keys:
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
                                   "baseline_source", "spend"}
     else _TIME_FIELDS[f.name][0] if f.name in _TIME_FIELDS else f.name) for f in fields(Entry))


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
    baseline_hours: Decimal = Decimal(0)
    actual_hours: Decimal = Decimal(0)
    baseline_days: float | None = None
    assets_new: int = 0
    assets_cached: int = 0
    already_booked: int = 0  # re-made assets whose deliverable was booked by an earlier run
    quotes_used: tuple[str, ...] = ()
    ledger_path: str = ""
    money_locale: str = "en_US"

    @property
    def hours_saved(self) -> Decimal:
        return self.baseline_hours - self.actual_hours

    def to_dict(self) -> dict:
        return {"run_id": self.run_id, "entries": self.entries, "currency": self.currency,
                "baseline": str(self.baseline), "actual": str(self.actual), "saving": str(self.saving),
                "baseline_hours": str(self.baseline_hours), "actual_hours": str(self.actual_hours),
                "hours_saved": str(self.hours_saved), "baseline_days": self.baseline_days,
                "no_baseline": self.no_baseline, "no_baseline_reason": self.no_baseline_reason,
                "assets_new": self.assets_new, "assets_cached": self.assets_cached,
                "already_booked": self.already_booked,
                "quotes_used": list(self.quotes_used), "ledger": self.ledger_path}

    def describe(self) -> str:
        from ..money import format_money

        def m(x: Decimal) -> str:
            return format_money(x, self.currency, self.money_locale)

        if self.entries == 0 or (self.assets_new == 0 and self.baseline == 0 and not self.no_baseline):
            return f"nothing new to record ({self.assets_cached} assets up to date) → {self.ledger_path}"
        if self.already_booked and self.already_booked == self.assets_new and self.baseline == 0:
            return (f"nothing new to book: {self.already_booked} re-made assets are deliverables an earlier run "
                    f"booked (identical output); cost here {m(self.actual)} → {self.ledger_path}")
        if self.no_baseline and self.baseline == 0 and "draft proof" in (self.no_baseline_reason or ""):
            return (f"{self.assets_new} draft proofs recorded, not counted as agency work; cost here "
                    f"{m(self.actual)}, {self.actual_hours:.1f} h → {self.ledger_path}")
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
                                         "baseline_ms", "actual_ms", "compute_ms")}
    dims = [(f"substr({e['occurred_at']}, 1, 10)", "occurred_at"), (e["category"], "category"),
            (f"COALESCE({e['campaign']}, '')", "campaign"), (f"COALESCE({e['brand']}, '')", "brand"),
            (e["kind"], "kind"), (e["currency"], "currency"), (e["no_baseline"], "no_baseline"),
            (f"COALESCE({e['quote_id']}, '')", "quote_id")]
    group = [str(i) for i, (_, col) in enumerate(dims, 1) if col not in literals] or ["1"]
    return f"""
INSERT INTO totals ({', '.join(TOTALS_DIMENSIONS + _TOTALS_MEASURES)})
SELECT {', '.join(x for x, _ in dims)}, COUNT(*), SUM({e['units']}), SUM({e['baseline_micros']}),
       SUM({e['actual_compute_micros']}), SUM({e['actual_human_micros']}), SUM({e['actual_tool_micros']}),
       SUM({e['baseline_ms']}), SUM({e['actual_ms']}), SUM({e['compute_ms']}),
       SUM(CASE WHEN {e['no_baseline']} = 1 THEN {e['units']} ELSE 0 END)
FROM entries WHERE id > ?
GROUP BY {', '.join(group)}
ON CONFLICT ({', '.join(TOTALS_DIMENSIONS)}) DO UPDATE SET
    {', '.join(f"{m} = {m} + excluded.{m}" for m in _TOTALS_MEASURES)}
"""


class Ledger(Store):
    """An open ledger: :class:`Store` plus reading and appending its records."""

    def entries(self, since: dt.date | str | None = None, until: dt.date | str | None = None,
                campaign: str | None = None, brand: str | None = None, category: str | None = None,
                run_id: str | None = None, kind: str | None = None) -> Iterator[Entry]:
        """Entries in id order, filtered by day range (inclusive, UTC) and dimensions."""
        where, params = rollups.filters(since, until, campaign, brand, category, run_id, kind)
        for row in self.conn.execute(f"SELECT {ENTRY_SELECT} FROM entries{where} ORDER BY id", params):
            yield Entry.from_row(row)

    def entry(self, entry_id: int) -> Entry | None:
        row = self.conn.execute(f"SELECT {ENTRY_SELECT} FROM entries WHERE id = ?", (entry_id,)).fetchone()
        return Entry.from_row(row) if row else None

    def aggregate(self, group_by: list[str] | tuple[str, ...] = ("month", "category"), since=None,
                  until=None, campaign=None, brand=None, category=None) -> list[dict]:
        """Sums per group (see :func:`assetkit.ledger.rollups.aggregate`)."""
        return rollups.aggregate(self.conn, group_by, since, until, campaign, brand, category)

    def summary(self, since=None, until=None, campaign=None, brand=None) -> list[dict]:
        """One row per run and per manual entry (see :func:`assetkit.ledger.rollups.summary`)."""
        return rollups.summary(self.conn, since, until, campaign, brand)

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
            after = chain.last_rowid(c, "quotes")
            c.execute("INSERT INTO quotes (quote_id, version, agency, category, currency, valid_from, valid_to,"
                      " source_file, sha256, body, who, imported_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                      (quote.id, version, quote.agency, quote.category, quote.currency,
                       quote.valid_from.isoformat(), quote.valid_to.isoformat(),
                       display_path(source_file) if source_file else None, sha, quote.canonical_json(),
                       who(), utc_iso()))
            chain.link(c, "quotes", after)
        return quote.id, version, "new" if version == 1 else "updated"

    def quotes(self, all_versions: bool = False) -> list[StoredQuote]:
        """Imported quotes (latest version of each unless ``all_versions``), by id."""
        from ..quotes import Quote

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
            run_row, batches = _price_run(manifest, manifest_path, settings, brief, quotes, self)
            self._store_run(run_row, batches)
        return RunRecord(
            run_id=run_id, entries=sum(len(rows) for _, rows in batches),
            baseline=from_micros(run_row["baseline_micros"]),
            actual=from_micros(run_row["actual_micros"]),
            saving=from_micros(run_row["baseline_micros"] - run_row["actual_micros"]),
            currency=run_row["currency"], no_baseline=bool(run_row["no_baseline"]),
            no_baseline_reason=run_row["no_baseline_reason"], baseline_hours=hours(run_row["baseline_ms"]),
            actual_hours=hours(run_row["actual_ms"]), baseline_days=run_row["baseline_days"],
            assets_new=run_row["assets_new"], assets_cached=run_row["assets_cached"],
            already_booked=run_row["assets_new"] - len(batches[0][1]),
            quotes_used=tuple(q for q in (run_row["quotes_used"] or "").split(",") if q),
            ledger_path=self.name, money_locale=settings.money_locale)

    def identity(self, key: str) -> str | None:
        """Content hash ('' if none recorded) of the latest live, baselined entry of a deliverable
        identity; None if it was never booked (drafts and unbaselined entries do not count)."""
        row = self.conn.execute(
            "SELECT COALESCE(content_sha256, '') FROM entries e WHERE deliverable_key = ? AND kind = 'asset' "
            "AND no_baseline = 0 AND NOT EXISTS (SELECT 1 FROM entries v WHERE v.voids_entry_id = e.id) "
            "ORDER BY id DESC LIMIT 1", (key,)).fetchone()
        return None if row is None else row[0]

    def identities(self, keys: list[str]) -> dict[str, str]:
        """:meth:`identity` of many keys, 500 a query (a 100k-asset run made 100k queries); the keys
        never booked are left out."""
        out: dict[str, str] = {}
        for i in range(0, len(keys), 500):
            chunk = keys[i:i + 500]
            for key, sha in self.conn.execute(
                    "SELECT deliverable_key, COALESCE(content_sha256, '') FROM entries e WHERE deliverable_key IN "
                    f"({', '.join('?' * len(chunk))}) AND kind = 'asset' AND no_baseline = 0 AND NOT EXISTS "
                    "(SELECT 1 FROM entries v WHERE v.voids_entry_id = e.id) ORDER BY id", chunk):
                out[key] = sha  # in id order: the latest entry of a key wins, as in identity()
        return out

    def visual(self, campaign: str, concept, variant) -> bool:
        """Whether the concept's variant has a live, baselined deliverable in the campaign."""
        return self.conn.execute(
            "SELECT 1 FROM entries e WHERE campaign = ? AND concept IS ? AND variant IS ? AND kind = 'asset' "
            "AND units > 0 AND no_baseline = 0 AND NOT EXISTS (SELECT 1 FROM entries v WHERE v.voids_entry_id = e.id) "
            "LIMIT 1", (campaign, concept, variant)).fetchone() is not None

    def fee(self, campaign: str, quote_id: str, line_id: str, fmt: str | None) -> bool:
        """Whether a flat (``fmt`` None) or per-format line was already charged for the campaign."""
        sql = ("SELECT 1 FROM entries e WHERE campaign = ? AND kind = 'asset' AND quote_id = ? AND no_baseline = 0 "
               "AND baseline_micros > 0 AND (',' || quote_lines || ',') LIKE ? "
               + ("AND format = ? " if fmt is not None else "")
               + "AND NOT EXISTS (SELECT 1 FROM entries v WHERE v.voids_entry_id = e.id) LIMIT 1")
        params = [campaign, quote_id, f"%,{line_id},%"] + ([fmt] if fmt is not None else [])
        return self.conn.execute(sql, params).fetchone() is not None

    def has_key(self, key: str) -> bool:
        return self.conn.execute(
            "SELECT 1 FROM entries e WHERE deliverable_key = ? AND kind != 'void' AND no_baseline = 0 AND NOT EXISTS "
            "(SELECT 1 FROM entries v WHERE v.voids_entry_id = e.id)", (key,)).fetchone() is not None

    def _store_run(self, run_row: dict, batches: list[tuple[dict | None, list[dict]]]) -> None:
        """Insert a priced run (``_price_run``'s result); the caller holds the transaction."""
        cols = list(run_row)
        last = chain.last_rowid(self.conn, "runs")
        self.conn.execute(f"INSERT INTO runs ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})",
                          [run_row[k] for k in cols])
        chain.link(self.conn, "runs", last)
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
        shared = self._restate(rows, shared)
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
        last = chain.last_rowid(self.conn, "entries")
        self.conn.executemany(sql, _row_tuples(rows, varying, bound_shared, set(shared or ())))
        self.conn.execute(_totals_sql(literals), (last,))
        self.conn.execute(RATE_TOTALS_FROM_ENTRIES, (last,))
        chain.link(self.conn, "entries", last)

    def _restate(self, rows: list[dict], shared: dict | None) -> dict | None:
        """Entries dated into a closed period are booked on their recording day instead, marked
        as restatements of that period (its report stays as closed)."""
        closes = self.conn.execute("SELECT period, start, end FROM closes").fetchall()
        if not closes:
            return shared

        def closed(day: str | None) -> str | None:
            return next((c["period"] for c in closes if day and c["start"] <= day[:10] <= c["end"]), None)

        def move(values: dict, period: str) -> None:
            dated, now = values["occurred_at"], values.get("recorded_at") or utc_iso()
            note = f"restates {period} (dated {dated[:10]})"
            values.update(occurred_at=now, month=now[:7],
                          reason=f"{note}; {values['reason']}" if values.get("reason") else note)

        if shared and "occurred_at" in shared and (period := closed(shared["occurred_at"])):
            shared = dict(shared)
            move(shared, period)
        for r in rows:
            if "occurred_at" in r and (period := closed(r["occurred_at"])):
                move(r, period)
        return shared

    def close_period(self, period: str, start: dt.date, end: dt.date, today: dt.date | None = None) -> dict:
        """Close a period (inclusive UTC days): its figures stay as they are now; later entries
        dated into it are booked as restatements on their recording day."""
        today = today or dt.datetime.now(dt.UTC).date()
        if end >= today:
            raise UsageError(f"period {period} has not ended yet (it ends {end.isoformat()}); close it afterwards")
        with self.transaction() as c:
            for o in c.execute("SELECT period, start, end FROM closes"):
                if not (end.isoformat() < o["start"] or start.isoformat() > o["end"]):
                    raise LedgerError(f"period {period} overlaps {o['period']}, closed already "
                                      f"({o['start']} to {o['end']})")
            after = chain.last_rowid(c, "closes")
            row = dict(period=period, start=start.isoformat(), end=end.isoformat(), closed_at=utc_iso(), who=who(),
                       last_entry_id=chain.last_rowid(c, "entries"))
            c.execute(f"INSERT INTO closes ({', '.join(row)}) VALUES ({', '.join('?' * len(row))})",
                      list(row.values()))
            chain.link(c, "closes", after)
        return row

    # .. corrections and manual entries .......................................................................
    def add_manual(self, category: str, description: str, baseline: Decimal, actual: Decimal,
                   hours: float = 0.0, baseline_hours: float = 0.0, currency: str | None = None,
                   campaign: str | None = None, brand: str | None = None, on: dt.date | None = None,
                   settings=None, source: str | None = None, approved_by: str | None = None,
                   confirm_large: bool = False) -> int:
        """Append a manual entry (work done outside assetkit runs); returns its id.

        ``source`` (the quote or invoice it rests on) and ``approved_by`` are kept with it; its
        ``hours`` are costed at the internal hourly rate; a baseline above the settings'
        ``manual_entry_limit`` is refused unless ``confirm_large``.
        """
        from ..money import to_decimal
        from ..settings import Settings

        settings = settings or Settings()
        if not description or not description.strip():
            raise UsageError("a manual entry needs a --description")
        baseline, actual = to_decimal(baseline), to_decimal(actual)
        if baseline < 0 or actual < 0 or hours < 0 or baseline_hours < 0:
            raise UsageError("amounts and hours must be zero or more (use `assetkit ledger void` to correct)")
        day = on or dt.date.today()
        category, cur, src, rate = _evidence_checks(settings, category, currency, day, baseline, "--baseline",
                                                    confirm_large, (("--actual", actual),))
        evidence = "; ".join(f"{k}: {v.strip()}" for k, v in (("source", source), ("approved by", approved_by))
                             if v and v.strip()) or None
        now = utc_iso()
        occurred = now if on is None else f"{day.isoformat()}T12:00:00Z"
        row = dict(kind="manual", category=category, description=description.strip(), campaign=campaign,
                   brand=brand, units=1, occurred_at=occurred, month=occurred[:7], currency=cur,
                   baseline_micros=_micros_of(baseline * rate), actual_tool_micros=_micros_of(actual * rate),
                   actual_human_micros=_micros_of(Decimal(str(hours)) * settings.internal_hourly_rate),
                   baseline_ms=to_ms(baseline_hours, MS_PER_HOUR), actual_ms=to_ms(hours, MS_PER_HOUR), reason=evidence,
                   applied=_applied(internal_hourly_rate=settings.internal_hourly_rate, source=source,
                                    approved_by=approved_by),
                   baseline_currency=src, baseline_source_micros=_micros_of(baseline),
                   fx_rate=str(rate) if src != cur else None, who=who(), recorded_at=now)
        with self.transaction():
            self._insert_entries([row])
            return chain.last_rowid(self.conn, "entries")

    def add_invoice(self, agency: str, amount: Decimal, category: str, source: str, approved_by: str,
                    on: dt.date, description: str | None = None, currency: str | None = None,
                    campaign: str | None = None, brand: str | None = None, settings=None,
                    confirm_large: bool = False) -> int:
        """Append an agency invoice: measured spend (``spend_micros``), never a saving; the report
        compares it between periods as a spend change. Returns its id."""
        from ..money import to_decimal
        from ..settings import Settings

        settings = settings or Settings()
        for flag, value in (("--agency", agency), ("--source", source), ("--approved-by", approved_by)):
            if not value or not value.strip():
                raise UsageError(f"an invoice needs {flag}")
        amount = to_decimal(amount)
        if amount <= 0:
            raise UsageError(f"--amount must be more than zero, got {amount} (void an invoice to correct it)")
        category, cur, src, rate = _evidence_checks(settings, category, currency, on, amount, "--amount",
                                                    confirm_large)
        now, occurred = utc_iso(), f"{on.isoformat()}T12:00:00Z"
        row = dict(kind="invoice", category=category, units=0, occurred_at=occurred, month=occurred[:7], currency=cur,
                   description=(description or "").strip() or f"invoice from {agency.strip()}", campaign=campaign,
                   brand=brand, spend_micros=_micros_of(amount * rate), baseline_currency=src,
                   baseline_source_micros=_micros_of(amount), fx_rate=str(rate) if src != cur else None,
                   reason=f"agency: {agency.strip()}; source: {source.strip()}; approved by: {approved_by.strip()}",
                   applied=_applied(agency=agency.strip(), source=source.strip(), approved_by=approved_by.strip()),
                   who=who(), recorded_at=now)
        with self.transaction():
            self._insert_entries([row])
            return chain.last_rowid(self.conn, "entries")

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
                rows = self._live_entries(str(target), "kind != 'void'")
                if not rows:
                    raise LedgerError(f"run {target} has no live entries to void")
            return self._void_rows(rows, reason.strip())

    def _live_entries(self, run_id: str, condition: str) -> list[sqlite3.Row]:
        """A run's entries that meet ``condition`` (SQL) and are not voided, in id order."""
        return self.conn.execute(f"SELECT * FROM entries e WHERE run_id = ? AND {condition} AND NOT EXISTS "
                                 "(SELECT 1 FROM entries v WHERE v.voids_entry_id = e.id) ORDER BY id",
                                 (run_id,)).fetchall()

    def _void_rows(self, rows: list[sqlite3.Row], reason: str) -> list[int]:
        """Append the reversing entries of ``rows`` (the caller holds the transaction)."""
        now, me = utc_iso(), who()
        new = []
        for r in rows:
            d = {k: r[k] for k in r.keys() if k not in _GENERATED and k != "id"}  # noqa: SIM118 (sqlite3.Row)
            for k in ("units", "words", "baseline_micros", "actual_compute_micros", "actual_human_micros",
                      "actual_tool_micros", "baseline_ms", "actual_ms", "compute_ms",
                      "human_estimated_ms", "baseline_source_micros", "spend_micros"):
                if d.get(k) is not None:
                    d[k] = -d[k]
            d.update(kind="void", voids_entry_id=r["id"], reason=reason, deliverable_key=None, who=me, recorded_at=now)
            new.append(d)
        first = chain.last_rowid(self.conn, "entries")
        self._insert_entries(new)
        return list(range(first + 1, first + 1 + len(new)))

    def reprice(self, run_id: str, settings) -> RunRecord:
        """Book the baseline of a run recorded without one (made before its quote was imported):
        its unbaselined asset entries are reversed and booked again, priced against the quotes
        valid on the run's day — an adjusting pair of entries, dated on the run (a closed period
        gets them as restatements). Proof runs are never priced."""
        from ..settings import Settings

        settings = settings or Settings()
        quotes = self.quotes(all_versions=True)
        with self.transaction() as c:
            run = c.execute("SELECT * FROM runs WHERE run_id = ?", (run_id,)).fetchone()
            if run is None:
                raise LedgerError(f"no run {run_id} in the ledger")
            from .pricing import PROOF_GENERATORS

            if run["generator"] in PROOF_GENERATORS:
                raise LedgerError(f"run {run_id} made draft proofs ({run['generator']}); proofs are never priced")
            rows = self._live_entries(run_id, "kind = 'asset' AND no_baseline = 1")
            if not rows:
                raise LedgerError(f"run {run_id} has no asset entries without a baseline; nothing to reprice")
            manifest = {"run_id": run_id, "campaign": run["campaign"], "brand": run["brand"],
                        "finished_at": run["finished_at"], "device": run["device"],
                        "source_locale": run["source_locale"],
                        "quote": run["quote_requested"], "generator": {"name": run["generator"], "model": run["model"]},
                        "brief_sha256": run["brief_sha256"], "copy": {},
                        "assets": [{"path": r["asset_path"], "format": r["format"], "format_class": r["format_class"],
                                    "locale": r["locale"], "concept": r["concept"], "variant": r["variant"],
                                    "sha256": r["content_sha256"], "compute_seconds": r["compute_ms"] / MS_PER_SECOND,
                                    "compute_ms": r["compute_ms"], "cached": False} for r in rows]}
            manifest["compute_ms"] = sum(a["compute_ms"] or 0 for a in manifest["assets"])
            manifest["compute_seconds"] = manifest["compute_ms"] / MS_PER_SECOND
            run_row, batches = _price_run(manifest, run["manifest_path"], settings, None, quotes, self)
            priced = batches[0][1]  # the asset entries (the run's dimensions are in batches[0][0])
            if all(r.get("no_baseline") for r in priced):
                reason = next((r.get("no_baseline_reason") for r in priced), "")
                raise LedgerError(f"run {run_id}: still no baseline ({reason}); nothing was booked")
            self._void_rows(rows, f"repriced on {utc_iso()[:10]}")
            shared = dict(batches[0][0] or {}, reason=f"reprice of run {run_id} ({utc_iso()[:10]})")
            self._insert_entries(batches[0][1], shared)
        return RunRecord(run_id=run_id, entries=len(priced), baseline=from_micros(run_row["baseline_micros"]),
                         actual=from_micros(run_row["actual_micros"]),
                         saving=from_micros(run_row["baseline_micros"] - run_row["actual_micros"]),
                         currency=run_row["currency"], no_baseline=bool(run_row["no_baseline"]),
                         no_baseline_reason=run_row["no_baseline_reason"], assets_new=len(priced),
                         quotes_used=tuple(q for q in (run_row["quotes_used"] or "").split(",") if q),
                         ledger_path=self.name, money_locale=settings.money_locale)

    def book_decision(self, decision_id: int, action: str, reviewer: str, focus_ms: int,
                      members: list[tuple[str, str, str, str, str, int]], settings=None) -> int:
        """What a review-app decision means for the books, booked in the caller's transaction.

        ``members``: (asset id, campaign, locale, format, concept, variant) of every asset the
        decision covers; its ``focus_ms`` is split over them as the review rollup does. For each
        booked deliverable: the first recorded review time replaces the estimated review minutes
        (a ``review`` entry carries the difference; later decisions add their time), a rejection
        takes the deliverable out of the savings (its baseline and unit reversed, its cost kept:
        the work was done), an approval after a rejection puts it back. Returns entries added."""
        from ..settings import Settings
        from .pricing import identity_key

        settings = settings or Settings()
        ordered = sorted(members)
        if not ordered:
            return 0
        share, rest = divmod(int(focus_ms), len(ordered))
        rows = []
        for i, (_aid, campaign, locale, fmt, concept, variant) in enumerate(ordered):
            key = identity_key(campaign, concept, variant, fmt, locale)
            asset = self.conn.execute(
                "SELECT * FROM entries e WHERE deliverable_key = ? AND kind = 'asset' AND units > 0 AND NOT EXISTS "
                "(SELECT 1 FROM entries v WHERE v.voids_entry_id = e.id) ORDER BY id DESC LIMIT 1", (key,)).fetchone()
            if asset is None:
                continue  # never booked (a proof, or recorded with --no-ledger): nothing to correct
            ms = share + (rest if i == 0 else 0)
            first = self.conn.execute("SELECT 1 FROM entries WHERE deliverable_key = ? LIMIT 1",
                                      ("review:" + key,)).fetchone() is None
            est = settings.human_minutes.for_class(asset["format_class"] or "social").review if first else Decimal(0)
            est_ms = to_ms(est, MS_PER_MINUTE)
            try:
                rate = Decimal(json.loads(asset["applied"] or "{}").get("internal_hourly_rate"))
            except (TypeError, ValueError, ArithmeticError):
                rate = settings.internal_hourly_rate
            base = {k: asset[k] for k in ("run_id", "category", "campaign", "brand", "locale", "format",
                                          "format_class", "concept", "variant", "asset_path", "occurred_at",
                                          "month", "currency", "quote_id", "quote_version", "no_baseline",
                                          "no_baseline_reason", "manifest_path", "brief_sha256", "content_sha256")}
            base.update(kind="review", who=who(), recorded_at=utc_iso())
            if first or ms:
                rows.append(dict(base, deliverable_key="review:" + key, review_recorded_ms=ms, actual_ms=ms - est_ms,
                                 actual_human_micros=_micros_of(Decimal(ms - est_ms) / MS_PER_HOUR * rate),
                                 description=(f"review app decision #{decision_id} ({action}, {reviewer}): "
                                              f"{Decimal(ms) / MS_PER_MINUTE:.2f} min recorded"
                                              + (f", replacing {est} min estimated" if first else "")),
                                 applied=_applied(internal_hourly_rate=rate, review_minutes_estimated=est)))
            rejected = (self.conn.execute("SELECT COALESCE(SUM(units), 0) FROM entries WHERE deliverable_key = ?",
                                          ("reject:" + key,)).fetchone()[0] or 0) < 0
            if (action == "reject") != rejected and (action == "reject" or action == "approve"):
                sign = -1 if action == "reject" else 1
                rows.append(dict(base, deliverable_key="reject:" + key, units=sign,
                                 baseline_micros=sign * asset["baseline_micros"],
                                 baseline_ms=sign * asset["baseline_ms"],
                                 description=(f"rejected in review (decision #{decision_id}, {reviewer}): not a "
                                              "deliverable, its cost stays" if sign < 0 else
                                              f"approved after a rejection (decision #{decision_id}, {reviewer}): "
                                              "a deliverable again")))
        self._insert_entries(rows)
        return len(rows)

    def record_review(self, run_id: str, minutes: float, settings=None, note: str | None = None) -> list[int]:
        """Real human minutes for a run replace its estimate (entries carry the difference), split
        over the run's categories and baseline status by their estimated minutes."""
        from ..settings import Settings

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
                "SELECT category, no_baseline, MAX(no_baseline_reason) AS reason, SUM(human_estimated_ms) AS est, "
                "SUM(actual_ms) AS ms, SUM(actual_human_micros) AS human FROM entries WHERE run_id = ? "
                "GROUP BY category, no_baseline ORDER BY category, no_baseline",
                (run_id,)).fetchall()
            weights = [max(r["est"] or 0, 0) for r in per_cat]
            total_est = sum(weights)
            now, me = utc_iso(), who()
            rows = []
            total_ms = to_ms(minutes, MS_PER_MINUTE)
            targets = list(zip(per_cat, _share(total_ms, weights))) if total_est else []
            if not targets:
                targets = [({"category": "production", "ms": 0, "human": 0, "no_baseline": 1,
                             "reason": "review of a run without deliverables"}, total_ms)]
            for r, want_ms in targets:
                want_micros = _micros_of(Decimal(want_ms) / MS_PER_HOUR * rate)
                rows.append(dict(
                    run_id=run_id, kind="review", category=r["category"], campaign=run["campaign"],
                    brand=run["brand"], description=note or f"recorded review time: {minutes:g} min",
                    occurred_at=run["finished_at"], month=run["month"], currency=cur,
                    actual_human_micros=want_micros - (r["human"] or 0),
                    actual_ms=want_ms - (r["ms"] or 0),
                    review_recorded_ms=want_ms, manifest_path=run["manifest_path"],
                    # a review follows its deliverables' baseline status: no baseline, no saving
                    no_baseline=r["no_baseline"], no_baseline_reason=r["reason"] if r["no_baseline"] else None,
                    brief_sha256=run["brief_sha256"], who=me, recorded_at=now))
            first = c.execute("SELECT COALESCE(MAX(id), 0) FROM entries").fetchone()[0]
            self._insert_entries(rows)
        return list(range(first + 1, first + 1 + len(rows)))



#: The earliest day a manual entry or invoice may be dated on (a later one than today is refused).
EARLIEST_DAY = dt.date(2000, 1, 1)


def _evidence_checks(settings, category: str, currency: str | None, day: dt.date, amount: Decimal, flag: str,
                     confirm_large: bool, more: tuple[tuple[str, Decimal], ...] = ()) -> tuple[str, str, str, Decimal]:
    """A manual entry's or invoice's category, currency, date and size checked: (category, ledger
    currency, the amount's currency, its rate on ``day``); UsageError naming the problem. Each
    amount (``amount`` under ``flag``, and ``more``: (flag, amount)) must be within the settings'
    manual_entry_limit unless ``confirm_large``."""
    today = dt.date.today()
    if day > today:
        raise UsageError(f"--date {day.isoformat()} is in the future (today is {today.isoformat()}, UTC): "
                         "book work and invoices on the day they happened")
    if day < EARLIEST_DAY:
        raise UsageError(f"--date {day.isoformat()} is before {EARLIEST_DAY.isoformat()}: check the year")
    from ..money import FxError, check_currency
    from ..quotes import _check_category

    try:
        category = _check_category(category) or category
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    cur, src = settings.currency, currency or settings.currency
    try:
        check_currency(src)
        rate = settings.fx_table.rate(src, cur, day)
    except (ValueError, FxError) as exc:
        raise UsageError(str(exc)) from None
    limit = settings.manual_entry_limit
    for name, value in ((flag, amount), *more):
        if value * rate > limit and not confirm_large:
            raise UsageError(f"{name} {value} {src} is above the manual-entry limit of {limit} {cur} "
                             "(settings manual_entry_limit); check it, then add --confirm-large")
    return category, cur, src, rate


def _share(total: int, weights: list[int]) -> list[int]:
    """``total`` split in proportion to ``weights`` (largest remainders): the parts add up exactly."""
    whole = sum(weights)
    parts = [total * w // whole for w in weights]
    order = sorted(range(len(weights)), key=lambda i: (-(total * weights[i] % whole), i))
    for i in order[:total - sum(parts)]:
        parts[i] += 1
    return parts


# -- the runner's entry point -------------------------------------------------------------------

def record_run(manifest: dict, manifest_path: Path, ledger_path: Path | None, settings_path: Path | None,
               brief) -> RunRecord:
    """Record a finished run (called by the runner unless --no-ledger). One transaction."""
    from ..settings import load_settings

    settings = load_settings(settings_path)
    with Ledger(ledger_path) as ledger:
        return ledger.record_run(manifest, manifest_path, settings, brief)


def check_ready(ledger_path: Path | None, settings_path: Path | None, brief=None) -> None:
    """Fail early (before a run starts) on bad settings, an unusable ledger or an unknown quote."""
    from ..settings import load_settings

    load_settings(settings_path)
    path = resolve_ledger_path(ledger_path)
    named = getattr(brief, "quote", None)
    if not path.exists():
        if named:
            raise UsageError(f"the brief names quote {named!r}, but there is no ledger yet at "
                             f"{display_path(path)}; import it with: assetkit quotes import FILE")
        return
    with Ledger(path, readonly=True) as ledger:
        if named and named not in {q.quote_id for q in ledger.quotes()}:
            known = ", ".join(q.quote_id for q in ledger.quotes()) or "none imported"
            raise UsageError(f"the brief names quote {named!r}, which is not in the ledger {ledger.name} "
                             f"(known: {known}); import it with: assetkit quotes import FILE")


# -- reconciling from manifests ----------------------------------------------------------------

def reconcile(manifests: list[Path], ledger_path: Path | None, settings_path: Path | None) -> list[RunRecord]:
    """Book every run whose manifest is on disk but not in the ledger (a run killed, or whose
    ledger write failed, between writing manifest.json and the ledger commit). Exactly once: a
    run id already in the ledger is skipped, and deliverables already booked by another run are
    not booked again. Returns what was booked."""
    import json

    from ..settings import load_settings

    settings = load_settings(settings_path)
    booked: list[RunRecord] = []
    docs = []
    for mp in manifests:
        try:
            doc = json.loads(mp.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise LedgerError(f"{display_path(mp)}: cannot read the run manifest ({exc})") from None
        if not isinstance(doc, dict) or not doc.get("run_id") or not isinstance(doc.get("assets"), list):
            raise LedgerError(f"{display_path(mp)}: not an assetkit run manifest (no run_id / assets)")
        docs.append((mp, doc))
    if not docs:
        return booked
    with Ledger(ledger_path) as ledger:
        for mp, doc in sorted(docs, key=lambda d: str(d[1].get("finished_at") or "")):
            if ledger.run(doc["run_id"]) is not None:
                continue
            try:
                booked.append(ledger.record_run(doc, mp, settings))
            except LedgerError as exc:
                if "is already in the ledger" in str(exc):  # a concurrent reconcile booked it first
                    continue
                raise
    return booked


def find_manifests(out: Path) -> list[Path]:
    """The run manifests (``manifest.json``, regular files) under an output folder."""
    if not out.is_dir():
        raise UsageError(f"{display_path(out)}: not a folder of run outputs")
    return sorted(p for p in out.rglob("manifest.json") if p.is_file() and not p.is_symlink())
