"""The read side: views kept from the event log, and the declaration arithmetic they share."""

from ggzledger.projections.billing import BillingView, CloseResult
from ggzledger.projections.declarations import Declaration, Line
from ggzledger.projections.runner import Projector, View
from ggzledger.projections.store import ProjectionStore, open_store
from ggzledger.reference import Catalogue

__all__ = [
    "BillingView",
    "CloseResult",
    "Declaration",
    "Line",
    "Projector",
    "ProjectionStore",
    "View",
    "open_store",
    "views_for",
]


def views_for(catalogue: Catalogue) -> list[View]:
    """Every view the ledger keeps; the billing view comes first."""
    return [BillingView(catalogue)]
