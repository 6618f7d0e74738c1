"""Money: ``Decimal`` amounts with an ISO 4217 currency, exact storage, FX and display.

Amounts are never floats. The ledger stores them as integer *micro-units* (amount × 10⁶) so
that sums in SQL are exact and sub-cent compute costs are not rounded away; they are rounded to
the currency's minor unit only for display.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation

#: Storage scale: 1 currency unit = 1 000 000 micros (exact for every ISO 4217 currency).
MICROS = 1_000_000


def split_exact(total: int, n: int) -> list[int]:
    """Split an integer amount (micros, milliseconds) into ``n`` parts that add up exactly: the
    remainder goes one unit each to the first parts."""
    base, rem = divmod(total, n)
    return [base + (1 if i < rem else 0) for i in range(n)]


def check_currency(code: str) -> str:
    """``code`` if it is an ISO 4217 currency babel knows; ValueError naming it otherwise."""
    from babel.numbers import is_currency

    if not isinstance(code, str) or len(code) != 3 or not code.isupper() or not is_currency(code):
        raise ValueError(f"{code!r} is not an ISO 4217 currency code like EUR, USD or GBP")
    return code


def to_decimal(value: object) -> Decimal:
    """An exact Decimal from text, int or Decimal (floats go through their shortest repr)."""
    if isinstance(value, Decimal):
        return value
    if isinstance(value, bool):
        raise ValueError(f"expected an amount, got {value!r}")
    if isinstance(value, float):
        value = repr(value)
    try:
        d = Decimal(str(value).strip())
    except InvalidOperation:
        raise ValueError(f"{value!r} is not a number") from None
    if not d.is_finite():
        raise ValueError(f"{value!r} is not a finite number")
    return d


def to_micros(amount: Decimal) -> int:
    """Decimal amount → integer micro-units (half-even rounding below 10⁻⁶)."""
    return int((to_decimal(amount) * MICROS).to_integral_value(rounding=ROUND_HALF_EVEN))


def from_micros(micros: int | None) -> Decimal:
    """Integer micro-units → Decimal amount (exact)."""
    return Decimal(int(micros or 0)) / MICROS


def precision(currency: str) -> int:
    """Digits after the decimal point of ``currency``'s minor unit (EUR 2, JPY 0)."""
    from babel.numbers import get_currency_precision

    return get_currency_precision(currency)


def round_minor(amount: Decimal, currency: str) -> Decimal:
    """``amount`` rounded (half-even) to the currency's minor unit."""
    return to_decimal(amount).quantize(Decimal(1).scaleb(-precision(currency)), rounding=ROUND_HALF_EVEN)


def format_money(amount: Decimal, currency: str, locale: str = "en_US") -> str:
    """``Decimal('1234.5'), 'EUR', 'de_DE'`` → ``'1.234,50\xa0€'`` (babel, minor-unit rounding)."""
    from babel.numbers import format_currency

    value = round_minor(amount, currency)
    if value == 0:
        value = abs(value)  # no "-€0.00"
    return format_currency(value, currency, locale=locale.replace("-", "_"))


def plain(amount: Decimal, currency: str) -> str:
    """Machine-friendly text for CSV/JSON: ``'1234.50'`` (rounded to the minor unit)."""
    return f"{round_minor(amount, currency):f}"


@dataclass(frozen=True)
class FxRate:
    """1 ``base`` = ``rate`` ``quote`` from ``date`` on (until a later rate for the pair)."""

    date: dt.date
    base: str
    quote: str
    rate: Decimal


class FxError(ValueError):
    """No usable rate for a conversion."""


class FxTable:
    """Dated exchange rates; a conversion uses the latest rate dated on or before the day.

    A rate given one way is used the other way too (1 / rate) when no direct rate exists.
    """

    def __init__(self, rates: list[FxRate] | tuple[FxRate, ...] = ()):
        self.rates = sorted(rates, key=lambda r: r.date)

    def rate(self, base: str, quote: str, on: dt.date) -> Decimal:
        if base == quote:
            return Decimal(1)
        direct = [r for r in self.rates if r.base == base and r.quote == quote and r.date <= on]
        if direct:
            return direct[-1].rate
        inverse = [r for r in self.rates if r.base == quote and r.quote == base and r.date <= on]
        if inverse:
            return Decimal(1) / inverse[-1].rate
        known = [r for r in self.rates if {r.base, r.quote} == {base, quote}]
        if known:
            raise FxError(f"no {base}→{quote} rate on or before {on.isoformat()} (first rate is dated "
                          f"{known[0].date.isoformat()}); add one under fx: in assetkit.yaml")
        raise FxError(f"no {base}→{quote} exchange rate; add one under fx: in assetkit.yaml")

    def convert(self, amount: Decimal, base: str, quote: str, on: dt.date) -> Decimal:
        """``amount`` in ``base`` → ``quote`` at the rate valid on ``on`` (exact Decimal)."""
        return to_decimal(amount) * self.rate(base, quote, on)
