"""The report's shared view: the same localised strings in the same order for HTML, PDF and
Markdown (:func:`view`), and its four charts (:func:`charts`)."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

from ..ledger.units import hours_to_print
from .i18n import DASH, Fmt
from .model import EntryLine, Figures, ReportData, Row

# -- the shared view -------------------------------------------------------------------------

def _period_text(data: ReportData, fmt: Fmt, period=None, fig: Figures | None = None) -> str:
    p = period or data.period
    if p.kind == "all":
        fig = fig or data.current
        if fig.first_day and fig.first_day == fig.last_day:
            return f"{fmt.t('all_time')} ({fmt.date(fig.first_day)})"
        if fig.first_day:
            return f"{fmt.t('all_time')} ({fmt.date(fig.first_day)} – {fmt.date(fig.last_day)})"
        return fmt.t("all_time")
    assert p.start is not None  # every period but "all" has a first day
    if p.kind == "quarter":
        return f"Q{(p.start.month - 1) // 3 + 1} {p.start.year}"
    if p.kind == "month":
        from babel.dates import format_date

        return format_date(p.start, "LLLL y", locale=fmt.locale)
    if p.kind == "year":
        return str(p.start.year)
    return f"{fmt.date(p.start)} – {fmt.date(p.end)}"


def _cause_label(fmt: Fmt, key: str) -> str:
    return fmt.t(f"cause_{key}") if f"cause_{key}" in fmt.strings else key


def _category_label(key: str, fmt: Fmt) -> str:
    if f"cat_{key}" in fmt.strings:
        return fmt.t(f"cat_{key}")
    return key


def _delta_pct(now: int | Decimal, before: int | Decimal) -> Decimal | None:
    return (Decimal(now) - Decimal(before)) / Decimal(before) if before else None


def _kpis(data: ReportData, fmt: Fmt) -> list[dict]:
    f, p = data.current, data.previous
    cmp_name = _period_text(data, fmt, data.compare, p) if data.compare else ""

    def vs(text: str) -> str:
        return fmt.t("vs_compare", delta=text, period=cmp_name) if p is not None else ""

    change = None if f.saving_pct is None else -f.saving_pct
    k = []
    note = (f"{fmt.money_whole(f.baseline)} → {fmt.money_whole(f.actual)}" if f.saving_pct is not None
            else fmt.t("no_baseline"))
    k.append({"label": fmt.t("kpi_cost_change"), "value": fmt.pct(change, signed=True) if change is not None else DASH,
              "note": note})
    snote = ""
    if p is not None:
        d = _delta_pct(f.saving, p.saving) if p.saving > 0 else None
        snote = (snote + " · " if snote else "") + vs(fmt.pct(d, signed=True))
    k.append({"label": fmt.t("kpi_saving"), "value": fmt.money_whole(f.saving) if f.saving_pct is not None else DASH,
              "note": snote})
    k.append({"label": fmt.t("kpi_ai_share"), "value": fmt.pct(f.ai_share),
              "note": fmt.money_whole(f.ai_saving) if f.ai_share is not None else ""})
    k.append({"label": fmt.t("kpi_hours"), "value": fmt.hours(f.hours_saved) if f.entries else DASH,
              "note": vs(fmt.pct(_delta_pct(f.hours_saved, p.hours_saved) if p and p.hours_saved > 0 else None,
                                 signed=True)) if p else ""})
    counted = fmt.t("kpi_assets_counted", n=fmt.number(f.assets_counted),
                    apart=fmt.number(f.assets - f.assets_counted)) if f.assets != f.assets_counted else ""
    assets_change = (vs(f"{fmt.signed_int(f.assets - p.assets)} "
                        f"({fmt.pct(_delta_pct(f.assets, p.assets), signed=True)})") if p else "")
    k.append({"label": fmt.t("kpi_assets"), "value": fmt.number(f.assets),
              "note": " · ".join(x for x in (counted, assets_change) if x)})
    k.append({"label": fmt.t("kpi_campaigns"), "value": fmt.number(f.campaigns),
              "note": vs(fmt.signed_int(f.campaigns - p.campaigns)) if p else ""})
    k.append({"label": fmt.t("kpi_turnaround"), "value": fmt.hours(f.turnaround_inhouse_hours),
              "note": fmt.t("turnaround_value", inhouse=fmt.hours(f.turnaround_inhouse_hours),
                            agency=fmt.days(f.turnaround_agency_days))})
    k.append({"label": fmt.t("kpi_baseline"), "value": fmt.money_whole(f.baseline) if f.baseline else DASH,
              "note": f"{fmt.t('kpi_actual')}: {fmt.money_whole(f.actual)}"})
    return k


def _headline(data: ReportData, fmt: Fmt) -> dict:
    f = data.current
    if not f.entries:
        return {"big": fmt.t("headline_empty"), "lines": [], "positive": False}
    m = data.methodology
    proofs = sum(p.assets for p in m.proofs)
    if f.saving_pct is None:
        lines = [fmt.t("headline_proofs", n=fmt.number(proofs))] if proofs else []
        return {"big": fmt.t("headline_no_baseline"), "lines": lines, "positive": False}
    named = [_card(fmt, c) for c in m.cards]
    cards = (named[0] if len(named) == 1 else fmt.t("headline_cards_none") if not named
             else fmt.t("headline_cards", n=len(named), cards="; ".join(named)))
    lines = []
    if f.run_baseline > 0:
        pct = f.run_saving / f.run_baseline
        key = "headline" if f.run_saving >= 0 else "headline_over"
        big = fmt.t(key, saving=fmt.money_whole(abs(f.run_saving)), cards=cards, n=fmt.number(f.run_deliverables),
                    pct=fmt.pct(abs(pct)), hours=fmt.hours(f.run_hours_saved))
        lines.append(fmt.t("headline_avoidance"))
    else:
        big = fmt.t("headline_manual_only")
    if proofs:
        lines.append(fmt.t("headline_proofs", n=fmt.number(proofs)))
    if f.manual_entries:
        lines.append(fmt.t("headline_manual", n=fmt.number(f.manual_entries), saving=fmt.money_whole(f.manual_saving)))
    if f.annual_saving is not None:
        lines.append(fmt.t("headline_annual", annual=fmt.money_short(f.annual_saving), days=fmt.number(f.days or 0)))
    if f.ai_share is not None:
        lines.append(fmt.t("headline_ai", pct=fmt.pct(f.ai_share)))
    p = data.previous
    if f.spend is not None:
        if p is not None and data.compare is not None and p.spend:
            lines.append(fmt.t("headline_spend_change", spend=fmt.money_whole(f.spend), n=fmt.number(f.invoices),
                               before=fmt.money_whole(p.spend), period=data.compare.label,
                               pct=fmt.pct((f.spend - p.spend) / p.spend, signed=True)))
        else:
            lines.append(fmt.t("headline_spend", spend=fmt.money_whole(f.spend), n=fmt.number(f.invoices)))
    if p is not None and data.compare is not None and p.months < f.months:
        def months(n: int) -> str:
            return fmt.t("months_one" if n == 1 else "months_many", n=fmt.number(n))

        lines.append(fmt.t("compare_less_data", period=data.compare.label, months=months(p.months),
                           current=months(f.months)))
    return {"big": big, "lines": lines, "positive": f.run_saving > 0}


#: The human-time table's row labels (HumanTimeUse.key → text).
_HUMAN_ROW = {"estimated": "col_estimated", "recorded": "col_recorded", "manual": "col_manual_time",
              "void": "col_void_time"}


def _at(fmt: Fmt, recorded: str | None) -> str:
    """A recorded UTC time as the locale writes the day (``Nov 27, 2026 16:10:00``, ``27.11.2026 16:10:00``)."""
    if not recorded:
        return DASH
    try:
        at = dt.datetime.fromisoformat(recorded.replace("Z", "+00:00"))
    except ValueError:
        return recorded
    return f"{fmt.date(at.date())} {at:%H:%M:%S}"


#: Applied items whose value is a plain number (printed in the locale's form).
_NUMERIC_APPLIED = ("internal_hourly_rate", "compute_rate_per_hour", "hardware_rate_per_hour", "human_minutes",
                    "brief_copy_minutes")


def _applied_value(fmt: Fmt, item: str, value: str, currency: str = "") -> str:
    """A rate as the entries recorded it, in the report's language: a rate per hour as money in
    the entries' currency (``€65.00 / h``), numbers in the locale's form, a deliverable role or
    copy source by its name there (other values — card lines — as recorded)."""
    if currency:
        from babel.numbers import format_currency

        try:
            return format_currency(Decimal(value), currency, locale=fmt.locale) + " / h"
        except ArithmeticError:
            return f"{value} {currency} / h"
    if item in _NUMERIC_APPLIED:
        try:
            return fmt.number(Decimal(value))
        except ArithmeticError:
            return value
    if item in ("role", "copy_source"):
        return fmt.strings.get(f"value_{value}", value)
    return value


def _per_hour(fmt: Fmt, rate: Decimal | None) -> str:
    return fmt.money(rate) + " / h" if rate is not None else DASH


def _card(fmt: Fmt, c) -> str:
    """'Harbour & Finch Creative, agency-2026 v1, Jan 1, 2026 – Dec 31, 2027' (dates in the locale's form)."""
    if c.agency is None:
        return f"{c.quote_id} v{c.version}"
    return f"{c.agency}, {c.quote_id} v{c.version}, {fmt.date(c.valid_from)} – {fmt.date(c.valid_to)}"


def _table(columns: list[str], numeric: list[bool], rows: list[list[str]], total: list[str] | None = None,
           note: str = "") -> dict:
    return {"columns": columns, "numeric": numeric, "rows": rows, "total": total, "note": note}


def _breakdown(rows: list[Row], fmt: Fmt, first: str, label=lambda r: r.label, total: Figures | None = None,
               limit: int | None = None) -> dict:
    cols = [first, fmt.t("col_baseline"), fmt.t("col_actual"), fmt.t("col_saving"), fmt.t("col_saving_pct"),
            fmt.t("col_share"), fmt.t("col_hours"), fmt.t("col_assets"), fmt.t("col_entries")]
    num = [False] + [True] * 8
    body = []
    shown = rows if limit is None else rows[:limit]
    for r in shown:
        nb = r.saving_pct is None and r.baseline == 0
        gone = fmt.t("voided_row") if r.voided else fmt.t("no_baseline")
        body.append([label(r), fmt.money(r.baseline) if not nb else gone, fmt.money(r.actual),
                     fmt.money(r.saving) if not nb else DASH, fmt.pct(r.saving_pct, fixed=True),
                     fmt.pct(r.share, fixed=True),
                     fmt.number(r.hours_saved, 1), fmt.number(r.assets), fmt.number(r.entries)])
    tot = None
    if total is not None and rows:
        tot = [fmt.t("total"), fmt.money(total.baseline), fmt.money(total.actual),
               fmt.money(total.saving) if total.saving_pct is not None else DASH,
               fmt.pct(total.saving_pct, fixed=True), fmt.pct(Decimal(1), fixed=True) if total.saving > 0 else DASH,
               fmt.number(total.hours_saved, 1),
               fmt.number(sum(r.assets for r in rows)), fmt.number(sum(r.entries for r in rows))]
    note = ""
    if limit is not None and len(rows) > limit:
        note = f"{limit} / {len(rows)}"
    return _table(cols, num, body, tot, note)


def _entries_table(entries: list[EntryLine], total: int, fmt: Fmt) -> dict:
    cols = [fmt.t("col_id"), fmt.t("col_run"), fmt.t("col_date"), fmt.t("campaign"), fmt.t("col_category"),
            fmt.t("col_cause"), fmt.t("col_baseline"), fmt.t("col_actual"), fmt.t("col_saving"), fmt.t("col_rate_card")]
    num = [True, False, False, False, False, False, True, True, True, False]
    rows = [[e.entry_id, e.run_id or DASH, fmt.date(e.day), e.campaign or DASH, _category_label(e.category, fmt),
             _cause_label(fmt, e.cause.split(" ")[0]) + (" (void)" if e.cause.endswith("(void)") else ""),
             fmt.money(e.baseline) if e.baseline is not None else fmt.t("no_baseline"), fmt.money(e.actual),
             fmt.money(e.saving), e.rate_card or DASH] for e in entries]
    note = (fmt.t("appendix_truncated", shown=fmt.number(len(entries)), total=fmt.number(total))
            if total > len(entries) else "")
    return _table(cols, num, rows, None, note)


def view(data: ReportData, fmt: Fmt, charts: dict | None = None) -> dict:
    """Everything the human formats print, as localised strings (not yet escaped)."""
    f = data.current
    t = fmt.strings | {k: v for k, v in fmt.strings.items()}
    if f.entries and f.unbaselined_entries >= f.entries - f.invoices:  # entries, none of them counted
        t["empty_table"] = fmt.t("empty_table_uncounted")
        t["empty_chart"] = fmt.t("empty_chart_uncounted")  # no table to see either
    meta = [(fmt.t("period"), _period_text(data, fmt))]
    if data.compare is not None:
        meta.append((fmt.t("compare_period"), _period_text(data, fmt, data.compare, data.previous)))
    meta.append((fmt.t("brand"), data.brand or fmt.t("all")))
    meta.append((fmt.t("campaign"), data.campaign or fmt.t("all")))
    meta.append((fmt.t("currency"), data.currency))
    meta.append((fmt.t("generated"), fmt.date(data.generated_on)))
    if data.as_of_entry:
        meta.append((fmt.t("as_of_label"), fmt.t("as_of", entry=data.as_of_entry, at=_at(fmt, data.as_of_recorded))))
    m = data.methodology
    tables = {
        "month": _breakdown(data.by_month, fmt, fmt.t("col_month"),
                            lambda r: fmt.month(dt.date.fromisoformat(r.key + "-01")), f),
        "category": _breakdown(data.by_category, fmt, fmt.t("col_category"), lambda r: _category_label(r.key, fmt), f),
        "cause": _breakdown(data.by_cause, fmt, fmt.t("col_cause"), lambda r: _cause_label(fmt, r.key), f),
        "campaign": _breakdown(data.by_campaign, fmt, fmt.t("campaign"), total=f, limit=25),
        "brand": _breakdown(data.by_brand, fmt, fmt.t("brand"), total=f),
        "structure": _table([fmt.t("col_item"), fmt.t("col_amount"), fmt.t("col_share")], [False, True, True],
                            [[fmt.t(c.key), fmt.money(c.amount), fmt.pct(c.share)] for c in data.cost_structure],
                            [fmt.t("total"), fmt.money(f.actual), fmt.pct(Decimal(1)) if f.actual > 0 else DASH]
                            if data.cost_structure else None),
        "rate_cards": _table([fmt.t("col_rate_card"), fmt.t("col_category"), fmt.t("col_valid_from"),
                              fmt.t("col_entries"), fmt.t("col_baseline")], [False, False, False, True, True],
                             [[r.name, _category_label(r.category, fmt), fmt.date(r.dated), fmt.number(r.entries),
                               fmt.money(r.baseline)] for r in m.rate_cards]),
        "compute": _table([fmt.t("col_item"), fmt.t("col_rate"), fmt.t("col_entries"),
                           fmt.t("col_hours_spent"), fmt.t("col_amount")], [False, True, True, True, True],
                          [[c.device or DASH, _per_hour(fmt, c.rate), fmt.number(c.entries), fmt.hours(c.hours),
                            fmt.money(c.cost)] for c in m.compute_rates],
                          [fmt.t("total"), "", fmt.number(sum(c.entries for c in m.compute_rates)),
                           fmt.hours(hours_to_print(sum(c.ms for c in m.compute_rates))),
                           fmt.money(sum((c.cost for c in m.compute_rates), Decimal(0)))]
                          if m.compute_rates else None),
        "human": _table([fmt.t("col_item"), fmt.t("col_rate"), fmt.t("col_entries"), fmt.t("col_hours_spent"),
                         fmt.t("col_amount")], [False, True, True, True, True],
                        [[fmt.t(_HUMAN_ROW[h.key]), _per_hour(fmt, h.rate), fmt.number(h.entries), fmt.hours(h.hours),
                          fmt.money(h.cost)] for h in m.human_time]
                        + ([[fmt.t("col_review_app").format(recorded=fmt.number(m.review_minutes_recorded),
                                                           estimated=fmt.number(m.review_minutes_estimated),
                                                           rejected=fmt.number(m.review_rejected)),
                             "", fmt.number(m.review_assets), DASH, DASH]] if m.review_assets else []),
                        [fmt.t("total"), "", fmt.number(sum(h.entries for h in m.human_time)),
                         fmt.hours(hours_to_print(sum(h.ms for h in m.human_time))),
                         fmt.money(sum((h.cost for h in m.human_time), Decimal(0)))],
                        fmt.t("human_not_counted", n=fmt.number(m.not_counted_entries),
                              hours=fmt.hours(m.not_counted_hours), cost=fmt.money(f.unbaselined_cost))
                        if m.not_counted_entries else ""),
        "fx": _table([fmt.t("currency"), fmt.t("col_rate"), fmt.t("col_valid_from"), fmt.t("col_entries")],
                     [False, True, False, True],
                     [[x.currency, fmt.number(Decimal(x.rate).quantize(Decimal("0.000001")).normalize()),
                       fmt.date(x.dated), fmt.number(x.entries)] for x in m.fx]),
        "missing": _table([fmt.t("col_run"), fmt.t("col_id"), fmt.t("col_date"), fmt.t("campaign"),
                           fmt.t("col_actual"), fmt.t("col_cause")], [False, True, False, False, True, False],
                          [[x.run_id or DASH, x.entry_id, fmt.date(x.day), x.campaign or DASH, fmt.money(x.cost),
                            x.reason or DASH] for x in m.missing_baseline],
                          ([fmt.t("total"), "", "", "", fmt.money(f.unbaselined_cost), ""]
                           if m.missing_baseline else None),
                          ""),
        "entries": _entries_table(data.entries, data.entries_total, fmt),
        "manual": _table([fmt.t("col_id"), fmt.t("col_date"), fmt.t("col_category"), fmt.t("col_description"),
                          fmt.t("col_evidence"), fmt.t("col_baseline"), fmt.t("col_actual"), fmt.t("col_saving"),
                          fmt.t("col_hours")], [True, False, False, False, False, True, True, True, True],
                         [[x.entry_id, fmt.date(x.day), _category_label(x.category, fmt),
                           x.description + (f" ({x.campaign})" if x.campaign else ""), x.evidence or DASH,
                           fmt.money(x.baseline), fmt.money(x.actual), fmt.money(x.saving),
                           fmt.number(x.hours_saved, 1)] for x in data.manual],
                         [fmt.t("total"), "", "", "", "", fmt.money(sum((x.baseline for x in data.manual), Decimal(0))),
                          fmt.money(sum((x.actual for x in data.manual), Decimal(0))), fmt.money(f.manual_saving),
                          fmt.number(sum((x.hours_saved for x in data.manual), Decimal(0)), 1)]
                         if data.manual else None, fmt.t("manual_note")),
    }
    notes = list(m.notes) + [fmt.t("method_rounding"), fmt.t("method_roles")]
    if f.assets:
        notes.append(fmt.t("method_assets", n=fmt.number(f.assets_counted), total=fmt.number(f.assets)))
    if f.turnaround_inhouse_hours is not None:
        notes.append(fmt.t("method_turnaround", runs=fmt.number(f.turnaround_runs)))
    if m.proofs:
        notes.append(fmt.t("method_proofs", list="; ".join(
            f"{p.campaign or DASH}: {fmt.number(p.assets)} ({p.generator}, "
            f"{fmt.t('runs_one' if p.runs == 1 else 'runs_many', n=fmt.number(p.runs))})"
            for p in m.proofs)))
    tables["sensitivity"] = _table(
        [fmt.t("col_minutes")] + [fmt.t("col_rate_factor", pct=fmt.pct(r - 1, signed=True) if r != 1 else "±0 %")
                                  for r in (Decimal("0.75"), Decimal(1), Decimal("1.25"))],
        [False, True, True, True],
        [[fmt.t("minutes_factor", k=fmt.number(k), minutes=fmt.number((f.minutes_per_deliverable or 0) * k))]
         + [fmt.money_whole(s) for kk, _r, s in f.sensitivity if kk == k]
         for k in sorted({k for k, _r, _s in f.sensitivity})])
    if m.licence_exceptions:
        notes.append(fmt.t("method_licence_exceptions", list="; ".join(
            f"{what} — {fmt.number(n)}" for what, n in m.licence_exceptions)))
    for c in m.closes:
        notes.append(fmt.t("method_closed", period=c.period, at=c.closed_at.replace("T", " ").rstrip("Z"), who=c.who,
                           entry=c.last_entry_id, n=fmt.number(c.restatements), saving=fmt.money(c.restated_saving)))
    for period, (n, saving) in sorted(m.restated.items()):
        notes.append(fmt.t("method_restated", period=period, n=fmt.number(n), saving=fmt.money(saving)))
    if f.breakeven_minutes is not None:
        notes.append(fmt.t("method_breakeven", minutes=fmt.number(f.breakeven_minutes),
                           now=fmt.number(f.minutes_per_deliverable or 0)))
    tables["applied"] = _table([fmt.t("col_item"), fmt.t("col_value"), fmt.t("col_entries")], [False, False, True],
                               [[fmt.t("applied_" + a.item), _applied_value(fmt, a.item, a.value, a.currency),
                                 fmt.number(a.entries)] for a in m.applied])
    footer = (f"assetkit · {data.ledger_path} · {fmt.t('period')} {data.period.label}"
              + (f" · {fmt.t('compare_period')} {data.compare.label}" if data.compare else ""))
    return {
        "lang": fmt.lang, "t": t, "title": fmt.t("title"), "subtitle": fmt.t("subtitle"),
        "period_text": _period_text(data, fmt), "meta": meta, "headline": _headline(data, fmt),
        "kpis": _kpis(data, fmt), "tables": tables, "charts": charts or {},
        "thumbnails": [{"campaign": th.campaign, "name": th.path, "data_uri": th.data_uri, "width": th.width,
                        "height": th.height} for th in data.thumbnails],
        "notes": notes, "fx_none": fmt.t("method_fx_none", currency=data.currency), "footer": footer,
    }


# -- charts --------------------------------------------------------------------------------

def charts(data: ReportData, fmt: Fmt, text: str = "none") -> dict[str, str]:
    """The four charts as SVG text (``text='path'`` for PDF embedding)."""
    from . import charts as ch

    cur = data.currency
    months = [fmt.month(dt.date.fromisoformat(r.key + "-01")) for r in data.by_month]
    month = ch.grouped_bars(
        fmt.t("chart_month_title"), months,
        [ch.Series(fmt.t("baseline_series"), [float(r.baseline) for r in data.by_month], ch.BASELINE),
         ch.Series(fmt.t("actual_series"), [float(r.actual) for r in data.by_month], ch.ACTUAL)],
        fmt.t("chart_month_x"), fmt.t("chart_cost_y", currency=cur), "month", text,
        line=ch.Series(fmt.t("saving_series"), [float(r.saving) for r in data.by_month], "#f59e0b"))
    cats = [r for r in data.by_category if r.baseline or r.actual]
    category = ch.hbars(fmt.t("chart_category_title"), [_category_label(r.key, fmt) for r in cats],
                        [float(r.saving) for r in cats], fmt.t("chart_saving_x", currency=cur), "category", text,
                        [fmt.money_short(r.saving) for r in cats])
    structure = ch.stacked_share(fmt.t("chart_structure_title"), [fmt.t(c.key) for c in data.cost_structure],
                                 [float(c.amount) for c in data.cost_structure], fmt.t("chart_share_x"),
                                 "structure", text,
                                 [fmt.money_whole(c.amount) for c in data.cost_structure],
                                 lambda share: fmt.pct(Decimal(repr(share)).quantize(Decimal("0.01"))))
    top = [r for r in data.by_campaign if r.baseline or r.actual][:10]
    campaign = ch.hbars(fmt.t("chart_campaign_title"), [r.label for r in top], [float(r.saving) for r in top],
                        fmt.t("chart_saving_x", currency=cur), "campaign", text,
                        [fmt.money_short(r.saving) for r in top])
    out = {"month": month, "category": category, "structure": structure, "campaign": campaign}
    plotted = {"month": [r.baseline or r.actual or r.saving for r in data.by_month],
               "category": [r.saving for r in cats], "structure": [c.amount for c in data.cost_structure],
               "campaign": [r.saving for r in top]}
    # a chart of zeros is an empty frame with a lone marker: the report says so in a line instead
    return {k: svg if any(plotted[k]) else "" for k, svg in out.items()}
