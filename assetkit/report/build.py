"""The savings report for management: one headline, breakdowns, charts and the method.

``build_report(...)`` fills a :class:`~assetkit.report.model.ReportData` from the ledger with
grouped SQL over the ledger's running ``totals``; ``render(data, fmt)`` turns it into HTML, PDF,
Markdown, CSV or JSON (:mod:`~assetkit.report.html`, :mod:`~assetkit.report.pdf`,
:mod:`~assetkit.report.tabular`). Renderers format, they never compute, so every
format prints the same figures.

Definitions (also printed in the report's methodology):

* **saving** = Σ ``saving_micros`` (agency baseline − compute − human − tools) over entries
  *with* a baseline; entries flagged ``no_baseline`` are listed and excluded (their baseline
  is unknown, not zero). Voids net out (they are negated copies).
* **external agency cost vs baseline** = −saving ÷ baseline ("down 25 %").
* **AI share** = saving of run entries (kinds asset, overhead, review) ÷ total saving;
  translation and manual entries are the other causes. A void counts as its original's kind.
* **a year** = saving × 365 ÷ days covered (the period, cut at the ledger's last entry; all
  time: first to last entry).
"""
from __future__ import annotations

import datetime as dt
import functools
import io
import json
from collections.abc import Callable
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal
from pathlib import Path
from typing import TypeVar

from ..errors import UsageError
from ..ledger import rollups
from ..ledger.units import hours, hours_to_print
from ..money import MICROS, FxError, FxTable
from .i18n import DASH, Fmt
from .model import (
    ALL_TIME,
    AppliedRate,
    CardVersion,
    CloseNote,
    ComputeRateUse,
    CostItem,
    EntryLine,
    Figures,
    FxUse,
    HumanTimeUse,
    ManualLine,
    Methodology,
    MissingBaseline,
    Period,
    Proofs,
    RateCardUse,
    ReportData,
    Row,
    Thumbnail,
)

T = TypeVar("T")

FORMATS = ("html", "pdf", "md", "csv", "json")
#: Entries listed in the HTML/PDF/Markdown appendix (CSV and JSON list all of them).
APPENDIX_LIMIT = 200
#: Shorter periods are not scaled to a year (a month × 12 is no forecast): a quarter at least.
MIN_ANNUALISE_DAYS = 90
#: Runs/entries without a baseline listed by name in the methodology.
MISSING_LIMIT = 50

AI_KINDS = ("asset", "overhead", "review")
CAUSES = ("ai_generation", "translation", "manual")
CATEGORY_ORDER = ("production", "social", "crm", "photography", "translation", "other")


def cause_of(kind: str) -> str:
    """The saving's cause for an entry kind (a void is given its original's kind first)."""
    if kind in AI_KINDS:
        return "ai_generation"
    if kind == "translation":
        return "translation"
    if kind == "invoice":
        return "invoice"
    return "manual"


@dataclass
class _Group:
    category: str
    campaign: str | None
    brand: str | None
    month: str
    cause: str
    kind: str
    no_baseline: bool
    n: int
    units: int
    baseline: Decimal
    compute: Decimal
    human: Decimal
    tools: Decimal
    hours_saved: Decimal
    first: str
    last: str
    voids: int = 0  # of ``n``: void entries moved here, to their original's kind

    @property
    def actual(self) -> Decimal:
        return self.compute + self.human + self.tools


class _Converter:
    """Entry currency → report currency with the settings' dated FX rates; records what it used."""

    def __init__(self, currency: str, fx: FxTable):
        self.currency, self.fx = currency, fx
        self.used: dict[str, list] = {}  # currency → [rate, dated, entries]

    def factor(self, cur: str, day: str | None, n: int) -> Decimal:
        if cur == self.currency:
            return Decimal(1)
        on = dt.date.fromisoformat(day) if day else dt.date.today()
        try:
            rate = self.fx.rate(cur, self.currency, on)
        except FxError as exc:
            raise UsageError(f"cannot convert the ledger's {cur} entries to --currency {self.currency}: "
                             f"{exc}") from None
        dated = max((r.date for r in self.fx.rates if {r.base, r.quote} == {cur, self.currency} and r.date <= on),
                    default=None)
        u = self.used.setdefault(cur, [rate, dated, 0])
        if dated and (u[1] is None or dated >= u[1]):
            u[0], u[1] = rate, dated
        u[2] += n
        return rate


def _m(micros: int | None, factor: Decimal = Decimal(1)) -> Decimal:
    v = Decimal(int(micros or 0)) / MICROS
    return v if factor == 1 else v * factor


_hours = hours_to_print


