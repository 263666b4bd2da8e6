"""Money in integer minor units, and the one rounding rule every charge and credit uses.

Amounts are ints in the currency's minor unit (KRW has none: 19,000 won is 19000; SEK 1 krona is
100 öre). A share of an amount (a prorated month, a percentage credit) is computed exactly with
Decimal and rounded once, half up, to the minor unit: 0.5 won becomes 1 won, 0.49 becomes 0.
"""

import calendar
from decimal import ROUND_HALF_UP, Decimal


class MoneyError(ValueError):
    """An amount or share that cannot be used: `code` says why."""

    def __init__(self, code: str):
        super().__init__(code)
        self.code = code


def days_in_month(year: int, month: int) -> int:
    """28 to 31; February has 29 in leap years (2028, 2000; not 2100)."""
    return calendar.monthrange(year, month)[1]


def _rounded(value: Decimal) -> int:
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def prorate(monthly: int, days_used: int, year: int, month: int) -> int:
    """The part of a monthly amount for `days_used` days of that month, rounded half up."""
    days = days_in_month(year, month)
    if monthly < 0:
        raise MoneyError("negative_amount")
    if not 0 <= days_used <= days:
        raise MoneyError("days_out_of_month")
    return _rounded(Decimal(monthly) * days_used / days)


def percent_of(amount: int, percent: int | Decimal) -> int:
    """`percent` % of `amount`, rounded half up (a credit of 10 % of 19,005 won is 1,901)."""
    if amount < 0:
        raise MoneyError("negative_amount")
    if not 0 <= Decimal(percent) <= 100:
        raise MoneyError("percent_out_of_range")
    return _rounded(Decimal(amount) * Decimal(percent) / 100)
