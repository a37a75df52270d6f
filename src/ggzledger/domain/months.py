"""Calendar months as "YYYY-MM" strings, 0001-01 through 9999-12: parsing, stepping, first and last days."""

from __future__ import annotations

import calendar
import re
from collections.abc import Iterator
from datetime import date

__all__ = [
    "month_of",
    "first_day",
    "last_day",
    "next_month",
    "months_between",
    "is_month",
    "FIRST_MONTH",
    "LAST_MONTH",
    "MAX_SPAN",
    "MonthOutOfRange",
    "SpanTooLong",
]

FIRST_MONTH = "0001-01"
LAST_MONTH = "9999-12"
MAX_SPAN = 12 * 200
"""The most months one call of months_between yields: a ledger's open months never span more."""

# [0-9], not \d: \d also matches other scripts' digits ("٢٠٢٤-01"), which int() would read as 2024.
_MONTH = re.compile(r"[0-9]{4}-(0[1-9]|1[0-2])\Z")


class MonthOutOfRange(ValueError):
    """A month before 0001-01 or after 9999-12 was asked for."""


class SpanTooLong(ValueError):
    """A range of months longer than MAX_SPAN was asked for."""


def is_month(text: object) -> bool:
    """True when text is a real month in the form YYYY-MM, 0001-01 through 9999-12."""
    return isinstance(text, str) and bool(_MONTH.match(text)) and text >= FIRST_MONTH


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
    """The month after a YYYY-MM month; raises MonthOutOfRange for 9999-12, which has none."""
    count = _count(month) + 1
    if count > _LAST:
        raise MonthOutOfRange(f"there is no month after {LAST_MONTH}")
    return _text(count)


def months_between(first: str, last: str) -> Iterator[str]:
    """Every month from first through last, oldest first (nothing when first > last).

    Raises SpanTooLong, before yielding anything, when that is more than MAX_SPAN
    months (no caller is ever handed an unbounded amount of work), and
    MonthOutOfRange when first or last is not a month.
    """
    start, end = _count(first), _count(last)
    if end - start + 1 > MAX_SPAN:
        raise SpanTooLong(
            f"{first} through {last}: {end - start + 1:,} months, more than the {MAX_SPAN:,} allowed at once"
        )
    return map(_text, range(start, end + 1))


# Months as numbers, counted from 0000-01: the arithmetic never goes through strings, whose order
# breaks past 9999-12 ("10000-01" < "9999-12").
_LAST = 12 * 9999 + 11


def _count(month: str) -> int:
    if not is_month(month):
        raise MonthOutOfRange(f"{month!r} is not a month {FIRST_MONTH} through {LAST_MONTH}")
    return int(month[:4]) * 12 + int(month[5:7]) - 1


def _text(count: int) -> str:
    return f"{count // 12:04d}-{count % 12 + 1:02d}"
