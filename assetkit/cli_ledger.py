"""``assetkit ledger …`` and ``assetkit quotes …``: parse options, call the ledger, print."""
from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path

import click

from .cli_table import print_table
from .clitypes import AMOUNT, HOURS, MINUTES
from .csvout import to_csv
from .errors import UsageError


def ledger_options(fn):
    """--ledger and --settings, shared by every ledger command."""
    fn = click.option("--settings", type=click.Path(dir_okay=False, path_type=Path), envvar="ASSETKIT_SETTINGS",
                      help="Settings file [default: ./assetkit.yaml if present, else built-in defaults].")(fn)
    fn = click.option("--ledger", "ledger_file", type=click.Path(dir_okay=False, path_type=Path),
                      envvar="ASSETKIT_LEDGER",
                      help="Ledger file [default: .assetkit/ledger.sqlite; env ASSETKIT_LEDGER].")(fn)
    return fn


def output_options(fn):
    """--json / --csv for listing commands."""
    fn = click.option("--csv", "as_csv", is_flag=True, help="Print CSV.")(fn)
    fn = click.option("--json", "as_json", is_flag=True, help="Print JSON.")(fn)
    return fn


def _date(ctx, param, value):
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a date like 2026-11-25") from None


def _money(amount: Decimal, currency: str, locale: str) -> str:
    from .money import format_money

    return format_money(amount, currency, locale)


HOURS_DIGITS = Decimal("0.0001")  # hours printed to 0.36 s (they are stored as exact integer ms)


def _text(key: str, v):
    """A JSON value: Decimals as text (hours to four decimals)."""
    if isinstance(v, Decimal):
        return f"{v.quantize(HOURS_DIGITS):f}" if key.endswith("hours") or key == "hours_saved" else str(v)
    return v


def _emit(rows: list[dict], columns: list[str], as_json: bool, as_csv: bool, table) -> None:
    if as_json and as_csv:
        raise UsageError("choose one of --json and --csv")
    if as_json:
        click.echo(json.dumps([{k: _text(k, v) for k, v in r.items()} for r in rows], indent=2, ensure_ascii=False))
    elif as_csv:
        click.echo(to_csv(columns, ([_plain(r.get(c), r.get("currency"), c) for c in columns] for r in rows)),
                   nl=False)
    else:
        table()


def _plain(v, currency, key: str = ""):
    from .money import plain

    if isinstance(v, Decimal):
        return _text(key, v) if key.endswith("hours") or key == "hours_saved" else plain(v, currency or "EUR")
    if isinstance(v, float):
        return f"{v:.2f}"
    if isinstance(v, bool):
        return "yes" if v else "no"
    return "" if v is None else v


# -- ledger ------------------------------------------------------------------------------------

@click.group()
def ledger():
    """The savings ledger: what every run saved against the agency quote.

    Every `assetkit run` is recorded automatically (opt out with --no-ledger).

    Example:

    \b
        assetkit ledger list --since 2026-11-01
    """


