"""A month close covers exactly the events recorded before it, even when another writer gets in between."""

from __future__ import annotations

from typing import Any

from builders import meneer_henk
from ggzledger import Ledger
from ggzledger.domain import BillingCalendar
from ggzledger.service.records import parse_line

LATE_CONSULT = (
    b'{"type": "activity_delivered", "trajectory": "T-HENK", "activity": "LATE-1",'
    b' "date": "2017-01-20", "code": "CONSULT"}'
)


def test_a_record_stored_while_a_month_closes_makes_the_close_start_again(db: str) -> None:
    closer = Ledger(db)
    other = Ledger(db)
    try:
        meneer_henk(closer, closes=False)
        compute = closer.billing.compute_closes
        calls: list[int] = []

        def compute_while_another_writer_records(*args: Any, **kwargs: Any) -> Any:
            calls.append(1)
            if len(calls) == 1:
                # Between the close's catch-up and its save, another process records an activity.
                other.record([parse_line(LATE_CONSULT, closer.today())])
            return compute(*args, **kwargs)

        closer.billing.compute_closes = compute_while_another_writer_records  # type: ignore[method-assign]

        results = closer.close_month("2017-01")

        assert len(calls) == 2
        recorded = closer.recorder.select_notifications(start=0, limit=10_000, inclusive_of_start=False)
        closes = [n for n in recorded if n.topic == BillingCalendar.MonthClosed.TOPIC]
        # The closes' transaction also starts the calendar: the last event before it is a trajectory's.
        before = [n.id for n in recorded if n.id < closes[0].id and not n.topic.startswith(BillingCalendar.TOPIC)]
        assert all(closer.mapper.to_domain_event(n).up_to == max(before) for n in closes)  # type: ignore[attr-defined]
        january = results[-1]
        assert "LATE-1" in {line.activity for d in january.declarations for line in d.lines}
    finally:
        other.close()
        closer.close()
