"""ggzledger: an event-sourced care-trajectory ledger for Dutch mental-health care (GGZ) billing.

The names below are the public surface. They are imported on first use, so that
``import ggzledger.domain`` loads the domain alone, not the store or the read side.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.2.0"

# Public name -> the module that defines it.
_EXPORTS = {
    "Ledger": "ggzledger.service.ledger",
    "MonthAlreadyClosed": "ggzledger.service.ledger",
    "Summary": "ggzledger.service.ingest",
    "ingest": "ggzledger.service.ingest",
    "Refused": "ggzledger.domain.errors",
    "Malformed": "ggzledger.domain.errors",
    "UnknownTrajectory": "ggzledger.domain.errors",
    "Conflict": "ggzledger.domain.errors",
    "OutOfOrder": "ggzledger.domain.errors",
    "NotAllowed": "ggzledger.domain.errors",
}

__all__ = [
    "Ledger",
    "MonthAlreadyClosed",
    "Summary",
    "ingest",
    "Refused",
    "Malformed",
    "UnknownTrajectory",
    "Conflict",
    "OutOfOrder",
    "NotAllowed",
    "__version__",
]

if TYPE_CHECKING:
    from ggzledger.domain.errors import Conflict, Malformed, NotAllowed, OutOfOrder, Refused, UnknownTrajectory
    from ggzledger.service.ingest import Summary, ingest
    from ggzledger.service.ledger import Ledger, MonthAlreadyClosed


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'ggzledger' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value