@ledger.command("list")
@click.option("--since", callback=_date, help="First day (YYYY-MM-DD, UTC), inclusive.")
@click.option("--until", callback=_date, help="Last day (YYYY-MM-DD, UTC), inclusive.")
@click.option("--campaign", help="Only this campaign.")
@click.option("--brand", help="Only this brand.")
@output_options
@ledger_options
def list_(since, until, campaign, brand, as_json, as_csv, ledger_file, settings):
    """List runs and manual entries with baseline, actual cost and saving.

    Example:

    \b
        assetkit ledger list --campaign spring-launch --csv
    """
    from .ledger import Ledger
    from .settings import load_settings

    locale = load_settings(settings).money_locale
    with Ledger(ledger_file, readonly=True) as lg:
        rows = lg.summary(since=since, until=until, campaign=campaign, brand=brand)
    columns = ["date", "ref", "campaign", "brand", "categories", "deliverables", "currency", "baseline", "actual",
               "saving", "baseline_hours", "actual_hours", "hours_saved", "no_baseline", "voided", "spend"]

    def table():
        if not rows:
            click.echo("No ledger entries match.")
            return
        body = []
        for r in rows:
            flag = ("NO BASELINE" if r["no_baseline"] else "voided" if r["voided"] else
                    f"invoice: {_money(r['spend'], r['currency'], locale)} measured spend" if r["spend"] else "")
            body.append([r["date"], r["ref"], r["campaign"] or "", str(r["deliverables"]),
                         _money(r["baseline"], r["currency"], locale), _money(r["actual"], r["currency"], locale),
                         _money(r["saving"], r["currency"], locale), f"{r['hours_saved']:.1f}", flag])
        by_cur: dict[str, list[Decimal]] = {}
        hours = Decimal(0)
        for r in rows:
            t = by_cur.setdefault(r["currency"], [Decimal(0)] * 3)
            t[0] += r["baseline"]
            t[1] += r["actual"]
            t[2] += r["saving"]
            hours += r["hours_saved"]
        for cur, (b, a, s) in sorted(by_cur.items()):
            body.append(["total", "", "", str(sum(r["deliverables"] for r in rows if r["currency"] == cur)),
                         _money(b, cur, locale), _money(a, cur, locale), _money(s, cur, locale), f"{hours:.1f}", ""])
        print_table(["DATE", "RUN / ENTRY", "CAMPAIGN", "ITEMS", "BASELINE", "ACTUAL", "SAVING", "HOURS SAVED", ""],
               body, {3, 4, 5, 6, 7})
        n = sum(1 for r in rows if r["no_baseline"])
        if n:
            click.echo(f"{n} row{'s' if n != 1 else ''} without an agency baseline (saving understated); "
                       "see `assetkit ledger show RUN_ID`.")

    _emit(rows, columns, as_json, as_csv, table)


@ledger.command("show")
@click.argument("run_id")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@ledger_options
def show(run_id, as_json, ledger_file, settings):
    """Show one run (or manual entry #ID) and every ledger entry it produced.

    Example:

    \b
        assetkit ledger show 20261125T083000Z-ab12cd
    """
    from .ledger import Ledger, LedgerError
    from .settings import load_settings

    locale = load_settings(settings).money_locale
    with Ledger(ledger_file, readonly=True) as lg:
        if run_id.lstrip("#").isdigit():
            e = lg.entry(int(run_id.lstrip("#")))
            if e is None:
                raise LedgerError(f"no ledger entry {run_id}")
            run, entries = None, [e] + [x for x in lg.entries(kind="void") if x.voids_entry_id == e.id]
        else:
            run = lg.run(run_id)
            if run is None:
                raise LedgerError(f"no run {run_id} in the ledger {lg.name}")
            entries = list(lg.entries(run_id=run_id))
    if as_json:
        click.echo(json.dumps({"run": run, "entries": [e.to_dict() for e in entries]}, indent=2, ensure_ascii=False))
        return
    if run:
        click.echo(f"run {run['run_id']}  {run['finished_at']}  by {run['who']}")
        click.echo(f"  campaign {run['campaign']}  brand {run['brand']}  pipeline {run['pipeline']}  "
                   f"generator {run['generator']}{' / ' + run['model'] if run['model'] else ''}  "
                   f"device {run['device']}")
        click.echo(f"  assets {run['assets_total']} ({run['assets_new']} new, {run['assets_cached']} up to date)  "
                   f"compute {run['compute_ms'] / 1000:.1f} s  quote {run['quotes_used'] or '—'}"
                   + (f"  agency turnaround {run['baseline_days']:g} days" if run['baseline_days'] else ""))
        click.echo(f"  manifest {run['manifest_path']}  brief sha256 {(run['brief_sha256'] or '')[:12]}")
        if run["no_baseline"]:
            click.echo(f"  NO BASELINE: {run['no_baseline_reason']}")
    body = []
    for e in entries:
        what = " ".join(x for x in (e.locale, e.format, e.concept) if x) or (e.description or "")
        flag = ("NO BASELINE" if e.no_baseline
                else f"voids #{e.voids_entry_id}: {e.reason}" if e.kind == "void" else "")
        body.append([f"#{e.id}", e.kind, e.category, what, _money(e.baseline, e.currency, locale),
                     _money(e.actual, e.currency, locale), _money(e.saving, e.currency, locale),
                     f"{e.hours_saved:.2f}", flag])
    if entries:
        tb = sum((e.baseline for e in entries), Decimal(0))
        ta = sum((e.actual for e in entries), Decimal(0))
        cur = entries[0].currency
        body.append(["total", "", "", "", _money(tb, cur, locale), _money(ta, cur, locale),
                     _money(tb - ta, cur, locale), f"{sum(e.hours_saved for e in entries):.2f}", ""])
    print_table(["ENTRY", "KIND", "CATEGORY", "WHAT", "BASELINE", "ACTUAL", "SAVING", "HOURS SAVED", ""], body,
           {4, 5, 6, 7})


