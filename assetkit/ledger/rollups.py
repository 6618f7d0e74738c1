"""Sums over the ledger: the only SQL the report (and ``ledger`` listings) read figures through."""
from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol

from ..errors import UsageError
from ..money import from_micros
from .schema import TOTALS_DIMENSIONS
from .store import _day_bounds
from .units import hours, minutes, seconds

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
    COALESCE(SUM(baseline_ms), 0) AS baseline_ms,
    COALESCE(SUM(actual_ms), 0) AS actual_ms,
    COALESCE(SUM(compute_ms), 0) AS compute_ms,
    COALESCE(SUM(CASE WHEN no_baseline = 1 THEN units ELSE 0 END), 0) AS no_baseline_deliverables
"""
_TOTALS_SUMS = """
    SUM(entries) AS entries,
    SUM(units) AS deliverables,
    SUM(baseline_micros) AS baseline_micros,
    SUM(actual_compute_micros) AS actual_compute_micros,
    SUM(actual_human_micros) AS actual_human_micros,
    SUM(actual_tool_micros) AS actual_tool_micros,
    SUM(baseline_ms) AS baseline_ms,
    SUM(actual_ms) AS actual_ms,
    SUM(compute_ms) AS compute_ms,
    SUM(no_baseline_units) AS no_baseline_deliverables
"""


def filters(since=None, until=None, campaign=None, brand=None, category=None,
           run_id=None, kind=None, day_column="occurred_at") -> tuple[str, list]:
    """``WHERE`` clause and parameters: a day range (inclusive, UTC) and dimension equalities."""
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


def aggregate(conn: sqlite3.Connection, group_by: list[str] | tuple[str, ...] = ("month", "category"), since=None,
              until=None, campaign=None, brand=None, category=None) -> list[dict]:
    """Sums per group, in SQL. ``currency`` is always part of the group (never mixed).

    Each row: the group columns, ``entries``, ``deliverables``, ``no_baseline_deliverables``,
    Decimal ``baseline``, ``actual_compute``, ``actual_human``, ``actual_tool``, ``actual``,
    ``saving``, and exact Decimal ``baseline_hours``, ``actual_hours``, ``hours_saved``,
    ``compute_seconds`` (from the integer milliseconds). Voids net out (their amounts are negated copies).
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
        where, params = filters(since, until, campaign, brand, category, day_column="day")
        sums, table = _TOTALS_SUMS, "totals"
    else:
        expr = {"day": "substr(occurred_at, 1, 10)", "year": "substr(occurred_at, 1, 4)"}
        where, params = filters(since, until, campaign, brand, category)
        sums, table = _SUMS, "entries"
    select = ", ".join(f"{expr.get(c, c)} AS {c}" for c in cols)
    group = ", ".join(expr.get(c, c) for c in cols)
    sql = f"SELECT {select}, {sums} FROM {table}{where} GROUP BY {group} ORDER BY {group}"
    out = []
    for row in conn.execute(sql, params):
        d = {c: row[c] for c in cols}
        d["entries"] = row["entries"]
        d["deliverables"] = row["deliverables"]
        d["no_baseline_deliverables"] = row["no_baseline_deliverables"]
        for k in ("baseline", "actual_compute", "actual_human", "actual_tool"):
            d[k] = from_micros(row[k + "_micros"])
        d["actual"] = d["actual_compute"] + d["actual_human"] + d["actual_tool"]
        d["saving"] = d["baseline"] - d["actual"]
        d["baseline_hours"] = hours(row["baseline_ms"])
        d["actual_hours"] = hours(row["actual_ms"])
        d["hours_saved"] = d["baseline_hours"] - d["actual_hours"]
        d["compute_seconds"] = seconds(row["compute_ms"])
        out.append(d)
    return out

