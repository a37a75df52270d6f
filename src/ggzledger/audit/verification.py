"""Verifying a whole ledger: every close recomputed from the log and compared with what was recorded."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import attrs
import orjson

from ggzledger.audit.reconstruction import compare
from ggzledger.domain.money import format_euro
from ggzledger.progress import Progress
from ggzledger.projections.replay import Replay, ReplayedClose
from ggzledger.service.ledger import Ledger

__all__ = ["Difference", "Verification", "verify"]

_PAGE = 5000
# How many differences of one declaration verify spells out.
_SHOWN = 3


@attrs.frozen
class Difference:
    """Something verify found: a declaration, a close, or a stored event that does not match."""

    kind: str  # "declaration", "close" or "event"
    where: str
    message: str

    def __str__(self) -> str:
        return f"{self.kind} {self.where}: {self.message}"


@attrs.frozen
class Verification:
    """What verify recomputed and every difference it found."""

    events: int
    closes: int
    declarations: int
    differences: tuple[Difference, ...]

    @property
    def ok(self) -> bool:
        return not self.differences


def _log(ledger: Ledger, head: int, found: list[Difference], progress: Progress | None) -> Iterator[tuple[int, Any]]:
    """Every event up to ``head`` in position order; an event that cannot be read is a difference."""
    position = 0
    while position < head:
        page = ledger.recorder.select_notifications(start=position, limit=_PAGE, stop=head, inclusive_of_start=False)
        if not page:
            break
        for notification in page:
            try:
                event = ledger.mapper.to_domain_event(notification)
            except Exception as error:  # an altered event can fail in any way
                found.append(Difference("event", f"at position {notification.id}", f"cannot be read: {error!r}"))
                continue
            yield notification.id, event
        position = page[-1].id
        if progress is not None:
            progress(position, head)


def verify(ledger: Ledger, progress: Progress | None = None) -> Verification:
    """Recompute every close from the whole log and compare it with what was recorded.

    Replays the log in position order in memory with the pure declaration
    arithmetic. Each recomputed declaration's digest is compared with the
    issued declaration stored at its close, and each close's chained digest
    (over the recorded digest of the close before it) with the digest its
    MonthClosed event recorded.
    """
    head = ledger.projector.catch_up()
    found: list[Difference] = []
    replay = Replay(ledger.catalogue)
    events = closes = declarations = 0
    for position, event in _log(ledger, head, found, progress):
        events += 1
        close = replay.apply(position, event)
        if close is not None:
            closes += 1
            declarations += len(close.declarations)
            found.extend(_check_close(ledger, close))
    return Verification(events, closes, declarations, tuple(found))


def _check_close(ledger: Ledger, close: ReplayedClose) -> list[Difference]:
    month = close.month
    with ledger.store.transaction(write=False) as c:
        stored = ledger.projector.views.billing.recorded_month(c, month)
    found = []
    for d in close.declarations:
        issued = stored.pop(d.trajectory, None)
        where = f"{d.trajectory} {month}"
        if issued is None:
            found.append(Difference("declaration", where, "the log gives a declaration that was not issued"))
        elif issued[0] != d.digest:
            # Say what differs, so the auditor sees at once whether money moved.
            shown = compare(orjson.loads(issued[1]), d.canonical_body())
            what = "; ".join(shown[:_SHOWN]) + ("; …" if len(shown) > _SHOWN else "")
            found.append(Difference("declaration", where, f"digest differs from the issued declaration: {what}"))
    for trajectory in sorted(stored):
        found.append(Difference("declaration", f"{trajectory} {month}", "was issued, but the log gives none"))
    recorded = close.recorded
    if close.digest != recorded.digest:
        facts = [f"chained digest {close.digest[:12]}… differs from the recorded {recorded.digest[:12]}…"]
        if len(close.declarations) != recorded.declarations:
            facts.append(f"{len(close.declarations)} declarations, {recorded.declarations} recorded")
        if close.total != recorded.total:
            facts.append(f"total {format_euro(close.total)}, {format_euro(recorded.total)} recorded")
        found.append(Difference("close", f"{month} (position {close.position})", "; ".join(facts)))
    return found
