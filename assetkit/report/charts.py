"""The savings report's charts as SVG (matplotlib, imported lazily), stable byte for byte.

Two flavours of the same chart: ``text="none"`` keeps labels as escaped ``<text>`` (small,
selectable; for HTML) and ``text="path"`` draws glyphs as outlines (for fpdf2, which has no
use for the SVG's fonts). Labels are never parsed as mathtext, so a ``$`` in a campaign name
stays a dollar sign.
"""
from __future__ import annotations

import io
import re
from collections.abc import Callable
from dataclasses import dataclass

#: Neutral palette: baseline slate, in-house / saving teal, structure shades.
BASELINE = "#94a3b8"
ACTUAL = "#0f766e"
SAVING = "#0d9488"
NEGATIVE = "#b91c1c"
SHADES = ["#0f766e", "#14b8a6", "#99f6e4", "#64748b", "#cbd5e1"]
INK = "#1e293b"
MUTED = "#64748b"


@dataclass(frozen=True)
class Series:
    label: str
    values: list[float]
    color: str


def _setup(text: str):
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    rc = {
        "svg.fonttype": text,
        "svg.hashsalt": "assetkit-report",
        "text.parse_math": False,
        "font.family": "DejaVu Sans",
        "font.size": 9,
        "axes.edgecolor": "#cbd5e1",
        "axes.labelcolor": INK,
        "axes.titlecolor": INK,
        "axes.titlesize": 10.5,
        "axes.titleweight": "bold",
        "axes.titlelocation": "left",
        "axes.spines.top": False,
        "axes.spines.right": False,
        "xtick.color": MUTED,
        "ytick.color": MUTED,
        "axes.grid": True,
        "grid.color": "#e2e8f0",
        "grid.linewidth": 0.6,
        "legend.frameon": False,
        "legend.labelcolor": INK,
        "text.color": INK,
    }
    return plt, rc


def preload() -> None:
    """Import matplotlib (about a second of Python) in a thread, so that it is ready when the
    charts are drawn: a report reads its figures meanwhile (SQLite lets go of the GIL)."""
    import threading

    threading.Thread(target=_setup, args=("none",), name="assetkit-matplotlib", daemon=True).start()


def _finish(plt, fig, salt: str, rc: dict) -> str:
    import matplotlib

    buf = io.StringIO()
    with matplotlib.rc_context({**rc, "svg.hashsalt": f"assetkit-{salt}"}):
        fig.savefig(buf, format="svg", metadata={"Date": None, "Creator": None})
    plt.close(fig)
    svg = buf.getvalue()
    # Inline use: no XML prolog/doctype; scale with the container.
    svg = svg[svg.index("<svg"):]
    svg = re.sub(r'<svg([^>]*?) width="[^"]*" height="[^"]*"', r'<svg\1', svg, count=1)
    # Element ids unique per chart so several charts can share one HTML page.
    svg = re.sub(r'id="([^"]+)"', rf'id="{salt}-\1"', svg)
    svg = re.sub(r'url\(#([^)]+)\)', rf'url(#{salt}-\1)', svg)
    svg = re.sub(r'xlink:href="#([^"]+)"', rf'xlink:href="#{salt}-\1"', svg)
    return svg


def _money_axis(ax, axis: str = "y") -> None:
    from matplotlib.ticker import FuncFormatter

    def fmt(v, _pos):
        a = abs(v)
        if a >= 1e6:
            return f"{v / 1e6:.1f}M"
        if a >= 1e3:
            return f"{v / 1e3:.0f}k"
        return f"{v:.0f}"

    (ax.yaxis if axis == "y" else ax.xaxis).set_major_formatter(FuncFormatter(fmt))


