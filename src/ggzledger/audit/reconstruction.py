"""Reconstructing one issued declaration from the log alone, and auditing it against the record (rules.md §9)."""

from __future__ import annotations

from typing import Any

import attrs
import orjson

from ggzledger.domain import BillingCalendar, trajectory_id
from ggzledger.domain.errors import NotAllowed, UnknownTrajectory
from ggzledger.domain.money import format_euro
from ggzledger.projections.declarations import Declaration, canonical, digest_of
from ggzledger.projections.replay import Replay
from ggzledger.service.ledger import Ledger

__all__ = ["Audit", "NotIssued", "audit", "compare", "form_1_digests", "month_closes", "reconstruct"]

_MONEY = ("total", "previously_declared", "amount")


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


def _stream(ledger: Ledger, stream: Any) -> list[tuple[int, Any]]:
    stored = ledger.recorder.select_stream_with_positions(stream)
    return [(position, ledger.mapper.to_domain_event(event)) for position, event in stored]


def month_closes(ledger: Ledger) -> list[tuple[int, BillingCalendar.MonthClosed]]:
    """Every recorded month close with its position, oldest first (the calendar's stream alone)."""
    return [(p, e) for p, e in _stream(ledger, BillingCalendar.ID) if type(e) is BillingCalendar.MonthClosed]


def _close_of(ledger: Ledger, month: str) -> tuple[list[tuple[int, Any]], BillingCalendar.MonthClosed]:
    closes = month_closes(ledger)
    for index, (_position, close) in enumerate(closes):
        if close.month == month:
            return closes[: index + 1], close
    if closes and month < closes[0][1].month:
        raise NotIssued(
            f"month {month} lies before the ledger's first close ({closes[0][1].month}): it was never closed,"
            " so it has no issued declarations to audit"
        )
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


def form_1_digests(ledger: Ledger, trajectory: str) -> tuple[tuple[str, str], ...]:
    """(month, digest) of each declaration of ``trajectory`` issued at a close of digest form 1, as the log gives it.

    One replay of the trajectory's stream and the closes (as :func:`reconstruct` does for one
    month). Form 1 covered the cluster: what an erasure must keep before it makes the cluster
    unreadable (Trajectory.PersonalDataErased). Empty when no close was recorded in form 1.
    """
    closes: list[tuple[int, Any]] = list(month_closes(ledger))
    if not any(close.digest_form == 1 for _p, close in closes):
        return ()
    merged = sorted(_stream(ledger, trajectory_id(trajectory)) + closes, key=lambda pair: pair[0])
    return tuple(
        (replayed.month, d.digest)
        for replayed in Replay(ledger.catalogue).feed(merged)
        if replayed.recorded.digest_form == 1
        for d in replayed.declarations
        if d.trajectory == trajectory
    )


def audit(ledger: Ledger, trajectory: str, month: str) -> Audit:
    """Reconstruct a declaration (see :func:`reconstruct`) and compare it with the one recorded at its close.

    Compares canonical forms (rules.md §9), and the recorded digest with the
    recorded declaration. Raises NotIssued and UnknownTrajectory as
    :func:`reconstruct` does.
    """
    rebuilt = reconstruct(ledger, trajectory, month)
    ledger.projector.catch_up()
    with ledger.store.transaction(write=False) as c:
        found = ledger.projector.views.billing.recorded(c, trajectory, month)
    recorded, recorded_digest = (None, None) if found is None else found
    differences = compare(recorded, None if rebuilt is None else rebuilt.canonical_body())
    form = _close_of(ledger, month)[1].digest_form
    # Form 2 also covers provider and insurer, which are not on the body: the log's are taken.
    if recorded is not None and (form == 1 or rebuilt is not None):
        provider, insurer = (None, None) if rebuilt is None else (rebuilt.provider, rebuilt.insurer)
        if digest_of(recorded, form, provider, insurer) != recorded_digest:
            differences.append(f"the recorded declaration no longer has its recorded digest {recorded_digest}")
    return Audit(trajectory, month, recorded, recorded_digest, rebuilt, tuple(differences))


def _show(field: str, value: Any) -> str:
    if field in _MONEY and isinstance(value, int):
        return format_euro(value)
    return orjson.dumps(value).decode()


def compare(recorded: dict[str, Any] | None, rebuilt: dict[str, Any] | None) -> list[str]:
    """Readable differences between a recorded declaration body and one the log gives (None: there is
    none); empty when their canonical forms are equal. Money is shown in euros."""
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
