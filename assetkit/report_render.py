"""Render a ReportData: HTML (Jinja2, autoescaped, inline SVG), PDF (fpdf2), Markdown, CSV, JSON.

All human formats share one *view* (:func:`view`): the same localised strings in the same
order, so HTML, PDF and Markdown say the same thing.
"""
from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
from decimal import Decimal
from pathlib import Path
from typing import Iterable

from .money import round_minor
from .report_i18n import DASH, Fmt
from .report_model import EntryLine, Figures, ReportData, Row

FONT_DIR = Path(__file__).parent / "fonts"
TEMPLATE_DIR = Path(__file__).parent / "templates"


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
    note = f"{fmt.money_whole(f.baseline)} → {fmt.money_whole(f.actual)}" if f.saving_pct is not None else fmt.t("no_baseline")
    k.append({"label": fmt.t("kpi_cost_change"), "value": fmt.pct(change, signed=True) if change is not None else DASH,
              "note": note})
    snote = ""
    if f.annual_saving is not None:
        snote = fmt.t("per_year", annual=fmt.money_short(f.annual_saving))
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
    k.append({"label": fmt.t("kpi_assets"), "value": fmt.number(f.assets),
              "note": vs(f"{fmt.signed_int(f.assets - p.assets)} ({fmt.pct(_delta_pct(f.assets, p.assets), signed=True)})") if p else ""})
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
    if f.saving_pct is None:
        lines = [fmt.t("headline_period", saving=DASH).replace(DASH, fmt.t("no_baseline"), 1)] if False else []
        return {"big": fmt.t("headline_no_baseline"), "lines": lines, "positive": False}
    pct = fmt.pct(abs(f.saving_pct))
    if f.annual_saving is not None:
        big = fmt.t("headline", pct=pct, annual=fmt.money_short(f.annual_saving))
    else:
        big = fmt.t("headline_short", pct=pct)
    if f.saving_pct < 0:  # costs went up: say so plainly
        big = big.replace("down", "up").replace("niedriger", "höher")
    lines = [fmt.t("headline_period", saving=fmt.money_whole(f.saving))]
    if f.ai_share is not None:
        lines.append(fmt.t("headline_ai", pct=fmt.pct(f.ai_share)))
    return {"big": big, "lines": lines, "positive": f.saving_pct > 0}


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
        body.append([label(r), fmt.money(r.baseline) if not nb else fmt.t("no_baseline"), fmt.money(r.actual),
                     fmt.money(r.saving) if not nb else DASH, fmt.pct(r.saving_pct, fixed=True),
                     fmt.pct(r.share, fixed=True),
                     fmt.number(r.hours_saved, 1), fmt.number(r.assets), fmt.number(r.entries)])
    tot = None
    if total is not None and rows:
        tot = [fmt.t("total"), fmt.money(total.baseline), fmt.money(total.actual),
               fmt.money(total.saving) if total.saving_pct is not None else DASH,
               fmt.pct(total.saving_pct, fixed=True), fmt.pct(Decimal(1), fixed=True) if total.saving > 0 else DASH, fmt.number(total.hours_saved, 1),
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
    note = fmt.t("appendix_truncated", shown=fmt.number(len(entries)), total=fmt.number(total)) if total > len(entries) else ""
    return _table(cols, num, rows, None, note)


def view(data: ReportData, fmt: Fmt, charts: dict | None = None) -> dict:
    """Everything the human formats print, as localised strings (not yet escaped)."""
    f = data.current
    t = fmt.strings | {k: v for k, v in fmt.strings.items()}
    meta = [(fmt.t("period"), _period_text(data, fmt))]
    if data.compare is not None:
        meta.append((fmt.t("compare_period"), _period_text(data, fmt, data.compare, data.previous)))
    meta.append((fmt.t("brand"), data.brand or fmt.t("all")))
    meta.append((fmt.t("campaign"), data.campaign or fmt.t("all")))
    meta.append((fmt.t("currency"), data.currency))
    meta.append((fmt.t("generated"), fmt.date(data.generated_on)))
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
        "compute": _table([fmt.t("col_item"), fmt.t("col_rate"), fmt.t("col_hours").split(" ")[0], fmt.t("col_amount")],
                          [False, True, True, True],
                          [[c.device, (fmt.money(c.rate) + " / h") if c.rate is not None else DASH,
                            fmt.hours(c.hours), DASH] for c in m.compute_rates],
                          [fmt.t("total"), "", fmt.hours(sum((c.hours for c in m.compute_rates), Decimal(0))),
                           fmt.money(next((c.amount for c in data.cost_structure if c.key == "compute"), None))]
                          if m.compute_rates else None),
        "human": _table([fmt.t("col_item"), fmt.t("col_entries"), fmt.t("col_hours").split(" ")[0]],
                        [False, True, True],
                        [[fmt.t("col_estimated"), fmt.number(m.human_estimated_entries), fmt.hours(m.human_estimated_hours)],
                         [fmt.t("col_recorded"), fmt.number(m.human_recorded_entries), fmt.hours(m.human_recorded_hours)]]
                        + ([[fmt.t("col_rate"), "", fmt.money(m.hourly_rate) + " / h"]] if m.hourly_rate is not None else []),
                        [fmt.t("total"), "", fmt.hours(m.human_estimated_hours + m.human_recorded_hours)]),
        "fx": _table([fmt.t("currency"), fmt.t("col_rate"), fmt.t("col_valid_from"), fmt.t("col_entries")],
                     [False, True, False, True],
                     [[x.currency, fmt.number(x.rate), fmt.date(x.dated), fmt.number(x.entries)] for x in m.fx]),
        "missing": _table([fmt.t("col_run"), fmt.t("col_id"), fmt.t("col_date"), fmt.t("campaign"),
                           fmt.t("col_actual"), fmt.t("col_cause")], [False, True, False, False, True, False],
                          [[x.run_id or DASH, x.entry_id, fmt.date(x.day), x.campaign or DASH, fmt.money(x.cost),
                            x.reason or DASH] for x in m.missing_baseline],
                          [fmt.t("total"), "", "", "", fmt.money(f.unbaselined_cost), ""] if m.missing_baseline else None,
                          ""),
        "entries": _entries_table(data.entries, data.entries_total, fmt),
    }
    notes = list(m.notes)
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
                                 [float(c.amount) for c in data.cost_structure], fmt.t("chart_share_x"), "structure", text,
                                 [fmt.money_whole(c.amount) for c in data.cost_structure])
    top = [r for r in data.by_campaign if r.baseline or r.actual][:10]
    campaign = ch.hbars(fmt.t("chart_campaign_title"), [r.label for r in top], [float(r.saving) for r in top],
                        fmt.t("chart_saving_x", currency=cur), "campaign", text,
                        [fmt.money_short(r.saving) for r in top])
    return {"month": month, "category": category, "structure": structure, "campaign": campaign}


