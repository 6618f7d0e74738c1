"""The report as PDF (fpdf2, vector charts, the bundled DejaVu fonts for every glyph)."""
from __future__ import annotations

import datetime as dt
import io
import math
import re
from pathlib import Path
from typing import Any, cast

from .i18n import Fmt
from .model import ReportData
from .view import charts, view

FONT_DIR = Path(__file__).resolve().parent.parent / "fonts"


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
                                              tzinfo=dt.UTC))
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

    def h2(text, keep=30.0):
        """A section heading kept with the first ``keep`` mm of what follows (never alone at a page foot)."""
        if pdf.get_y() + 14 + keep > pdf.h - 18:
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
        if not svgs[name]:  # nothing but zeros to plot
            para(fmt.t("empty_chart"), 8.5, muted)
            return
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
    KEEP_TABLE_MM = 120  # a table shorter than this is kept on one page

    def fitted(tb, size, weights) -> list[float]:
        """Column widths (mm) from ``weights``, widened where a header word, a figure or a
        text's longest word would not fit — never a word broken inside — taken from the
        columns with room to spare (a table too wide for that keeps the widths it needs, scaled)."""
        pad = 2 * 1.2 + 0.8
        base = [W * w / sum(weights) for w in weights]
        pdf.set_font("DejaVu", "B", size - 0.5)
        need = [max((pdf.get_string_width(word) for word in c.split()), default=0) + pad for c in tb["columns"]]
        pdf.set_font("DejaVu", "B", size)  # the total row is bold: an upper bound for every row
        for row in tb["rows"] + ([tb["total"]] if tb["total"] else []):
            for i, c in enumerate(row[:len(need)]):
                text = str(c)
                words = [text] if tb["numeric"][i] else text.split()  # a figure never wraps
                need[i] = max(need[i], max((pdf.get_string_width(w) for w in words), default=0) + pad)
        widths = [max(b, m) for b, m in zip(base, need)]
        over = sum(widths) - W
        if over <= 0:
            return widths
        slack = [w - m for w, m in zip(widths, need)]
        room = sum(slack)
        if room >= over:
            return [w - over * s / room for w, s in zip(widths, slack)]
        return [m * W / sum(need) for m in need]

    def height(tb, size, widths) -> float:
        """About how tall ``tb`` will be (mm): each row as many lines as its longest cell wraps to."""
        pad, line_h = 2 * 1.2 + 0.8, size * 0.55
        pdf.set_font("DejaVu", "B", size)
        total = 0.0
        for row in [tb["columns"]] + tb["rows"] + ([tb["total"]] if tb["total"] else []):
            lines = max((math.ceil(pdf.get_string_width(str(c)) / max(w - pad, 1)) for c, w in zip(row, widths)),
                        default=1)
            total += max(lines, 1) * line_h + 2
        return total + (8 if tb["note"] else 0)

    def table(tb, size=7, widths=None):
        if not tb["rows"]:
            para(v["t"]["empty_table"], 8.5, muted)
            return
        n = len(tb["columns"])
        widths = fitted(tb, size, widths or ([2.2] + [1] * (n - 1)))
        tall = height(tb, size, widths)
        if tall < KEEP_TABLE_MM and pdf.get_y() + tall > pdf.h - 18:
            pdf.add_page()  # a short table is never split: it starts on the next page whole
        font(size)
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
    hl: dict[str, Any] = v["headline"]
    y0 = pdf.get_y()
    font(16, True)
    def wrapped(width: float, height: float, text: str) -> list[str]:
        return cast(list, pdf.multi_cell(width, height, text, dry_run=True, output="LINES", align="L"))

    lines_big = wrapped(W - 16, 8, hl["big"])
    font(10, False)
    small = sum(len(wrapped(W - 16, 6, ln)) for ln in hl["lines"])
    font(16, True)
    box_h = 10 + 8 * len(lines_big) + 6 * small + 4
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
    y = pdf.get_y()
    for i, k in enumerate(v["kpis"]):
        if i % cols == 0 and i:
            y += th + gap
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
    h2(fmt.t("by_month"), keep=75)
    chart("month", 75)
    table(tb["month"], widths=breakdown_widths)
    h2(fmt.t("by_category"), keep=60)
    chart("category", 60)
    table(tb["category"], widths=breakdown_widths)
    h2(fmt.t("by_cause"), keep=min(height(tb["cause"], 7, fitted(tb["cause"], 7, breakdown_widths)), 80))
    table(tb["cause"], widths=breakdown_widths)
    if tb["manual"]["rows"]:
        h2(fmt.t("manual_section"))
        table(tb["manual"], size=6.5, widths=[1.0, 1.4, 1.6, 2.8, 2.4, 1.5, 1.5, 1.5, 1.1])
    h2(fmt.t("cost_structure"), keep=85)  # the chart and its four-line table together
    chart("structure", 40)
    table(tb["structure"], widths=[3, 1, 1])
    h2(fmt.t("by_campaign"), keep=70)
    chart("campaign", 70)
    table(tb["campaign"], widths=breakdown_widths)
    h2(fmt.t("by_brand"), keep=min(height(tb["brand"], 7, fitted(tb["brand"], 7, breakdown_widths)), 80))
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

    h2(fmt.t("methodology"), keep=60)
    para(fmt.t("method_intro"))
    para(fmt.t("method_annualised"))
    for note in v["notes"]:
        para(note)
    for title, key, none_text in (("method_rate_cards", "rate_cards", None), ("method_compute", "compute", None),
                                  ("method_human", "human", None), ("method_sensitivity", "sensitivity", None),
                                  ("method_applied", "applied", None),
                                  ("method_fx", "fx", v["fx_none"]),
                                  ("method_no_baseline", "missing", fmt.t("method_no_baseline_none"))):
        widths = ([2.4, 0.7, 1.1, 1.4, 1.1, 3.3] if key == "missing" else [2, 5, 0.8] if key == "applied"
                  else [2] + [1] * (len(tb[key]["columns"]) - 1))
        # a heading never alone at a page's foot: it moves with its text and (a short) table
        need = 6 + (22 if key == "human" else 0) + (min(height(tb[key], 7, fitted(tb[key], 7, widths)), 40)
                                                     if tb[key]["rows"] else 10)
        if pdf.get_y() + need > pdf.h - 18:
            pdf.add_page()
        font(10, True)
        pdf.ln(1)
        pdf.cell(W, 6, fmt.t(title), new_x="LMARGIN", new_y="NEXT")
        if key == "human":
            para(fmt.t("method_human_text"), 8.5)
        if none_text and not tb[key]["rows"]:
            para(none_text, 8.5)
        else:
            table(tb[key], widths=widths)
    pdf.add_page()
    h2(fmt.t("appendix"))
    table(tb["entries"], size=6, widths=[0.7, 2.9, 1.3, 1.7, 1.4, 1.7, 1.4, 1.3, 1.3, 1.6])
    return bytes(pdf.output())
