"""The pure domain: the Trajectory aggregate, the billing calendar, the contract and claim books, values and errors."""

from ggzledger.domain.billing import GENESIS_DIGEST, BillingCalendar
from ggzledger.domain.claims import ClaimBook, Export
from ggzledger.domain.contracts import Contract, ContractBook
from ggzledger.domain.errors import Conflict, Malformed, NotAllowed, OutOfOrder, Refused, UnknownTrajectory
from ggzledger.domain.ids import trajectory_id
from ggzledger.domain.trajectory import Trajectory
from ggzledger.domain.values import Scores

AGGREGATES = (Trajectory, BillingCalendar, ContractBook, ClaimBook)
"""Every aggregate class whose events the ledger stores."""

__all__ = [
    "AGGREGATES",
    "BillingCalendar",
    "ClaimBook",
    "Export",
    "Contract",
    "ContractBook",
    "GENESIS_DIGEST",
    "Trajectory",
    "trajectory_id",
    "Scores",
    "Refused",
    "Malformed",
    "UnknownTrajectory",
    "Conflict",
    "OutOfOrder",
    "NotAllowed",
]
