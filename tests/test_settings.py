"""assetkit.yaml: documented defaults, validation with file:line:col, lookup order."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest

from assetkit.errors import ConfigError
from assetkit.money import FxError, FxRate, FxTable, format_money, from_micros, to_micros
from assetkit.settings import Settings, load_settings

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "assetkit.yaml"


def test_defaults_without_a_file(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("ASSETKIT_SETTINGS", raising=False)
    s = load_settings()
    assert s.path is None and s.currency == "EUR" and s.internal_hourly_rate == 65
    assert s.compute.per_hour("cuda:0") == Decimal("2.50") and s.compute.per_hour("cpu") == Decimal("0.10")
    assert s.human_minutes.for_class("social").total == 8
    assert s.fx_table.rate("USD", "EUR", dt.date(2026, 5, 1)) == Decimal("0.86")


def test_example_file_is_valid_and_matches_the_defaults():
    s = load_settings(EXAMPLE)
    assert s.model_dump(exclude={"path"}) == Settings().model_dump(exclude={"path"})


def test_problems_point_into_the_file(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "assetkit.yaml").write_text(
        "currency: euro\n"
        "internal_hourly_rate: -5\n"
        "compute:\n  gpu_hours: 2\n"
        "fx:\n  - {date: 2026-01-01, from: USD, to: EUR, rate: 0}\n")
    with pytest.raises(ConfigError) as exc:
        load_settings()
    assert [str(p) for p in exc.value.problems] == [
        "assetkit.yaml:1:11: currency: 'euro' is not an ISO 4217 currency code like EUR, USD or GBP",
        "assetkit.yaml:2:23: internal_hourly_rate: must be zero or more, got -5",
        "assetkit.yaml:4:3: compute.gpu_hours: unknown key 'gpu_hours'; did you mean 'gpu_hour'?",
        "assetkit.yaml:6:50: fx[0].rate: rate must be more than zero, got 0",
    ]


def test_named_file_must_exist(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigError, match="file not found"):
        load_settings(tmp_path / "missing.yaml")


def test_env_names_the_file(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "team.yaml").write_text("currency: GBP\n")
    monkeypatch.setenv("ASSETKIT_SETTINGS", str(tmp_path / "team.yaml"))
    assert load_settings().currency == "GBP"


def test_money_helpers():
    assert to_micros(Decimal("0.000001")) == 1 and from_micros(1_500_000) == Decimal("1.5")
    assert format_money(Decimal("1234567.891"), "EUR", "de_DE") == "1.234.567,89\xa0€"
    assert format_money(Decimal("1234.5"), "JPY", "en_US") == "¥1,234"
    fx = FxTable([FxRate(dt.date(2026, 1, 1), "USD", "EUR", Decimal("0.9")),
                  FxRate(dt.date(2026, 7, 1), "USD", "EUR", Decimal("0.8"))])
    assert fx.convert(Decimal(10), "USD", "EUR", dt.date(2026, 6, 30)) == Decimal("9.0")
    assert fx.convert(Decimal(8), "EUR", "USD", dt.date(2026, 7, 1)) == Decimal(10)
    with pytest.raises(FxError, match="no USD→EUR rate on or before 2025-12-31"):
        fx.rate("USD", "EUR", dt.date(2025, 12, 31))
