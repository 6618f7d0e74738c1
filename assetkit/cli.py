"""The ``assetkit`` command line: parse options, call the library, print. Errors are mapped once."""
from __future__ import annotations

import importlib
import json
import os
import sys
from pathlib import Path
from typing import Any

import click

from . import __version__
from .errors import AssetkitError, ConfigError

#: Modules that contribute commands (each exposes ``commands = [...]``).
COMMAND_MODULES: list[str] = ["assetkit.cli_ledger", "assetkit.cli_report", "assetkit.cli_models",
                               "assetkit.cli_provenance", "assetkit.cli_review"]


def _offline() -> None:
    """No run ever touches the network: only ``assetkit models pull`` may download."""
    from .models import set_offline

    set_offline()
    os.environ.setdefault("DIFFUSERS_VERBOSITY", "error")


def report_error(exc: AssetkitError) -> int:
    """Print an AssetkitError for a user (never a traceback) and return the exit code."""
    if isinstance(exc, ConfigError):
        for problem in exc.problems:
            click.echo(str(problem), err=True)
        n = len(exc.problems)
        click.echo(f"Error: {n} problem{'s' if n != 1 else ''} found; nothing was run.", err=True)
    else:
        click.echo(f"Error: {exc}", err=True)
    return exc.exit_code


class AssetkitGroup(click.Group):
    """Maps AssetkitError to a clear message and exit code; lists commands in definition order."""

    def list_commands(self, ctx):
        return list(self.commands)

    def main(self, args: Any = None, prog_name: str | None = None, complete_var: str | None = None,
             standalone_mode: bool = True, **extra: Any) -> Any:
        """A bad flag or argument is one line — the problem, then where the help is — and exit 2
        (click's own form is four: usage, a hint, a blank line and the error)."""
        def run() -> Any:
            return super(AssetkitGroup, self).main(args=args, prog_name=prog_name, complete_var=complete_var,
                                                   standalone_mode=False, **extra)

        if not standalone_mode:
            return run()
        try:
            rv = run()
        except click.UsageError as exc:
            where = exc.ctx.command_path if exc.ctx is not None else "assetkit"
            click.echo(f"Error: {exc.format_message()} (see '{where} --help')", err=True)
            sys.exit(exc.exit_code)
        except click.ClickException as exc:
            exc.show()
            sys.exit(exc.exit_code)
        except click.exceptions.Abort:
            click.echo("Aborted!", err=True)
            sys.exit(1)
        except OSError as exc:  # a closed pipe (| head): quiet, as click's standalone mode is
            import errno

            if exc.errno == errno.EPIPE:
                sys.exit(1)
            raise
        sys.exit(rv if isinstance(rv, int) else 0)

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except AssetkitError as exc:
            ctx.exit(report_error(exc))
        except KeyboardInterrupt:
            click.echo("Interrupted; files already written are complete (writes are atomic).", err=True)
            ctx.exit(130)


@click.group(cls=AssetkitGroup, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="assetkit")
def cli():
    """assetkit — brand kit + brief in, on-brand campaign variants out.

    Runs locally: draft proofs without any model, or your own diffusion model
    (never downloaded at run time). Every run is recorded in a savings ledger.

    Start with `assetkit init my-campaign` or `make demo`.
    """
    _offline()


def json_option(fn):
    return click.option("--json", "as_json", is_flag=True, help="Machine-readable JSON output.")(fn)


@cli.command()
@click.argument("brief", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--out", "-o", type=click.Path(path_type=Path), default=Path("out"), show_default=True,
              help="Output folder; assets go to OUT/<campaign>/.")
@click.option("--pipeline", "-p", help="Pipeline to use instead of the brief's (built-in name or path).")
@click.option("--jobs", "-j", type=click.IntRange(0, 64), default=0, help="Parallel compose/export workers (0 = CPUs).")
@click.option("--force", is_flag=True, help="Remake every asset even if it is up to date.")
@click.option("--model", help="Diffusion model: a diffusers folder, a .safetensors file or hf:org/name.")
@click.option("--draft", is_flag=True, help="Use the built-in draft generator even if a model is configured.")
@click.option("--allow-unsafe-weights", is_flag=True, help="Allow pickle weights (.ckpt/.bin): they can run code.")
@click.option("--no-ledger", is_flag=True, help="Do not record this run in the savings ledger.")
@click.option("--show-checks", is_flag=True,
              help="Also write checks/<locale>/<format>/<asset>.png: safe zone, text and logo boxes, measured "
                   "sizes and contrasts, and the findings drawn over each asset made.")
