"""The savings report as data: every figure it prints, in Decimal, with what it was summed over.

:class:`ReportData` is filled from the ledger by :func:`assetkit.report.build_report` and
rendered by :mod:`assetkit.report` (HTML, PDF, Markdown, CSV, JSON). Renderers only format;
they never compute a figure, so every number in every format is the same number.
"""
from __future__ import annotations

import calendar
import datetime as dt
import re
from dataclasses import dataclass, field
from decimal import Decimal

from ..errors import UsageError


@dataclass(frozen=True)
class Period:
    """Inclusive date range; ``start``/``end`` None means open (all time)."""

    label: str  # machine label: 2026-Q2, 2026-05, 2026, 2026-04-01..2026-06-30, all
    kind: str  # quarter | month | year | range | all
    start: dt.date | None
    end: dt.date | None

    def days(self) -> int | None:
        if self.start is None or self.end is None:
            return None
        return (self.end - self.start).days + 1

    def contains(self, day: dt.date) -> bool:
        return (self.start is None or day >= self.start) and (self.end is None or day <= self.end)

    def previous(self) -> Period:
        """The period just before: previous quarter/month/year, or a same-length range."""
        if self.kind == "all":
            raise UsageError("--compare-to previous needs a --period or --from/--to (all time has no previous)")
        assert self.start is not None and self.end is not None
        if self.kind == "quarter":
            y, q = self.start.year, (self.start.month - 1) // 3 + 1
            y, q = (y - 1, 4) if q == 1 else (y, q - 1)
            return parse_period(f"{y}-Q{q}")
        if self.kind == "month":
            y, m = self.start.year, self.start.month
            y, m = (y - 1, 12) if m == 1 else (y, m - 1)
            return parse_period(f"{y}-{m:02d}")
        if self.kind == "year":
            return parse_period(str(self.start.year - 1))
        n = self.days() or 1
        end = self.start - dt.timedelta(days=1)
        return range_period(end - dt.timedelta(days=n - 1), end)

    def year_ago(self) -> Period:
        if self.kind == "all":
            raise UsageError("--compare-to previous-year needs a --period or --from/--to")
        assert self.start is not None and self.end is not None
        if self.kind in ("quarter", "month", "year"):
            label = re.sub(r"^\d{4}", str(self.start.year - 1), self.label)
            return parse_period(label)
        return range_period(_minus_year(self.start), _minus_year(self.end))


ALL_TIME = Period("all", "all", None, None)


def _minus_year(d: dt.date) -> dt.date:
    try:
        return d.replace(year=d.year - 1)
    except ValueError:  # 29 February
        return d.replace(year=d.year - 1, day=28)


def range_period(start: dt.date, end: dt.date, option: str | None = None) -> Period:
    """The days ``start``…``end`` (inclusive); ``option``: the option that gave both as A..B."""
    if end < start:
        if option:
            raise UsageError(f"{option}: {start.isoformat()}..{end.isoformat()} ends before it starts; "
                             f"give the earlier day first ({end.isoformat()}..{start.isoformat()})")
        raise UsageError(f"--to {end.isoformat()} is before --from {start.isoformat()}")
    return Period(f"{start.isoformat()}..{end.isoformat()}", "range", start, end)