def summary(conn: sqlite3.Connection, since=None, until=None, campaign=None, brand=None) -> list[dict]:
    """One row per run (all its entries, reviews and voids netted) and per manual entry.

    Keys: ref (run id, or ``#<entry id>`` for a manual entry), run_id, entry_id, date,
    campaign, brand, categories, deliverables, currency, Decimal baseline/actual/saving,
    baseline_hours, actual_hours, hours_saved, no_baseline (bool), voided (bool), spend (measured agency
    spend of an invoice entry, Decimal).
    """
    where, params = filters(since, until, campaign, brand)
    sql = f"""
        SELECT COALESCE(run_id, '#' || COALESCE(voids_entry_id, id)) AS ref, run_id,
               MIN(CASE WHEN run_id IS NULL THEN COALESCE(voids_entry_id, id) END) AS entry_id,
               MIN(occurred_at) AS occurred_at, MAX(campaign) AS campaign, MAX(brand) AS brand,
               GROUP_CONCAT(DISTINCT category) AS categories, currency,
               SUM(units) AS deliverables, SUM(baseline_micros) AS baseline_micros,
               SUM(actual_micros) AS actual_micros, SUM(baseline_ms) AS baseline_ms,
               SUM(actual_ms) AS actual_ms,
               SUM(CASE WHEN no_baseline = 1 THEN units ELSE 0 END) AS no_baseline_units,
               SUM(kind = 'void') AS voids, SUM(kind != 'void' AND units != 0) AS live,
               SUM(spend_micros) AS spend_micros, MAX(kind = 'invoice') AS invoice
        FROM entries{where}
        GROUP BY ref, currency ORDER BY occurred_at, ref"""
    out = []
    for r in conn.execute(sql, params):
        baseline, actual = from_micros(r["baseline_micros"]), from_micros(r["actual_micros"])
        out.append({"ref": r["ref"], "run_id": r["run_id"], "entry_id": r["entry_id"],
                    "date": r["occurred_at"][:10], "campaign": r["campaign"], "brand": r["brand"],
                    "categories": ",".join(sorted(set((r["categories"] or "").split(",")))),
                    "deliverables": r["deliverables"], "currency": r["currency"], "baseline": baseline,
                    "actual": actual, "saving": baseline - actual,
                    "baseline_hours": hours(r["baseline_ms"]), "actual_hours": hours(r["actual_ms"]),
                    "hours_saved": hours(r["baseline_ms"] - r["actual_ms"]),
                    "no_baseline": r["no_baseline_units"] > 0,
                    "voided": r["voids"] > 0 and r["deliverables"] == 0 and not r["invoice"],
                    "spend": from_micros(r["spend_micros"])})
    return out


# -- the savings report's roll-ups ---------------------------------------------------------------

class Span(Protocol):
    """A report period: inclusive UTC days, None = open."""

    @property
    def start(self) -> dt.date | None: ...

    @property
    def end(self) -> dt.date | None: ...


def report_where(period: Span, brand: str | None, campaign: str | None, alias: str = "",
                 time_col: str = "occurred_at") -> tuple[str, list]:
    """``WHERE`` for a report period (inclusive UTC days) and brand/campaign filter."""
    a = f"{alias}." if alias else ""
    clauses, params = [], []
    if period.start is not None:
        clauses.append(f"{a}{time_col} >= ?")
        params.append(period.start.isoformat())
    if period.end is not None:
        clauses.append(f"{a}{time_col} < ?")
        params.append((period.end + dt.timedelta(days=1)).isoformat())
    for col, val in (("brand", brand), ("campaign", campaign)):
        if val is not None:
            clauses.append(f"{a}{col} = ?")
            params.append(val)
    return (" WHERE " + " AND ".join(clauses)) if clauses else "", params


