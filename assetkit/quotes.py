"""Agency quotes (rate cards): what an agency would have charged for the same deliverables.

A quote file is YAML (one quote) or CSV (one row per line item, several quotes allowed). Every
problem is reported as ``file:line:col``. Imported quotes live in the ledger (``quotes`` table).

Units of a line item and how a run's deliverables are priced against it:

``per_asset``   unit_price for every new matching asset; hours_per_unit agency hours each.
``per_hour``    hours_per_unit hours for every new matching asset, at unit_price per hour.
``per_format``  unit_price once per distinct matching format in a run (adaptation / resize),
                shared between that format's new assets.
``flat``        unit_price once per run that has any new matching asset, shared between them.
``per_word``    translation: unit_price × words of copy, for each non-source locale matched,
                but at least ``minimum`` per locale (agencies' minimum job fee).

All matching lines add up, except lines that name the same ``service``: those are alternatives
and only the most specific match applies (named formats beat a format class beats no rule).
When several quotes are valid, each deliverable is priced with the quote whose best line matches
it most specifically (then the most recent ``valid_from``).
"""
from __future__ import annotations

import csv
import datetime as dt
import difflib
import hashlib
import io
import json
from collections.abc import Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, ValidationError, field_validator, model_validator

from .brief import check_id, check_locale
from .config_base import StrictModel
from .errors import ConfigError, FieldError, Problem
from .formats import resolve_format
from .money import check_currency, to_decimal
from .yamlfile import display_path, error_loc, load_yaml, validate

CATEGORIES = ("translation", "production", "crm", "social", "photography", "other")
UNITS = ("per_asset", "per_format", "per_hour", "per_word", "flat")
#: What a deliverable is to the agency: the first visual of a concept (``master``), that visual
#: in another format (``resize``) or locale (``locale``), a second or later variant of a concept
#: (``variant``), or a changed output of a deliverable already delivered (``revision``).
ROLES = ("master", "resize", "locale", "variant", "revision")
FORMAT_CLASSES = ("social", "display", "video", "print")


def _listify(v):
    if v is None:
        return None
    if isinstance(v, str):
        parts = [p.strip() for p in v.replace("|", ";").split(";")]
        return [p for p in parts if p] or None
    return v


class Match(StrictModel):
    """Which deliverables a line applies to; an absent rule matches everything."""

    format_class: list[str] | None = None
    formats: list[str] | None = None
    locales: list[str] | None = None

    _lists = field_validator("format_class", "formats", "locales", mode="before")(
        classmethod(lambda cls, v: _listify(v)))

    @field_validator("format_class")
    @classmethod
    def _classes(cls, v):
        for c in v or []:
            if c not in FORMAT_CLASSES:
                raise ValueError(f"format class {c!r} is not one of {', '.join(FORMAT_CLASSES)}")
        return v

    @field_validator("formats")
    @classmethod
    def _formats(cls, v):
        for name in v or []:
            resolve_format(name)
        return v

    @field_validator("locales")
    @classmethod
    def _locales(cls, v):
        for loc in v or []:
            check_locale(loc)
        return v

    def matches(self, format: str | None, format_class: str | None, locale: str | None) -> bool:
        if self.format_class and format_class not in self.format_class:
            return False
        if self.formats and format not in self.formats:
            return False
        return not (self.locales and locale not in self.locales)

    @property
    def specificity(self) -> int:
        return 1 + 3 * bool(self.formats) + 2 * bool(self.format_class) + bool(self.locales)


def _money(cls, v) -> Decimal:
    d = to_decimal(v)
    if d < 0:
        raise ValueError(f"must be zero or more, got {v}")
    if d > 1_000_000:
        raise ValueError(f"must be at most 1,000,000 (a price per unit), got {v}")
    return d


