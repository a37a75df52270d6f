"""The review worklist: the history view's SQL gives exactly what care_need.due_for_review gives.

The worklist is read in SQL (projections/history.py) so that it reads only the
rows that are due; the rule itself is the pure function (rules.md §8). Both are
the same rule only if they agree on every ledger and every day.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from builders import Clerk, Record
from ggzledger import Ledger
from ggzledger.audit.reports import worklist
from ggzledger.domain import trajectory_id
from ggzledger.projections.care_need import care_need_of, due_for_review
from ledgers import ledgers


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    ledgers(),
    st.lists(st.dates(min_value=date(2016, 10, 25), max_value=date(2017, 9, 30)), min_size=1, max_size=6),
)
def test_over_generated_ledgers_the_worklist_view_is_due_for_review(
    tmp_path_factory: pytest.TempPathFactory, records: list[Record], days: list[date]
) -> None:
    ledger = Ledger(str(tmp_path_factory.mktemp("ledger") / "ledger.db"))
    try:
        Clerk(ledger).accepts(*records)
        numbers = sorted({record["trajectory"] for record in records if "trajectory" in record})
        facts = {number: care_need_of(ledger.events.get(trajectory_id(number))) for number in numbers}
        # Besides the drawn days, the days where the rule turns: each typing's date and review due
        # date, each referral back's date, and the day before each.
        turns = {mark.on for need in facts.values() for mark in need.marks} | {
            ledger.catalogue.lookup(mark.cluster).review_term.add_to(mark.on)
            for need in facts.values()
            for mark in need.marks
            if mark.cluster is not None
        }
        for day in sorted(set(days) | turns | {turn - timedelta(days=1) for turn in turns}):
            expected = []
            for number in numbers:
                found = due_for_review(facts[number], day, ledger.catalogue)
                if found is not None:
                    expected.append((found[1], number, found[0]))
            # The view's order: the longest overdue first, then trajectory number.
            view = [(row.review_due, row.trajectory, row.cluster) for row in worklist(ledger, day)]
            assert view == sorted(expected), day
    finally:
        ledger.close()
