"""Command-line value types shared by every command: numbers that cannot be NaN, infinite or absurd."""
from __future__ import annotations

from decimal import Decimal, InvalidOperation

import click


class Number(click.ParamType):
    """A finite number within ``[minimum, maximum]``; NaN, ±inf, ``1e300`` and text are refused
    with exit 2 before the command runs (``click`` prints the option's name and the value).

    Returns a ``Decimal`` (``exact=True``: money), an ``int`` (``whole=True``) or a ``float``.

        @click.option("--minutes", type=Number(0, 6_000_000), required=True)
    """

    name = "number"
    #: Decimals an exact amount may have (money is stored in integer millionths).
    PLACES = 6

    def __init__(self, minimum: int | str | Decimal | None = 0, maximum: int | str | Decimal | None = None, *,
                 exact: bool = False, whole: bool = False, unit: str = ""):
        self.minimum = None if minimum is None else Decimal(minimum)
        self.maximum = None if maximum is None else Decimal(maximum)
        self.exact, self.whole, self.unit = exact, whole, unit

    def get_metavar(self, param, ctx=None) -> str:  # noqa: D102 - click API
        return "N" if self.whole else "NUMBER"

    def convert(self, value, param, ctx):
        if isinstance(value, (Decimal, int, float)) and not isinstance(value, bool):
            text = repr(value) if isinstance(value, float) else str(value)
        else:
            text = str(value).strip()
        try:
            number = Decimal(text) if "_" not in text else None  # Python reads 1_000; people mean 1.000 or 1,000
        except InvalidOperation:
            number = None
        if number is None:
            self.fail(f"{value!r} is not a number (digits with a '.' for decimals, like 1250.50)", param, ctx)
        if not number.is_finite():
            self.fail(f"{value!r} is not a finite number (NaN and infinity are not accepted)", param, ctx)
        unit = f" {self.unit}" if self.unit else ""
        if self.minimum is not None and number < self.minimum:
            self.fail(f"{text} is below the minimum of {self.minimum:,}{unit}", param, ctx)
        if self.maximum is not None and number > self.maximum:
            self.fail(f"{text} is over the maximum of {self.maximum:,}{unit}", param, ctx)
        if self.whole:
            if number != number.to_integral_value():
                self.fail(f"{text} is not a whole number", param, ctx)
            return int(number)
        if self.exact and number.normalize().as_tuple().exponent < -self.PLACES:
            self.fail(f"{text} has more than {self.PLACES} decimals (amounts are kept to the millionth)", param, ctx)
        return number if self.exact else float(number)


#: The limits of the ledger's numbers at the command line
AMOUNT = Number(0, 10**12, exact=True)  # money in the entry's currency: up to a trillion
HOURS = Number(0, 100_000, unit="h")
MINUTES = Number(0, 6_000_000, unit="min")
