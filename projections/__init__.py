"""The read side: views kept from the event log, and the declaration arithmetic they share."""

from typing import NamedTuple

from ggzledger.projections.billing import BillingView, ComputedClose
from ggzledger.projections.bulk import BulkRebuild, FinishedFromPages
from ggzledger.projections.declarations import Declaration, Line
from ggzledger.projections.history import HistoryView
from ggzledger.projections.rebuild import Rebuilder
from ggzledger.projections.runner import Projector
from ggzledger.projections.store import ProjectionStore, open_store
from ggzledger.projections.totals import TotalsView
from ggzledger.projections.view import View
from ggzledger.projections.waiting import WaitingView
from ggzledger.reference import Catalogue

__all__ = [
    "BillingView",
    "BulkRebuild",
    "ComputedClose",
    "Declaration",
    "FinishedFromPages",
    "HistoryView",
    "Line",
    "Projector",
    "ProjectionStore",
    "Rebuilder",
    "TotalsView",
    "View",
    "Views",
    "WaitingView",
    "open_store",
    "views_for",
]


class Views(NamedTuple):
    """Every view the ledger keeps, by name, in the order the projector applies them.

    The totals view reads the declarations the billing view stores when a
    MonthClosed is applied, so it comes after billing.
    """

    billing: BillingView
    history: HistoryView
    totals: TotalsView
    waiting: WaitingView


def views_for(catalogue: Catalogue) -> Views:
    """Every view the ledger keeps, each made with the cluster catalogue."""
    return Views(BillingView(catalogue), HistoryView(catalogue), TotalsView(catalogue), WaitingView())
