"""Calendar months as "YYYY-MM" strings: parsing, stepping, first and last days."""

from __future__ import annotations

import calendar
import re
from collections.abc import Iterator
from datetime import date

__all__ = ["month_of", "first_day", "last_day", "next_month", "months_between", "is_month"]

_MONTH = re.compile(r"\d{4}-(0[1-9]|1[0-2])\Z")


def is_month(text: object) -> bool:
    """True when text is a real month in the form YYYY-MM."""
    return isinstance(text, str) and bool(_MONTH.match(text)) and text >= "0001-01"


def month_of(day: date) -> str:
    """The month a date lies in, as YYYY-MM."""
    return f"{day.year:04d}-{day.month:02d}"


def first_day(month: str) -> date:
    """The first day of a YYYY-MM month."""
    return date(int(month[:4]), int(month[5:7]), 1)


def last_day(month: str) -> date:
    """The last day of a YYYY-MM month."""
    year, number = int(month[:4]), int(month[5:7])
    return date(year, number, calendar.monthrange(year, number)[1])


def next_month(month: str) -> str:
    """The month after a YYYY-MM month."""
    year, number = int(month[:4]), int(month[5:7])
    return f"{year + number // 12:04d}-{number % 12 + 1:02d}"


def months_between(first: str, last: str) -> Iterator[str]:
    """Every month from first through last, oldest first (nothing when first > last)."""
    month = first
    while month <= last:
        yield month
        month = next_month(month)
