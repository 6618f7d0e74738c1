"""``assetkit review``, ``assetkit status`` and ``assetkit deliver``: parse, one library call, print."""
from __future__ import annotations

import json
from pathlib import Path

import click

from .cli_ledger import ledger_options

campaign_arg = click.argument("campaign", type=click.Path(path_type=Path))


@click.command()
@campaign_arg
@click.option("--no-browser", is_flag=True, help="Print the URL instead of opening the browser.")
@click.option("--reviewer",
              help="Name recorded with every decision [default: settings review.reviewer, else the OS user].")
@click.option("--port", type=click.IntRange(0, 65535), default=0, show_default=True,
              help="Port on 127.0.0.1 (0: a free one).")
@click.option("--static", "static_", is_flag=True,
              help="Write a self-contained HTML gallery (no server) instead of serving the app.")
@click.option("--out", "out_file", type=click.Path(dir_okay=False, path_type=Path),
              help="With --static: the HTML file [default: CAMPAIGN/review.html].")
@ledger_options
def review(campaign, no_browser, reviewer, port, static_, out_file, ledger_file, settings):
    """Review a finished run in the browser: approve, reject or request changes.

    Serves a local app on 127.0.0.1 with a random token in its URL; decisions (with the
    reviewer, the time and the focus time spent) go to the ledger. Keys: arrows, a, r, c;
    Shift+key for a whole master (every format and locale of a concept variant).

    Example:

    \b
        assetkit review out/demo/spring-launch --reviewer "Maria K."
    """
    from .settings import load_settings

    if static_:
        from .review.static_gallery import static_gallery

        path, n = static_gallery(campaign, out_file, ledger_file)
        click.echo(f"wrote {path} ({n} assets, self-contained: open it in any browser)")
        return
    if out_file is not None:
        raise click.UsageError("--out is only for --static")
    from .extras import require

    require("review", "the review app (`assetkit review`; `--static` needs nothing more)")
    from .review.server import serve
    from .review.service import ReviewService, default_reviewer

    service = ReviewService(campaign, ledger_file, default_reviewer(reviewer, load_settings(settings)))
    try:
        serve(service, port=port, open_browser=not no_browser, echo=click.echo)
    finally:
        service.close()


@click.command()
@campaign_arg
@click.option("--json", "as_json", is_flag=True, help="Machine-readable JSON output.")
@ledger_options
def status(campaign, as_json, ledger_file, settings):
    """Count approved / rejected / pending / changed-since-approval assets per locale and format.

    An approved asset whose file a later run changed counts as changed since approval.

    Example:

    \b
        assetkit status out/demo/spring-launch --json
    """
    from .review.rollup import campaign_status

    counts = campaign_status(campaign, ledger_file)
    if as_json:
        click.echo(json.dumps(counts, indent=2))
        return
    cols = ("approved", "rejected", "changes", "pending", "changed")
    heads = ("approved", "rejected", "changes req.", "pending", "changed since appr.")
    t = counts["total"]
    click.echo(f"{counts['campaign']}: {counts['assets']} assets · " +
               " · ".join(f"{t[c]} {h}" for c, h in zip(cols, heads)))
    from .cli_table import print_table

    rows = [[f"{loc} {fmt}", *(c[k] for k in cols)]
            for loc, per in counts["per_locale_format"].items() for fmt, c in per.items()]
    for title, key in (("locale", "per_locale"), ("format", "per_format")):
        rows.append([f"per {title}:"])
        rows += [[f"  {name}", *(c[k] for k in cols)] for name, c in counts[key].items()]
    print_table(["locale × format", *heads], rows, right=range(1, len(heads) + 1))


@click.command()
@campaign_arg
@click.option("--to", "to", required=True, type=click.Path(path_type=Path),
              help="A new (or empty) folder, or a FILE.zip.")
@click.option("--allow-pending", is_flag=True, help="Deliver the approved assets even when others are not decided.")
@ledger_options
def deliver(campaign, to, allow_pending, ledger_file, settings):
    """Package the approved assets for hand-off: a folder per platform and locale, an index.

    Refuses (exit 2, listing them) while assets are pending, unless --allow-pending.
    The delivery is recorded in the ledger. The same approved files give the same zip bytes.

    Example:

    \b
        assetkit deliver out/demo/spring-launch --to handoff/spring-launch.zip
    """
    from .review.deliver import deliver as run_delivery
    from .settings import load_settings

    result = run_delivery(campaign, to, ledger_file, load_settings(settings), allow_pending)
    click.echo(f"delivered {result.files} approved assets ({result.bytes:,} bytes) to {result.target}")
    for folder, n in sorted(result.per_folder.items()):
        click.echo(f"  {folder}/: {n}")
    click.echo("  index.csv, index.json · sha256 of index.json " + result.index_sha256[:16] + "…")
    if result.skipped_open or result.rejected:
        click.echo(f"  not delivered: {result.skipped_open} not approved yet, {result.rejected} rejected")
    click.echo(f"  recorded in the ledger (delivery #{result.delivery_id})")


commands = [review, status, deliver]
