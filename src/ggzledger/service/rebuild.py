"""Rebuilding a ledger's views from the whole log, and naming the closes it no longer reproduces."""

from __future__ import annotations

import attrs

from ggzledger.progress import Progress
from ggzledger.service.ledger import Ledger

__all__ = ["Rebuilt", "rebuild"]


@attrs.frozen
class Rebuilt:
    """A finished rebuild: the position reached and the closes the log no longer reproduces."""

    position: int
    unreproduced: tuple[str, ...]


def rebuild(ledger: Ledger, progress: Progress | None = None) -> Rebuilt:
    """Drop every view and apply the whole log again from position 0.

    Afterwards, the closes whose declarations the log no longer gives (their
    recomputed chained digest differs from the recorded one) are reported: a
    stored event was altered. Run ``audit.verification.verify`` before a rebuild
    to have the altered declarations named, because the rebuild replaces the
    stored declarations with what the log now gives.
    """
    position = ledger.projector.rebuild(progress)
    with ledger.store.transaction(write=False) as c:
        unreproduced = tuple(ledger.projector.views.billing.unreproduced(c))
    return Rebuilt(position, unreproduced)
