"""The Trajectory aggregate: one patient's care at one provider, its events and its rules."""

from __future__ import annotations

from datetime import date
from typing import Any
from uuid import UUID

import attrs
from eventsourcing.domain import Aggregate, event

from ggzledger.domain.errors import Conflict, NotAllowed, OutOfOrder
from ggzledger.domain.fast_events import build_event
from ggzledger.domain.ids import trajectory_id
from ggzledger.domain.values import ScoreItems, total_of

__all__ = ["Trajectory", "DeliveredActivity"]


@attrs.frozen
class DeliveredActivity:
    """What the aggregate remembers of an activity to judge later records."""

    on: date
    fingerprint: str
    voided: bool = False


class Trajectory(Aggregate):
    """A care trajectory: opened, assessed, clustered, activities, reviews, referral back.

    Every command checks the rules of rules.md §3 that concern one trajectory and
    raises a :class:`~ggzledger.domain.errors.Refused` subclass, recording nothing,
    when one fails. Rules that need reference data (cluster catalogue, tariffs) or
    the whole ledger (ids used elsewhere) are checked by the application, which
    passes the resolved values in.

    Every event carries ``record_id`` (the source's own id, if any) and
    ``fingerprint`` (a digest of the input record), so that a repeated record is
    recognised and stored only once.
    """

    TOPIC = "ggzledger.Trajectory"

    class Event(Aggregate.Event):
        TOPIC = "ggzledger.Trajectory.Event"

    # Never triggered (the creation event is below). Declared with a topic of its own because the
    # library otherwise derives it from Aggregate.Created, and it would inherit and take over the
    # topic of Event above.
    class Created(Event, Aggregate.Created):
        TOPIC = "ggzledger.Trajectory.Created"

    class Opened(Aggregate.Created):
        TOPIC = "ggzledger.Trajectory.Opened"
        trajectory: str
        record_id: str | None
        fingerprint: str
        patient: str
        provider: str
        insurer: str
        opened_on: date
        region: str | None
        referrer: str | None

    class Assessed(Event):
        """A HoNOS+ rating. Version 2 records its total (items 1-12 without 9s, rules.md §8)."""

        TOPIC = "ggzledger.Trajectory.Assessed"
        class_version = 2
        trajectory: str
        record_id: str | None
        fingerprint: str
        on: date
        scores: ScoreItems
        assessor: str | None
        total: int

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            # Version 1 stored the scores only; the total follows from them.
            state["total"] = total_of(state["scores"])

        def apply(self, trajectory: Trajectory) -> None:
            trajectory._note_assessment(self.on)
            trajectory._seen(self.fingerprint)

    class Clustered(Event):
        TOPIC = "ggzledger.Trajectory.Clustered"
        trajectory: str
        record_id: str | None
        fingerprint: str
        on: date
        cluster: int

        def apply(self, trajectory: Trajectory) -> None:
            trajectory._note_cluster(self.on)
            trajectory._seen(self.fingerprint)

    class ActivityDelivered(Event):
        TOPIC = "ggzledger.Trajectory.ActivityDelivered"
        trajectory: str
        record_id: str | None
        fingerprint: str
        activity: str
        on: date
        code: str
        description: str
        unit: str
        amount: int
        tariff: str
        minutes: int | None
        professional: str | None
        setting: int | None
        care_form: str | None

        def apply(self, trajectory: Trajectory) -> None:
            trajectory.activities[self.activity] = DeliveredActivity(self.on, self.fingerprint)
            trajectory._seen(self.fingerprint)

    class ActivityVoided(Event):
        TOPIC = "ggzledger.Trajectory.ActivityVoided"
        trajectory: str
        record_id: str | None
        fingerprint: str
        activity: str
        on: date
        reason: str | None

        def apply(self, trajectory: Trajectory) -> None:
            delivered = trajectory.activities[self.activity]
            trajectory.activities[self.activity] = attrs.evolve(delivered, voided=True)
            trajectory._seen(self.fingerprint)

    class Reviewed(Event):
        """A review; scores given with it count as an assessment. Version 2 records their total."""

        TOPIC = "ggzledger.Trajectory.Reviewed"
        class_version = 2
        trajectory: str
        record_id: str | None
        fingerprint: str
        on: date
        cluster: int
        scores: ScoreItems | None
        total: int | None

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["total"] = None if state["scores"] is None else total_of(state["scores"])

        def apply(self, trajectory: Trajectory) -> None:
            if self.scores is not None:
                trajectory._note_assessment(self.on)
            trajectory._note_cluster(self.on)
            trajectory._seen(self.fingerprint)

    class ReferredBack(Event):
        TOPIC = "ggzledger.Trajectory.ReferredBack"
        trajectory: str
        record_id: str | None
        fingerprint: str
        on: date
        to: str
        reason: str | None

        def apply(self, trajectory: Trajectory) -> None:
            trajectory.referred_back_on = self.on
            trajectory._seen(self.fingerprint)

    @staticmethod
    def create_id(trajectory: str, **_: Any) -> UUID:
        return trajectory_id(trajectory)

    @event(Opened)
    def __init__(
        self,
        *,
        trajectory: str,
        record_id: str | None,
        fingerprint: str,
        patient: str,
        provider: str,
        insurer: str,
        opened_on: date,
        region: str | None,
        referrer: str | None,
    ) -> None:
        self.number = trajectory
        self.patient = patient
        self.provider = provider
        self.insurer = insurer
        self.opened_on = opened_on
        self.region = region
        self.referrer = referrer
        self.referred_back_on: date | None = None
        self.first_assessed_on: date | None = None
        self.first_clustered_on: date | None = None
        # Latest date of an assessment, clustering or review: a referral back
        # may not be dated before it.
        self.latest_care_need_on: date | None = None
        self.activities: dict[str, DeliveredActivity] = {}
        self.fingerprints: set[str] = {fingerprint}

    # Queries the application asks before it commands.

    def has_seen(self, fingerprint: str) -> bool:
        """True when a record with this fingerprint is stored in this trajectory."""
        return fingerprint in self.fingerprints

    # Commands: check the rules, then trigger the event.

    def assess(
        self, *, on: date, scores: ScoreItems, assessor: str | None, record_id: str | None, fingerprint: str
    ) -> None:
        """Record a HoNOS+ assessment (scores already validated)."""
        self._check_open_on("assessment", on)
        self._trigger(
            self.Assessed,
            on=on,
            scores=scores,
            assessor=assessor,
            total=total_of(scores),
            record_id=record_id,
            fingerprint=fingerprint,
        )

    def cluster(self, *, on: date, cluster: int, record_id: str | None, fingerprint: str) -> None:
        """Type the care need into a catalogue cluster (code already checked)."""
        self._check_open_on("clustering", on)
        self._check_assessed_by("clustering", on)
        self._trigger(self.Clustered, on=on, cluster=cluster, record_id=record_id, fingerprint=fingerprint)

    def deliver(
        self,
        *,
        activity: str,
        on: date,
        code: str,
        description: str,
        unit: str,
        amount: int,
        tariff: str,
        minutes: int | None,
        professional: str | None,
        setting: int | None,
        care_form: str | None,
        record_id: str | None,
        fingerprint: str,
    ) -> None:
        """Record a billable activity, priced by the application from the tariff in force."""
        if activity in self.activities:
            raise Conflict(f"activity {activity} is already recorded in trajectory {self.number} with other content")
        if minutes is not None and minutes <= 0:
            raise NotAllowed(f"activity {activity}: minutes must be positive, got {minutes}")
        self._check_open_on(f"activity {activity}", on)
        self._trigger(
            self.ActivityDelivered,
            activity=activity,
            on=on,
            code=code,
            description=description,
            unit=unit,
            amount=amount,
            tariff=tariff,
            minutes=minutes,
            professional=professional,
            setting=setting,
            care_form=care_form,
            record_id=record_id,
            fingerprint=fingerprint,
        )

    def void(self, *, activity: str, on: date, reason: str | None, record_id: str | None, fingerprint: str) -> None:
        """Void an activity; allowed after referral back, as the correction of an error."""
        delivered = self.activities.get(activity)
        if delivered is None:
            raise NotAllowed(f"void: activity {activity} is not in trajectory {self.number}")
        if delivered.voided:
            raise NotAllowed(f"void: activity {activity} in trajectory {self.number} was voided already")
        self._check_not_before_opening(f"void of activity {activity}", on)
        self._trigger(
            self.ActivityVoided, activity=activity, on=on, reason=reason, record_id=record_id, fingerprint=fingerprint
        )

    def review(
        self, *, on: date, cluster: int, scores: ScoreItems | None, record_id: str | None, fingerprint: str
    ) -> None:
        """Re-type the care need; scores given here count as an assessment on that date."""
        self._check_open_on("review", on)
        if scores is None:
            self._check_assessed_by("review", on)
        if self.first_clustered_on is None or self.first_clustered_on > on:
            raise NotAllowed(f"review on {on}: no cluster is in force on that date in trajectory {self.number}")
        self._trigger(
            self.Reviewed,
            on=on,
            cluster=cluster,
            scores=scores,
            total=None if scores is None else total_of(scores),
            record_id=record_id,
            fingerprint=fingerprint,
        )

    def refer_back(self, *, on: date, to: str, reason: str | None, record_id: str | None, fingerprint: str) -> None:
        """End the trajectory: the patient is referred back (to the GP, elsewhere, or nowhere)."""
        if self.referred_back_on is not None:
            raise NotAllowed(f"trajectory {self.number} was referred back already on {self.referred_back_on}")
        self._check_not_before_opening("referral back", on)
        latest = self.latest_care_need_on
        active = [a.on for a in self.activities.values() if not a.voided]
        if active and (latest is None or max(active) > latest):
            latest = max(active)
        if latest is not None and on < latest:
            raise OutOfOrder(
                f"referral back on {on} is dated before an assessment, clustering, review or activity "
                f"of trajectory {self.number} on {latest}"
            )
        self._trigger(self.ReferredBack, on=on, to=to, reason=reason, record_id=record_id, fingerprint=fingerprint)

    # Checks shared by the commands.

    def _check_not_before_opening(self, what: str, on: date) -> None:
        if on < self.opened_on:
            raise OutOfOrder(f"{what} on {on} is dated before trajectory {self.number} was opened on {self.opened_on}")

    def _check_open_on(self, what: str, on: date) -> None:
        self._check_not_before_opening(what, on)
        if self.referred_back_on is not None and on > self.referred_back_on:
            raise OutOfOrder(
                f"{what} on {on} is dated after trajectory {self.number} was referred back on {self.referred_back_on}"
            )

    def _check_assessed_by(self, what: str, on: date) -> None:
        if self.first_assessed_on is None or self.first_assessed_on > on:
            raise OutOfOrder(f"{what} on {on}: trajectory {self.number} has no assessment dated on or before it")

    # State changes shared by the events' apply methods.

    def _note_assessment(self, on: date) -> None:
        if self.first_assessed_on is None or on < self.first_assessed_on:
            self.first_assessed_on = on
        self._note_care_need(on)

    def _note_cluster(self, on: date) -> None:
        if self.first_clustered_on is None or on < self.first_clustered_on:
            self.first_clustered_on = on
        self._note_care_need(on)

    def _note_care_need(self, on: date) -> None:
        if self.latest_care_need_on is None or on > self.latest_care_need_on:
            self.latest_care_need_on = on

    def _trigger(self, event_class: type[Trajectory.Event], **kwargs: Any) -> None:
        """The library's trigger_event, with the event built by :func:`~ggzledger.domain.fast_events.build_event`.

        The event mutates the trajectory through the library's own mutate (which checks
        id and version, applies it, and moves version and modified_on).
        """
        new_event = build_event(
            event_class,
            {
                "originator_id": self.id,
                "originator_version": self.version + 1,
                "timestamp": event_class.create_timestamp(),
                "trajectory": self.number,
                **kwargs,
            },
        )
        new_event.mutate(self)
        self._pending_events.append(new_event)

    def _seen(self, fingerprint: str) -> None:
        self.fingerprints.add(fingerprint)