@click.option("--ledger", type=click.Path(dir_okay=False, path_type=Path), envvar="ASSETKIT_LEDGER",
              help="Ledger file [default: .assetkit/ledger.sqlite; env ASSETKIT_LEDGER].")
@click.option("--settings", type=click.Path(dir_okay=False, path_type=Path), help="Project settings (assetkit.yaml).")
@click.option("--progress", type=click.Choice(["auto", "plain", "none"]), default="auto", show_default=True,
              help="Progress display: bars on a terminal, plain lines otherwise.")
@click.option("--locked", is_flag=True,
              help="Refuse to run (exit 2) if anything differs from OUT/<campaign>/assetkit.lock.")
@click.option("--executor", type=click.Choice(["local", "ray"]),
              help="Where the work runs: local (this machine) or ray (a Ray cluster; the [ray] extra) "
                   "[default: executor.name of assetkit.yaml, else local].")
@click.option("--ray-address", metavar="ADDRESS",
              help="Ray cluster to join: auto, ray://host:10001 or host:6379 [default: executor.ray.address; "
                   "none: a local Ray instance]. --out must be a folder every node shares.")
@json_option
def run(brief, out, pipeline, jobs, force, model, draft, allow_unsafe_weights, no_ledger, ledger, settings,
        progress, locked, as_json, show_checks, executor, ray_address):
    """Make every asset of a brief: generate, reframe, compose, check, export.

    Re-running an unchanged brief makes nothing; --force remakes all.

    Example:

    \b
        assetkit run examples/spring-launch/brief.yaml --out out/demo
    """
    from .context import RunOptions
    from .progress import make_progress
    from .runner import run_brief

    options = RunOptions(out=out, jobs=jobs, force=force, model=model, generator="draft" if draft else None,
                         allow_unsafe_weights=allow_unsafe_weights, ledger=ledger, settings=settings,
                         record=not no_ledger, show_checks=show_checks, locked=locked, executor=executor,
                         ray_address=ray_address)
    reporter = make_progress("none" if as_json else progress)
    try:
        result = run_brief(brief, options, pipeline=pipeline, progress=reporter)
    finally:
        reporter.close()
    summary = result.summary()
    if result.ledger is not None and hasattr(result.ledger, "to_dict"):
        summary["ledger"] = result.ledger.to_dict()
    if as_json:
        click.echo(json.dumps(summary, indent=2, default=str))
        return
    m = result.manifest
    click.echo(f"{m['campaign']}: {len(m['assets'])} assets ({result.made} made, {result.cached} up to date) "
               f"in {m['timings']['total']:.1f}s")
    click.echo(f"  assets:   {result.out_dir}/")
    click.echo(f"  manifest: {result.manifest_path}")
    for locale, rel in m.get("contact_sheets", {}).items():
        click.echo(f"  contact sheet {locale}: {result.out_dir / rel}")
    if m.get("check_summary"):
        from .rules import format_summary

        click.echo(f"  checks: {sum(g['count'] for g in m['check_summary'])} finding(s), none failing the run:")
        click.echo(format_summary(m["check_summary"]))
    if result.ledger is not None and hasattr(result.ledger, "describe"):
        click.echo(f"  ledger:   {result.ledger.describe()}")


@cli.command()
@click.argument("brief", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--out", "-o", type=click.Path(path_type=Path), default=Path("out"), show_default=True,
              help="Output folder the run would write to.")