# -- HTML ------------------------------------------------------------------------------------

def render_html(data: ReportData) -> str:
    """One self-contained HTML file: inline CSS and SVG, images as data URIs, no external URL."""
    from jinja2 import Environment, FileSystemLoader, select_autoescape

    fmt = Fmt(data.locale, data.currency)
    env = Environment(loader=FileSystemLoader(str(TEMPLATE_DIR)), autoescape=select_autoescape(["j2", "html"]),
                      trim_blocks=True, lstrip_blocks=True)
    return env.get_template("report.html.j2").render(v=view(data, fmt, charts(data, fmt, "none")))


# -- Markdown --------------------------------------------------------------------------------

def _md_cell(text: str) -> str:
    from html import escape

    return escape(str(text), quote=False).replace("|", "\\|").replace("\n", " ")


def _md_table(tb: dict, empty: str) -> str:
    if not tb["rows"]:
        return f"_{empty}_\n"
    lines = ["| " + " | ".join(_md_cell(c) for c in tb["columns"]) + " |",
             "|" + "|".join("---:" if n else "---" for n in tb["numeric"]) + "|"]
    for r in tb["rows"]:
        lines.append("| " + " | ".join(_md_cell(c) for c in r) + " |")
    if tb["total"]:
        lines.append("| " + " | ".join(f"**{_md_cell(c)}**" if c else "" for c in tb["total"]) + " |")
    out = "\n".join(lines) + "\n"
    if tb["note"]:
        out += f"\n_{_md_cell(tb['note'])}_\n"
    return out