def _group_rows(rows, conv: _Converter, count: bool, sign: int = 1, kind: str | None = None,
                voids: bool = False) -> list[_Group]:
    out = []
    for r in rows:
        f = conv.factor(r["currency"], r["fxday"], r["n"] if count and sign > 0 and not r["no_baseline"] else 0)
        k = kind or r["k"]
        out.append(_Group(
            category=r["key"], campaign=r["key"], brand=r["key"], month=r["key"],
            cause=cause_of(k), kind=k, no_baseline=bool(r["no_baseline"]), n=sign * r["n"],
            units=sign * int(r["units"] or 0), baseline=sign * _m(r["baseline"], f),
            compute=sign * _m(r["compute"], f), human=sign * _m(r["human"], f), tools=sign * _m(r["tools"], f),
            hours_saved=sign * hours((r["bh"] or 0) - (r["ah"] or 0)),
            first=r["first"], last=r["last"], voids=r["n"] if voids else 0))
    return out


def _groups(conn, table: str, dim: str, period: Period, brand, campaign, conv: _Converter,
            count: bool = False) -> list[_Group]:
    """Sums by ``dim`` (total, category, campaign, brand, month) × kind × baseline flag × currency."""
    rows, voids = rollups.period_groups(conn, table, dim, period, brand, campaign, conv.currency)
    out = _group_rows(rows, conv, count)
    out += _group_rows(voids, conv, False, -1, "void")  # out of the 'void' bucket …
    out += _group_rows(voids, conv, False, 1, voids=True)  # … into the original's kind
    return out


def _ratio(a: Decimal, b: Decimal) -> Decimal | None:
    return (a / b) if b > 0 else None


def _figures(groups: list[_Group], period: Period, today: dt.date | None, campaigns: int) -> Figures:
    f = Figures(campaigns=campaigns)
    for g in groups:
        f.entries += g.n
        if g.kind == "asset":
            f.assets += g.units
            if not g.no_baseline:
                f.assets_counted += g.units
        if g.cause == "invoice":  # measured spend: read apart (rollups.invoices), never a saving
            continue
        if g.no_baseline:
            f.unbaselined_entries += g.n
            f.unbaselined_cost += g.actual
            continue
        f.baseline += g.baseline
        f.actual += g.actual
        f.hours_saved += g.hours_saved
        if g.cause == "ai_generation":
            f.ai_saving += g.baseline - g.actual
        if g.cause == "manual":
            f.manual_saving += g.baseline - g.actual
            f.manual_entries += g.units
        else:
            f.run_baseline += g.baseline
            f.run_saving += g.baseline - g.actual
            f.run_deliverables += g.units
            f.run_hours_saved += g.hours_saved
    f.hours_saved = f.hours_saved.quantize(Decimal("0.01"), ROUND_HALF_EVEN)
    f.run_hours_saved = f.run_hours_saved.quantize(Decimal("0.01"), ROUND_HALF_EVEN)
    f.saving = f.baseline - f.actual
    f.saving_pct = _ratio(f.saving, f.baseline)
    f.ai_share = _ratio(f.ai_saving, f.saving) if f.saving > 0 else None
    if groups:
        f.first_day = dt.date.fromisoformat(min(g.first for g in groups)[:10])
        f.last_day = dt.date.fromisoformat(max(g.last for g in groups)[:10])
    if f.entries == 0:
        f.first_day = f.last_day = None
    if period.start is not None and period.end is not None:
        end = period.end
        if today is not None and period.start <= today < end:
            end = today  # a period still running counts the days so far
        f.days = (end - period.start).days + 1
    elif f.first_day and f.last_day:  # all time: the days from the first entry to the last
        f.days = (f.last_day - f.first_day).days + 1
    if f.days and f.days >= MIN_ANNUALISE_DAYS and f.run_baseline > 0:
        f.annual_saving = f.run_saving * 365 / f.days  # never the manual one-offs
    return f


def _rollup(groups: list[_Group], key, label, total_saving: Decimal) -> list[Row]:
    rows: dict[str, Row] = {}
    for g in groups:
        if g.cause == "invoice":
            continue
        k = key(g)
        row = rows.get(k)
        if row is None:
            row = rows[k] = Row(key=k, label=label(k))
        if g.no_baseline:  # listed apart (no baseline): neither money nor counts in the tables
            continue
        row.entries += g.n
        row.voids += g.voids
        row.assets += g.units
        row.baseline += g.baseline
        row.actual += g.actual
        row.hours_saved += g.hours_saved
    # A void moved to its original's cause leaves an all-zero row under 'void'/'manual'.
    rows = {k: r for k, r in rows.items() if r.entries or r.assets or r.baseline or r.actual}
    for row in rows.values():
        row.saving = row.baseline - row.actual
        row.saving_pct = _ratio(row.saving, row.baseline)
        row.share = (row.saving / total_saving) if total_saving > 0 else None
        row.hours_saved = row.hours_saved.quantize(Decimal("0.01"), ROUND_HALF_EVEN)
    return list(rows.values())


