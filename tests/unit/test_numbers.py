"""Whole numbers given as text: ASCII digits within bounds, everything else one clear ValueError."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ggzledger.interfaces.numbers import POSITION_MAX, parse_count


@given(st.integers(min_value=0, max_value=POSITION_MAX), st.integers(min_value=0, max_value=3))
def test_every_number_in_bounds_reads_back_with_or_without_leading_zeros(number: int, zeros: int) -> None:
    assert parse_count("0" * zeros + str(number), "after", POSITION_MAX) == number


@pytest.mark.parametrize("text", ["", "-1", "+1", " 1", "1 ", "1_000", "4.0", "\u00b2", "\u0661", "0x10", "1e3"])
def test_anything_but_ascii_digits_is_refused_naming_the_parameter_and_bounds(text: str) -> None:
    with pytest.raises(ValueError, match=r"^limit must be a whole number 1\.\.1000, got "):
        parse_count(text, "limit", 1000, minimum=1)


@pytest.mark.parametrize("text", ["1001", "0", "99999999999999999999999", "9" * 10_000])
def test_a_number_out_of_bounds_is_refused_however_long(text: str) -> None:
    with pytest.raises(ValueError) as raised:
        parse_count(text, "limit", 1000, minimum=1)
    assert "\n" not in str(raised.value) and len(str(raised.value)) < 100


def test_the_position_bound_is_what_a_signed_64_bit_column_holds() -> None:
    assert parse_count(str(2**63 - 1), "after", POSITION_MAX) == 2**63 - 1
    with pytest.raises(ValueError):
        parse_count(str(2**63), "after", POSITION_MAX)
