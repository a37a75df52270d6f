"""Verifying a whole ledger: the event chain and anchors, and every close recomputed from the log."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import attrs
import orjson

from ggzledger.audit.reconstruction import compare
from ggzledger.domain.money import format_euro
from ggzledger.progress import Progress
from ggzledger.projections.declarations import chain_digest
from ggzledger.projections.replay import Replay, ReplayedClose
from ggzledger.service.ledger import Ledger
from ggzledger.store.chain import ZERO, Anchor, ChainCheck

__all__ = ["Difference", "Verification", "verify"]

_PAGE = 5000
# The head of a ledger without events.
_EMPTY = Anchor(0, ZERO)
# How many differences of one declaration verify spells out.
_SHOWN = 3


@attrs.frozen
class Difference:
    """Something verify found: a declaration, a close, a stored event, the chain or an anchor that does not match."""

    kind: str  # "declaration", "close", "event", "chain" or "anchor"
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
    # The chain's head as recomputed from the events: what verify prints for an auditor to keep.
    head: Anchor = _EMPTY
    anchors: int = 0
    # What verify could not check, and says (an anchor before a sealing, a chain not stored yet).
    notes: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.differences


def _log(
    ledger: Ledger, head: int, found: list[Difference], chain: ChainCheck, progress: Progress | None
) -> Iterator[tuple[int, Any]]:
    """Every event up to ``head`` in position order, its chain checked; an event that cannot be read is a difference."""
    recorder = ledger.recorder
    position = 0
    while position < head:
        page = recorder.select_notifications(start=position, limit=_PAGE, stop=head, inclusive_of_start=False)
        if not page:
            break
        # The chain rows of the same positions, gaps (deleted events) included.
        last = head if len(page) < _PAGE else page[-1].id
        chain.page(
            ((n.id, n.originator_id, n.originator_version, n.topic, n.state) for n in page),
            recorder.select_chain(position, last, 10 * _PAGE + last - position),
        )
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


def verify(ledger: Ledger, progress: Progress | None = None, anchors: Sequence[Anchor] = ()) -> Verification:
    """Recompute the event chain and every close from the whole log and compare them with what was recorded.

    The chain is recomputed from the stored bytes of every event (store/chain.py): an event
    whose hash differs from its stored chain row, an event without a row and a row without an
    event are differences, and so is an anchor the recomputed chain does not pass through.
    Replays the log in position order in memory with the pure declaration
    arithmetic. Each recomputed declaration's digest is compared with the
    issued declaration stored at its close, and each close's chained digest
    (over the recorded digest of the close before it) with the digest its
    MonthClosed event recorded.
    """
    head = ledger.projector.catch_up()
    found: list[Difference] = []
    notes: list[str] = []
    chain = _chain_check(ledger, head, anchors)
    replay = Replay(ledger.catalogue)
    events = closes = declarations = 0
    for position, event in _log(ledger, head, found, chain, progress):
        events += 1
        close = replay.apply(position, event)
        if close is not None:
            closes += 1
            declarations += len(close.declarations)
            found.extend(_check_close(ledger, close, notes))
    chain.finish(ledger.recorder.select_chain(head, 2**62, _PAGE))
    found[:0] = [Difference(*difference) for difference in chain.differences]
    return Verification(
        events, closes, declarations, tuple(found), chain.head, chain.anchors_checked, tuple(chain.notes + notes)
    )


def _chain_check(ledger: Ledger, head: int, anchors: Sequence[Anchor]) -> ChainCheck:
    """A chain check from h_0, or from a sealed copy's base; a ledger recorded before the chain
    existed has no chain rows until its next write, which verify says instead of naming every event."""
    base = ledger.recorder.chain_base()
    stored = base is not None or head == 0 or bool(ledger.recorder.select_chain(0, head, 1))
    chain = ChainCheck(base, anchors, stored=stored)
    if not stored:
        chain.notes.append("the chain is not stored yet (a ledger recorded before it): the next write stores it")
    return chain


def _check_close(ledger: Ledger, close: ReplayedClose, notes: list[str]) -> list[Difference]:
    month = close.month
    with ledger.store.transaction(write=False) as c:
        stored = ledger.projector.views.billing.recorded_month(c, month)
    found = []
    digests = []
    for d in close.declarations:
        issued = stored.pop(d.trajectory, None)
        where = f"{d.trajectory} {month}"
        digests.append(d.digest)
        if issued is not None and close.recorded.digest_form == 1 and d.trajectory in close.erased:
            # Form 1 digested the cluster, which erasure made unreadable: the recorded digest
            # stands in for it in the close's chain, and the chain of events still covers it.
            notes.append(f"declaration {where}: not recomputable: personal data erased (its recorded digest is used)")
            digests[-1] = issued[0]
        elif issued is None:
            found.append(Difference("declaration", where, "the log gives a declaration that was not issued"))
        elif issued[0] != d.digest:
            # Say what differs, so the auditor sees at once whether money moved.
            shown = compare(orjson.loads(issued[1]), d.canonical_body())
            what = "; ".join(shown[:_SHOWN]) + ("; …" if len(shown) > _SHOWN else "")
            found.append(Difference("declaration", where, f"digest differs from the issued declaration: {what}"))
    for trajectory in sorted(stored):
        found.append(Difference("declaration", f"{trajectory} {month}", "was issued, but the log gives none"))
    recorded = close.recorded
    digest = chain_digest(close.previous, digests) if close.erased else close.digest
    if digest != recorded.digest and close.erased and recorded.digest_form == 1:
        # A rebuild since the erasure stored the declarations as the log gives them now, so the
        # digests issued at the close are gone; the chain of events still covers the close.
        notes.append(f"close {month}: its chained digest is not recomputable: personal data erased")
    elif digest != recorded.digest:
        facts = [f"chained digest {digest[:12]}… differs from the recorded {recorded.digest[:12]}…"]
        if len(close.declarations) != recorded.declarations:
            facts.append(f"{len(close.declarations)} declarations, {recorded.declarations} recorded")
        if close.total != recorded.total:
            facts.append(f"total {format_euro(close.total)}, {format_euro(recorded.total)} recorded")
        found.append(Difference("close", f"{month} (position {close.position})", "; ".join(facts)))
    return found