def _period_figures(conn, period: Period, brand, campaign, conv: _Converter, last: dt.date | None,
                    count: bool = True, keep: bool = False) -> tuple[Figures, dict[str, list[_Group]]]:
    """Roll the ledger's totals up for a period: total, category, campaign, brand, month.

    With ``keep`` the period's temp table stays (as ``rollups.CURRENT_TABLE``) for the methodology.
    """
    table = rollups.CURRENT_TABLE if keep else "assetkit_report_totals"
    rollups.fill_period(conn, table, period, brand, campaign, conv.currency)
    dims = {"total": _groups(conn, table, "total", period, brand, campaign, conv, count)}
    for dim in ("category", "campaign", "brand", "month"):
        dims[dim] = _groups(conn, table, dim, period, brand, campaign, conv)
    if not keep:
        rollups.drop_period(conn, table)
    units = _units(dims["campaign"])
    campaigns = sum(1 for k, u in units.items() if k and u > 0)
    fig = _figures(dims["total"], period, last, campaigns)
    fig.months = len({g.month for g in dims["month"] if g.n > 0})
    on = (period.end or last or dt.date.today()).isoformat()
    for r in rollups.invoices(conn, period, brand, campaign):
        fig.invoices += r["n"]
        fig.spend = (fig.spend or Decimal(0)) + _m(r["spend"], conv.factor(r["currency"], on, 0))
    return fig, dims


def _units(groups: list[_Group]) -> dict[str | None, int]:
    out: dict[str | None, int] = {}
    for g in groups:
        out[g.campaign] = out.get(g.campaign, 0) + g.units
    return out


SENSITIVITY_MINUTES = (Decimal("0.5"), Decimal(1), Decimal(2), Decimal(4))
SENSITIVITY_RATE = (Decimal("0.75"), Decimal(1), Decimal("1.25"))


def _sensitivity(rates: list[rollups.RateUse], f: Figures, groups: list[_Group]) -> None:
    """How the run saving moves with the human-time assumptions: the estimated minutes scaled
    (recorded review corrections kept as recorded) and the internal rate ±25 %; and the
    estimated minutes per deliverable at which the saving would be zero."""
    runs = [g for g in groups if g.cause != "manual" and not g.no_baseline]
    if not runs or f.run_baseline <= 0:
        return
    other = sum((g.compute + g.tools for g in runs), Decimal(0))
    est = sum((g.human for g in runs if g.kind != "review"), Decimal(0))
    rec = sum((g.human for g in runs if g.kind == "review"), Decimal(0))
    f.sensitivity = [(k, r, f.run_baseline - other - (est * k + rec) * r)
                     for k in SENSITIVITY_MINUTES for r in SENSITIVITY_RATE]
    minutes, units = rollups.estimated_minutes(rates)
    if units > 0 and minutes > 0:
        per = minutes / units
        f.minutes_per_deliverable = per.quantize(Decimal("0.1"), ROUND_HALF_EVEN)
        if est > 0:
            f.breakeven_minutes = (per * (f.run_baseline - other - rec) / est).quantize(Decimal("0.1"),
                                                                                        ROUND_HALF_EVEN)


def _turnaround(conn, period: Period, brand, campaign, f: Figures) -> None:
    f.runs, days, hours, f.turnaround_runs = rollups.turnaround(conn, period, brand, campaign)
    f.turnaround_agency_days = _median(days)
    f.turnaround_inhouse_hours = _median(hours)


def _median(vals: list[float]) -> Decimal | None:
    if not vals:
        return None
    return Decimal(repr(sum(vals) / len(vals))).quantize(Decimal("0.1"), ROUND_HALF_EVEN)