def render_md(data: ReportData) -> str:
    """Markdown (GitHub flavour): the same sections as HTML, without charts and thumbnails."""
    fmt = Fmt(data.locale, data.currency)
    v = view(data, fmt)
    t, tb, e = v["t"], v["tables"], fmt.t("empty_table")
    out = [f"# {_md_cell(v['title'])} · {_md_cell(v['period_text'])}", "", f"_{_md_cell(v['subtitle'])}_", ""]
    out += [f"- **{_md_cell(k)}:** {_md_cell(val)}" for k, val in v["meta"]] + [""]
    out += [f"## {_md_cell(v['headline']['big'])}", ""] + [_md_cell(x) + "  " for x in v["headline"]["lines"]] + [""]
    out += [f"## {t['kpis']}", "", "| | | |", "|---|---:|---|"]
    out += [f"| {_md_cell(k['label'])} | **{_md_cell(k['value'])}** | {_md_cell(k['note'])} |" for k in v["kpis"]] + [""]
    for key, title in (("month", "by_month"), ("category", "by_category"), ("cause", "by_cause"),
                       ("structure", "cost_structure"), ("campaign", "by_campaign"), ("brand", "by_brand")):
        out += [f"## {t[title]}", "", _md_table(tb[key], e)]
    out += [f"## {t['methodology']}", "", _md_cell(t["method_intro"]), "", _md_cell(t["method_annualised"]), ""]
    out += [f"### {t['method_rate_cards']}", "", _md_table(tb["rate_cards"], e)]
    out += [f"### {t['method_compute']}", "", _md_table(tb["compute"], e)]
    out += [f"### {t['method_human']}", "", _md_cell(t["method_human_text"]), "", _md_table(tb["human"], e)]
    out += [f"### {t['method_fx']}", "", _md_table(tb["fx"], e) if tb["fx"]["rows"] else _md_cell(v["fx_none"]) + "\n"]
    out += [f"### {t['method_no_baseline']}", "",
            _md_table(tb["missing"], e) if tb["missing"]["rows"] else _md_cell(t["method_no_baseline_none"]) + "\n"]
    out += [f"## {t['appendix']}", "", _md_table(tb["entries"], e), "---", "", _md_cell(v["footer"]), ""]
    return "\n".join(out)


# -- CSV / JSON ------------------------------------------------------------------------------

def _plain(value, currency: str) -> str:
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return f"{round_minor(value, currency):f}"
    return str(value)


def _ratio_text(value: Decimal | None) -> str:
    return "" if value is None else f"{value.quantize(Decimal('0.0001')):f}"


def figure_rows(data: ReportData) -> Iterable[list[str]]:
    """Every figure as (section, key, metric, value); money rounded to the minor unit, ratios 0.0–1.0."""
    c = data.currency

    def fig_rows(section: str, f: Figures):
        for name in ("entries", "runs", "baseline", "actual", "saving", "saving_pct", "ai_saving", "ai_share",
                     "hours_saved", "assets", "campaigns", "turnaround_agency_days", "turnaround_inhouse_hours",
                     "unbaselined_entries", "unbaselined_cost", "days", "annual_saving", "first_day", "last_day"):
            v = getattr(f, name)
            text = _ratio_text(v) if name in ("saving_pct", "ai_share") else _plain(v, c)
            yield [section, "", name, text]

    yield from fig_rows("current", data.current)
    if data.previous is not None:
        yield from fig_rows("compare", data.previous)
    for section, rows in (("category", data.by_category), ("cause", data.by_cause), ("campaign", data.by_campaign),
                          ("brand", data.by_brand), ("month", data.by_month)):
        for r in rows:
            for name in ("baseline", "actual", "saving", "saving_pct", "share", "hours_saved", "assets", "entries"):
                v = getattr(r, name)
                yield [section, r.key, name, _ratio_text(v) if name in ("saving_pct", "share") else _plain(v, c)]
    for item in data.cost_structure:
        yield ["cost_structure", item.key, "amount", _plain(item.amount, c)]
        yield ["cost_structure", item.key, "share", _ratio_text(item.share)]