#: Roll-ups read the ledger's ``totals`` table (schema 2: running sums per day × category ×
#: campaign × brand × kind × currency × no_baseline × quote_id, kept in every insert's
#: transaction), so a report over millions of entries reads a few thousand rows. A foreign
#: currency is split per day for dated FX rates.
_FILL_SQL = """
CREATE TEMP TABLE {table} AS
SELECT category, campaign, brand, substr(day, 1, 7) AS month, {cause_kind} AS k, no_baseline, currency,
       CASE WHEN currency = ? THEN NULL ELSE day END AS fxday,
       SUM(entries) AS n, SUM(units) AS units, SUM(baseline_micros) AS baseline,
       SUM(actual_compute_micros) AS compute, SUM(actual_human_micros) AS human,
       SUM(actual_tool_micros) AS tools, SUM(baseline_ms) AS bh, SUM(actual_ms) AS ah,
       MIN(day) AS first, MAX(day) AS last, quote_id
FROM totals{where} GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 19
"""

#: The kind an entry's saving is credited by (its cause): a review of a translation deliverable
#: changes translation's cost, not generation's.
CAUSE_KIND = "CASE WHEN {p}kind = 'review' AND {p}category = 'translation' THEN 'translation' ELSE {p}kind END"
_FILL_SQL = _FILL_SQL.replace("{cause_kind}", CAUSE_KIND.format(p=""))

#: the current period's temp totals, kept for the methodology section after the roll-ups
CURRENT_TABLE = "assetkit_report_current"

_ROLLUP_SQL = """
SELECT {key} AS key, k, no_baseline, currency, fxday, SUM(n) AS n, SUM(units) AS units,
       SUM(baseline) AS baseline, SUM(compute) AS compute, SUM(human) AS human, SUM(tools) AS tools,
       SUM(bh) AS bh, SUM(ah) AS ah, MIN(first) AS first, MAX(last) AS last
FROM {table} GROUP BY 1, 2, 3, 4, 5
"""

#: ``totals`` keeps a void under kind 'void'; the report credits it to its original's cause, so
#: void entries are moved (subtracted from 'void', added to the original kind) from ``entries``.
_VOIDS_SQL = """
SELECT {key} AS key, {void_cause_kind} AS k, v.no_baseline, v.currency,
       CASE WHEN v.currency = ? THEN NULL ELSE substr(v.occurred_at, 1, 10) END AS fxday,
       COUNT(*) AS n, SUM(v.units) AS units, SUM(v.baseline_micros) AS baseline,
       SUM(v.actual_compute_micros) AS compute, SUM(v.actual_human_micros) AS human,
       SUM(v.actual_tool_micros) AS tools, SUM(v.baseline_ms) AS bh, SUM(v.actual_ms) AS ah,
       MIN(substr(v.occurred_at, 1, 10)) AS first, MAX(substr(v.occurred_at, 1, 10)) AS last
FROM entries v JOIN entries o ON o.id = v.voids_entry_id
WHERE v.voids_entry_id IS NOT NULL{where} GROUP BY 1, 2, 3, 4, 5
"""

_VOIDS_SQL = _VOIDS_SQL.replace("{void_cause_kind}", CAUSE_KIND.format(p="o."))

_KEYS = {
    "total": ("''", "''"),
    "category": ("category", "v.category"),
    "campaign": ("campaign", "COALESCE(v.campaign, '')"),
    "brand": ("brand", "COALESCE(v.brand, '')"),
    "month": ("month", "substr(v.occurred_at, 1, 7)"),
}


def report_where_and(period: Span, brand, campaign, condition: str, alias: str = "e",
                     time_col: str = "occurred_at") -> tuple[str, list]:
    """:func:`report_where` with one more SQL ``condition`` (always a ``WHERE``)."""
    where, params = report_where(period, brand, campaign, alias, time_col)
    return (where + " AND " if where else " WHERE ") + condition, params


def _totals_where(period: Span, brand, campaign) -> tuple[str, list]:
    clauses, params = [], []
    if period.start is not None:
        clauses.append("day >= ?")
        params.append(period.start.isoformat())
    if period.end is not None:
        clauses.append("day <= ?")
        params.append(period.end.isoformat())
    for col, val in (("brand", brand), ("campaign", campaign)):
        if val is not None:
            clauses.append(f"{col} = ?")
            params.append(val)
    return (" WHERE " + " AND ".join(clauses)) if clauses else "", params