def _methodology(conn, period, brand, campaign, conv: _Converter, settings,
                 rates: list[rollups.RateUse]) -> Methodology:
    m = Methodology()
    latest = rollups.latest_quotes(conn)
    cards: dict[tuple, RateCardUse] = {}
    for r in rollups.card_use(conn):
        key = (r["quote_id"], r["category"])
        if key not in cards:
            q = latest.get(r["quote_id"])
            name = r["quote_id"]
            if q is not None:
                name += f" v{q['version']} ({q['agency']}, {q['currency']})"
            dated = dt.date.fromisoformat(q["valid_from"][:10]) if q is not None and q["valid_from"] else None
            cards[key] = RateCardUse(name, r["category"], dated, 0, Decimal(0))
        cards[key].entries += r["n"]
        cards[key].baseline += _m(r["b"], conv.factor(r["currency"], r["fxday"], 0))
    m.rate_cards = list(cards.values())
    _time_and_rates(rates, conv, m)
    _review_time(conn, period, brand, campaign, settings, m)
    _applied(conn, period, brand, campaign, m, rates)
    if rollups.has_unbaselined(conn):
        for r in rollups.unbaselined(conn, period, brand, campaign, MISSING_LIMIT):
            m.missing_baseline.append(MissingBaseline(
                r["run"], str(r["id"]), dt.date.fromisoformat(r["at"][:10]), r["brand"], r["campaign"],
                _m(r["cost"], conv.factor(r["currency"], r["at"][:10], 0)), r["reason"]))
    # Quotes in another currency than the entries were converted when recorded (rates from settings).
    pairs: dict[tuple[str, str], int] = {}
    for r in rollups.quote_currencies(conn):
        q = latest.get(r["quote_id"])
        if q is not None and q["currency"] != r["currency"]:
            pairs[(q["currency"], r["currency"])] = pairs.get((q["currency"], r["currency"]), 0) + r["n"]
    if pairs and settings is not None:
        on = period.end or dt.date.today()
        for (base, quote), n in sorted(pairs.items()):
            try:
                rate = settings.fx_table.rate(base, quote, on)
            except Exception:
                continue
            dated = max((x.date for x in settings.fx_table.rates if {x.base, x.quote} == {base, quote}
                         and x.date <= on), default=None)
            m.fx.append(FxUse(f"{base}→{quote}", rate, dated, n))
    return m


#: The human-time table's rows: which entries' in-house time each holds (by entry kind).
_TIME_ROW = {"review": "recorded", "manual": "manual", "void": "void"}


@functools.lru_cache(maxsize=4096)
def _applied_of(applied_json: str | None) -> dict:
    """An entry group's ``applied`` JSON, parsed once per distinct text (a report reads each a few times)."""
    try:
        applied = json.loads(applied_json) if applied_json else {}
    except ValueError:
        return {}
    return applied if isinstance(applied, dict) else {}


def _rate(applied_json: str | None, item: str) -> Decimal | None:
    """A rate an entry recorded in its ``applied`` JSON (None when it recorded none)."""
    value = _applied_of(applied_json).get(item)
    try:
        return Decimal(str(value)) if value is not None else None
    except ArithmeticError:
        return None


def _time_and_rates(rates: list[rollups.RateUse], conv: _Converter, m: Methodology) -> None:
    """The methodology's compute and human-time tables in the in-house cost's scope (entries with
    a baseline; invoices are spend): per device × compute rate applied, and per kind of time ×
    internal hourly rate applied, the hours and what they came to (each entry's own cost, so each
    table foots to its line of the cost structure). Entries without a baseline are summed apart."""
    compute: dict[tuple, ComputeRateUse] = {}
    human: dict[tuple, HumanTimeUse] = {}
    apart = [0, 0]  # entries, in-house ms (their cost, tools included, is Figures.unbaselined_cost)
    for r in rates:
        if r.kind == "invoice":
            continue
        f = conv.factor(r.currency, r.fxday, 0) if r.currency else Decimal(1)
        if r.no_baseline:
            apart[0] += r.n
            apart[1] += r.actual_ms
            continue
        if r.compute_ms or r.compute_micros:
            rate = _rate(r.applied, "compute_rate_per_hour")
            key = (r.device or "", rate * f if rate is not None else None)
            c = compute.setdefault(key, ComputeRateUse(key[0], key[1], Decimal(0), Decimal(0)))
            c.entries, c.ms, c.cost = c.entries + r.n, c.ms + r.compute_ms, c.cost + _m(r.compute_micros, f)
        if r.actual_ms or r.human_micros:
            rate = _rate(r.applied, "internal_hourly_rate")
            key = (_TIME_ROW.get(r.kind, "estimated"), rate * f if rate is not None else None)
            h = human.setdefault(key, HumanTimeUse(*key))
            h.entries, h.ms, h.cost = h.entries + r.n, h.ms + r.actual_ms, h.cost + _m(r.human_micros, f)
    order = {k: i for i, k in enumerate(("estimated", "recorded", "manual", "void"))}
    m.compute_rates = sorted(compute.values(), key=lambda c: (c.device, c.rate is None, c.rate or 0))
    m.human_time = sorted(human.values(), key=lambda h: (order[h.key], h.rate is None, h.rate or 0))
    for c in m.compute_rates:
        c.hours = _hours(c.ms)
    for h in m.human_time:
        h.hours = _hours(h.ms)
    m.human_estimated_entries = sum(h.entries for h in m.human_time if h.key == "estimated")
    m.human_estimated_hours = _hours(sum(h.ms for h in m.human_time if h.key == "estimated"))
    m.human_recorded_entries = sum(h.entries for h in m.human_time if h.key == "recorded")
    m.human_recorded_hours = _hours(sum(h.ms for h in m.human_time if h.key == "recorded"))
    m.not_counted_entries, m.not_counted_hours = apart[0], _hours(apart[1])


