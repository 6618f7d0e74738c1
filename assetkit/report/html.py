"""The report as one self-contained HTML file (Jinja2, autoescaped, inline SVG)."""
from __future__ import annotations

from pathlib import Path

from .i18n import Fmt
from .model import ReportData
from .view import charts, view

TEMPLATE_DIR = Path(__file__).resolve().parent.parent / "templates"


def render_html(data: ReportData) -> str:
    """One self-contained HTML file: inline CSS and SVG, images as data URIs, no external URL."""
    from jinja2 import Environment, FileSystemLoader, select_autoescape

    fmt = Fmt(data.locale, data.currency)
    env = Environment(loader=FileSystemLoader(str(TEMPLATE_DIR)), autoescape=select_autoescape(["j2", "html"]),
                      trim_blocks=True, lstrip_blocks=True)
    return env.get_template("report.html.j2").render(v=view(data, fmt, charts(data, fmt, "none")))
