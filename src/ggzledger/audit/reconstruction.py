"""Reconstruction and verification of issued declarations (rules.md §9), and rebuilding the views."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import attrs
import orjson

from ggzledger.service.ledger import Ledger
from ggzledger.domain import BillingCalendar, trajectory_id
from ggzledger.domain.errors import NotAllowed, UnknownTrajectory
from ggzledger.domain.money import format_euro
from ggzledger.projections.declarations import Declaration, canonical, digest_of
from ggzledger.projections.replay import Replay, ReplayedClose

__all__ = [
    "NotIssued",
    "Audit",
    "Difference",
    "Verification",
    "Rebuilt",
    "reconstruct",
    "audit",
    "verify",
    "rebuild",
]

# Called with (position reached, head position) while a whole-log job runs.
Progress = Callable[[int, int], None]
_PAGE = 5000
_MONEY = ("total", "previously_declared", "amount")
# How many differences of one declaration verify spells out.
_SHOWN = 3


class NotIssued(NotAllowed):
    """A declaration was asked for a month that is not closed: there is only a draft, nothing to audit."""


@attrs.frozen
class Audit:
    """A declaration as recorded at its close beside its reconstruction from the log."""

    trajectory: str
    month: str
    recorded: dict[str, Any] | None
    recorded_digest: str | None
    reconstructed: Declaration | None
    differences: tuple[str, ...]

    @property
    def equal(self) -> bool:
        """True when the reconstruction has the recorded canonical form (and the record its digest)."""
        return not self.differences


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


@attrs.frozen
class Rebuilt:
    """A finished rebuild: the position reached and the closes the log no longer reproduces."""

    position: int
    unreproduced: tuple[str, ...]


def _stream(ledger: Ledger, stream: Any) -> list[tuple[int, Any]]:
    recorder: Any = ledger.recorder
    stored = recorder.select_stream_with_positions(stream)
    return [(position, ledger.mapper.to_domain_event(event)) for position, event in stored]


def _close_of(ledger: Ledger, month: str) -> tuple[list[tuple[int, Any]], BillingCalendar.MonthClosed]:
    closes = [(p, e) for p, e in _stream(ledger, BillingCalendar.ID) if type(e) is BillingCalendar.MonthClosed]
    for index, (_position, close) in enumerate(closes):
        if close.month == month:
            return closes[: index + 1], close
    raise NotIssued(f"month {month} is not closed: it has no issued declarations to audit")


def reconstruct(ledger: Ledger, trajectory: str, month: str) -> Declaration | None:
    """The declaration of ``trajectory`` that the close of ``month`` issues, replayed from the log alone.

    Replays only that trajectory's events recorded by the close's ``up_to``
    and the month closes up to it, with the pure declaration arithmetic; reads
    no view and nothing of other trajectories. None when the close issues that
    trajectory no declaration. Raises NotIssued when the month is not closed,
    UnknownTrajectory when the trajectory was never opened.
    """
    closes, target = _close_of(ledger, month)
    events = _stream(ledger, trajectory_id(trajectory))
    if not events:
        raise UnknownTrajectory(f"trajectory {trajectory} was never opened")
    # Events recorded after the close's up_to were not part of it; drop them here already.
    merged = sorted([pair for pair in events if pair[0] <= target.up_to] + closes, key=lambda pair: pair[0])
    replayed = Replay(ledger.catalogue).feed(merged)[-1]
    return next((d for d in replayed.declarations if d.trajectory == trajectory), None)


def audit(ledger: Ledger, trajectory: str, month: str) -> Audit:
    """Reconstruct a declaration (see :func:`reconstruct`) and compare it with the one recorded at its close.

    Compares canonical forms (rules.md §9), and the recorded digest with the
    recorded declaration. Raises NotIssued and UnknownTrajectory as
    :func:`reconstruct` does.
    """
    rebuilt = reconstruct(ledger, trajectory, month)
    ledger.projector.catch_up()
    with ledger.store.transaction(write=False) as c:
        c.execute(
            "SELECT body, digest FROM billing_declarations WHERE trajectory = ? AND month = ?", (trajectory, month)
        )
        row = c.fetchone()
    recorded = None if row is None else orjson.loads(row[0])
    recorded_digest = None if row is None else row[1]
    differences = _compare(recorded, None if rebuilt is None else rebuilt.canonical_body())
    if recorded is not None and digest_of(recorded) != recorded_digest:
        differences.append(f"the recorded declaration no longer has its recorded digest {recorded_digest}")
    return Audit(trajectory, month, recorded, recorded_digest, rebuilt, tuple(differences))


def _show(field: str, value: Any) -> str:
    if field in _MONEY and isinstance(value, int):
        return format_euro(value)
    return orjson.dumps(value).decode()


def _compare(recorded: dict[str, Any] | None, rebuilt: dict[str, Any] | None) -> list[str]:
    """Readable differences between two declaration bodies; empty when their canonical forms are equal."""
    if recorded is None and rebuilt is None:
        return []
    if recorded is None or rebuilt is None:
        present = recorded if recorded is not None else rebuilt
        assert present is not None
        what = f"a declaration of {format_euro(present['total'])} with {len(present['lines'])} lines"
        if recorded is None:
            return [f"nothing was recorded, but the log gives {what}"]
        return [f"{what} was recorded, but the log gives none"]
    if canonical(recorded) == canonical(rebuilt):
        return []
    found = []
    for field in sorted(set(recorded) | set(rebuilt)):
        if field != "lines" and recorded.get(field) != rebuilt.get(field):
            found.append(
                f"{field}: recorded {_show(field, recorded.get(field))}, log gives {_show(field, rebuilt.get(field))}"
            )
    lines_before = {(line["activity"], line["kind"]): line for line in recorded.get("lines", [])}
    lines_now = {(line["activity"], line["kind"]): line for line in rebuilt.get("lines", [])}
    for key in sorted(set(lines_before) | set(lines_now)):
        before, now = lines_before.get(key), lines_now.get(key)
        name = f"{key[1]} line of activity {key[0]}"
        if now is None:
            found.append(f"{name}: recorded, but the log gives none")
        elif before is None:
            found.append(f"{name}: not recorded, but the log gives one")
        else:
            for field in sorted(set(before) | set(now)):
                if before.get(field) != now.get(field):
                    found.append(
                        f"{name}: {field} recorded {_show(field, before.get(field))},"
                        f" log gives {_show(field, now.get(field))}"
                    )
    if not found:
        # Same fields and lines, so the difference is in the order of the lines.
        found.append("lines: the same lines, in another order")
    return found


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
            except Exception as error:  # noqa: BLE001 - an altered event can fail in any way
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
        c.execute("SELECT trajectory, digest, body FROM billing_declarations WHERE month = ?", (month,))
        stored = {row[0]: (row[1], row[2]) for row in c.fetchall()}
    found = []
    for d in close.declarations:
        issued = stored.pop(d.trajectory, None)
        where = f"{d.trajectory} {month}"
        if issued is None:
            found.append(Difference("declaration", where, "the log gives a declaration that was not issued"))
        elif issued[0] != d.digest:
            # Say what differs, so the auditor sees at once whether money moved.
            shown = _compare(orjson.loads(issued[1]), d.canonical_body())
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


def rebuild(ledger: Ledger, progress: Progress | None = None) -> Rebuilt:
    """Drop every view and apply the whole log again from position 0.

    Afterwards, the closes whose declarations the log no longer gives (their
    recomputed chained digest differs from the recorded one) are reported: a
    stored event was altered. Run :func:`verify` before a rebuild to have the
    altered declarations named, because the rebuild replaces the stored
    declarations with what the log now gives.
    """
    position = ledger.projector.rebuild(progress)
    with ledger.store.transaction(write=False) as c:
        c.execute("SELECT month FROM billing_closes WHERE digest <> computed_digest ORDER BY month")
        unreproduced = tuple(row[0] for row in c.fetchall())
    return Rebuilt(position, unreproduced)