def _review_time(conn, period: Period, brand, campaign, settings, m: Methodology) -> None:
    """Decisions of the review app: the minutes measured in the browser for the period's reviewed
    deliverables against the review minutes the settings estimate for them, and rejections
    (a rejected asset is not a deliverable)."""
    from ..review.catalog import asset_id
    from ..review.rollup import review_rollup

    roll = review_rollup(conn, campaign)
    if not roll.focus_ms:
        return
    recorded_ms = 0
    for r in rollups.asset_identities(conn, period, brand, campaign):
        aid = asset_id(r["campaign"], r["locale"], r["format"], r["concept"], r["variant"])
        if aid not in roll.focus_ms:
            continue
        m.review_assets += 1
        recorded_ms += roll.focus_ms[aid]
        if settings is not None:
            m.review_minutes_estimated += settings.human_minutes.for_class(r["format_class"] or "social").review
        if roll.latest_action.get(aid) == "reject":
            m.review_rejected += 1
    m.review_minutes_recorded = (Decimal(recorded_ms) / 60000).quantize(Decimal("0.1"))


#: Applied rates that are money per hour, in the currency of the entries that applied them.
MONEY_RATES = ("internal_hourly_rate", "compute_rate_per_hour", "hardware_rate_per_hour")


def _applied(conn, period: Period, brand, campaign, m: Methodology, rates: list[rollups.RateUse]) -> None:
    """The rates entries were priced with (as each recorded them), with counts; the card
    versions applied; the proof runs (draft generator) of the period."""
    from ..ledger.pricing import PROOF_GENERATORS

    counts: dict[tuple[str, str, str], int] = {}
    versions: dict[tuple[str, int], int] = {}
    exceptions: dict[str, int] = {}  # model-licence exceptions: disclosed for every asset, counted or not
    per: dict[tuple, int] = {}  # (card, version, applied, currency) → entries: a rate is in its entries' currency
    for r in rates:
        if r.kind == "void":
            continue
        what = str(_applied_of(r.applied).get("licence_exception") or "")
        if what:
            exceptions[what] = exceptions.get(what, 0) + r.n
        if not r.no_baseline and r.kind != "invoice":  # the rates applied to what the report counts
            group = (r.quote_id, r.quote_version, r.applied, r.currency)
            per[group] = per.get(group, 0) + r.n
    for (quote_id, quote_version, applied_json, currency), n in sorted(per.items(), key=repr):
        if quote_id and quote_version is not None:
            qv = (quote_id, quote_version)
            versions[qv] = versions.get(qv, 0) + n
        applied = _applied_of(applied_json)
        for item in ("card", "lines", "role", "internal_hourly_rate", "compute_rate_per_hour", "human_minutes",
                     "copy_source", "fx_pair", "fx_date", "licence_exception", "hardware_rate_per_hour",
                     "brief_copy_minutes"):
            if item in applied:
                value = str(applied[item]) if item != "fx_pair" else f"{applied['fx_pair']} ({applied.get('fx_date')})"
                if item == "fx_date":
                    continue
                key = (item, value, currency if item in MONEY_RATES else "")
                counts[key] = counts.get(key, 0) + n
    order = {k: i for i, k in enumerate(("card", "lines", "role", "internal_hourly_rate", "compute_rate_per_hour",
                                         "human_minutes", "copy_source", "fx_pair", "licence_exception",
                                         "hardware_rate_per_hour", "brief_copy_minutes"))}
    m.applied = [AppliedRate(item, value, n, cur) for (item, value, cur), n in
                 sorted(counts.items(), key=lambda kv: (order[kv[0][0]], kv[0][1], kv[0][2]))]
    m.licence_exceptions = sorted(exceptions.items())
    known = rollups.quote_versions(conn)
    for (qid, version), _n in sorted(versions.items()):
        q = known.get((qid, version))
        m.cards.append(CardVersion(qid, version, q["agency"], _day(q["valid_from"]), _day(q["valid_to"]))
                       if q is not None else CardVersion(qid, version))
    _closes(conn, period, m)
    m.proofs = [Proofs(r["campaign"], r["generator"], r["runs"], int(r["assets"] or 0))
                for r in rollups.proofs(conn, period, brand, campaign, PROOF_GENERATORS)]


