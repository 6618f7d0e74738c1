"""The one table printer of the CLI: plain-text columns, two spaces apart, no trailing blanks."""
from __future__ import annotations

from collections.abc import Collection, Sequence

import click


def format_table(header: Sequence[object], rows: Sequence[Sequence[object]], right: Collection[int] = ()) -> str:
    """``header`` and ``rows`` as aligned columns (as wide as their widest cell); the columns
    whose index is in ``right`` are right-aligned (numbers, money)."""
    lines = [[str(c) for c in row] for row in [header, *rows]]
    widths = [max(len(row[i]) if i < len(row) else 0 for row in lines) for i in range(len(lines[0]))]
    out = []
    for row in lines:
        cells = [c.rjust(w) if i in right else c.ljust(w) for i, (c, w) in enumerate(zip(row, widths))]
        out.append("  ".join(cells).rstrip())
    return "\n".join(out)


def print_table(header: Sequence[object], rows: Sequence[Sequence[object]], right: Collection[int] = ()) -> None:
    """Print :func:`format_table` to standard output."""
    click.echo(format_table(header, rows, right))
