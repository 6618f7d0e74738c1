"""The report as Markdown, CSV and JSON: the same figures as HTML/PDF, for people and for tools."""
from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterable
from decimal import Decimal

from ..csvout import to_csv
from ..money import round_minor
from .i18n import Fmt
from .model import EntryLine, Figures, ReportData
from .view import view

# -- Markdown --------------------------------------------------------------------------------

#: What a Markdown viewer would read as HTML: a tag's start (``<b``, ``</``, ``<!``, ``<?``) and an
#: entity (``&amp;``, ``&#38;``) — escaped; a plain ``&`` or ``<0.1%`` stays as it reads.
_MD_HTML = re.compile(r"<(?=[A-Za-z/!?])|&(?=[A-Za-z][A-Za-z0-9]*;|#)")


def _md_cell(text: str) -> str:
    cell = _MD_HTML.sub(lambda m: "&lt;" if m.group() == "<" else "&amp;", str(text))
    return cell.replace("|", "\\|").replace("\n", " ")


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
    t, tb = v["t"], v["tables"]
    e = t["empty_table"]
    out = [f"# {_md_cell(v['title'])} · {_md_cell(v['period_text'])}", "", f"_{_md_cell(v['subtitle'])}_", ""]
    out += [f"- **{_md_cell(k)}:** {_md_cell(val)}" for k, val in v["meta"]] + [""]
    out += [f"## {_md_cell(v['headline']['big'])}", ""] + [_md_cell(x) + "  " for x in v["headline"]["lines"]] + [""]
    out += [f"## {t['kpis']}", "", "| | | |", "|---|---:|---|"]
    out += [f"| {_md_cell(k['label'])} | **{_md_cell(k['value'])}** | {_md_cell(k['note'])} |"
            for k in v["kpis"]] + [""]
    for key, title in (("month", "by_month"), ("category", "by_category"), ("cause", "by_cause"),
                       ("structure", "cost_structure"), ("campaign", "by_campaign"), ("brand", "by_brand")):
        out += [f"## {t[title]}", "", _md_table(tb[key], e)]
        if key == "cause" and tb["manual"]["rows"]:
            out += [f"## {t['manual_section']}", "", _md_table(tb["manual"], e)]
    out += [f"## {t['methodology']}", "", _md_cell(t["method_intro"]), "", _md_cell(t["method_annualised"]), ""]
    out += [x for note in v["notes"] for x in (_md_cell(note), "")]
    out += [f"### {t['method_rate_cards']}", "", _md_table(tb["rate_cards"], e)]
    out += [f"### {t['method_compute']}", "", _md_table(tb["compute"], e)]
    out += [f"### {t['method_human']}", "", _md_cell(t["method_human_text"]), "", _md_table(tb["human"], e)]
    out += [f"### {t['method_sensitivity']}", "", _md_table(tb["sensitivity"], e)]
    out += [f"### {t['method_applied']}", "", _md_table(tb["applied"], e)]
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
                     "hours_saved", "assets", "assets_counted", "campaigns", "turnaround_agency_days",
                     "turnaround_inhouse_hours", "turnaround_runs", "unbaselined_entries", "unbaselined_cost", "days",
                     "annual_saving", "first_day", "last_day", "run_baseline", "run_saving", "run_deliverables",
                     "run_hours_saved", "manual_saving", "manual_entries", "minutes_per_deliverable",
                     "breakeven_minutes"):
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
    for m in data.manual:
        for name in ("baseline", "actual", "saving", "hours_saved"):
            yield ["manual", m.entry_id, name, _plain(getattr(m, name), c)]
    for item in data.cost_structure:
        yield ["cost_structure", item.key, "amount", _plain(item.amount, c)]
        yield ["cost_structure", item.key, "share", _ratio_text(item.share)]
    meth = data.methodology  # the methodology's tables: what each rate applied came to
    for cr in meth.compute_rates:
        key = f"{cr.device or '-'} @ {'' if cr.rate is None else f'{cr.rate:f}'}/h"
        yield ["compute_rates", key, "entries", str(cr.entries)]
        yield ["compute_rates", key, "hours", _plain(cr.hours, c)]
        yield ["compute_rates", key, "amount", _plain(cr.cost, c)]
    for h in meth.human_time:
        key = f"{h.key} @ {'' if h.rate is None else f'{h.rate:f}'}/h"
        yield ["human_time", key, "entries", str(h.entries)]
        yield ["human_time", key, "hours", _plain(h.hours, c)]
        yield ["human_time", key, "amount", _plain(h.cost, c)]
    yield ["human_time", "not_counted", "entries", str(meth.not_counted_entries)]
    yield ["human_time", "not_counted", "hours", _plain(meth.not_counted_hours, c)]
    for minutes_k, rate_k, saving in data.current.sensitivity:
        yield ["sensitivity", f"minutes x{minutes_k} rate x{rate_k}", "saving", _plain(saving, c)]
    for a in meth.applied:
        yield ["rates_applied", f"{a.item}={a.value}", "entries", str(a.entries)]


ENTRY_COLUMNS = ["entry_id", "run_id", "date", "brand", "campaign", "category", "cause", "source_currency",
                 "baseline", "compute", "human", "tools", "actual", "saving", "hours_saved", "deliverables",
                 "rate_card", "card_currency", "card_baseline", "fx_rate"]

#: An entry's amounts and hours in the entries CSV: to the millionth (as stored), so a column sums to
#: the report's total — cents rounded per entry would not (a compute cost is a fraction of a cent).
EXACT = Decimal("0.000001")


def _exact(value: Decimal | None) -> str:
    return "" if value is None else f"{value.quantize(EXACT):f}"


def entry_row(e: EntryLine, currency: str) -> list[str]:
    return [e.entry_id, e.run_id, e.day.isoformat(), e.brand, e.campaign, e.category, e.cause, e.source_currency,
            _exact(e.baseline), _exact(e.compute), _exact(e.human), _exact(e.tools), _exact(e.actual),
            _exact(e.saving), _exact(e.hours_saved), str(e.assets), e.rate_card, e.card_currency,
            _exact(e.card_amount), e.fx_rate]


def render_csv(data: ReportData, entries: Iterable[EntryLine] | None = None) -> tuple[str, str]:
    """(figures CSV, entries CSV): every figure in long form, and one line per ledger entry."""
    head = [["report", "", "currency", data.currency], ["report", "", "period", data.period.label],
            ["report", "", "compare", data.compare.label if data.compare else ""],
            ["report", "", "brand", data.brand or ""], ["report", "", "campaign", data.campaign or ""]]
    figures = to_csv(["section", "key", "metric", "value"], [*head, *figure_rows(data)])
    lines = to_csv(ENTRY_COLUMNS, (entry_row(e, data.currency) for e in (data.entries if entries is None else entries)))
    return figures, lines


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
