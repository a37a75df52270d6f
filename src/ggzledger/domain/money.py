"""Amounts in integer cents, shown to people in Dutch notation."""

from __future__ import annotations

__all__ = ["MAX_CENTS", "format_euro"]

MAX_CENTS = 10**12
"""The largest amount one price may be, in cents (€ 10.000.000.000,00): far above any tariff, and far below
the store's 64-bit integers, which only millions of lines at this amount could add up past. An amount past
those integers would be stored in the event and then stop every view that copies it (SQLite and PostgreSQL
both refuse it), so it is refused where it comes in: a contract's code_amounts and a tariff table's amount."""


def format_euro(cents: int) -> str:
    """Show an amount of cents in Dutch notation: ``format_euro(130000) == "€ 1.300,00"``.

    Thousands are grouped with a dot, the cents follow a comma, and there is a space after the euro
    sign. A negative amount (a credit line, a negative declaration total) has its minus sign right
    before the digits, as Dutch invoices write it: ``format_euro(-10000) == "€ -100,00"``. Zero is
    ``"€ 0,00"``, never ``"€ -0,00"``.

    Raises TypeError when ``cents`` is not an int (a float or a bool is refused: money is whole cents).
    """
    # bool is an int subclass; True cents is always a bug upstream, never an amount.
    if not isinstance(cents, int) or isinstance(cents, bool):
        raise TypeError(f"amount must be an integer number of cents, not {cents!r}")
    # "€ -135,89" is how Dutch invoices print a credit; right-aligned in a column, the euro signs
    # of debits and credits still share the column's left edge of the digits.
    sign = "-" if cents < 0 else ""
    euros, rest = divmod(abs(cents), 100)
    grouped = f"{euros:,}".replace(",", ".")
    return f"€ {sign}{grouped},{rest:02d}"