def fill_period(conn: sqlite3.Connection, table: str, period: Span, brand, campaign, currency: str) -> None:
    """The period's totals without day (and a foreign currency per day), in a temp table the
    roll-ups below then read."""
    where, params = _totals_where(period, brand, campaign)
    conn.execute("PRAGMA temp_store = MEMORY")
    conn.execute(f"DROP TABLE IF EXISTS temp.{table}")
    conn.execute(_FILL_SQL.format(table=table, where=where), [currency, *params])


def drop_period(conn: sqlite3.Connection, table: str) -> None:
    conn.execute(f"DROP TABLE temp.{table}")


def period_groups(conn: sqlite3.Connection, table: str, dim: str, period: Span, brand, campaign,
                  currency: str) -> tuple[list[sqlite3.Row], list[sqlite3.Row]]:
    """Sums by ``dim`` (total, category, campaign, brand, month) × kind × baseline flag × currency
    from ``fill_period``'s table, and the period's voids with their original's kind."""
    key, vkey = _KEYS[dim]
    rows = conn.execute(_ROLLUP_SQL.format(key=key, table=table)).fetchall()
    vwhere, vparams = report_where(period, brand, campaign, "v")
    # Unary + keeps SQLite on the small partial index of voids instead of the date/campaign ones.
    vwhere = vwhere.replace(" WHERE ", " AND ", 1).replace("v.", "+v.")
    voids = conn.execute(_VOIDS_SQL.format(key=vkey, where=vwhere), [currency, *vparams]).fetchall()
    return rows, voids


