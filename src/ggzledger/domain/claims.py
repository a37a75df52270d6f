"""The claim book: every claim message written for an insurer, so that no line is claimed twice unnoticed."""

from __future__ import annotations

from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

import attrs
from eventsourcing.domain import Aggregate, event

from ggzledger.domain.errors import NotAllowed

__all__ = ["ClaimBook", "Export"]


@attrs.frozen
class Export:
    """One claim message as written: for whom, which month, its reference, how many lines and their total."""

    insurer: str
    provider: str
    month: str
    message: str
    lines: int
    total: int
    again: bool


_EXPORT_FIELDS = tuple(field.name for field in attrs.fields(Export))


class ClaimBook(Aggregate):
    """The one stream of ClaimExported events (docs/exports.md).

    A month's claim to an insurer is written once; writing it again is a deliberate act
    (``again``) that the book records beside the first. The book holds no personal data:
    codes, months, counts and amounts.
    """

    TOPIC = "ggzledger.ClaimBook"
    ID = uuid5(NAMESPACE_URL, "https://ggzledger.invalid/claim-book")

    class Event(Aggregate.Event):
        TOPIC = "ggzledger.ClaimBook.Event"

    # Never triggered (the creation event is below); a topic of its own, as ContractBook's.
    class Created(Event, Aggregate.Created):
        TOPIC = "ggzledger.ClaimBook.Created"

    class Started(Aggregate.Created):
        TOPIC = "ggzledger.ClaimBook.Started"

    class ClaimExported(Event):
        TOPIC = "ggzledger.ClaimBook.ClaimExported"
        insurer: str
        provider: str
        month: str
        message: str
        lines: int
        total: int
        again: bool

        def apply(self, book: ClaimBook) -> None:
            book.exports += (Export(**{name: getattr(self, name) for name in _EXPORT_FIELDS}),)

    @staticmethod
    def create_id(**_: Any) -> UUID:
        return ClaimBook.ID

    @event(Started)
    def __init__(self) -> None:
        self.exports: tuple[Export, ...] = ()

    def of(self, insurer: str, provider: str, month: str) -> tuple[Export, ...]:
        """The messages written for this insurer, provider and month, oldest first."""
        return tuple(e for e in self.exports if (e.insurer, e.provider, e.month) == (insurer, provider, month))

    def check(self, export: Export) -> None:
        """Raise NotAllowed when the month was claimed before and ``again`` is not set, or the reverse."""
        earlier = self.of(export.insurer, export.provider, export.month)
        if earlier and not export.again:
            raise NotAllowed(
                f"month {export.month} was claimed from {export.provider} to insurer {export.insurer} before,"
                f" as message {earlier[-1].message}; export it again only deliberately, with --again"
            )
        if not earlier and export.again:
            raise NotAllowed(
                f"month {export.month} was never claimed from {export.provider} to insurer {export.insurer}:"
                " there is nothing to export again (leave out --again)"
            )

    def record(self, export: Export) -> None:
        """Record a message written; refused as :meth:`check` says."""
        self.check(export)
        self.trigger_event(self.ClaimExported, **attrs.asdict(export))
