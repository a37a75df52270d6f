"""A closed month's declarations as claims: the lines an insurer is sent, with the insured opened from the events."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date
from typing import Any, cast

import attrs

from ggzledger.domain import Trajectory, trajectory_id
from ggzledger.domain.errors import NotAllowed
from ggzledger.domain.months import month_of
from ggzledger.service.ledger import Ledger

__all__ = [
    "Insured",
    "ClaimLine",
    "ClaimDeclaration",
    "ClaimMonth",
    "claim_month",
    "debit_reference",
    "credit_reference",
]


def debit_reference(activity: str) -> str:
    """A debit line's Referentienummer: the activity id (zpm.md Z6.5), the same in every export."""
    return activity


def credit_reference(activity: str) -> str:
    """A credit line's Referentienummer: the activity id with ``-C`` (zpm.md Z6.5)."""
    return f"{activity}-C"


@attrs.frozen
class Insured:
    """Who the claim is for, as the trajectory's opening recorded it (None where not recorded or erased)."""

    bsn: str | None
    member_number: str | None
    birth_date: date | None


@attrs.frozen
class ClaimLine:
    """One line of a declaration as a claim line; ``amount`` is signed cents (credits negative)."""

    reference: str
    related: str | None  # a credit: the Referentienummer of the debit it takes back
    related_month: str | None  # ... and the month whose declaration carried that debit
    kind: str
    activity: str
    code: str
    description: str | None
    on: date
    start: str | None
    amount: int
    late: bool
    privacy: bool
    zorgvraagtype: int | None
    practitioner: str | None
    beroep: str | None
    role: str | None
    linked_activity: str | None


@attrs.frozen
class ClaimDeclaration:
    """One trajectory's declaration of the month, with what a claim needs beside it."""

    trajectory: str
    provider: str
    insurer: str
    sequence: int
    start_date: date
    insured: Insured
    erased: str | None  # the basis of the patient's erasure (AVG17, WGBO455), None when not erased
    privacy: bool
    referral: dict[str, Any] | None
    regiebehandelaar: dict[str, Any] | None
    total: int
    lines: tuple[ClaimLine, ...]


@attrs.frozen
class ClaimMonth:
    """Every issued declaration of a closed month, and the day they were issued."""

    month: str
    issued_on: date
    declarations: tuple[ClaimDeclaration, ...]

    def insurers(self) -> list[str]:
        """The insurers with a declaration this month, in code order."""
        return sorted({d.insurer for d in self.declarations})

    def to(self, insurer: str) -> list[ClaimDeclaration]:
        """The declarations to one insurer."""
        return [d for d in self.declarations if d.insurer == insurer]


def claim_month(ledger: Ledger, month: str) -> ClaimMonth:
    """The closed month's issued declarations as claims.

    Raises NotAllowed when the month is not closed: only issued declarations are claimed,
    never a draft that the next record may still change.
    """
    calendar = ledger.calendar()
    if not calendar.is_closed(month):
        raise NotAllowed(
            f"month {month} is not closed: close it first (ggzledger close {month}); drafts are not claimed"
        )
    issued_on = calendar.closed_on.get(month)
    if issued_on is None:
        # Before the ledger's first close: closed by implication, never issued (calendar.closed_reason).
        raise NotAllowed(calendar.closed_reason(month).replace("cannot be now", "has no declarations to claim"))
    declarations = []
    for body in ledger.declarations(month):
        opening = _opening(ledger, body["trajectory"])
        declarations.append(_declaration(ledger, body, opening, month))
    return ClaimMonth(month, issued_on, tuple(declarations))


def _opening(ledger: Ledger, number: str) -> Trajectory.Opened:
    """The trajectory's opening event, its sealed fields opened (None once erased).

    Only the first event: what a claim needs of a trajectory is all there, and replaying every
    trajectory of a month whole took most of an export's time (docs/performance.md).
    """
    [stored] = ledger.recorder.select_events(trajectory_id(number), lte=1)
    return cast(Trajectory.Opened, ledger.mapper.to_domain_event(stored))


def _erasure_basis(ledger: Ledger, opening: Trajectory.Opened) -> str | None:
    # The opening's patient is required: it reads as None only when the patient's key was erased.
    if opening.patient is not None:
        return None
    return ledger.load(opening.trajectory).erased or "erased"


def _declaration(ledger: Ledger, body: dict[str, Any], opening: Trajectory.Opened, month: str) -> ClaimDeclaration:
    credited = [line["activity"] for line in body["lines"] if line["kind"] == "credit"]
    debited_in = _debited_in(ledger, body["trajectory"], opening, month, credited) if credited else {}
    return ClaimDeclaration(
        trajectory=body["trajectory"],
        provider=opening.provider,
        insurer=opening.insurer,
        sequence=body["sequence"],
        start_date=date.fromisoformat(body["start_date"]),
        insured=Insured(opening.bsn, opening.member_number, opening.birth_date),
        erased=_erasure_basis(ledger, opening),
        privacy=bool(body.get("privacy")),
        referral=body.get("referral"),
        regiebehandelaar=body.get("regiebehandelaar"),
        total=body["total"],
        lines=tuple(_line(line, debited_in) for line in body["lines"]),
    )


def _line(line: dict[str, Any], debited_in: dict[str, str]) -> ClaimLine:
    credit = line["kind"] == "credit"
    activity = line["activity"]
    return ClaimLine(
        reference=credit_reference(activity) if credit else debit_reference(activity),
        related=debit_reference(activity) if credit else None,
        related_month=debited_in.get(activity) if credit else None,
        kind=line["kind"],
        activity=activity,
        code=line["code"],
        description=line.get("description"),
        on=date.fromisoformat(line["date"]),
        start=line.get("start"),
        amount=line["amount"],
        late=bool(line.get("late")),
        privacy=bool(line.get("privacy")),
        zorgvraagtype=line.get("zorgvraagtype"),
        practitioner=line.get("practitioner"),
        beroep=line.get("beroep"),
        role=line.get("role"),
        linked_activity=line.get("linked_activity"),
    )


def _debited_in(
    ledger: Ledger, trajectory: str, opening: Trajectory.Opened, month: str, activities: Sequence[str]
) -> dict[str, str]:
    """The month whose declaration carried each credited activity's debit (searched back from ``month``)."""
    wanted, found = set(activities), {}
    for earlier in _months_before(ledger, month_of(opening.opened_on), month):
        body = ledger.declaration(trajectory, earlier)
        for line in body["lines"] if body else ():
            if line["kind"] == "debit" and line["activity"] in wanted:
                found[line["activity"]] = earlier
                wanted.discard(line["activity"])
        if not wanted:
            break
    return found


def _months_before(ledger: Ledger, opened: str, month: str) -> Iterable[str]:
    # Newest first: a credit usually takes back a line of the month before.
    for closed in reversed(ledger.calendar().closed):
        if opened <= closed < month:
            yield closed