def _middle(conn: sqlite3.Connection, sql: str, params: list, n: int | None = None) -> list[float]:
    """The middle value (odd count) or two (even) of ``sql``'s column ``v``: a median's inputs
    (``n``: its rows, when the caller has counted them)."""
    if n is None:
        n = conn.execute(f"SELECT COUNT(*) FROM ({sql})", params).fetchone()[0]
    if not n:
        return []
    return [r[0] for r in conn.execute(f"SELECT v FROM ({sql}) ORDER BY v LIMIT ? OFFSET ?",
                                       [*params, 2 - n % 2, (n - 1) // 2])]


def turnaround(conn: sqlite3.Connection, period: Span, brand,
               campaign) -> tuple[int, list[float], list[float], int]:
    """(runs, middle agency turnaround days, middle in-house hours, runs compared) of the period's runs; both
    middles over the runs with a baseline (the same runs: draft proofs and runs without a valid
    quote are not compared), in-house being start to finish plus the run's human time — its estimate
    as booked, changed by the review time recorded for it since (``entries_reviews``, schema 11)."""
    where, params = report_where(period, brand, campaign, "", "finished_at")
    runs = conn.execute(f"SELECT COUNT(*) FROM runs{where}", params).fetchone()[0]
    extra = " AND " if where else " WHERE "
    days = _middle(conn, f"SELECT baseline_days AS v FROM runs{where}{extra}baseline_days IS NOT NULL "
                         "AND no_baseline = 0", params)
    compared_runs = f"runs{where}{extra}started_at IS NOT NULL AND baseline_days IS NOT NULL AND no_baseline = 0"
    compared = conn.execute(f"SELECT COUNT(*) FROM {compared_runs}", params).fetchone()[0]
    inhouse = _middle(conn, "SELECT (julianday(finished_at) - julianday(started_at)) * 24 + (actual_ms + "
                            "COALESCE((SELECT SUM(e.actual_ms) FROM entries e WHERE e.run_id = runs.run_id AND "
                            f"e.kind = 'review'), 0)) / 3600000.0 AS v FROM {compared_runs}", params, compared)
    return runs, days, inhouse, compared


def last_entry(conn: sqlite3.Connection) -> tuple[int | None, str | None]:
    """(the last entry's id, its recorded_at): where a report is "as of"."""
    row = conn.execute("SELECT id, recorded_at FROM entries ORDER BY id DESC LIMIT 1").fetchone()
    return (row[0], row[1]) if row else (None, None)


def latest_quotes(conn: sqlite3.Connection) -> dict[str, sqlite3.Row]:
    """quote id → its latest imported version (quote_id, version, agency, currency, valid_from)."""
    return {q["quote_id"]: q for q in conn.execute(
        "SELECT quote_id, version, agency, currency, valid_from FROM quotes ORDER BY quote_id, version")}


def quote_versions(conn: sqlite3.Connection) -> dict[tuple[str, int], sqlite3.Row]:
    """(quote id, version) → agency, currency, valid_from, valid_to of every imported version."""
    return {(q["quote_id"], q["version"]): q for q in conn.execute(
        "SELECT quote_id, version, agency, currency, valid_from, valid_to FROM quotes")}


@dataclass(frozen=True)
class RateUse:
    """Entries (``n``), deliverables (``units``) and estimated human time (``human_ms``) of the
    period per card version, applied rates (the ``applied`` JSON an entry was priced with),
    kind, whether the entry belongs to a run and whether it has a baseline, currency (and the
    day to convert it on, ``fxday``, when it is not the report's) and device; with the in-house
    time (``actual_ms``), human cost, compute time and compute cost (micros) the group came to."""
    quote_id: str | None
    quote_version: int | None
    applied: str | None
    kind: str
    in_run: bool
    no_baseline: bool
    n: int
    units: int
    human_ms: int
    currency: str = ""
    fxday: str | None = None
    device: str = ""
    actual_ms: int = 0
    human_micros: int = 0
    compute_ms: int = 0
    compute_micros: int = 0


def rate_use(conn: sqlite3.Connection, period: Span, brand, campaign, currency: str = "") -> list[RateUse]:
    """The period's entries summed per :class:`RateUse` group, read from ``rate_totals``
    (running sums per day, kept by every insert) — a few thousand rows, where grouping the
    entries themselves would sort a million long ``applied`` texts. Entries in another
    currency than ``currency`` (the report's) are grouped per day too, to be converted."""
    where, params = _totals_where(period, brand, campaign)
    rows = conn.execute(f"SELECT quote_id, quote_version, applied, kind, in_run, no_baseline, SUM(entries), "
                        f"SUM(units), SUM(human_ms), currency, CASE WHEN currency = ? THEN NULL ELSE day END, device, "
                        f"SUM(actual_ms), SUM(actual_human_micros), SUM(compute_ms), SUM(actual_compute_micros) "
                        f"FROM rate_totals{where} GROUP BY 1, 2, 3, 4, 5, 6, 10, 11, 12", [currency, *params])
    return [RateUse(r[0] or None, None if r[1] == -1 else r[1], r[2] or None, r[3], bool(r[4]), bool(r[5]),
                    r[6], r[7], r[8], r[9], r[10], r[11], r[12], r[13], r[14], r[15]) for r in rows]


def estimated_minutes(rates: list[RateUse]) -> tuple[Decimal, int]:
    """(estimated human minutes, deliverables) of the period's baselined run entries (voids net)."""
    use = [r for r in rates if r.in_run and not r.no_baseline and r.kind != "review"]
    return minutes(sum(r.human_ms for r in use)), sum(r.units for r in use)


def closes(conn: sqlite3.Connection) -> list[sqlite3.Row]:
    """Closed periods: period, start, end (inclusive days), closed_at, who, last_entry_id."""
    return conn.execute("SELECT period, start, end, closed_at, who, last_entry_id FROM closes "
                        "ORDER BY start").fetchall()


def restatements(conn: sqlite3.Connection) -> list[sqlite3.Row]:
    """Entries booked as restatements of a closed period: their ``reason``, the day they were
    booked on (``day``), count (``n``), baseline and in-house cost in micros, per currency."""
    return conn.execute(
        "SELECT reason, substr(occurred_at, 1, 10) AS day, currency, COUNT(*) AS n, "
        "SUM(CASE WHEN no_baseline = 0 THEN baseline_micros ELSE 0 END) AS baseline, "
        "SUM(CASE WHEN no_baseline = 0 THEN actual_micros ELSE 0 END) AS actual FROM entries "
        # a restatement is booked on its recording day, after its period's close (a closed period
        # has ended): the time index skips every entry up to the earliest closed period's end
        "WHERE occurred_at > (SELECT MIN(end) FROM closes) AND reason LIKE 'restates %' "
        "GROUP BY 1, 2, 3 ORDER BY 2").fetchall()


def proofs(conn: sqlite3.Connection, period: Span, brand, campaign, generators: tuple[str, ...]) -> list[sqlite3.Row]:
    """Runs (``runs``) and new assets (``assets``) of proof generators per campaign in the period."""
    where, params = report_where(period, brand, campaign, "", "finished_at")
    extra = " AND " if where else " WHERE "
    marks = ", ".join("?" * len(generators))
    return conn.execute(f"SELECT campaign, generator, COUNT(*) AS runs, SUM(assets_new) AS assets FROM runs{where}"
                        f"{extra}generator IN ({marks}) GROUP BY 1, 2 ORDER BY 1", [*params, *generators]).fetchall()


def card_use(conn: sqlite3.Connection, table: str = CURRENT_TABLE) -> list[sqlite3.Row]:
    """Entries and baseline per quote × category × currency × FX day of the current period."""
    return conn.execute(f"SELECT quote_id, category, currency, fxday, SUM(n) AS n, SUM(baseline) AS b "
                        f"FROM temp.{table} WHERE quote_id != '' GROUP BY 1, 2, 3, 4 ORDER BY 1, 2").fetchall()


def has_unbaselined(conn: sqlite3.Connection, table: str = CURRENT_TABLE) -> bool:
    return conn.execute(f"SELECT COUNT(*) FROM temp.{table} WHERE no_baseline = 1").fetchone()[0] > 0


def unbaselined(conn: sqlite3.Connection, period: Span, brand, campaign, limit: int) -> list[sqlite3.Row]:
    """Runs (and manual entries) of the period with deliverables that have no baseline."""
    where, params = report_where_and(period, brand, campaign, "no_baseline = 1")
    return conn.execute(
        f"SELECT COALESCE(run_id, '') AS run, MIN(id) AS id, MIN(occurred_at) AS at, "
        f"COALESCE(MAX(brand), '') AS brand, COALESCE(MAX(campaign), '') AS campaign, e.currency, "
        f"SUM(actual_compute_micros + actual_human_micros + actual_tool_micros) AS cost, "
        f"COALESCE(MAX(no_baseline_reason), '') AS reason FROM entries e{where} "
        f"GROUP BY COALESCE(run_id, 'entry:' || id), e.currency ORDER BY at, id LIMIT ?", [*params, limit]).fetchall()


def quote_currencies(conn: sqlite3.Connection, table: str = CURRENT_TABLE) -> list[sqlite3.Row]:
    """Entries (``n``) per quote id × entry currency of the current period."""
    return conn.execute(f"SELECT quote_id, currency, SUM(n) AS n FROM temp.{table} WHERE quote_id != '' "
                        f"GROUP BY 1, 2").fetchall()


def entry_rows(conn: sqlite3.Connection, period: Span, brand, campaign, limit: int | None) -> Iterator[sqlite3.Row]:
    """The period's entries by time; ``k`` is the kind, a void's original's kind for a void."""
    where, params = report_where(period, brand, campaign, "e")
    sql = (f"SELECT e.*, CASE WHEN e.kind = 'void' THEN COALESCE((SELECT o.kind FROM entries o "
           f"WHERE o.id = e.voids_entry_id), 'manual') ELSE e.kind END AS k FROM entries e{where} "
           f"ORDER BY e.occurred_at, e.id")
    if limit is not None:
        sql += f" LIMIT {int(limit)}"
    yield from conn.execute(sql, params)


def manual_entries(conn: sqlite3.Connection, period: Span, brand, campaign) -> list[sqlite3.Row]:
    """The period's manual entries (``ledger add``) and the voids of manual entries, by time: id,
    day, category, description, campaign, evidence (``reason``: source and approver), currency,
    no_baseline, baseline and in-house cost in micros, baseline and in-house hours, and
    ``voids`` (the manual entry a void reverses)."""
    where, params = report_where_and(period, brand, campaign, "e.run_id IS NULL AND (e.kind = 'manual' OR "
                                     "(e.kind = 'void' AND (SELECT o.kind FROM entries o "
                                     "WHERE o.id = e.voids_entry_id) = 'manual'))")
    return conn.execute(
        f"SELECT e.id, substr(e.occurred_at, 1, 10) AS day, e.category, e.description, e.campaign, e.reason, "
        f"e.currency, e.no_baseline, e.baseline_micros AS baseline, e.actual_micros AS actual, "
        f"e.baseline_ms AS bh, e.actual_ms AS ah, e.voids_entry_id AS voids "
        f"FROM entries e INDEXED BY entries_off_run{where} ORDER BY e.occurred_at, e.id", params).fetchall()


def invoices(conn: sqlite3.Connection, period: Span, brand, campaign) -> list[sqlite3.Row]:
    """Measured agency spend of the period: invoices (and their voids) per currency — ``n``
    invoices (voids subtract), ``spend`` in micros."""
    where, params = report_where_and(period, brand, campaign, "e.run_id IS NULL AND (e.kind = 'invoice' OR "
                                     "(e.kind = 'void' AND (SELECT o.kind FROM entries o "
                                     "WHERE o.id = e.voids_entry_id) = 'invoice'))")
    return conn.execute(
        f"SELECT e.currency, SUM(CASE WHEN e.kind = 'void' THEN -1 ELSE 1 END) AS n, SUM(e.spend_micros) AS spend "
        f"FROM entries e INDEXED BY entries_off_run{where} GROUP BY e.currency", params).fetchall()


def recent_manifests(conn: sqlite3.Connection, period: Span, brand, campaign: str, n: int) -> list[str]:
    """Manifest paths of the campaign's latest ``n`` runs in the period."""
    where, params = report_where(period, brand, campaign, "", "finished_at")
    return [r[0] for r in conn.execute(f"SELECT manifest_path FROM runs{where} AND manifest_path IS NOT NULL "
                                       f"ORDER BY finished_at DESC LIMIT ?", [*params, n])]


def review_decisions(conn: sqlite3.Connection, campaign: str | None = None) -> list[sqlite3.Row]:
    """The review app's decisions (schema 5 ``decisions``), oldest first; [] on an older file."""
    try:
        return conn.execute("SELECT * FROM decisions" + (" WHERE campaign = ?" if campaign else "") + " ORDER BY id",
                            (campaign,) if campaign else ()).fetchall()
    except sqlite3.OperationalError:
        return []


def asset_identities(conn: sqlite3.Connection, period: Span, brand, campaign) -> list[sqlite3.Row]:
    """The deliverables (campaign, locale, format, concept, variant, format class) the period's
    asset entries book, once each: what review decisions are matched against."""
    where, params = report_where(period, brand, campaign)
    where = (where + " AND" if where else " WHERE") + " kind = 'asset' AND concept IS NOT NULL"
    return conn.execute("SELECT DISTINCT campaign, locale, format, concept, variant, format_class FROM entries"
                        + where, params).fetchall()
