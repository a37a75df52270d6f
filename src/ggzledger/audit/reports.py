"""What an auditor reads from the views: care-need histories, the review worklist, cumulative totals."""

from __future__ import annotations

from datetime import date
from typing import Any

import attrs

from ggzledger.service.ledger import Ledger
from ggzledger.domain.errors import UnknownTrajectory
from ggzledger.domain.months import month_of, months_between, next_month
from ggzledger.projections.care_need import Entry
from ggzledger.projections.history import HistoryView
from ggzledger.projections.totals import DIMENSIONS, TotalsView, sort_rows

__all__ = ["DIMENSIONS", "Due", "Totals", "history", "worklist", "totals"]


@attrs.frozen
class Due:
    """One row of the review worklist: a trajectory whose cluster's review is due."""

    trajectory: str
    cluster: int
    review_due: date

    def to_json(self) -> dict[str, Any]:
        return {"trajectory": self.trajectory, "cluster": self.cluster, "review_due": self.review_due.isoformat()}


@attrs.frozen
class Totals:
    """Cumulative totals by one dimension: (key, cents) rows and their sum.

    ``drafts`` holds the drafts of the open months, kept apart: issued money and
    money not yet declared are never added up silently. ``draft_months`` are
    the open months that have drafts.
    """

    by: str
    rows: tuple[tuple[str, int], ...]
    drafts: Totals | None = None
    draft_months: tuple[str, ...] = ()

    @property
    def total(self) -> int:
        """The grand total: the sum of the rows (every dimension gives the same)."""
        return sum(total for _key, total in self.rows)

    def to_json(self) -> dict[str, Any]:
        """The contract's shape; with drafts, a separate ``drafts`` object of the same shape plus its months."""
        body: dict[str, Any] = {
            "by": self.by,
            "total": self.total,
            "rows": [{"key": key, "total": total} for key, total in self.rows],
        }
        if self.drafts is not None:
            body["drafts"] = {
                "status": "draft",
                "months": list(self.draft_months),
                "total": self.drafts.total,
                "rows": [{"key": key, "total": total} for key, total in self.drafts.rows],
            }
        return body


def _view(ledger: Ledger, kind: type[Any]) -> Any:
    return next(view for view in ledger.views if isinstance(view, kind))


def history(ledger: Ledger, trajectory: str) -> list[Entry]:
    """The care-need history of a trajectory (rules.md §8); raises UnknownTrajectory."""
    view: HistoryView = _view(ledger, HistoryView)
    ledger.projector.catch_up()
    with ledger.store.transaction(write=False) as c:
        if not view.has_trajectory(c, trajectory):
            raise UnknownTrajectory(f"trajectory {trajectory} was never opened")
        return view.entries(c, trajectory)


def worklist(ledger: Ledger, as_of: date) -> list[Due]:
    """The review worklist as of a date, judged on the events dated on or before it (rules.md §8)."""
    view: HistoryView = _view(ledger, HistoryView)
    ledger.projector.catch_up()
    with ledger.store.transaction(write=False) as c:
        return [Due(*row) for row in view.worklist(c, as_of)]


def totals(ledger: Ledger, by: str = "month", drafts: bool = False) -> Totals:
    """Cumulative totals of issued declarations by one dimension (rules.md §6).

    With ``drafts``, also the totals of the drafts that closing every open month
    up to the current one would issue, kept apart. Raises ValueError for an
    unknown dimension.
    """
    if by not in DIMENSIONS:
        raise ValueError(f"unknown dimension {by!r}; one of {', '.join(DIMENSIONS)}")
    view: TotalsView = _view(ledger, TotalsView)
    up_to = ledger.projector.catch_up()
    with ledger.store.transaction(write=False) as c:
        issued = tuple(view.rows(c, by))
        if not drafts:
            return Totals(by, issued)
        closed = ledger.billing.closed_months(c)
        earliest = ledger.billing.earliest_activity(c)
        first = next_month(closed[-1]) if closed else (month_of(earliest) if earliest else None)
        months = list(months_between(first, month_of(ledger.today()))) if first else []
        results = ledger.billing.compute_closes(c, months, up_to, status="draft")
        bodies = [d.to_json() for result in results for d in result.declarations]
        counts = view.count(c, bodies, up_to)
    rows = tuple(sort_rows((key, total) for (dimension, key), total in counts.items() if dimension == by))
    with_drafts = tuple(result.month for result in results if result.declarations)
    return Totals(by, issued, Totals(by, rows), with_drafts)