class QuoteLine(StrictModel):
    """One priced service of a rate card."""

    id: str
    description: str = Field(min_length=1)
    service: str | None = None
    category: str | None = None
    unit: Literal["per_asset", "per_format", "per_hour", "per_word", "flat"]
    unit_price: Decimal
    hours_per_unit: Decimal = Decimal(0)
    turnaround_days: Decimal = Decimal(0)
    minimum: Decimal = Decimal(0)
    match: Match = Field(default_factory=Match)
    #: The deliverable roles this line prices (see ROLES); absent = every role. A line naming
    #: roles beats a line of the same service that names none.
    applies_to: list[Literal["master", "resize", "locale", "variant", "revision"]] | None = None

    _roles = field_validator("applies_to", mode="before")(classmethod(lambda cls, v: _listify(v)))
    _amounts = field_validator("unit_price", "hours_per_unit", "turnaround_days", "minimum",
                               mode="before")(_money)

    @property
    def service_key(self) -> str:
        """Lines of one service are alternatives (the most specific match wins); services add up."""
        return self.service or self.id

    @field_validator("id")
    @classmethod
    def _id(cls, v: str) -> str:
        return check_id(v, "line id")

    @field_validator("category")
    @classmethod
    def _cat(cls, v):
        return _check_category(v)


def _check_category(v: str | None) -> str | None:
    if v is None:
        return v
    low = v.lower()
    if low not in CATEGORIES:
        close = difflib.get_close_matches(low, CATEGORIES, n=1)
        hint = f"did you mean {close[0]!r}? " if close else ""
        raise ValueError(f"category {v!r} is not one of {', '.join(CATEGORIES)}; {hint}".rstrip("; ").rstrip())
    return low


class Quote(StrictModel):
    """An agency rate card valid from ``valid_from`` to ``valid_to`` (inclusive)."""

    version: Literal[1] = 1
    id: str
    agency: str = Field(min_length=1)
    category: str = "production"
    currency: str
    valid_from: dt.date
    valid_to: dt.date
    notes: str | None = None
    lines: list[QuoteLine] = Field(min_length=1)

    @field_validator("id")
    @classmethod
    def _id(cls, v: str) -> str:
        return check_id(v, "quote id")

    @field_validator("category")
    @classmethod
    def _cat(cls, v):
        return _check_category(v)

    @field_validator("currency")
    @classmethod
    def _cur(cls, v: str) -> str:
        return check_currency(v)

    @model_validator(mode="after")
    def _cross(self) -> Quote:
        if self.valid_to < self.valid_from:
            raise FieldError(("valid_to",), f"{self.valid_to.isoformat()} is before valid_from "
                             f"{self.valid_from.isoformat()}")
        ids = [line.id for line in self.lines]
        dupes = sorted({i for i in ids if ids.count(i) > 1})
        if dupes:  # at the second use of the first repeated id
            at = [n for n, i in enumerate(ids) if i == dupes[0]][1]
            raise FieldError(("lines", at, "id"), f"line ids must be unique; repeated: {', '.join(dupes)}")
        return self

    def valid_on(self, day: dt.date) -> bool:
        return self.valid_from <= day <= self.valid_to

    def line_category(self, line: QuoteLine) -> str:
        return line.category or ("translation" if line.unit == "per_word" else self.category)

    def canonical_json(self) -> str:
        body = self.model_dump(mode="json")
        for line in body["lines"]:  # a card without roles keeps the hash it had before roles existed
            if line.get("applies_to") is None:
                line.pop("applies_to", None)
        return json.dumps(body, sort_keys=True, separators=(",", ":"))

    @property
    def has_roles(self) -> bool:
        """Whether the card prices adaptations (resize, locale, variant, revision) apart."""
        return any(line.applies_to for line in self.lines)

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.canonical_json().encode()).hexdigest()


# -- loading -----------------------------------------------------------------------------------

def load_quotes(path: str | Path) -> list[Quote]:
    """Read a YAML (one quote) or CSV (one row per line item) quote file; ConfigError on problems."""
    path = Path(path)
    if path.suffix.lower() == ".csv":
        return load_csv(path)
    doc = load_yaml(path)
    return [validate(doc, Quote)]