def _day(value: str | None) -> dt.date | None:
    return dt.date.fromisoformat(value[:10]) if value else None


def _closes(conn, period: Period, m: Methodology) -> None:
    """Disclose closed periods and restatements: a closed period's report names what was booked
    against it later; an open period's report names the restatements it includes."""
    rest = rollups.restatements(conn)
    for c in rollups.closes(conn):
        start, end = dt.date.fromisoformat(c["start"]), dt.date.fromisoformat(c["end"])
        if period.start is not None and period.end is not None and not (start <= period.start and period.end <= end):
            continue
        later = [r for r in rest if r["reason"].startswith(f"restates {c['period']} ")]
        m.closes.append(CloseNote(c["period"], c["closed_at"], c["who"], c["last_entry_id"],
                                  sum(r["n"] for r in later), _m(sum(r["baseline"] - r["actual"] for r in later))))
    for r in rest:
        day = dt.date.fromisoformat(r["day"])
        if (period.start is None or period.start <= day) and (period.end is None or day <= period.end):
            restated = r["reason"].split(" ", 2)[1]
            m.restated.setdefault(restated, [0, Decimal(0)])
            m.restated[restated][0] += r["n"]
            m.restated[restated][1] += _m(r["baseline"] - r["actual"])


def _manual_lines(conn, period, brand, campaign, conv: _Converter) -> list[ManualLine]:
    """The period's manual entries and voids of them, in the report currency (their saving foots
    to the headline's manual figure; an entry without a baseline counts nothing)."""
    out = []
    for r in rollups.manual_entries(conn, period, brand, campaign):
        f = conv.factor(r["currency"], r["day"], 0)
        nb = bool(r["no_baseline"])
        baseline, actual = (Decimal(0) if nb else _m(r["baseline"], f)), (Decimal(0) if nb else _m(r["actual"], f))
        evidence = (r["reason"] or "") if r["voids"] is None else f"void of #{r['voids']}: {r['reason'] or ''}"
        out.append(ManualLine(str(r["id"]), dt.date.fromisoformat(r["day"]), r["category"], r["description"] or "",
                              r["campaign"] or "", evidence, baseline, actual, baseline - actual,
                              _hours((r["bh"] or 0) - (r["ah"] or 0)) if not nb else Decimal(0),
                              r["voids"] is not None))
    return out


def _entry_lines(conn, period, brand, campaign, conv: _Converter, limit: int | None):
    for r in rollups.entry_rows(conn, period, brand, campaign, limit):
        f = conv.factor(r["currency"], r["occurred_at"][:10], 0)
        compute, human, tools = (_m(r["actual_compute_micros"], f), _m(r["actual_human_micros"], f),
                                 _m(r["actual_tool_micros"], f))
        actual = compute + human + tools
        nb = bool(r["no_baseline"])
        baseline = None if nb else _m(r["baseline_micros"], f)
        yield EntryLine(
            entry_id=str(r["id"]), run_id=r["run_id"] or "", day=dt.date.fromisoformat(r["occurred_at"][:10]),
            brand=r["brand"] or "", campaign=r["campaign"] or "", category=r["category"],
            cause=cause_of(r["k"]) + ("" if r["kind"] != "void" else " (void)"),
            source_currency=r["currency"], baseline=baseline, compute=compute, human=human, tools=tools,
            actual=actual, saving=None if baseline is None else baseline - actual,
            hours_saved=None if nb else hours((r["baseline_ms"] or 0) - (r["actual_ms"] or 0)),
            assets=int(r["units"] or 0),
            rate_card=(r["quote_id"] or "") + (f" v{r['quote_version']}" if r["quote_version"] else ""),
            card_currency=r["baseline_currency"] or "",
            card_amount=None if r["baseline_source_micros"] is None or nb else _m(r["baseline_source_micros"]),
            fx_rate=r["fx_rate"] or "")


