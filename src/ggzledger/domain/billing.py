"""The billing calendar: the ledger-wide stream of month closes and their digest chain."""

from __future__ import annotations

from datetime import date
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from ggzledger.domain.errors import NotAllowed

__all__ = ["BillingCalendar", "GENESIS_DIGEST"]

# The digest the first close chains onto.
GENESIS_DIGEST = "0" * 64


class BillingCalendar(Aggregate):
    """The one stream of MonthClosed events; a month closes once, in order."""

    TOPIC = "ggzledger.BillingCalendar"
    ID = uuid5(NAMESPACE_URL, "https://ggzledger.invalid/billing-calendar")

    class Event(Aggregate.Event):
        TOPIC = "ggzledger.BillingCalendar.Event"

    # Never triggered (the creation event is below). Declared with a topic of its own because the
    # library otherwise derives it from Aggregate.Created, and it would inherit and take over the
    # topic of Event above.
    class Created(Event, Aggregate.Created):
        TOPIC = "ggzledger.BillingCalendar.Created"

    class Started(Aggregate.Created):
        TOPIC = "ggzledger.BillingCalendar.Started"

    class MonthClosed(Event):
        TOPIC = "ggzledger.BillingCalendar.MonthClosed"
        # Version 2 records which form its declarations' digests take (trust.md §3).
        class_version = 2
        record_id: str | None
        month: str
        up_to: int
        declarations: int
        total: int
        digest: str
        # 1: the whole declaration body (rules.md §9 as it was; ZPM bodies per zpm.md Z6.7);
        # 2: its financial content only, which erasure leaves readable.
        digest_form: int

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            # Closes recorded before the form existed digested their declarations in form 1.
            state["digest_form"] = 1

        def apply(self, calendar: BillingCalendar) -> None:
            calendar.closed.append(self.month)
            calendar.last_digest = self.digest
            # The day the month's declarations were issued: a claim's invoice date (docs/exports.md).
            calendar.closed_on[self.month] = self.timestamp.date()

    @staticmethod
    def create_id(**_: Any) -> UUID:
        return BillingCalendar.ID

    @event(Started)
    def __init__(self) -> None:
        self.closed: list[str] = []
        self.closed_on: dict[str, date] = {}
        self.last_digest = GENESIS_DIGEST

    @property
    def last_closed(self) -> str | None:
        """The latest closed month, or None before the first close."""
        return self.closed[-1] if self.closed else None

    def is_closed(self, month: str) -> bool:
        """True when the month was closed (closes run in order, so: on or before the last)."""
        return bool(self.closed) and month <= self.closed[-1]

    def closed_reason(self, month: str) -> str:
        """Why a month that :meth:`is_closed` cannot be closed: closed already, or before the first close."""
        first = self.closed[0]
        if month < first:
            return (
                f"month {month} lies before the ledger's first close ({first}): it was never closed, and cannot be now"
            )
        return f"month {month} is closed already"

    def close(
        self,
        *,
        month: str,
        up_to: int,
        declarations: int,
        total: int,
        digest: str,
        record_id: str | None,
        digest_form: int = 2,
    ) -> None:
        """Record the close of the month after the last closed one."""
        if self.is_closed(month):
            raise NotAllowed(f"month {month} is closed already")
        self.trigger_event(
            self.MonthClosed,
            month=month,
            up_to=up_to,
            declarations=declarations,
            total=total,
            digest=digest,
            record_id=record_id,
            digest_form=digest_form,
        )
