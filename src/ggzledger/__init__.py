"""ggzledger: an event-sourced care-trajectory ledger for Dutch mental-health care (GGZ) billing."""

from ggzledger.application import Ledger, MonthAlreadyClosed
from ggzledger.domain.errors import Conflict, Malformed, NotAllowed, OutOfOrder, Refused, UnknownTrajectory
from ggzledger.ingest import Summary, ingest

__all__ = [
    "Ledger",
    "MonthAlreadyClosed",
    "Refused",
    "Malformed",
    "UnknownTrajectory",
    "Conflict",
    "OutOfOrder",
    "NotAllowed",
    "Summary",
    "ingest",
]
__version__ = "0.1.0"
