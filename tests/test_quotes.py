"""Quote files: YAML and CSV load the same rate card; problems point at file:line:col."""
from __future__ import annotations

from decimal import Decimal

import pytest
from ledger_fixtures import EXAMPLE_CSV, EXAMPLE_YAML, QUOTE_CSV, QUOTE_YAML

from assetkit.errors import ConfigError
from assetkit.quotes import load_quotes


def test_example_yaml_and_csv_are_the_same_card():
    (y,), (c,) = load_quotes(QUOTE_YAML), load_quotes(QUOTE_CSV)
    assert y == c and y.sha256 == c.sha256
    assert y.currency == "USD" and len(y.lines) == 9
    assert y.lines[-3].unit_price == Decimal("0.14")  # exact, not a float
    (y,), (c,) = load_quotes(EXAMPLE_YAML), load_quotes(EXAMPLE_CSV)
    assert y == c and y.sha256 == c.sha256 and y.has_roles
    assert {line.id: line.applies_to for line in y.lines if line.applies_to} == {
        "social-static": ["master"], "social-vertical": ["master"], "display-banner": ["master"],
        "extra-variant": ["variant"], "resize": ["resize"], "locale-version": ["locale"], "revision": ["revision"],
        "format-template": ["master", "resize"], "art-direction": ["master", "variant"]}


def test_a_card_without_roles_keeps_its_hash():
    # the hash a ledger stored for the role-less card before `applies_to` existed
    (q,) = load_quotes(QUOTE_YAML)
    assert not q.has_roles and '"applies_to"' not in q.canonical_json()


def problems(path):
    with pytest.raises(ConfigError) as exc:
        load_quotes(path)
    return [str(p) for p in exc.value.problems]


GOOD = """\
id: q1
agency: A
currency: EUR
valid_from: 2026-01-01
valid_to: 2026-12-31
lines:
  - id: l1
    description: banner
    unit: per_asset
    unit_price: 10
"""


def test_yaml_problems_have_positions(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "q.yaml").write_text(
        GOOD.replace("currency: EUR", "currency: EURO").replace("unit: per_asset", "unit: per_banner")
        + "    match: {format_class: tv}\n")
    assert problems(tmp_path / "q.yaml") == [
        "q.yaml:3:11: currency: 'EURO' is not an ISO 4217 currency code like EUR, USD or GBP",
        "q.yaml:9:11: lines[0].unit: 'per_banner' is not one of 'per_asset', 'per_format', 'per_hour', "
        "'per_word' or 'flat'",
        "q.yaml:11:27: lines[0].match.format_class: format class 'tv' is not one of social, display, video, print",
    ]


def test_dates_in_order(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "q.yaml").write_text(GOOD.replace("valid_to: 2026-12-31", "valid_to: 2025-12-31"))
    assert problems(tmp_path / "q.yaml") == ["q.yaml:5:11: valid_to: 2025-12-31 is before valid_from 2026-01-01"]


def test_yaml_negative_price_and_unknown_key(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "q.yaml").write_text(GOOD.replace("unit_price: 10", "unit_price: -10\n    turnarond_days: 2"))
    assert problems(tmp_path / "q.yaml") == [
        "q.yaml:10:17: lines[0].unit_price: must be zero or more, got -10",
        "q.yaml:11:5: lines[0].turnarond_days: unknown key 'turnarond_days'; did you mean 'turnaround_days'?",
    ]


CSV_HEAD = "quote_id,agency,currency,valid_from,valid_to,line_id,description,unit,unit_price,formats\n"


def test_csv_problems_have_positions(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "q.csv").write_text(
        CSV_HEAD
        + "q1,A,EUR,2026-01-01,2026-12-31,l1,banner,per_asset,ten,\n"
        + 'q1,A,USD,2026-01-01,2026-12-31,l2,"a, b",per_format,5,meta-sqare\n')
    assert problems(tmp_path / "q.csv") == [
        "q.csv:2:52: unit_price: 'ten' is not a number",
        "q.csv:3:6: currency: 'USD' differs from 'EUR' on an earlier row of quote 'q1'",
        "q.csv:3:55: formats: unknown format 'meta-sqare'; did you mean 'meta-square'? valid formats: "
        "meta-square, meta-portrait, meta-story, meta-landscape, tiktok-feed, linkedin-landscape, linkedin-square, "
        "iab-medium-rectangle, iab-leaderboard, iab-wide-skyscraper, iab-half-page, iab-billboard, iab-mobile-banner, "
        "iab-portrait or a custom WxH like 1600x900",
    ]


def test_csv_header_problems(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "q.csv").write_text("quote_id,agency,curency\n")
    out = problems(tmp_path / "q.csv")
    assert "q.csv:1:17: unknown column 'curency'; did you mean 'currency'?" in out
    assert "q.csv:1:1: missing required column 'unit_price'" in out


def test_missing_file(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert problems(tmp_path / "none.csv") == ["none.csv: file not found"]
    assert problems(tmp_path / "none.yaml") == ["none.yaml: file not found"]