#: CSV columns: quote-level ones repeat on every row of the same quote_id.
CSV_QUOTE_COLUMNS = {"quote_id": "id", "agency": "agency", "category": "category", "currency": "currency",
                     "valid_from": "valid_from", "valid_to": "valid_to", "notes": "notes"}
CSV_LINE_COLUMNS = {"line_id": "id", "description": "description", "service": "service",
                    "line_category": "category",
                    "unit": "unit", "unit_price": "unit_price", "hours_per_unit": "hours_per_unit",
                    "turnaround_days": "turnaround_days", "minimum": "minimum", "applies_to": "applies_to"}
CSV_MATCH_COLUMNS = ("format_class", "formats", "locales")
CSV_REQUIRED = ("quote_id", "agency", "currency", "valid_from", "valid_to", "line_id", "description",
                "unit", "unit_price")
CSV_COLUMNS = tuple(CSV_QUOTE_COLUMNS) + tuple(CSV_LINE_COLUMNS) + CSV_MATCH_COLUMNS


def _field_starts(raw: str) -> list[int]:
    """1-based start column of each comma-separated field of one raw CSV line."""
    starts, i, quoted, n = [1], 0, False, len(raw)
    while i < n:
        ch = raw[i]
        if ch == '"':
            if quoted and i + 1 < n and raw[i + 1] == '"':
                i += 1
            else:
                quoted = not quoted
        elif ch == "," and not quoted:
            starts.append(i + 2)
        i += 1
    return starts


class _CheckedReader:
    """A csv.reader whose errors (a cell over the field size limit...) are file:line:col problems."""

    def __init__(self, name: str, reader):
        self.name, self.reader = name, reader

    @property
    def line_num(self) -> int:
        return self.reader.line_num

    def __iter__(self):
        return self

    def __next__(self) -> list[str]:
        try:
            return next(self.reader)
        except csv.Error as exc:
            msg = str(exc)
            if "field larger than field limit" in msg:
                msg = f"a cell is longer than the limit of {csv.field_size_limit():,} characters"
            raise ConfigError([Problem(self.name, self.reader.line_num or 1, 1, "", f"CSV error: {msg}")]) from None