@ledger.command("add")
@click.option("--category", required=True,
              help="translation, production, crm, social, photography or other.")
@click.option("--description", required=True, help="What was done.")
@click.option("--baseline", type=AMOUNT, required=True, help="What the agency would have charged (amount).")
@click.option("--actual", type=AMOUNT, required=True, help="What it actually cost (tools, freelancers; amount).")
@click.option("--hours", type=HOURS, default=0.0, show_default=True, help="Internal hours actually spent.")
@click.option("--baseline-hours", type=HOURS, default=0.0, show_default=True, help="Agency hours it would have taken.")
@click.option("--currency", help="Currency of the amounts [default: the settings' currency].")
@click.option("--campaign", help="Campaign it belongs to.")
@click.option("--brand", help="Brand it belongs to.")
@click.option("--date", "on", callback=_date, help="Day the work happened [default: today].")
@click.option("--source", required=True, help="The quote or invoice the baseline rests on (reference).")
@click.option("--approved-by", required=True, help="Who approved the entry.")
@click.option("--confirm-large", is_flag=True, help="Accept a baseline above the settings' manual_entry_limit.")
@ledger_options
def add(category, description, baseline, actual, hours, baseline_hours, currency, campaign, brand, on, source,
        approved_by, confirm_large, ledger_file, settings):
    """Add a manual entry for work done outside assetkit runs.

    Example:

    \b
        assetkit ledger add --category crm --description "Newsletter banners" --baseline 900 --actual 120 \\
            --hours 3 --source "Quote HF-2026-114" --approved-by "M. Keller"
    """
    from .ledger import Ledger
    from .money import to_decimal
    from .settings import load_settings

    s = load_settings(settings)
    try:
        b, a = to_decimal(baseline), to_decimal(actual)
    except ValueError as exc:
        raise UsageError(f"--baseline/--actual: {exc}") from None
    with Ledger(ledger_file) as lg:
        entry_id = lg.add_manual(category, description, b, a, hours=hours, baseline_hours=baseline_hours,
                                 currency=currency, campaign=campaign, brand=brand, on=on, settings=s,
                                 source=source, approved_by=approved_by, confirm_large=confirm_large)
        e = lg.entry(entry_id)
    click.echo(f"Added entry #{entry_id} ({e.category}): saving {_money(e.saving, e.currency, s.money_locale)}, "
               f"{e.hours_saved:.1f} h")


@ledger.command("invoice")
@click.option("--agency", required=True, help="The agency that sent the invoice.")
@click.option("--amount", type=AMOUNT, required=True, help="The invoiced amount (net of VAT).")
@click.option("--currency", help="Currency of the amount [default: the settings' currency].")
@click.option("--date", "on", callback=_date, required=True, help="Invoice date (YYYY-MM-DD): the period it counts in.")
@click.option("--category", default="production", show_default=True,
              help="translation, production, crm, social, photography or other.")
@click.option("--description", help="What the invoice was for.")
@click.option("--campaign", help="Campaign it belongs to.")
@click.option("--brand", help="Brand it belongs to.")
@click.option("--source", required=True, help="The invoice's reference (number, document).")
@click.option("--approved-by", required=True, help="Who approved the entry.")
@click.option("--confirm-large", is_flag=True, help="Accept an amount above the settings' manual_entry_limit.")
@ledger_options
def invoice(agency, amount, currency, on, category, description, campaign, brand, source, approved_by, confirm_large,
            ledger_file, settings):
    """Record an agency invoice: measured spend, never a saving. With invoices in two periods the
    report states the spend change between them, labelled as measured (the rate-card figure is
    cost avoidance).

    Example:

    \b
        assetkit ledger invoice --agency "Harbour & Finch" --amount 18400 --date 2026-09-30 \\
            --source "INV-2026-0930" --approved-by "M. Keller"
    """
    from .ledger import Ledger
    from .money import to_decimal
    from .settings import load_settings

    s = load_settings(settings)
    with Ledger(ledger_file) as lg:
        entry_id = lg.add_invoice(agency, to_decimal(amount), category, source, approved_by, on,
                                  description=description, currency=currency, campaign=campaign, brand=brand,
                                  settings=s, confirm_large=confirm_large)
        e = lg.entry(entry_id)
    click.echo(f"Added invoice #{entry_id} ({e.category}): {_money(e.spend, e.currency, s.money_locale)} measured "
               f"agency spend on {on.isoformat()} ({agency.strip()}, {source.strip()})")


