"""Months 0001-01 through 9999-12: stepping and ranges are month arithmetic, bounded at both ends."""

from __future__ import annotations

import itertools
from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ggzledger.domain.months import (
    LAST_MONTH,
    MAX_SPAN,
    MonthOutOfRange,
    SpanTooLong,
    first_day,
    is_month,
    last_day,
    month_of,
    months_between,
    next_month,
)

days = st.dates(min_value=date(1, 1, 1), max_value=date(9999, 12, 31))
months = days.map(month_of)


@given(months)
def test_the_next_month_starts_the_day_after_the_last_day(month: str) -> None:
    if month == LAST_MONTH:
        with pytest.raises(MonthOutOfRange, match="no month after 9999-12"):
            next_month(month)
        return
    following = next_month(month)
    assert is_month(following)
    assert first_day(following) == last_day(month) + timedelta(days=1)
    assert following > month


def _shifted(month: str, by: int) -> str | None:
    """The month ``by`` months after ``month`` by counting years and months, or None outside 0001..9999."""
    year, number = divmod(int(month[:4]) * 12 + int(month[5:7]) - 1 + by, 12)
    return f"{year:04d}-{number + 1:02d}" if 1 <= year <= 9999 else None


@given(months, st.integers(min_value=-12, max_value=MAX_SPAN + 12))
def test_a_range_is_every_month_in_order_or_refused_when_longer_than_the_bound(first: str, offset: int) -> None:
    last = _shifted(first, offset)
    if last is None:
        return
    length = offset + 1
    if length > MAX_SPAN:
        with pytest.raises(SpanTooLong, match=f": {length:,} months, more than the {MAX_SPAN:,} allowed at once"):
            months_between(first, last)
        return
    got = list(months_between(first, last))
    assert len(got) == max(length, 0)
    if got:
        assert (got[0], got[-1]) == (first, last)
        assert all(next_month(a) == b for a, b in itertools.pairwise(got))


def test_a_range_ending_at_9999_12_terminates() -> None:
    assert list(months_between("9999-01", "9999-12"))[-1] == "9999-12"
    with pytest.raises(SpanTooLong, match="2017-03 through 9999-12: 95,794 months"):
        months_between("2017-03", "9999-12")


@pytest.mark.parametrize(
    "text",
    [
        "0000-01",
        "0000-12",
        "10000-01",
        "2024-13",
        "2024-00",
        "2024-1",
        "\u0662\u0660\u0662\u0664-01",
        "\uff12\uff10\uff12\uff14-01",
        "2024-01\n",
        " 2024-01",
        "",
        None,
        202401,
    ],
)
def test_only_real_months_from_0001_01_through_9999_12_are_months(text: object) -> None:
    assert not is_month(text)


@pytest.mark.parametrize("text", ["0001-01", "2024-02", "9999-12"])
def test_the_bounds_themselves_are_months(text: str) -> None:
    assert is_month(text)


def test_arithmetic_on_something_that_is_not_a_month_is_refused() -> None:
    for bad in ("10000-01", "0000-12"):
        with pytest.raises(MonthOutOfRange):
            next_month(bad)
        with pytest.raises(MonthOutOfRange):
            months_between(bad, "9999-12")