def parse_date(value: str, option: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise UsageError(f"{option}: {value!r} is not a date like 2026-04-01") from None


def parse_period(value: str, option: str = "--period") -> Period:
    """``2026-Q2``, ``2026-05``, ``2026``, ``2026-04-01..2026-06-30`` or ``all`` → Period."""
    v = value.strip()
    if v.lower() in ("all", "all-time"):
        return ALL_TIME
    if m := re.fullmatch(r"(\d{4})-?[Qq]([1-4])", v):
        y, q = int(m[1]), int(m[2])
        start = dt.date(y, 3 * q - 2, 1)
        end = dt.date(y, 3 * q, calendar.monthrange(y, 3 * q)[1])
        return Period(f"{y}-Q{q}", "quarter", start, end)
    if m := re.fullmatch(r"(\d{4})-(\d{2})", v):
        y, mo = int(m[1]), int(m[2])
        if 1 <= mo <= 12:
            return Period(f"{y}-{mo:02d}", "month", dt.date(y, mo, 1),
                          dt.date(y, mo, calendar.monthrange(y, mo)[1]))
    if m := re.fullmatch(r"(\d{4})", v):
        y = int(m[1])
        return Period(str(y), "year", dt.date(y, 1, 1), dt.date(y, 12, 31))
    if ".." in v:
        a, b = v.split("..", 1)
        return range_period(parse_date(a, option), parse_date(b, option), option)
    raise UsageError(f"{option}: {value!r} is not a period; use 2026-Q2, 2026-05, 2026, "
                     f"2026-04-01..2026-06-30 or all")


def compare_period(value: str, current: Period) -> Period:
    """``previous``, ``previous-year`` or an explicit period for ``--compare-to``."""
    v = value.strip().lower()
    if v in ("previous", "prev", "previous-period"):
        return current.previous()
    if v in ("previous-year", "year-ago", "yoy"):
        return current.year_ago()
    return parse_period(value, "--compare-to")


@dataclass
class Figures:
    """Headline figures of one period (all money in the report currency)."""

    entries: int = 0
    runs: int = 0
    baseline: Decimal = Decimal(0)  # agency quote / rate card for entries that have one
    actual: Decimal = Decimal(0)  # in-house cost of those same entries
    saving: Decimal = Decimal(0)  # baseline − actual
    saving_pct: Decimal | None = None  # saving / baseline; None without a baseline
    ai_saving: Decimal = Decimal(0)
    ai_share: Decimal | None = None  # ai_saving / saving; None when saving ≤ 0
    hours_saved: Decimal = Decimal(0)
    assets: int = 0
    assets_counted: int = 0  # of ``assets``: those with a baseline (in the tables)
    campaigns: int = 0
    turnaround_agency_days: Decimal | None = None  # median over entries that have one
    turnaround_runs: int = 0  # the runs both turnaround medians are over (those with a baseline)
    turnaround_inhouse_hours: Decimal | None = None
    unbaselined_entries: int = 0
    unbaselined_cost: Decimal = Decimal(0)  # in-house cost of entries without a baseline
    days: int | None = None  # days the period covers (for annualising)
    annual_saving: Decimal | None = None  # run saving (manual entries excluded) × 365 ÷ days, quarters and longer
    run_baseline: Decimal = Decimal(0)  # the headline: runs' deliverables (AI generation + translation)
    run_saving: Decimal = Decimal(0)
    run_deliverables: int = 0  # deliverables with a baseline (manual entries excluded)
    run_hours_saved: Decimal = Decimal(0)
    manual_saving: Decimal = Decimal(0)  # manual entries: their own section, never the headline
    manual_entries: int = 0
    months: int = 0  # calendar months that hold entries
    invoices: int = 0  # agency invoices in the period (``ledger invoice``; voids subtract)
    spend: Decimal | None = None  # measured agency spend they add up to (None: no invoice recorded)
    #: the run saving if the estimated human minutes were ½×, 1×, 2×, 4× and the internal rate
    #: −25 %, as set, +25 %: (minutes factor, rate factor, saving)
    sensitivity: list[tuple[Decimal, Decimal, Decimal]] = field(default_factory=list)
    minutes_per_deliverable: Decimal | None = None  # estimated, baselined run deliverables
    breakeven_minutes: Decimal | None = None  # estimated minutes per deliverable at which the saving is 0
    first_day: dt.date | None = None
    last_day: dt.date | None = None


@dataclass
class Row:
    """One line of a breakdown table (category, campaign, brand, month or cause)."""

    key: str
    label: str
    baseline: Decimal = Decimal(0)
    actual: Decimal = Decimal(0)
    saving: Decimal = Decimal(0)
    saving_pct: Decimal | None = None
    hours_saved: Decimal = Decimal(0)
    assets: int = 0
    entries: int = 0
    share: Decimal | None = None  # of the period's saving
    voids: int = 0  # of ``entries``: voids of entries in this row

    @property
    def voided(self) -> bool:
        """Every entry here is a voided one or its void: nothing is left of them."""
        return bool(self.entries) and self.entries == 2 * self.voids and not (self.baseline or self.actual
                                                                               or self.assets)


@dataclass
class CostItem:
    key: str  # compute | human | tools
    amount: Decimal
    share: Decimal | None


@dataclass
class Thumbnail:
    campaign: str
    path: str
    jpeg: bytes = field(repr=False)
    width: int = 0
    height: int = 0

    @property
    def data_uri(self) -> str:
        import base64

        return "data:image/jpeg;base64," + base64.b64encode(self.jpeg).decode("ascii")


@dataclass
class RateCardUse:
    name: str
    category: str
    dated: dt.date | None
    entries: int
    baseline: Decimal


@dataclass
class CardVersion:
    """A rate card version the period's entries were priced with (agency and validity when imported)."""
    quote_id: str
    version: int
    agency: str | None = None
    valid_from: dt.date | None = None
    valid_to: dt.date | None = None


@dataclass
class ComputeRateUse:
    """Compute of the period's counted entries on one device at one compute rate applied."""
    device: str  # '' when the entries recorded none
    rate: Decimal | None  # per hour, report currency, as the entries applied it; None when they recorded none
    hours: Decimal
    cost: Decimal  # the entries' compute cost (what the rate came to, each entry rounded to the micro)
    entries: int = 0
    ms: int = 0


@dataclass
class HumanTimeUse:
    """In-house time of the period's counted entries of one kind at one internal hourly rate applied."""
    key: str  # estimated | recorded (review time, as a change) | manual (booked by hand) | void
    rate: Decimal | None  # per hour, report currency; None when the entries recorded none
    entries: int = 0
    hours: Decimal = Decimal(0)
    cost: Decimal = Decimal(0)
    ms: int = 0


@dataclass
class FxUse:
    currency: str
    rate: Decimal  # 1 unit of ``currency`` in report currency (latest used)
    dated: dt.date | None
    entries: int


@dataclass
class MissingBaseline:
    run_id: str
    entry_id: str
    day: dt.date
    brand: str
    campaign: str
    cost: Decimal
    reason: str


@dataclass
class EntryLine:
    """One ledger entry as finance traces it (amounts converted to the report currency)."""

    entry_id: str
    run_id: str
    day: dt.date
    brand: str
    campaign: str
    category: str
    cause: str
    source_currency: str
    baseline: Decimal | None
    compute: Decimal
    human: Decimal
    tools: Decimal
    actual: Decimal
    saving: Decimal | None
    hours_saved: Decimal | None  # exact (from integer ms); None without a baseline, as ``saving``
    assets: int
    rate_card: str
    card_currency: str = ""  # the card's currency and the baseline in it, as priced (before FX)
    card_amount: Decimal | None = None
    fx_rate: str = ""  # card currency → entry currency, as applied ('' when none was needed)


@dataclass
class ManualLine:
    """A manual entry (``assetkit ledger add``): its own section, never in the generation headline."""

    entry_id: str
    day: dt.date
    category: str
    description: str
    campaign: str
    evidence: str  # "source: …; approved by: …" as recorded
    baseline: Decimal
    actual: Decimal
    saving: Decimal
    hours_saved: Decimal
    voided: bool


@dataclass
class AppliedRate:
    """A rate as entries recorded it when they were priced, and how many entries used it."""

    item: str  # card | internal_hourly_rate | compute_rate_per_hour | human_minutes | copy_source | role
    value: str
    entries: int
    currency: str = ""  # a rate per hour's currency (the entries'); '' for other items


@dataclass
class Proofs:
    campaign: str
    generator: str
    runs: int
    assets: int


@dataclass
class CloseNote:
    """A closed period the report covers, and what was booked against it after the close."""

    period: str
    closed_at: str
    who: str
    last_entry_id: int
    restatements: int
    restated_saving: Decimal


@dataclass
class Methodology:
    rate_cards: list[RateCardUse] = field(default_factory=list)
    compute_rates: list[ComputeRateUse] = field(default_factory=list)
    human_recorded_hours: Decimal = Decimal(0)
    human_estimated_hours: Decimal = Decimal(0)
    human_recorded_entries: int = 0
    human_estimated_entries: int = 0
    # the review app (assetkit review): deliverables reviewed, browser-measured vs estimated review minutes
    review_assets: int = 0
    review_minutes_recorded: Decimal = Decimal(0)
    review_minutes_estimated: Decimal = Decimal(0)
    review_rejected: int = 0
    human_time: list[HumanTimeUse] = field(default_factory=list)
    #: entries without a baseline (draft proofs, no valid quote): in no table; their in-house time
    #: summed here (their cost is Figures.unbaselined_cost)
    not_counted_entries: int = 0
    not_counted_hours: Decimal = Decimal(0)
    fx: list[FxUse] = field(default_factory=list)
    missing_baseline: list[MissingBaseline] = field(default_factory=list)
    applied: list[AppliedRate] = field(default_factory=list)
    cards: list[CardVersion] = field(default_factory=list)  # the card versions applied
    proofs: list[Proofs] = field(default_factory=list)
    #: model-licence exceptions (``allow_models:``) the period's assets were made under: (what, entries)
    licence_exceptions: list[tuple[str, int]] = field(default_factory=list)
    closes: list[CloseNote] = field(default_factory=list)
    restated: dict[str, list] = field(default_factory=dict)  # closed period → [entries, saving] booked in this one
    notes: list[str] = field(default_factory=list)


@dataclass
class ReportData:
    """Everything the savings report prints; filled from the ledger, rendered by report.py."""

    period: Period
    currency: str
    locale: str
    current: Figures
    compare: Period | None = None
    previous: Figures | None = None
    brand: str | None = None
    campaign: str | None = None
    generated_on: dt.date | None = None
    ledger_path: str = ""
    as_of_entry: int | None = None  # the last entry the report read, and when it was recorded
    as_of_recorded: str | None = None
    by_category: list[Row] = field(default_factory=list)
    by_campaign: list[Row] = field(default_factory=list)
    by_brand: list[Row] = field(default_factory=list)
    by_month: list[Row] = field(default_factory=list)
    by_cause: list[Row] = field(default_factory=list)
    cost_structure: list[CostItem] = field(default_factory=list)
    thumbnails: list[Thumbnail] = field(default_factory=list)
    methodology: Methodology = field(default_factory=Methodology)
    manual: list[ManualLine] = field(default_factory=list)  # the period's manual entries (their own section)
    entries: list[EntryLine] = field(default_factory=list)  # first ``entries_limit``
    entries_total: int = 0
