"""Amounts in cents shown in Dutch notation (rules.md §4)."""

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ggzledger.domain.money import format_euro


@pytest.mark.parametrize(
    ("cents", "shown"),
    [
        (130000, "€ 1.300,00"),
        (740000, "€ 7.400,00"),
        (10000, "€ 100,00"),
        (5, "€ 0,05"),
        (50, "€ 0,50"),
        (0, "€ 0,00"),
        (99999, "€ 999,99"),
        (100000, "€ 1.000,00"),
        (123456789, "€ 1.234.567,89"),
        (100000000000, "€ 1.000.000.000,00"),
    ],
)
def test_amounts_are_shown_with_dot_thousands_and_comma_cents(cents, shown):
    assert format_euro(cents) == shown


@pytest.mark.parametrize(
    ("cents", "shown"),
    [(-10000, "€ -100,00"), (-5, "€ -0,05"), (-123456789, "€ -1.234.567,89")],
)
def test_negative_amounts_put_the_minus_sign_before_the_digits_as_dutch_invoices_do(cents, shown):
    assert format_euro(cents) == shown


@pytest.mark.parametrize("cents", [1.0, "100", True, None])
def test_only_integer_cents_are_formatted(cents):
    with pytest.raises(TypeError):
        format_euro(cents)


@given(st.integers(min_value=-(10**15), max_value=10**15))
def test_the_digits_shown_are_the_amount_in_cents(cents):
    shown = format_euro(cents)
    assert shown.startswith("€ -" if cents < 0 else "€ ")
    assert int(re.sub(r"\D", "", shown)) == abs(cents)


@given(st.integers(min_value=-(10**15), max_value=10**15))
def test_the_shape_is_grouped_euros_a_comma_and_two_cents_digits(cents):
    assert re.fullmatch(r"€ -?(0|[1-9][0-9]{0,2}(\.[0-9]{3})*),[0-9]{2}", format_euro(cents))
