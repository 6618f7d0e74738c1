"""The one CSV writer: every CSV assetkit emits goes through it, so no cell becomes a formula.

Spreadsheets (Excel, LibreOffice, Google Sheets) run a cell that starts with ``=``, ``+``,
``-`` or ``@`` as a formula (``=HYPERLINK(...)``, ``+cmd|' /C calc'!A0``), and some also after
a leading tab or carriage return. Names, campaign ids and notes in the ledger are user input,
so :func:`safe_cell` prefixes such a cell with ``'`` (shown as text, never run). Numbers —
including negative ones like ``-12.50`` — are left as they are.

A bare carriage return inside a value is turned into a line feed and the cell is quoted, so
no reader sees a new row; every line inside a multi-line cell is neutralised as well, for
readers that split rows on line breaks regardless of quotes.

    write_csv(fh, ["name", "amount"], [["=1+2", Decimal("-5")]])   # '=1+2,-5
"""
from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable
from decimal import Decimal
from typing import Any, TextIO

#: first characters a spreadsheet may treat as the start of a formula
FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n", "\uff1d", "\uff0b", "\uff0d", "\uff20")
_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")


def safe_cell(value: Any) -> str:
    """``value`` as CSV cell text that no spreadsheet runs as a formula."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float, Decimal)):
        text = format(value, "f") if isinstance(value, Decimal) else str(value)
        if _NUMBER.fullmatch(text):
            return text
        value = text  # nan / inf / sNaN: text like any other
    text = str(value)
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    if _NUMBER.fullmatch(text):
        return text
    return "\n".join(_neutral_line(line) for line in text.split("\n")) if "\n" in text else _neutral_line(text)


def _neutral_line(line: str) -> str:
    if line.startswith(FORMULA_START) and not _NUMBER.fullmatch(line):
        return "'" + line
    return line


def csv_writer(fh: TextIO, lineterminator: str = "\n"):
    """A ``csv.writer`` on ``fh`` whose ``writerow`` makes every cell safe (see :func:`safe_cell`)."""
    return _SafeWriter(fh, lineterminator)


class _SafeWriter:
    def __init__(self, fh: TextIO, lineterminator: str):
        self._w = csv.writer(fh, lineterminator=lineterminator, quoting=csv.QUOTE_MINIMAL)

    def writerow(self, row: Iterable[Any]) -> None:
        self._w.writerow([safe_cell(c) for c in row])

    def writerows(self, rows: Iterable[Iterable[Any]]) -> None:
        for row in rows:
            self.writerow(row)


def write_csv(fh: TextIO, header: Iterable[str], rows: Iterable[Iterable[Any]], lineterminator: str = "\n") -> None:
    """A header row and ``rows`` as safe CSV on ``fh``."""
    w = csv_writer(fh, lineterminator)
    w.writerow(header)
    w.writerows(rows)


def to_csv(header: Iterable[str], rows: Iterable[Iterable[Any]], lineterminator: str = "\n") -> str:
    """:func:`write_csv` into a string."""
    buf = io.StringIO()
    write_csv(buf, header, rows, lineterminator)
    return buf.getvalue()