def _thumbnails(conn, period, brand, campaign, campaigns: list[str], ledger_dir: Path,
                total: int = 8) -> list[Thumbnail]:
    """Small JPEGs of assets of the top campaigns, read from their runs' manifests on disk."""
    from PIL import Image

    out: list[Thumbnail] = []
    per_campaign = max(2, -(-total // max(len(campaigns), 1)))
    for camp in campaigns:
        if len(out) >= total:
            break
        candidates: list[Path] = []
        for manifest_path in rollups.recent_manifests(conn, period, brand, camp, 3):
            mp = Path(manifest_path)
            if not mp.is_absolute():
                mp = ledger_dir / mp if (ledger_dir / mp).exists() else mp
            try:
                manifest = json.loads(mp.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                continue
            for a in manifest.get("assets", []) if isinstance(manifest, dict) else []:
                p = a.get("path") if isinstance(a, dict) else None
                if isinstance(p, str):
                    candidates.append(Path(p) if Path(p).is_absolute() else mp.parent / p)
        taken = 0
        seen = set()
        stride = max(1, len(candidates) // per_campaign)  # spread over formats and locales
        candidates = candidates[::stride] + candidates
        for p in candidates:
            if taken >= per_campaign or len(out) >= total:
                break
            if p in seen or p.suffix.lower() not in (".png", ".jpg", ".jpeg", ".webp") or not p.is_file():
                continue
            seen.add(p)
            try:
                with Image.open(p) as src:
                    src.draft("RGB", (480, 480))
                    im = src.convert("RGB")
                    im.thumbnail((360, 360))
                    buf = io.BytesIO()
                    im.save(buf, "JPEG", quality=72, optimize=True)
                    out.append(Thumbnail(camp, p.name, buf.getvalue(), im.width, im.height))
                    taken += 1
            except (OSError, ValueError, Image.DecompressionBombError):
                continue
    return out


def build_report(ledger: str | Path | None = None, period: Period = ALL_TIME, compare: Period | None = None,
                 brand: str | None = None, campaign: str | None = None, locale: str = "en-US",
                 currency: str | None = None, settings=None, generated_on: dt.date | None = None,
                 appendix_limit: int | None = APPENDIX_LIMIT, thumbnails: bool = True,
                 charts: bool = False) -> ReportData:
    """Every figure of the savings report for a period and filter, from the ledger at ``ledger``.

    ``settings`` (an :class:`assetkit.settings.Settings`) gives the default currency, FX rates and
    the documented rates; None loads ``assetkit.yaml`` if there is one. ``appendix_limit=None``
    reads every entry line (CSV/JSON export). ``charts``: the report will be drawn with its
    charts (HTML, PDF): matplotlib is imported meanwhile, in a thread. A ledger that does not
    verify raises LedgerError.
    """
    return build_and_render(None, ledger, period, compare, brand, campaign, locale, currency, settings,
                            generated_on, appendix_limit, thumbnails, charts)[0]


def build_and_render(render_fn: Callable[[ReportData], T] | None, ledger: str | Path | None = None,
                     period: Period = ALL_TIME, compare: Period | None = None, brand: str | None = None,
                     campaign: str | None = None, locale: str = "en-US", currency: str | None = None,
                     settings=None, generated_on: dt.date | None = None,
                     appendix_limit: int | None = APPENDIX_LIMIT, thumbnails: bool = True,
                     charts: bool = False) -> tuple[ReportData, T | None]:
    """:func:`build_report`, then ``render_fn(data)`` (the HTML, PDF or markdown bytes) while the
    ledger's cheap verify is still running on its second connection: the render's Python and
    SQLite's checks take a core each. Both are returned only once the ledger has verified — a
    ledger that does not verify raises LedgerError and the rendered report is dropped."""
    from ..ledger import Ledger, LedgerError
    from ..money import check_currency
    from ..settings import load_settings

    if settings is None:
        settings = load_settings()
    cur = currency or settings.currency
    try:
        check_currency(cur)
    except ValueError as exc:
        raise UsageError(f"--currency: {exc}") from None
    Fmt(locale, cur)  # validates the locale early
    conv = _Converter(cur, settings.fx_table)
    if charts:
        from .charts import preload

        preload()
    with Ledger(ledger, readonly=True) as led, led.snapshot():
        # every figure from one snapshot; the cheap verify checks that snapshot on a second
        # connection meanwhile, and a ledger that does not verify gives no report
        verified = led.verify_alongside()
        try:
            data = _build(led, period, compare, brand, campaign, locale, cur, conv, settings, generated_on,
                          appendix_limit, thumbnails)
            data.as_of_entry, data.as_of_recorded = rollups.last_entry(led.conn)  # what the verify reads
            out = render_fn(data) if render_fn is not None else None
        except Exception:
            verified()  # a ledger that does not verify is named first
            raise
        done = verified()
        if done.last_entry != data.as_of_entry:  # one snapshot: never, unless SQLite's isolation failed
            raise LedgerError(f"{led.name}: the report and its verification read different entries "
                              f"(#{data.as_of_entry} and #{done.last_entry}); run the report again")
    return data, out


def _build(led, period: Period, compare: Period | None, brand, campaign, locale: str, cur: str, conv: _Converter,
           settings, generated_on: dt.date | None, appendix_limit: int | None, thumbnails: bool) -> ReportData:
    """:func:`build_report`'s figures, read through ``led`` (its snapshot)."""
    conn = led.conn
    today = generated_on or dt.date.today()
    last = today
    fig, dims = _period_figures(conn, period, brand, campaign, conv, last, keep=True)
    _turnaround(conn, period, brand, campaign, fig)
    rates = rollups.rate_use(conn, period, brand, campaign, conv.currency)
    _sensitivity(rates, fig, dims["total"])
    data = ReportData(period=period, currency=cur, locale=locale, current=fig, compare=compare,
                      brand=brand, campaign=campaign, generated_on=generated_on or dt.date.today(),
                      ledger_path=led.name)
    if compare is not None:
        data.previous, _ = _period_figures(conn, compare, brand, campaign, conv, last, count=False)
        _turnaround(conn, compare, brand, campaign, data.previous)
    s = fig.saving
    cat_rank = {c: i for i, c in enumerate(CATEGORY_ORDER)}
    data.by_category = sorted(_rollup(dims["category"], lambda g: g.category, lambda k: k, s),
                              key=lambda r: (cat_rank.get(r.key, 99), r.key))
    data.by_campaign = sorted(_rollup(dims["campaign"], lambda g: g.campaign, lambda k: k or DASH, s),
                              key=lambda r: (-r.saving, r.key))
    data.by_brand = sorted(_rollup(dims["brand"], lambda g: g.brand, lambda k: k or DASH, s),
                           key=lambda r: (-r.saving, r.key))
    data.by_month = sorted(_rollup(dims["month"], lambda g: g.month, lambda k: k, s), key=lambda r: r.key)
    data.by_cause = sorted(_rollup(dims["total"], lambda g: g.cause, lambda k: k, s),
                           key=lambda r: CAUSES.index(r.key) if r.key in CAUSES else 9)
    parts = {"compute": Decimal(0), "human": Decimal(0), "tools": Decimal(0)}
    for g in dims["total"]:
        if not g.no_baseline:
            parts["compute"] += g.compute
            parts["human"] += g.human
            parts["tools"] += g.tools
    data.cost_structure = [CostItem(k, v, _ratio(v, fig.actual) if fig.actual > 0 else None)
                           for k, v in parts.items()]
    data.methodology = _methodology(conn, period, brand, campaign, conv, settings, rates)
    data.entries_total = fig.entries
    data.manual = _manual_lines(conn, period, brand, campaign, conv)
    data.entries = list(_entry_lines(conn, period, brand, campaign, conv, appendix_limit))
    if thumbnails:
        top = [r.key for r in data.by_campaign if r.key and r.saving > 0][:4]
        data.thumbnails = _thumbnails(conn, period, brand, campaign, top, led.path.parent)
    for c, (rate, dated, n) in sorted(conv.used.items()):
        data.methodology.fx.append(FxUse(f"{c}→{cur}", rate, dated, n))
    return data


def iter_entry_lines(ledger, data: ReportData, settings=None):
    """Every entry line of the report's period and filter (for CSV/JSON export), streamed."""
    from ..ledger import Ledger
    from ..settings import load_settings

    settings = settings or load_settings()
    conv = _Converter(data.currency, settings.fx_table)
    with Ledger(ledger, readonly=True) as led:
        yield from _entry_lines(led.conn, data.period, data.brand, data.campaign, conv, None)


def render(data: ReportData, fmt: str, ledger=None, settings=None) -> bytes:
    """``data`` as ``html``, ``pdf``, ``md``, ``json`` or ``csv`` bytes.

    JSON and CSV list every entry of the period, streamed from ``ledger`` (``data.entries``
    otherwise); CSV is the figures table, a blank line, then the entries table.
    """
    from .html import render_html
    from .pdf import render_pdf
    from .tabular import render_csv, render_json, render_md

    if fmt not in FORMATS:
        raise UsageError(f"unknown report format {fmt!r}; choose from {', '.join(FORMATS)}")
    if fmt == "pdf":
        return render_pdf(data)
    if fmt == "html":
        return render_html(data).encode("utf-8")
    if fmt == "md":
        return render_md(data).encode("utf-8")
    entries = iter_entry_lines(ledger, data, settings) if ledger is not None else None
    if fmt == "json":
        return render_json(data, entries).encode("utf-8")
    figures, lines = render_csv(data, entries)
    return (figures + "\n" + lines).encode("utf-8")