@click.option("--pipeline", "-p", help="Pipeline to use instead of the brief's.")
@click.option("--settings", "settings_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Project settings (assetkit.yaml): runs.warn_assets, runs.max_side.")
@json_option
def plan(brief, out, pipeline, settings_path, as_json):
    """Show what a run would make (per format and locale) without generating anything.

    Example:

    \b
        assetkit plan examples/spring-launch/brief.yaml
    """
    from .campaign import load_campaign
    from .context import RunOptions
    from .runner import big_run_warning, describe_estimate, estimate, make_context, plan_run
    from .settings import load_settings

    settings = load_settings(settings_path)
    campaign = load_campaign(brief, pipeline, max_side=settings.runs.max_side)
    ctx = make_context(campaign, RunOptions(out=out, settings=settings_path))
    p = plan_run(ctx, campaign)
    est = estimate(p, ctx)
    warning = big_run_warning(p, ctx, settings.runs.warn_assets)
    counts = p.counts()
    locales = campaign.brief.locales
    if as_json:
        click.echo(json.dumps({"campaign": campaign.brief.campaign, "pipeline": campaign.pipeline.name,
                               "steps": [s.name for s in campaign.pipeline.steps], "out": str(p.out_dir),
                               "total": len(p.jobs), "up_to_date": len(p.cached), "to_make": len(p.pending),
                               "per_format": counts, "estimate": est, "warning": warning}, indent=2))
        return
    b = campaign.brief
    click.echo(f"campaign {b.campaign} · brand {campaign.brand.name} · pipeline {campaign.pipeline.name} "
               f"({' → '.join(s.name for s in campaign.pipeline.steps)})")
    from .brief import describe_shape

    click.echo(describe_shape(b, locales))
    from .cli_table import print_table
    from .formats import resolve_format

    print_table(["format", "size", *locales, "total"],
                [[name, resolve_format(name).size, *(per.get(loc, 0) for loc in locales), sum(per.values())]
                 for name, per in counts.items()], right=range(2, len(locales) + 3))
    click.echo(f"total: {len(p.jobs)} assets ({len(p.pending)} to make, {len(p.cached)} up to date in {p.out_dir})")
    if p.pending:
        click.echo(f"estimate: {describe_estimate(est)}")
    if warning:
        click.echo(warning, err=True)


@cli.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
def validate(files):
    """Check brand kits, briefs, pipelines, quotes and settings without running anything.

    A brief is checked with its brand kit and pipeline, including whether the copy
    fits every format. Problems print as file:line:col: field: message; exit code 2.

    Example:

    \b
        assetkit validate brand/nordlicht/brand.yaml examples/spring-launch/brief.yaml
    """
    from .validate import validate_file

    problems = []
    for f in files:
        try:
            kind = validate_file(f)
            click.echo(f"{f}: ok ({kind})")
        except ConfigError as exc:
            problems.extend(exc.problems)
    if problems:
        raise ConfigError(problems)


@cli.command()
@json_option
def formats(as_json):
    """List the ad formats a brief can name (or give a custom WxH).

    Example:

    \b
        assetkit formats --json
    """
    from .formats import CATALOG

    if as_json:
        click.echo(json.dumps([f.to_dict() for f in CATALOG.values()], indent=2))
        return
    from .cli_table import print_table

    rows = []
    for f in CATALOG.values():
        sz = f.safe_zone
        safe = f" (safe zone t{sz.top:.0%} r{sz.right:.0%} b{sz.bottom:.0%} l{sz.left:.0%})" if any(
            (sz.top, sz.right, sz.bottom, sz.left)) else ""
        rows.append([f.name, f.size, f.platform, f.format_class, f.layout, f.label + safe])
    print_table(["name", "size", "platform", "class", "layout", "description"], rows)


@cli.command()
@click.argument("directory", type=click.Path(path_type=Path))
@click.option("--name", default="Acme Studio", show_default=True, help="Brand name for the new kit.")
def init(directory, name):
    """Scaffold a working brand kit and brief you can edit and run.

    Example:

    \b
        assetkit init my-campaign --name "Acme Studio" && assetkit run my-campaign/brief.yaml
    """
    from .scaffold import scaffold

    brief = scaffold(directory, name)
    click.echo(f"created {brief.parent}/")
    click.echo(f"  brand kit: {brief.parent / 'brand' / 'brand.yaml'}")
    click.echo(f"  brief:     {brief}")
    click.echo(f"next: assetkit run {brief}")


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="Every step and parameter as JSON.")
def steps(as_json):
    """List pipeline steps with their parameters.

    Example:

    \b
        assetkit steps
        assetkit steps --json
    """
    from .steps import describe_steps

    described = describe_steps()
    if as_json:
        click.echo(json.dumps(described, indent=2, ensure_ascii=False))
        return
    for step in described:
        click.echo(f"{step['name']}: {step['description']}")
        for p in step["params"]:
            default = "" if p["required"] or p["default"] is None else f" = {p['default']!r}"
            desc = f"  {p['description']}" if p["description"] else ""
            click.echo(f"    {p['name']}{default}{desc}")


def _load_plugins() -> None:
    for mod in COMMAND_MODULES:
        module = importlib.import_module(mod)
        for cmd in module.commands:
            cli.add_command(cmd)


_load_plugins()


def main() -> None:
    """Console entry point."""
    cli(prog_name="assetkit")


if __name__ == "__main__":  # pragma: no cover
    main()