ENTRY_COLUMNS = ["entry_id", "run_id", "date", "brand", "campaign", "category", "cause", "source_currency",
                 "baseline", "compute", "human", "tools", "actual", "saving", "hours_saved", "deliverables", "rate_card"]


def entry_row(e: EntryLine, currency: str) -> list[str]:
    return [e.entry_id, e.run_id, e.day.isoformat(), e.brand, e.campaign, e.category, e.cause, e.source_currency,
            _plain(e.baseline, currency), _plain(e.compute, currency), _plain(e.human, currency),
            _plain(e.tools, currency), _plain(e.actual, currency), _plain(e.saving, currency),
            f"{e.hours_saved:f}", str(e.assets), e.rate_card]


def _csv_safe(cell: str) -> str:
    # Spreadsheets run cells that start with = + - @ as formulas; names are user input.
    if cell and cell[0] in "=+@\t\r" or (cell.startswith("-") and not _is_number(cell)):
        return "'" + cell
    return cell


def _is_number(text: str) -> bool:
    try:
        Decimal(text)
        return True
    except Exception:
        return False


def render_csv(data: ReportData, entries: Iterable[EntryLine] | None = None) -> tuple[str, str]:
    """(figures CSV, entries CSV): every figure in long form, and one line per ledger entry."""
    fig = io.StringIO()
    w = csv.writer(fig, lineterminator="\n")
    w.writerow(["section", "key", "metric", "value"])
    w.writerow(["report", "", "currency", data.currency])
    w.writerow(["report", "", "period", data.period.label])
    w.writerow(["report", "", "compare", data.compare.label if data.compare else ""])
    w.writerow(["report", "", "brand", _csv_safe(data.brand or "")])
    w.writerow(["report", "", "campaign", _csv_safe(data.campaign or "")])
    for row in figure_rows(data):
        w.writerow([_csv_safe(c) for c in row])
    ent = io.StringIO()
    w = csv.writer(ent, lineterminator="\n")
    w.writerow(ENTRY_COLUMNS)
    for e in (data.entries if entries is None else entries):
        w.writerow([_csv_safe(c) for c in entry_row(e, data.currency)])
    return fig.getvalue(), ent.getvalue()


def to_json(data: ReportData, entries: Iterable[EntryLine] | None = None) -> dict:
    """The report as JSON-ready data: money as decimal text (minor unit), ratios as 0.0–1.0 text."""
    c = data.currency

    def conv(obj):
        if isinstance(obj, Decimal):
            return f"{obj:f}"
        if isinstance(obj, (dt.date, dt.datetime)):
            return obj.isoformat()
        if isinstance(obj, bytes):
            return None
        if isinstance(obj, dict):
            return {k: conv(v) for k, v in obj.items() if not isinstance(v, bytes)}
        if isinstance(obj, (list, tuple)):
            return [conv(v) for v in obj]
        return obj

    def money_round(d: dict) -> dict:
        for k, v in d.items():
            if isinstance(v, Decimal) and k not in ("saving_pct", "ai_share", "share", "rate", "hours_saved",
                                                     "turnaround_agency_days", "turnaround_inhouse_hours", "hours",
                                                     "human_recorded_hours", "human_estimated_hours"):
                d[k] = round_minor(v, c)
            elif isinstance(v, Decimal) and k in ("saving_pct", "ai_share", "share"):
                d[k] = v.quantize(Decimal("0.0001"))
            elif isinstance(v, dict):
                money_round(v)
            elif isinstance(v, list):
                for x in v:
                    if isinstance(x, dict):
                        money_round(x)
        return d

    from dataclasses import asdict

    d = asdict(data)
    d.pop("thumbnails", None)
    d["thumbnails"] = [{"campaign": t.campaign, "path": t.path} for t in data.thumbnails]
    d["entries"] = [asdict(e) for e in (data.entries if entries is None else entries)]
    return conv(money_round(d))


