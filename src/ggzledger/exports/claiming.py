"""Claiming a month: build the GDS801 message, refuse it when VECOZO would, and record that it was written."""

from __future__ import annotations

from datetime import date
from typing import cast

import attrs
from eventsourcing.application import AggregateNotFoundError
from eventsourcing.persistence import IntegrityError

from ggzledger.domain import ClaimBook, Export
from ggzledger.domain.errors import NotAllowed, Refused
from ggzledger.exports.claims import ClaimDeclaration, ClaimMonth, claim_month
from ggzledger.exports.gds801 import Message, message_of, to_xml
from ggzledger.exports.vecozo import Violation, check
from ggzledger.service.ledger import Ledger
from ggzledger.service.retry import ATTEMPTS, back_off, gave_up

__all__ = ["ClaimRefused", "Claim", "claim_book", "prepare", "record"]


class ClaimRefused(Refused):
    """The message would break VECOZO's rules: nothing is written; ``violations`` says which and where."""

    def __init__(self, violations: list[Violation]) -> None:
        self.violations = violations
        rules = "rule" if len(violations) == 1 else "rules"
        super().__init__(f"the message was not written: VECOZO would refuse it ({len(violations)} {rules} broken)")


@attrs.frozen
class Claim:
    """A message ready to write: its XML, what it holds, and the trajectories whose data it opened."""

    message: Message
    xml: bytes
    export: Export
    trajectories: tuple[str, ...]


def claim_book(ledger: Ledger) -> ClaimBook:
    """Every claim message this ledger wrote."""
    try:
        return cast(ClaimBook, ledger.repository.get(ClaimBook.ID))
    except AggregateNotFoundError:
        return ClaimBook()


def prepare(
    ledger: Ledger, month: str, insurer: str, *, provider: str | None, again: bool, today: date, test: bool = False
) -> Claim:
    """The message of a closed month's declarations to one insurer; raises NotAllowed or ClaimRefused.

    Refused before any message is built: an open month, no declaration to the insurer, several providers
    without ``provider`` chosen, a month claimed before without ``again`` (or ``again`` for one never
    claimed). Refused after: every VECOZO rule the message breaks (ClaimRefused names them all).
    """
    claims = claim_month(ledger, month)
    chosen = _one_provider(claims, insurer, provider)
    declarations = [d for d in claims.to(insurer) if d.provider == chosen]
    book = claim_book(ledger)
    earlier = book.of(insurer, chosen, month)
    # The book's own rule, asked before the work: the same refusal as record() gives.
    book.check(Export(insurer, chosen, month, "-", 0, 0, again))
    message = message_of(
        claims, declarations, provider=chosen, insurer=insurer, sent_on=today, ordinal=len(earlier) + 1, test=test
    )
    claimed = {e.month for e in book.exports if (e.insurer, e.provider) == (insurer, chosen)}
    violations = [
        Violation("VC020", d.trajectory, None, f"the patient's personal data was erased ({d.erased}): no BSN to claim")
        for d in declarations
        if d.erased
    ]
    violations += [v for v in check(message, claimed) if not _erased_again(v, declarations)]
    if violations:
        raise ClaimRefused(violations)
    declared = sum(d.total for d in declarations)
    if message.total != declared:
        # The message is the declarations' lines; a difference is a defect here, never a user's mistake.
        raise AssertionError(f"message total {message.total} differs from the declarations' {declared}")
    lines = len(message.debits) + len(message.credits)
    export = Export(insurer, chosen, month, message.reference, lines, message.total, again)
    return Claim(message, to_xml(message), export, tuple(d.trajectory for d in declarations))


def record(ledger: Ledger, claim: Claim) -> None:
    """Record ``claim_exported``; raises NotAllowed when another writer claimed the month meanwhile."""
    export = claim.export
    # The message was numbered after the exports before it: one more since means another export won.
    ordinal = int(claim.message.reference.rsplit("-", 1)[1])
    for attempt in range(ATTEMPTS):
        book = claim_book(ledger)
        if len(book.of(export.insurer, export.provider, export.month)) != ordinal - 1:
            raise NotAllowed(f"month {export.month} was claimed by another export meanwhile; nothing was recorded")
        book.record(export)
        try:
            ledger.save(book)
        except IntegrityError:
            back_off(attempt)
            continue
        return
    raise gave_up()


def _erased_again(violation: Violation, declarations: list[ClaimDeclaration]) -> bool:
    # An erased patient's missing BSN and birth date are said once, as the erasure.
    erased = {d.trajectory for d in declarations if d.erased}
    return violation.rule in ("VC020", "VC023") and violation.trajectory in erased


def _one_provider(claims: ClaimMonth, insurer: str, provider: str | None) -> str:
    to_insurer = claims.to(insurer)
    if not to_insurer:
        raise NotAllowed(f"month {claims.month} has no declaration to insurer {insurer}")
    providers = sorted({d.provider for d in to_insurer})
    if provider is not None:
        if provider not in providers:
            raise NotAllowed(
                f"month {claims.month} has no declaration of provider {provider} to insurer {insurer}"
                f" (providers: {', '.join(providers)})"
            )
        return provider
    if len(providers) > 1:
        raise NotAllowed(
            f"month {claims.month}'s declarations to insurer {insurer} come from {len(providers)} providers"
            f" ({', '.join(providers)}): a message has one declarant, choose it with --provider"
        )
    return providers[0]