@ledger.command("void")
@click.argument("entry")
@click.option("--reason", required=True, help="Why the entry is wrong (kept in the ledger).")
@ledger_options
def void(entry, reason, ledger_file, settings):
    """Reverse an entry (#ID) or every entry of a run (RUN_ID) with a reversing entry.

    Example:

    \b
        assetkit ledger void 42 --reason "duplicate of entry 41"
    """
    from .ledger import Ledger

    with Ledger(ledger_file, create=False) as lg:
        new = lg.void(entry.lstrip("#"), reason)
    what = f"entry #{entry.lstrip('#')}" if entry.lstrip("#").isdigit() else f"run {entry} ({len(new)} entries)"
    ids = ", ".join(f"#{i}" for i in new)
    click.echo(f"Voided {what}: reversing entr{'y' if len(new) == 1 else 'ies'} {ids}")


@ledger.command("review")
@click.argument("run_id")
@click.option("--minutes", type=MINUTES, required=True, help="Real human minutes spent on the run's assets.")
@click.option("--note", help="Optional note kept with the entry.")
@ledger_options
def review(run_id, minutes, note, ledger_file, settings):
    """Record real review time for a run; it replaces the estimated human minutes.

    Example:

    \b
        assetkit ledger review 20261125T083000Z-ab12cd --minutes 45
    """
    from .ledger import Ledger
    from .settings import load_settings

    s = load_settings(settings)
    with Ledger(ledger_file, create=False) as lg:
        lg.record_review(run_id, minutes, s, note)
    click.echo(f"Recorded {minutes:g} min of human time for run {run_id} (replaces the estimate)")


@ledger.command("verify")
@ledger_options
def verify(ledger_file, settings):
    """Check the ledger is intact: SQLite's quick_check, the append-only triggers, every row's
    link in the sha256 hash chain, and the running totals against the entries. Exit 2 naming
    the first problem.

    Example:

    \b
        assetkit ledger verify
    """
    from .ledger import Ledger

    with Ledger(ledger_file, readonly=True) as lg:
        result = lg.verify(full=True)
        name = lg.name
    click.echo(f"{name}: verified — {result.links} chain links, {result.entries} entries"
               + (f", last entry #{result.last_entry} recorded {result.last_recorded}" if result.last_entry else ""))


@ledger.command("close")
@click.argument("period")
@ledger_options
def close(period, ledger_file, settings):
    """Close a period (2026-Q3, 2026-09, 2026, A..B): its report stays as it is now. Entries
    dated into it later (reviews, voids, manual entries) are booked on their recording day as
    restatements, disclosed in both periods' reports.

    Example:

    \b
        assetkit ledger close 2026-Q3
    """
    from .ledger import Ledger
    from .report.model import parse_period

    p = parse_period(period, "PERIOD")
    if p.start is None or p.end is None:
        raise UsageError("PERIOD: name the days to close, like 2026-Q3; 'all' cannot be closed")
    with Ledger(ledger_file, create=False) as lg:
        row = lg.close_period(p.label, p.start, p.end)
    click.echo(f"Closed {row['period']} ({row['start']} to {row['end']}) as of entry #{row['last_entry_id']}, "
               f"{row['closed_at']} by {row['who']}")


@ledger.command("reprice")
@click.argument("run_id")
@ledger_options
def reprice(run_id, ledger_file, settings):
    """Book the baseline of a run recorded before its quote was imported (an adjusting pair of
    entries: the unbaselined ones reversed, booked again against the card valid on the run's day).

    Example:

    \b
        assetkit ledger reprice 20261125T083000Z-ab12cd
    """
    from .ledger import Ledger
    from .settings import load_settings

    s = load_settings(settings)
    with Ledger(ledger_file, create=False) as lg:
        rec = lg.reprice(run_id, s)
    click.echo(f"Repriced run {run_id}: {rec.describe()}")