def render_json(data: ReportData, entries: Iterable[EntryLine] | None = None) -> str:
    return json.dumps(to_json(data, entries), indent=2, ensure_ascii=False) + "\n"


# -- PDF -------------------------------------------------------------------------------------

def render_pdf(data: ReportData) -> bytes:
    """A4 PDF with fpdf2: the same sections and charts as HTML (charts embedded as SVG vectors)."""
    from fpdf import FPDF
    from fpdf.fonts import FontFace

    fmt = Fmt(data.locale, data.currency)
    v = view(data, fmt)
    svgs = charts(data, fmt, "path")
    ink, muted, accent, soft, line = (30, 41, 59), (100, 116, 139), (15, 118, 110), (241, 245, 249), (226, 232, 240)
    footer_text = v["footer"]
    page_word = fmt.t("page", n="{n}")

    class Doc(FPDF):
        def footer(self):
            self.set_y(-12)
            self.set_font("DejaVu", "", 7)
            self.set_text_color(*muted)
            self.cell(0, 5, footer_text, align="L")
            self.set_x(-40)
            self.cell(30, 5, page_word.format(n=self.page_no()), align="R")

    pdf = Doc(orientation="P", unit="mm", format="A4")
    pdf.set_creation_date(dt.datetime.combine(data.generated_on or dt.date(2000, 1, 1), dt.time(),
                                              tzinfo=dt.timezone.utc))
    pdf.set_title(f"{v['title']} — {v['period_text']}")
    pdf.set_creator("assetkit")
    pdf.add_font("DejaVu", "", str(FONT_DIR / "DejaVuSans.ttf"))
    pdf.add_font("DejaVu", "B", str(FONT_DIR / "DejaVuSans-Bold.ttf"))
    pdf.set_margins(14, 14, 14)
    pdf.set_auto_page_break(True, margin=16)
    pdf.add_page()
    W = pdf.epw

    def font(size, bold=False, color=ink):
        pdf.set_font("DejaVu", "B" if bold else "", size)
        pdf.set_text_color(*color)

    def h2(text):
        if pdf.get_y() > pdf.h - 50:
            pdf.add_page()
        pdf.ln(4)
        font(12.5, True)
        pdf.cell(W, 7, text, new_x="LMARGIN", new_y="NEXT")
        pdf.set_draw_color(*line)
        pdf.line(pdf.l_margin, pdf.get_y(), pdf.l_margin + W, pdf.get_y())
        pdf.ln(2.5)

    def para(text, size=9, color=ink):
        font(size, False, color)
        pdf.multi_cell(W, size * 0.5, text, new_x="LMARGIN", new_y="NEXT", align="L")
        pdf.ln(1.5)

    def chart(name, height_hint=70):
        # fpdf2 cannot resolve matplotlib's clip paths (defined after use); nothing is drawn
        # outside the axes anyway, so they are dropped, with the RDF metadata it ignores.
        svg = re.sub(r' clip-path="[^"]*"', "", svgs[name])
        svg = re.sub(r"<metadata>.*?</metadata>", "", svg, flags=re.S)
        if pdf.get_y() + height_hint > pdf.h - 18:
            pdf.add_page()
        # SVG shapes without a fill (matplotlib's default black text) take the current PDF colours.
        pdf.set_fill_color(0, 0, 0)
        pdf.set_draw_color(0, 0, 0)
        pdf.image(io.BytesIO(svg.encode("utf-8")), x=pdf.l_margin, w=W)
        pdf.ln(2)

    breakdown_widths = [26, 24, 22, 24, 14, 13, 18, 19, 14]

    def table(tb, size=7, widths=None):
        if not tb["rows"]:
            para(fmt.t("empty_table"), 8.5, muted)
            return
        font(size)
        n = len(tb["columns"])
        widths = widths or ([2.2] + [1] * (n - 1))
        aligns = tuple("RIGHT" if num else "LEFT" for num in tb["numeric"])
        head = FontFace(emphasis="BOLD", color=muted, fill_color=soft, size_pt=size - 0.5)
        pdf.set_draw_color(*line)
        pdf.set_fill_color(255, 255, 255)
        with pdf.table(col_widths=widths, text_align=aligns, headings_style=head, line_height=size * 0.55,
                       borders_layout="HORIZONTAL_LINES", first_row_as_headings=True, width=W,
                       padding=(1, 1.2)) as t:
            r = t.row()
            for c in tb["columns"]:
                r.cell(c)
            for row in tb["rows"]:
                r = t.row()
                for c in row:
                    r.cell(c)
            if tb["total"]:
                r = t.row(style=FontFace(emphasis="BOLD"))
                for c in tb["total"]:
                    r.cell(c)
        if tb["note"]:
            para(tb["note"], 7.5, muted)
        pdf.ln(2)

    # Title block
    font(8, True, accent)
    pdf.cell(W, 5, v["subtitle"].upper(), new_x="LMARGIN", new_y="NEXT")
    font(18, True)
    pdf.multi_cell(W, 9, f"{v['title']} · {v['period_text']}", new_x="LMARGIN", new_y="NEXT", align="L")
    font(8, False, muted)
    pdf.multi_cell(W, 4.5, "   ".join(f"{k}: {val}" for k, val in v["meta"]), new_x="LMARGIN", new_y="NEXT",
                   align="L")
    pdf.set_draw_color(*accent)
    pdf.set_line_width(0.8)
    pdf.line(pdf.l_margin, pdf.get_y() + 1.5, pdf.l_margin + W, pdf.get_y() + 1.5)
    pdf.set_line_width(0.2)
    pdf.ln(6)

    # Headline box
    hl = v["headline"]
    y0 = pdf.get_y()
    font(16, True)
    lines_big = pdf.multi_cell(W - 16, 8, hl["big"], dry_run=True, output="LINES", align="L")
    box_h = 10 + 8 * len(lines_big) + 6 * len(hl["lines"]) + 4
    if hl["positive"]:
        pdf.set_fill_color(*accent)
    else:
        pdf.set_fill_color(*soft)
    pdf.rect(pdf.l_margin, y0, W, box_h, style="F", round_corners=True, corner_radius=2.5)
    pdf.set_xy(pdf.l_margin + 8, y0 + 6)
    font(16, True, (255, 255, 255) if hl["positive"] else ink)
    pdf.multi_cell(W - 16, 8, hl["big"], new_x="LEFT", new_y="NEXT", align="L")
    font(10, False, (204, 251, 241) if hl["positive"] else muted)
    for ln in hl["lines"]:
        pdf.multi_cell(W - 16, 6, ln, new_x="LEFT", new_y="NEXT", align="L")
    pdf.set_xy(pdf.l_margin, y0 + box_h + 4)

    # KPI tiles
    h2(fmt.t("kpis"))
    cols, gap = 4, 3
    tw, th = (W - gap * (cols - 1)) / cols, 24
    for i, k in enumerate(v["kpis"]):
        if i % cols == 0:
            y = pdf.get_y() if i == 0 else y + th + gap
        x = pdf.l_margin + (i % cols) * (tw + gap)
        pdf.set_draw_color(*line)
        pdf.rect(x, y, tw, th, round_corners=True, corner_radius=1.5)
        pdf.set_xy(x + 2.5, y + 2)
        font(6.3, False, muted)
        pdf.multi_cell(tw - 5, 2.8, k["label"].upper(), new_x="LEFT", new_y="NEXT", align="L")
        pdf.set_xy(x + 2.5, y + 9)
        font(13, True, accent if i == 0 else ink)
        pdf.cell(tw - 5, 6, k["value"])
        pdf.set_xy(x + 2.5, y + 16)
        font(6.3, False, muted)
        pdf.multi_cell(tw - 5, 2.8, k["note"], new_x="LEFT", new_y="NEXT", align="L")
    pdf.set_xy(pdf.l_margin, y + th + 4)

    tb = v["tables"]
    h2(fmt.t("by_month"))
    chart("month", 75)
    table(tb["month"], widths=breakdown_widths)
    h2(fmt.t("by_category"))
    chart("category", 60)
    table(tb["category"], widths=breakdown_widths)
    h2(fmt.t("by_cause"))
    table(tb["cause"], widths=breakdown_widths)
    h2(fmt.t("cost_structure"))
    chart("structure", 40)
    table(tb["structure"], widths=[3, 1, 1])
    pdf.add_page()
    h2(fmt.t("by_campaign"))
    chart("campaign", 70)
    table(tb["campaign"], widths=breakdown_widths)
    h2(fmt.t("by_brand"))
    table(tb["brand"], widths=breakdown_widths)
    h2(fmt.t("samples"))
    if v["thumbnails"]:
        n, gap = 4, 3
        tw = (W - gap * (n - 1)) / n
        y = pdf.get_y()
        if y + tw + 10 > pdf.h - 18:
            pdf.add_page()
            y = pdf.get_y()
        row_h = 0.0
        for i, th_ in enumerate(data.thumbnails):
            if i and i % n == 0:
                y += row_h + 8
                row_h = 0.0
                if y + tw + 10 > pdf.h - 18:
                    pdf.add_page()
                    y = pdf.get_y()
            x = pdf.l_margin + (i % n) * (tw + gap)
            h = min(tw, tw * th_.height / max(th_.width, 1))
            w = h * th_.width / max(th_.height, 1)
            pdf.image(io.BytesIO(th_.jpeg), x=x + (tw - w) / 2, y=y, w=w, h=h)
            pdf.set_xy(x, y + tw + 0.5)
            font(6.5, False, muted)
            pdf.cell(tw, 4, f"{th_.campaign} · {th_.path}"[:48])
            row_h = max(row_h, tw)
        pdf.set_xy(pdf.l_margin, y + row_h + 8)
    else:
        para(fmt.t("no_samples"), 9, muted)

    pdf.add_page()
    h2(fmt.t("methodology"))
    para(fmt.t("method_intro"))
    para(fmt.t("method_annualised"))
    for note in v["notes"]:
        para(note)
    for title, key, none_text in (("method_rate_cards", "rate_cards", None), ("method_compute", "compute", None),
                                  ("method_human", "human", None), ("method_fx", "fx", v["fx_none"]),
                                  ("method_no_baseline", "missing", fmt.t("method_no_baseline_none"))):
        font(10, True)
        pdf.ln(1)
        pdf.cell(W, 6, fmt.t(title), new_x="LMARGIN", new_y="NEXT")
        if key == "human":
            para(fmt.t("method_human_text"), 8.5)
        if none_text and not tb[key]["rows"]:
            para(none_text, 8.5)
        else:
            widths = [2.4, 0.7, 1.1, 1.4, 1.1, 3.3] if key == "missing" else [2] + [1] * (len(tb[key]["columns"]) - 1)
            table(tb[key], widths=widths)
    pdf.add_page()
    h2(fmt.t("appendix"))
    table(tb["entries"], size=6, widths=[0.7, 2.9, 1.3, 1.7, 1.4, 1.7, 1.4, 1.3, 1.3, 1.6])
    return bytes(pdf.output())
