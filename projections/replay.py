"""Month closes recomputed in memory from events in position order, with the pure declaration arithmetic."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any

import attrs

from ggzledger.domain import GENESIS_DIGEST, BillingCalendar, Trajectory
from ggzledger.domain.months import last_day
from ggzledger.projections.declarations import (
    Activity,
    Assignment,
    Clustering,
    Declaration,
    Prestatie,
    PrivacyEvent,
    Referral,
    TrajectoryFacts,
    chain_digest,
    declare,
    line_minutes,
)
from ggzledger.reference import Catalogue

__all__ = ["Replay", "ReplayedClose"]


@attrs.frozen
class ReplayedClose:
    """A month close as the log gives it now, beside what its MonthClosed event recorded.

    ``digest`` chains the recomputed declarations onto the digest *recorded* by
    the previous close, so a difference shows at the close whose declarations
    differ instead of running down the rest of the chain.
    """

    month: str
    position: int
    up_to: int
    declarations: tuple[Declaration, ...]
    digest: str
    recorded: BillingCalendar.MonthClosed
    # The recorded digest of the close before (what ``digest`` chains onto).
    previous: str = GENESIS_DIGEST
    # Trajectories whose personal data was erased by the time of this replay: a form-1 digest
    # covers the cluster, which they no longer give, so theirs cannot be recomputed.
    erased: frozenset[str] = frozenset()

    @property
    def total(self) -> int:
        return sum(d.total for d in self.declarations)


@attrs.define
class _Trajectory:
    number: str
    opened_on: date
    ended_on: date | None = None
    ended_position: int = 0
    clusterings: list[Clustering] = attrs.Factory(list)
    referral: Referral | None = None
    regiebehandelaars: list[Assignment] = attrs.Factory(list)
    privacy_events: list[PrivacyEvent] = attrs.Factory(list)
    prestaties: dict[str, Prestatie] = attrs.Factory(dict)
    declarations: int = 0
    declared_total: int = 0
    provider: str | None = None
    insurer: str | None = None
    erased: bool = False
    # Activities a later close may still bill: not declared yet, or declared and voided but not credited.
    open_items: dict[str, Activity] = attrs.Factory(dict)
    declared: dict[str, Activity] = attrs.Factory(dict)

    def facts(self, up_to: int) -> TrajectoryFacts:
        ended = self.ended_on if self.ended_on is not None and self.ended_position <= up_to else None
        clusterings = tuple(c for c in self.clusterings if c.position <= up_to)
        return TrajectoryFacts(
            self.number,
            self.opened_on,
            ended,
            clusterings,
            self.declarations,
            self.declared_total,
            self.referral,
            tuple(a for a in self.regiebehandelaars if a.position <= up_to),
            tuple(p for p in self.privacy_events if p.position <= up_to),
            self.prestaties,
            self.provider,
            self.insurer,
        )


class Replay:
    """Feeds on (position, domain event) pairs in position order; each MonthClosed gives a ReplayedClose.

    A close as of ``up_to`` sees only what was recorded by ``up_to``, exactly as
    the month close did: events between its ``up_to`` and its own position are
    held back by their positions. Replaying one trajectory's stream plus the
    calendar's closes gives that trajectory's declarations; replaying the whole
    log gives every close.
    """

    def __init__(self, catalogue: Catalogue) -> None:
        self.catalogue = catalogue
        self.trajectories: dict[str, _Trajectory] = {}
        # Trajectories with open items: the only ones a close needs to look at.
        self._waiting: set[str] = set()
        self._previous_digest = GENESIS_DIGEST

    def feed(self, events: Iterable[tuple[int, Any]]) -> list[ReplayedClose]:
        """Apply events in position order; the closes among them, recomputed."""
        closes = []
        for position, event in events:
            close = self.apply(position, event)
            if close is not None:
                closes.append(close)
        return closes

    def apply(self, position: int, e: Any) -> ReplayedClose | None:
        """Apply one event; returns the recomputed close for a MonthClosed, else None."""
        kind = type(e)
        if kind is BillingCalendar.MonthClosed:
            return self._close(position, e)
        if kind is Trajectory.Opened:
            opened = _Trajectory(e.trajectory, e.opened_on, provider=e.provider, insurer=e.insurer)
            if e.referral_type is not None:  # an Opened of version 1 is upcast without one
                opened.referral = Referral(e.referral_type, e.referrer_agb, e.referral_date)
            self.trajectories[e.trajectory] = opened
            return None
        state = self.trajectories.get(getattr(e, "trajectory", None))  # type: ignore[arg-type]
        if state is None:
            return None
        if kind is Trajectory.ActivityDelivered:
            state.open_items[e.activity] = Activity(
                e.activity, e.trajectory, e.on, e.code, e.description, e.amount, e.care_form, position
            )
            self._waiting.add(state.number)
        elif kind is Trajectory.ActivityVoided:
            pending = state.open_items.get(e.activity)
            if pending is not None:
                state.open_items[e.activity] = _with(pending, voided_position=position)
            elif e.activity in state.declared:
                state.open_items[e.activity] = _with(state.declared.pop(e.activity), voided_position=position)
                self._waiting.add(state.number)
        elif kind is Trajectory.Clustered or kind is Trajectory.Reviewed:
            # An erased patient's cluster reads as None (trust.md §4): no form-1 digest of theirs recomputes.
            # Told by the cluster, not by PersonalDataErased: the replay meets the closes before that event
            # (recorded after them), and a key deleted by an erase killed before it reads None as well.
            state.erased = state.erased or e.cluster is None
            state.clusterings.append(Clustering(e.on, position, e.cluster))
        elif kind is Trajectory.ReferredBack:
            state.ended_on, state.ended_position = e.on, position
        else:
            self._zpm(position, e, state, kind)
        return None

    def _zpm(self, position: int, e: Any, state: _Trajectory, kind: type) -> None:
        """Apply the ZPM events (zpm.md Z9) as the billing view does."""
        if kind is Trajectory.PrestatieDelivered:
            if e.prestatie is not None:  # a legacy record with planned minutes bills as a v1 line
                state.prestaties[e.activity] = Prestatie(
                    e.prestatie, e.practitioner, e.beroep, e.setting, e.start, e.linked_activity,
                    line_minutes(e.prestatie, e.minutes, e.effective_minutes), e.max_amount, e.price_basis,
                )  # fmt: skip
            state.open_items[e.activity] = Activity(
                e.activity, e.trajectory, e.on, e.code, e.description, e.amount, e.care_form, position
            )
            self._waiting.add(state.number)
        elif kind is Trajectory.RegiebehandelaarAssigned:
            state.regiebehandelaars.append(Assignment(e.on, position, e.practitioner, e.beroep))
        elif kind is Trajectory.PrivacyStatementSigned or kind is Trajectory.PrivacyStatementWithdrawn:
            state.privacy_events.append(PrivacyEvent(e.on, position, kind is Trajectory.PrivacyStatementSigned))

    def _close(self, position: int, e: BillingCalendar.MonthClosed) -> ReplayedClose:
        month_end, up_to = last_day(e.month), e.up_to
        issued: list[Declaration] = []
        for number in sorted(self._waiting):
            state = self.trajectories[number]
            items = state.open_items.values()
            debits = sorted((a for a in items if a.pending_debit(month_end, up_to)), key=lambda a: (a.on, a.activity))
            credits = sorted((a for a in items if a.pending_credit(up_to)), key=lambda a: a.activity)
            declaration = declare(state.facts(up_to), e.month, debits, credits, self.catalogue, form=e.digest_form)
            if declaration is not None:
                issued.append(declaration)
                state.declarations += 1
                state.declared_total += declaration.total
                for a in debits:
                    del state.open_items[a.activity]
                    state.declared[a.activity] = _with(a, declared_month=e.month)
                for a in credits:
                    del state.open_items[a.activity]
            # Voided before ever being declared: no close will bill it (up_to never decreases).
            for a in list(state.open_items.values()):
                if a.declared_month is None and a.voided_position is not None and a.voided_position <= up_to:
                    del state.open_items[a.activity]
            if not state.open_items:
                self._waiting.discard(number)
        digest = chain_digest(self._previous_digest, (d.digest for d in issued))
        previous, self._previous_digest = self._previous_digest, e.digest
        erased = frozenset(d.trajectory for d in issued if self.trajectories[d.trajectory].erased)
        return ReplayedClose(e.month, position, up_to, tuple(issued), digest, e, previous, erased)


def _with(a: Activity, **changes: Any) -> Activity:
    """A copy of an activity with some fields changed (whatever kind of record class Activity is)."""
    fields = {name: getattr(a, name) for name in _ACTIVITY_FIELDS}
    fields.update(changes)
    return Activity(**fields)


_ACTIVITY_FIELDS = (
    "activity", "trajectory", "on", "code", "description", "amount", "care_form", "position",
    "voided_position", "declared_month", "credited_month",
)  # fmt: skip