@ledger.command("reconcile")
@click.argument("out", type=click.Path(file_okay=False, path_type=Path))
@ledger_options
def reconcile(out, ledger_file, settings):
    """Book the runs whose manifest.json is under OUT but not in the ledger.

    A run killed (or whose ledger write failed) after writing its manifest is booked here, exactly
    once; `assetkit run` does the same for its own output folder before it starts.

    Example:

    \b
        assetkit ledger reconcile out/demo
    """
    from .ledger import find_manifests
    from .ledger import reconcile as book

    manifests = find_manifests(out)
    records = book(manifests, ledger_file, settings)
    for rec in records:
        click.echo(f"booked run {rec.run_id}: {rec.describe()}")
    empty = sum(1 for r in records if r.entries == 0 or (r.assets_new == 0 and r.baseline == 0 and not r.no_baseline))
    done = ("" if not records else "; now booked" if not empty else
            f"; now recorded — {empty} of them with nothing new to book (every asset was already up to date, "
            "made by a run booked elsewhere)")
    click.echo(f"{len(records)} of {len(manifests)} run manifest(s) under {out} were not in the ledger{done}")


# -- quotes ------------------------------------------------------------------------------------

@click.group()
def quotes():
    """Agency quotes (rate cards) that runs are compared against.

    Example:

    \b
        assetkit quotes import examples/quotes/agency-2026.yaml
    """


@quotes.command("import")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@ledger_options
def import_(file, ledger_file, settings):
    """Import a quote file (YAML, or CSV with one row per line item) into the ledger.

    Example:

    \b
        assetkit quotes import examples/quotes/agency-2026.csv
    """
    from .ledger import Ledger
    from .quotes import load_quotes

    loaded = load_quotes(file)
    with Ledger(ledger_file) as lg:
        for q in loaded:
            qid, version, status = lg.import_quote(q, file)
            verb = {"new": "Imported", "updated": "Updated", "unchanged": "Unchanged"}[status]
            click.echo(f"{verb} quote {qid} v{version}: {q.agency}, {q.currency}, "
                       f"{q.valid_from.isoformat()} to {q.valid_to.isoformat()}, {len(q.lines)} lines")


@quotes.command("list")
@output_options
@ledger_options
def list_quotes(as_json, as_csv, ledger_file, settings):
    """List imported quotes (latest version of each).

    Example:

    \b
        assetkit quotes list
    """
    from .ledger import Ledger

    with Ledger(ledger_file, readonly=True) as lg:
        stored = lg.quotes()
    rows = [{"quote_id": s.quote_id, "version": s.version, "agency": s.agency, "category": s.category,
             "currency": s.currency, "valid_from": s.valid_from, "valid_to": s.valid_to, "lines": len(s.quote.lines),
             "imported_at": s.imported_at, "source_file": s.source_file} for s in stored]

    def table():
        if not rows:
            click.echo("No quotes imported yet (assetkit quotes import FILE).")
            return
        print_table(["QUOTE", "VERSION", "AGENCY", "CURRENCY", "VALID", "LINES"],
               [[r["quote_id"], str(r["version"]), r["agency"], r["currency"],
                 f"{r['valid_from']} to {r['valid_to']}", str(r["lines"])] for r in rows], {1, 5})

    _emit(rows, list(rows[0]) if rows else ["quote_id"], as_json, as_csv, table)


@click.command()
@ledger_options
def where(ledger_file, settings):
    """Print the project folder, the settings file and the ledger in use (found by walking up
    from here to the nearest folder with assetkit.yaml or .assetkit/, as git finds .git).

    Example:

    \b
        assetkit where
    """
    from .ledger import ledger_path
    from .settings import find_project_root, find_settings

    root = find_project_root()
    found = find_settings(settings)
    path = ledger_path(ledger_file)
    outside = f"{Path.cwd()} (no assetkit.yaml or .assetkit/ up from here)"
    click.echo(f"project:  {root if root is not None else outside}")
    click.echo(f"settings: {found.resolve() if found is not None else 'built-in defaults (no assetkit.yaml)'}")
    state = "exists" if path.is_file() else "not created yet (a run, `quotes import` or `ledger add` creates it)"
    click.echo(f"ledger:   {path.resolve() if path.exists() else path.absolute()} ({state})")


commands = [ledger, quotes, where]
