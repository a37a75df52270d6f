"""A month-close overview: the month's declarations, its totals by insurer and care form, the close's anchor."""

from __future__ import annotations

from typing import Any

import attrs

from ggzledger.domain import BillingCalendar
from ggzledger.domain.months import next_month
from ggzledger.projections.totals import sort_rows
from ggzledger.service.ledger import Ledger
from ggzledger.store.chain import Anchor, anchor_at

__all__ = ["MonthClose", "month_close", "close_anchor", "months_to_show"]


@attrs.frozen
class MonthClose:
    """What the overview shows of one month; ``anchor`` and ``position`` only for a closed month."""

    month: str
    closed: bool
    declarations: tuple[dict[str, Any], ...]
    by_insurer: tuple[tuple[str, int], ...]
    by_care_form: tuple[tuple[str, int], ...]
    anchor: Anchor | None
    position: int | None

    @property
    def total(self) -> int:
        """The month's total: the sum of its declarations' totals."""
        return sum(d["total"] for d in self.declarations)

    @property
    def trajectories(self) -> list[str]:
        """The trajectories the overview names (the access log's rows)."""
        return [d["trajectory"] for d in self.declarations]


def month_close(ledger: Ledger, month: str) -> MonthClose:
    """The overview of ``month``: issued declarations when it is closed, else the drafts.

    Totals are counted as the totals view counts a close (TotalsView.count), with the facts
    recorded by the close's ``up_to`` (by now, for drafts). Raises what Ledger.declarations
    raises (SpanTooLong for a draft too far ahead).
    """
    declarations = ledger.declarations(month)
    closing = _closing(ledger, month)
    up_to = ledger.projector.catch_up() if closing is None else closing[1]
    with ledger.store.transaction(write=False) as c:
        counts = ledger.projector.views.totals.count(c, declarations, up_to)
    anchor = None if closing is None else close_anchor(ledger, closing[0])
    return MonthClose(
        month=month,
        closed=closing is not None,
        declarations=tuple(declarations),
        by_insurer=_rows(counts, "insurer"),
        by_care_form=_rows(counts, "care_form"),
        anchor=anchor,
        position=None if closing is None else closing[0],
    )


def close_anchor(ledger: Ledger, position: int) -> Anchor | None:
    """The chain's head at a close's event, as ``close`` prints it (None for a ledger without a chain)."""
    return anchor_at(ledger.recorder, position)


def months_to_show(ledger: Ledger) -> tuple[list[str], str | None]:
    """The closed months, newest first, and the open month after them (None before any close)."""
    closed = ledger.calendar().closed
    if not closed:
        return [], None
    return list(reversed(closed)), next_month(closed[-1])


def _closing(ledger: Ledger, month: str) -> tuple[int, int] | None:
    """(position, up_to) of the month's MonthClosed event, None when the month is open."""
    for position, stored in ledger.recorder.select_stream_with_positions(BillingCalendar.ID):
        event = ledger.mapper.to_domain_event(stored)
        if isinstance(event, BillingCalendar.MonthClosed) and event.month == month:
            return position, event.up_to
    return None


def _rows(counts: Any, dimension: str) -> tuple[tuple[str, int], ...]:
    return tuple(sort_rows((key, total) for (by, key), total in counts.items() if by == dimension))
