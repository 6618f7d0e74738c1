"""``assetkit keys init`` and ``assetkit verify``: signing identities and reading Content Credentials."""
from __future__ import annotations

import json
from pathlib import Path

import click

from .errors import UsageError


@click.group()
def keys():
    """C2PA signing identities (local development keys).

    Example:

    \b
        assetkit keys init .assetkit/keys
    """


@keys.command("init")
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
@click.option("--name", default="assetkit dev signer", show_default=True, help="Signer name (certificate CN).")
@click.option("--days", type=click.IntRange(1, 3650), default=365, show_default=True,
              help="Signer certificate validity.")
def keys_init(directory, name, days):
    """Make a local development CA and an ES256 signer certificate for C2PA signing.

    Writes ca.pem, ca.key, chain.pem (signer, then CA) and signer.key (mode 0600).
    Files signed with them are untrusted outside your team.

    Example:

    \b
        assetkit keys init .assetkit/keys
    """
    from .provenance.keys import UNTRUSTED_NOTE, init_keys

    paths = init_keys(directory, name=name, days=days)
    click.echo(f"created a local development signing identity in {directory}/")
    click.echo(f"  chain:  {paths['chain']}  (signer certificate, then the dev CA)")
    click.echo(f"  key:    {paths['key']}  (mode 600)")
    click.echo(f"  CA:     {paths['ca']}  (trust anchor for `assetkit verify`; its key: {paths['ca_key']})")
    click.echo("")
    click.echo("WARNING: " + UNTRUSTED_NOTE)
    click.echo("")
    click.echo("add to assetkit.yaml (paths relative to that file):")
    click.echo("  provenance:")
    click.echo(f"    cert: {paths['chain']}")
    click.echo(f"    key: {paths['key']}")
    click.echo(f"    trust_anchors: {paths['ca']}")


@click.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--trust", "trust", type=click.Path(dir_okay=False, path_type=Path),
              help="Trust anchors PEM [default: provenance.trust_anchors of assetkit.yaml].")
@click.option("--settings", type=click.Path(dir_okay=False, path_type=Path), help="Project settings (assetkit.yaml).")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable JSON output.")
def verify(paths, trust, settings, as_json):
    """Check the C2PA Content Credentials of files or campaign folders.

    Prints per file: valid / untrusted / invalid / unsigned and why, who signed it and
    when, the source type and the ingredients. Exit code 1 if any file is invalid or
    unsigned.

    Example:

    \b
        assetkit verify out/demo/spring-launch
    """
    from .provenance.verify import describe, verify_paths

    if trust is None:
        from .settings import load_settings

        s = load_settings(settings)
        if s.provenance.trust_anchors:
            base = s.path.parent if s.path else Path.cwd()
            trust = Path(s.provenance.trust_anchors)
            trust = trust if trust.is_absolute() else base / trust
    verdicts = verify_paths(list(paths), trust)
    if not verdicts:
        raise UsageError("no PNG, JPEG or WebP files found to verify")
    bad = [v for v in verdicts if v.status in ("invalid", "unsigned")]
    if as_json:
        click.echo(json.dumps([v.to_dict() for v in verdicts], indent=2))
    else:
        for v in verdicts:
            for line in describe(v):
                click.echo(line)
        counts = {s: sum(v.status == s for v in verdicts) for s in ("valid", "untrusted", "invalid", "unsigned")}
        click.echo(f"{len(verdicts)} file(s): " + ", ".join(f"{n} {s}" for s, n in counts.items() if n))
    if bad:
        raise SystemExit(1)


@click.command("diff-lock")
@click.argument("a", type=click.Path(exists=True, path_type=Path))
@click.argument("b", type=click.Path(exists=True, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Machine-readable JSON output.")
def diff_lock(a, b, as_json):
    """Show what changed between two runs' lockfiles (files or campaign folders).

    Exit code 0 when they are the same, 1 when they differ.

    Example:

    \b
        assetkit diff-lock out/june/spring-launch out/july/spring-launch
    """
    from .provenance.lock import diff_locks, format_diff, lock_path, read_lock

    pa, pb = lock_path(a), lock_path(b)
    diffs = diff_locks(read_lock(pa), read_lock(pb))
    if as_json:
        click.echo(json.dumps([{"key": k, "a": va, "b": vb} for k, va, vb in diffs], indent=2, default=str))
    elif not diffs:
        click.echo(f"{pa} and {pb}: no differences")
    else:
        click.echo(f"{len(diffs)} difference(s) between A={pa} and B={pb}:")
        for line in format_diff(diffs, "A", "B"):
            click.echo(f"  {line}")
    if diffs:
        raise SystemExit(1)


commands = [keys, verify, diff_lock]
