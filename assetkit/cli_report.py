"""``assetkit report``: the management savings report (HTML, PDF, Markdown, CSV, JSON)."""
from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from .errors import UsageError

EXT = {"html": ".html", "pdf": ".pdf", "md": ".md", "csv": ".csv", "json": ".json"}


def _out_name(period_label: str, fmt: str) -> Path:
    safe = period_label.replace("..", "_to_").replace("/", "-")
    return Path(f"savings-report-{safe}{EXT[fmt]}")


def _entries_name(target: Path) -> Path:
    return target.with_name(target.stem + "-entries.csv")


@click.command()
@click.option("--period", "period_", metavar="PERIOD",
              help="2026-Q2, 2026-05, 2026, 2026-04-01..2026-06-30 or all (default: all time).")
@click.option("--from", "date_from", metavar="DATE", help="First day (inclusive), e.g. 2026-04-01.")
@click.option("--to", "date_to", metavar="DATE", help="Last day (inclusive), e.g. 2026-06-30.")
@click.option("--compare-to", "compare_to", metavar="PERIOD",
              help="previous, previous-year or a period like 2026-Q1.")
@click.option("--brand", help="Only this brand (as recorded in the ledger).")
@click.option("--campaign", help="Only this campaign (as recorded in the ledger).")
@click.option("--locale", default="en-US", show_default=True, help="Numbers, dates, currency and text: en-US, de-DE, …")
@click.option("--currency", help="Report currency (default: the settings' currency); other currencies are "
                                  "converted with the settings' fx rates.")
@click.option("--format", "fmt", type=click.Choice(list(EXT)), default=None,
              help="Output format (default: from --out's extension, else html).")
@click.option("--out", "-o", type=click.Path(path_type=Path),
              help="Output file ('-' for stdout; csv also writes OUT-entries.csv). "
                   "Default: savings-report-PERIOD.EXT; md/csv/json go to stdout.")
@click.option("--ledger", type=click.Path(dir_okay=False, path_type=Path),
              help="Ledger file (default: $ASSETKIT_LEDGER or .assetkit/ledger.sqlite).")
@click.option("--follow-symlinks", is_flag=True,
              help="If --out is a symbolic link, replace the file it points to (refused otherwise).")
@click.option("--settings", "settings_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Settings file with fx rates and rates (default: ./assetkit.yaml if any).")
def report(period_, date_from, date_to, compare_to, brand, campaign, locale, currency, fmt, out, ledger,
           follow_symlinks, settings_path):
    """Write the savings report for management: headline, breakdowns, charts, method.

    The default period is all time (everything in the ledger); give --period or --from/--to for
    a quarter, month, year or date range, and --compare-to for the change against another period.
    Every figure is a sum over ledger entries; the appendix (all of them in CSV/JSON) lists them.

    Example:

    \b
        assetkit report --period 2026-Q3 --compare-to previous --locale de-DE --out q3.pdf
    """
    from .outroot import safe_output_file, write_output_file
    from .report import build_and_render, iter_entry_lines
    from .report.html import render_html
    from .report.model import ALL_TIME, compare_period, parse_date, parse_period, range_period
    from .report.pdf import render_pdf
    from .report.tabular import render_csv, render_json, render_md
    from .settings import load_settings

    if period_ and (date_from or date_to):
        raise UsageError("give either --period or --from/--to, not both")
    if date_from or date_to:
        if not (date_from and date_to):
            raise UsageError("--from and --to go together (both inclusive)")
        period = range_period(parse_date(date_from, "--from"), parse_date(date_to, "--to"))
    else:
        period = parse_period(period_) if period_ else ALL_TIME
    compare = compare_period(compare_to, period) if compare_to else None
    if fmt is None:
        ext = out.suffix.lstrip(".").lower() if out is not None and str(out) != "-" else ""
        if ext and ext not in EXT:
            raise UsageError(f"--out {out}: .{ext} is not a report format (the extension picks it: "
                             f"{', '.join('.' + e for e in EXT)}); rename it or give --format")
        fmt = ext or "html"
        if fmt == "markdown":
            fmt = "md"
    to_stdout = str(out) == "-" or (out is None and fmt in ("md", "csv", "json"))
    if to_stdout and fmt == "pdf":
        raise UsageError("--format pdf needs --out FILE (PDF is not written to a terminal)")
    if not to_stdout:  # a FIFO, device, folder or link as --out: exit 2 before any work
        target = out or _out_name(period.label, fmt)
        safe_output_file(target, follow_symlinks)
        if fmt == "csv":
            safe_output_file(_entries_name(target), follow_symlinks)
    settings = load_settings(settings_path)
    full = fmt in ("csv", "json")
    # HTML, PDF and markdown are drawn while the ledger's verify runs; any output only once it verified
    draw: dict[str, Callable[[Any], bytes]] = {"html": lambda d: render_html(d).encode("utf-8"), "pdf": render_pdf,
                                               "md": lambda d: render_md(d).encode("utf-8")}
    data, drawn = build_and_render(draw.get(fmt), ledger, period, compare, brand=brand, campaign=campaign,
                                   locale=locale, currency=currency, settings=settings,
                                   thumbnails=fmt in ("html", "pdf"), charts=fmt in ("html", "pdf"),
                                   appendix_limit=0 if full else 200)
    files: list[tuple[Path | None, bytes]] = []
    if drawn is not None:
        files.append((out, drawn))
    elif fmt == "json":
        files.append((out, render_json(data, iter_entry_lines(ledger, data, settings)).encode("utf-8")))
    else:
        figures, entries = render_csv(data, iter_entry_lines(ledger, data, settings))
        if to_stdout:
            files.append((out, (figures + "\n" + entries).encode("utf-8")))
        else:
            target = out or _out_name(period.label, fmt)
            files.append((target, figures.encode("utf-8")))
            files.append((_entries_name(target), entries.encode("utf-8")))
    for path, payload in files:
        if to_stdout:
            click.echo(payload.decode("utf-8"), nl=False)
            continue
        path = path or _out_name(period.label, fmt)
        write_output_file(path, payload, follow_symlinks)
        click.echo(f"wrote {path}", err=True)


commands = [report]