def grouped_bars(title: str, categories: list[str], series: list[Series], xlabel: str, ylabel: str,
                 salt: str, text: str = "none", line: Series | None = None) -> str:
    """Vertical grouped bars per category (e.g. months), optional line series on top."""
    plt, rc = _setup(text)
    import matplotlib

    with matplotlib.rc_context(rc):
        fig, ax = plt.subplots(figsize=(9.6, 3.6), layout="constrained")
        n = max(len(series), 1)
        width = 0.8 / n
        xs = list(range(len(categories)))
        for i, s in enumerate(series):
            ax.bar([x - 0.4 + width * (i + 0.5) for x in xs], s.values, width * 0.92, label=s.label,
                   color=s.color, zorder=2)
        if line is not None:
            ax.plot(xs, line.values, marker="o", color=line.color, label=line.label, linewidth=1.8,
                    zorder=3)
        ax.set_xticks(xs, categories)
        ax.set_title(title)
        ax.set_xlabel(xlabel)
        ax.set_ylabel(ylabel)
        ax.grid(axis="x", visible=False)
        ax.set_axisbelow(True)
        _money_axis(ax, "y")
        ax.axhline(0, color="#94a3b8", linewidth=0.8)
        fig.legend(loc="outside right upper", fontsize=8)
        if not categories:
            ax.text(0.5, 0.5, "—", transform=ax.transAxes, ha="center", va="center", color=MUTED)
        return _finish(plt, fig, salt, rc)


def hbars(title: str, labels: list[str], values: list[float], xlabel: str, salt: str,
          text: str = "none", value_labels: list[str] | None = None) -> str:
    """Horizontal bars, largest on top; negative values in red; optional printed values."""
    plt, rc = _setup(text)
    import matplotlib

    with matplotlib.rc_context(rc):
        height = max(1.8, 0.3 * len(labels) + 1.0)
        fig, ax = plt.subplots(figsize=(9.6, height), layout="constrained")
        ys = list(range(len(labels)))[::-1]
        colors = [SAVING if v >= 0 else NEGATIVE for v in values]
        ax.barh(ys, values, 0.62, color=colors, zorder=2)
        ax.set_yticks(ys, [_clip(lab) for lab in labels])
        ax.set_title(title)
        ax.set_xlabel(xlabel)
        ax.grid(axis="y", visible=False)
        ax.set_axisbelow(True)
        _money_axis(ax, "x")
        ax.axvline(0, color="#94a3b8", linewidth=0.8)
        if value_labels:
            span = max((abs(v) for v in values), default=1) or 1
            for y, v, lab in zip(ys, values, value_labels):
                ax.text(v + (span * 0.01 if v >= 0 else -span * 0.01), y, lab, va="center",
                        ha="left" if v >= 0 else "right", fontsize=7.5, color=INK)
            lo, hi = ax.get_xlim()
            ax.set_xlim(min(lo, 0), hi + span * 0.22)
        if not labels:
            ax.text(0.5, 0.5, "—", transform=ax.transAxes, ha="center", va="center", color=MUTED)
        return _finish(plt, fig, salt, rc)


def stacked_share(title: str, labels: list[str], values: list[float], xlabel: str, salt: str,
                  text: str = "none", value_labels: list[str] | None = None,
                  share_text: Callable[[float], str] | None = None) -> str:
    """One horizontal 100 % bar split into parts (cost structure), legend below."""
    plt, rc = _setup(text)
    import matplotlib

    with matplotlib.rc_context(rc):
        fig, ax = plt.subplots(figsize=(9.6, 1.9), layout="constrained")
        total = sum(v for v in values if v > 0)
        left = 0.0
        for i, (lab, v) in enumerate(zip(labels, values)):
            share = (v / total * 100) if total > 0 and v > 0 else 0.0
            legend = lab if not value_labels else f"{lab}: {value_labels[i]}"
            ax.barh([0], [share], 0.55, left=left, color=SHADES[i % len(SHADES)], label=legend, zorder=2)
            if share >= 8:
                ax.text(left + share / 2, 0, share_text(share / 100) if share_text else f"{share:.0f}%",
                        ha="center", va="center", fontsize=8,
                        color="white" if i < 1 or i == 3 else INK)
            left += share
        ax.set_xlim(0, 100)
        ax.set_yticks([])
        ax.set_title(title)
        ax.set_xlabel(xlabel)
        ax.grid(visible=False)
        ax.spines["left"].set_visible(False)
        fig.legend(loc="outside lower center", ncol=max(min(len(labels), 3), 1), fontsize=8)
        if total <= 0:
            ax.text(50, 0, "—", ha="center", va="center", color=MUTED)
        return _finish(plt, fig, salt, rc)


def _clip(label: str, n: int = 34) -> str:
    return label if len(label) <= n else label[: n - 1] + "…"
