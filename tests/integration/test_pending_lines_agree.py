"""The pending lines of a close: the billing tables' SQL gives exactly what Activity's pure predicates give.

The close reads and marks pending lines in SQL (projections/closes.py) for speed;
replay and verification decide them with Activity.pending_debit and
Activity.pending_credit. Both are the same rule only if they agree on every row.
"""

from __future__ import annotations

import sqlite3
from datetime import date

from hypothesis import given, settings
from hypothesis import strategies as st

from ggzledger.projections import BillingView
from ggzledger.projections.closes import PENDING_CREDIT, PENDING_DEBIT
from ggzledger.projections.declarations import Activity
from ggzledger.reference import load_catalogue

DAYS = st.dates(min_value=date(2016, 10, 25), max_value=date(2016, 12, 5))
POSITIONS = st.integers(1, 40)
MONTHS = st.none() | st.sampled_from(("2016-10", "2016-11", "2016-12"))


@st.composite
def activities(draw: st.DrawFn) -> Activity:
    """One billing line in any state: declared or not, voided by any position or not, credited or not."""
    declared = draw(MONTHS)
    position = draw(POSITIONS)
    return Activity(
        activity=f"A{position}",
        trajectory=draw(st.sampled_from(("T1", "T2"))),
        on=draw(DAYS),
        code="CONSULT",
        description="Consult",
        amount=draw(st.integers(1, 20_000)),
        care_form=None,
        position=position,
        voided_position=draw(st.none() | POSITIONS),
        declared_month=declared,
        credited_month=None if declared is None else draw(MONTHS),
    )


@settings(max_examples=200, deadline=None)
@given(
    st.lists(activities(), max_size=30, unique_by=lambda a: a.position),  # one line per ledger position
    DAYS,
    POSITIONS,
)
def test_the_sql_pending_debits_and_credits_are_the_pure_predicates(
    lines: list[Activity], month_end: date, up_to: int
) -> None:
    connection = sqlite3.connect(":memory:")
    c = connection.cursor()
    BillingView(load_catalogue()).create_tables(c)
    c.executemany(
        "INSERT INTO billing_activities (activity, trajectory, on_date, code, description, amount, care_form,"
        " position, voided_position, declared_month, credited_month) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [(a.activity, a.trajectory, a.on.isoformat(), *a[3:]) for a in lines],
    )

    c.execute(f"SELECT activity FROM billing_activities WHERE {PENDING_DEBIT}", (month_end.isoformat(), up_to, up_to))
    debits = {row[0] for row in c.fetchall()}
    c.execute(f"SELECT activity FROM billing_activities WHERE {PENDING_CREDIT}", (up_to,))
    credits = {row[0] for row in c.fetchall()}

    assert debits == {a.activity for a in lines if a.pending_debit(month_end, up_to)}
    assert credits == {a.activity for a in lines if a.pending_credit(up_to)}
