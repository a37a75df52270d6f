"""What an auditor reads from the views: care-need histories, the review worklist, cumulative totals."""

from __future__ import annotations

from datetime import date
from typing import Any

import attrs

from ggzledger.domain.errors import UnknownTrajectory
from ggzledger.domain.months import month_of
from ggzledger.projections.care_need import Entry
from ggzledger.projections.totals import DIMENSIONS, sort_rows
from ggzledger.service.ledger import Ledger

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


def history(ledger: Ledger, trajectory: str) -> list[Entry]:
    """The care-need history of a trajectory (rules.md §8); raises UnknownTrajectory."""
    view = ledger.projector.views.history
    ledger.projector.catch_up()
    with ledger.store.transaction(write=False) as c:
        if not view.has_trajectory(c, trajectory):
            raise UnknownTrajectory(f"trajectory {trajectory} was never opened")
        return view.entries(c, trajectory)


def worklist(ledger: Ledger, as_of: date) -> list[Due]:
    """The review worklist as of a date, judged on the events dated on or before it (rules.md §8)."""
    view = ledger.projector.views.history
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
    billing, view = ledger.projector.views.billing, ledger.projector.views.totals
    up_to = ledger.projector.catch_up()
    with ledger.store.transaction(write=False) as c:
        issued = tuple(view.rows(c, by))
        if not drafts:
            return Totals(by, issued)
        closed = billing.closed_months(c)
        months = billing.months_to_close(c, closed[-1] if closed else None, month_of(ledger.today()))
        results = billing.compute_closes(c, months, up_to, status="draft")
        bodies = [d.to_json() for result in results for d in result.declarations]
        counts = view.count(c, bodies, up_to)
    rows = tuple(sort_rows((key, total) for (dimension, key), total in counts.items() if dimension == by))
    with_drafts = tuple(result.month for result in results if result.declarations)
    return Totals(by, issued, Totals(by, rows), with_drafts)
