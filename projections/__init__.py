"""The read side: views kept from the event log, and the declaration arithmetic they share."""

from ggzledger.projections.billing import BillingView, CloseResult
from ggzledger.projections.declarations import Declaration, Line
from ggzledger.projections.history import HistoryView
from ggzledger.projections.runner import Projector, View
from ggzledger.projections.store import ProjectionStore, open_store
from ggzledger.projections.totals import TotalsView
from ggzledger.reference import Catalogue

__all__ = [
    "BillingView",
    "CloseResult",
    "Declaration",
    "HistoryView",
    "Line",
    "Projector",
    "ProjectionStore",
    "TotalsView",
    "View",
    "open_store",
    "views_for",
]


def views_for(catalogue: Catalogue) -> list[View]:
    """Every view the ledger keeps; the billing view comes first.

    The totals view reads the declarations the billing view stores when a
    MonthClosed is applied, so it must come after billing.
    """
    return [BillingView(catalogue), HistoryView(catalogue), TotalsView(catalogue)]
