"""Durations in the ledger: INTEGER milliseconds (exact and summable in SQL, as money is in micros).

``to_ms(Decimal("1.5"), MS_PER_HOUR)`` → 5,400,000; amounts of time are rounded half-even to the
millisecond once, when they are booked; read back they are exact Decimals (``hours(ms)``).
"""
from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal

from ..money import to_decimal
from .schema import MS_PER_HOUR, MS_PER_MINUTE, MS_PER_SECOND

__all__ = ["MS_PER_HOUR", "MS_PER_MINUTE", "MS_PER_SECOND", "hours", "minutes", "seconds", "to_ms"]


def to_ms(value: Decimal | int | float | str | None, per: int) -> int:
    """``value`` units of ``per`` milliseconds (hours: MS_PER_HOUR) as integer ms, half-even."""
    if value is None:
        return 0
    return int((to_decimal(value) * per).to_integral_value(rounding=ROUND_HALF_EVEN))


def hours(ms: int | None) -> Decimal:
    """Integer ms → exact Decimal hours."""
    return Decimal(int(ms or 0)) / MS_PER_HOUR


def hours_to_print(ms: int | None) -> Decimal:
    """Integer ms → hours rounded half-even to 0.01 (a sum is rounded once, from its exact ms)."""
    return hours(ms).quantize(Decimal("0.01"), ROUND_HALF_EVEN)


def minutes(ms: int | None) -> Decimal:
    return Decimal(int(ms or 0)) / MS_PER_MINUTE


def seconds(ms: int | None) -> Decimal:
    return Decimal(int(ms or 0)) / MS_PER_SECOND