def load_csv(path: Path) -> list[Quote]:
    from .files import MAX_TEXT_BYTES, InputFileError, read_input

    name = display_path(path)
    try:
        text = read_input(path, MAX_TEXT_BYTES, name).decode("utf-8-sig")
    except InputFileError as exc:
        raise ConfigError.single(name, exc.short) from None
    except UnicodeDecodeError as exc:
        raise ConfigError.single(name, f"not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    if "\x00" in text:
        i = text.index("\x00")
        raise ConfigError([Problem(name, text.count("\n", 0, i) + 1, i - text.rfind("\n", 0, i), "",
                                   "a NUL byte is not allowed in CSV text")])
    raw_lines = text.splitlines()
    reader = _CheckedReader(name, csv.reader(io.StringIO(text)))
    try:
        header = next(reader)
    except StopIteration:
        raise ConfigError.single(name, "empty CSV file; expected a header row with "
                                 + ", ".join(CSV_REQUIRED)) from None
    header = [h.strip() for h in header]
    starts = _field_starts(raw_lines[0]) if raw_lines else [1]
    problems: list[Problem] = []
    for i, h in enumerate(header):
        if h not in CSV_COLUMNS:
            close = difflib.get_close_matches(h, CSV_COLUMNS, n=1)
            hint = f"did you mean {close[0]!r}?" if close else f"valid columns: {', '.join(CSV_COLUMNS)}"
            problems.append(Problem(name, 1, starts[i] if i < len(starts) else 1, "", f"unknown column {h!r}; {hint}"))
    for col in CSV_REQUIRED:
        if col not in header:
            problems.append(Problem(name, 1, 1, "", f"missing required column {col!r}"))
    dupes = sorted({h for h in header if header.count(h) > 1})
    for d in dupes:
        problems.append(Problem(name, 1, starts[header.index(d)], "", f"column {d!r} appears twice"))
    if problems:
        raise ConfigError(problems)

    quotes: dict[str, dict] = {}  # quote_id -> {"fields":..., "lines": [...], "first": (line, cells)}
    for row in reader:
        line_no = reader.line_num
        if not any(c.strip() for c in row):
            continue
        raw = raw_lines[line_no - 1] if line_no - 1 < len(raw_lines) else ""
        cols = _field_starts(raw)

        def where(column: str, _cols=cols, _line=line_no) -> tuple[int, int]:
            idx = header.index(column)
            return _line, _cols[idx] if idx < len(_cols) else 1

        if len(row) != len(header):
            problems.append(Problem(name, line_no, 1, "", f"row has {len(row)} fields, the header has {len(header)}"))
            continue
        cells = {h: row[i].strip() for i, h in enumerate(header)}
        qid = cells["quote_id"]
        qfields = {CSV_QUOTE_COLUMNS[c]: cells[c] for c in CSV_QUOTE_COLUMNS if c in cells and cells[c] != ""}
        entry = quotes.get(qid)
        if entry is None:
            entry = quotes[qid] = {"fields": qfields, "lines": [], "where": {}, "line_where": []}
            for c in CSV_QUOTE_COLUMNS:
                if c in header:
                    entry["where"][CSV_QUOTE_COLUMNS[c]] = where(c)
        else:
            for c, key in CSV_QUOTE_COLUMNS.items():
                if c in cells and cells[c] != "" and entry["fields"].get(key) != cells[c]:
                    ln, co = where(c)
                    problems.append(Problem(name, ln, co, c, f"{cells[c]!r} differs from {entry['fields'].get(key)!r} "
                                            f"on an earlier row of quote {qid!r}"))
        line: dict[str, Any] = {CSV_LINE_COLUMNS[c]: cells[c]
                                for c in CSV_LINE_COLUMNS if c in cells and cells[c] != ""}
        match = {c: cells[c] for c in CSV_MATCH_COLUMNS if c in cells and cells[c] != ""}
        if match:
            line["match"] = match
        lw = {CSV_LINE_COLUMNS[c]: where(c) for c in CSV_LINE_COLUMNS if c in header}
        lw.update({c: where(c) for c in CSV_MATCH_COLUMNS if c in header})
        lw["_row"] = (line_no, 1)
        entry["lines"].append(line)
        entry["line_where"].append(lw)
    if not quotes and not problems:
        problems.append(Problem(name, 2, 1, "", "no line items below the header"))

    out: list[Quote] = []
    for entry in quotes.values():
        data = dict(entry["fields"], lines=entry["lines"])
        try:
            out.append(Quote.model_validate(data))
        except ValidationError as exc:
            for err in exc.errors(include_url=False):
                loc = error_loc(err)
                msg = _clean_msg(err)
                if loc and loc[0] == "lines" and len(loc) > 1 and isinstance(loc[1], int):
                    lw = entry["line_where"][loc[1]]
                    bad = next((p for p in loc[2:] if isinstance(p, str) and (p in lw)), None)
                    ln, co = lw.get(bad, lw["_row"])
                    col_name = _column_for(bad, line_level=True) if bad else ""
                else:
                    bad = str(loc[0]) if loc else None
                    first_row = entry["line_where"][0]["_row"]
                    ln, co = entry["where"].get(bad, first_row) if bad else first_row
                    col_name = _column_for(bad, line_level=False) if bad else ""
                    if not loc:
                        col_name = ""
                if err["type"] == "missing":
                    msg = f"missing value for column {col_name!r}" if col_name else msg
                problems.append(Problem(name, ln, co, col_name, msg))
    if problems:
        raise ConfigError(problems)
    return out


def _column_for(key: str, line_level: bool) -> str:
    if key in CSV_MATCH_COLUMNS:
        return key
    table = CSV_LINE_COLUMNS if line_level else CSV_QUOTE_COLUMNS
    for col, k in table.items():
        if k == key:
            return col
    return key


def _clean_msg(err: Mapping[str, Any]) -> str:
    from .yamlfile import _message

    return _message(err)

