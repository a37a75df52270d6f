"""The Trajectory aggregate: one patient's care at one provider, its events and its rules."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, ClassVar
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
    """What the aggregate remembers of an activity to judge later records.

    For a ZPM activity also its prestatie, consult type and band, and the surcharge types
    linked to it (at most one of each per consult, zpm.md Z4.7); a surcharge remembers
    what it is linked to, so that voiding it frees its type on that consult again.
    """

    on: date
    fingerprint: str
    voided: bool = False
    prestatie: str | None = None
    consult_type: str | None = None
    band: int | None = None
    surcharges: frozenset[str] = frozenset()
    surcharge_type: str | None = None
    linked_activity: str | None = None


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
        # The fields that hold a patient's personal or health data (docs/security.md): sealed with
        # the patient's data key when stored, None once that key is erased. The rest (ids, codes,
        # amounts, dates, provider, insurer) stays plain: what a claim and its audit need.
        PERSONAL_FIELDS: ClassVar[tuple[str, ...]] = ()

    # Never triggered (the creation event is below). Declared with a topic of its own because the
    # library otherwise derives it from Aggregate.Created, and it would inherit and take over the
    # topic of Event above.
    class Created(Event, Aggregate.Created):
        TOPIC = "ggzledger.Trajectory.Created"

    class Opened(Aggregate.Created):
        """The opening. Version 2 records the referral (zpm.md Z3.1), 3 what a claim needs of the patient."""

        TOPIC = "ggzledger.Trajectory.Opened"
        PERSONAL_FIELDS = ("patient", "referrer", "referrer_agb", "referral_date", "bsn", "member_number", "birth_date")
        class_version = 3
        trajectory: str
        record_id: str | None
        fingerprint: str
        patient: str
        provider: str
        insurer: str
        opened_on: date
        region: str | None
        referrer: str | None
        # Defaults: the library's constructor takes its arguments from these fields.
        referral_type: str | None = None
        referrer_agb: str | None = None
        referral_date: date | None = None
        # The insured's identity on an insurer's claim (docs/exports.md): BSN or member number, birth date.
        bsn: str | None = None
        member_number: str | None = None
        birth_date: date | None = None

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            # Version 1 knew no referral.
            state["referral_type"] = state["referrer_agb"] = state["referral_date"] = None

        @staticmethod
        def upcast_v2_v3(state: dict[str, Any]) -> None:
            # Version 2 knew no claim identity.
            state["bsn"] = state["member_number"] = state["birth_date"] = None

    class Assessed(Event):
        """A HoNOS+ rating. Version 2 records its total (items 1-12 without 9s, rules.md §8), 3 its route."""

        TOPIC = "ggzledger.Trajectory.Assessed"
        PERSONAL_FIELDS = ("scores", "assessor", "total")
        class_version = 3
        trajectory: str
        record_id: str | None
        fingerprint: str
        on: date
        scores: ScoreItems
        assessor: str | None
        total: int
        # Defaults for the fields later versions added: an event built as before still builds.
        route: str | None = None

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            # Version 1 stored the scores only; the total follows from them.
            state["total"] = total_of(state["scores"])

        @staticmethod
        def upcast_v2_v3(state: dict[str, Any]) -> None:
            # Before the zorgprestatiemodel no route was recorded.
            state["route"] = None

        def apply(self, trajectory: Trajectory) -> None:
            trajectory._note_assessment(self.on)
            trajectory._seen(self.fingerprint)

    class Clustered(Event):
        """A typing of the care need.

        Version 2 records the hoofdgroep (zpm.md Z3.1), 3 the DBC diagnosis group (docs/analyses.md).
        """

        TOPIC = "ggzledger.Trajectory.Clustered"
        PERSONAL_FIELDS = ("cluster", "hoofdgroep", "diagnosis_group")
        class_version = 3
        trajectory: str
        record_id: str | None
        fingerprint: str
        on: date
        cluster: int
        hoofdgroep: str | None = None
        diagnosis_group: str | None = None

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["hoofdgroep"] = None

        @staticmethod
        def upcast_v2_v3(state: dict[str, Any]) -> None:
            # Before the DBC comparison no diagnosis group was recorded.
            state["diagnosis_group"] = None

        def apply(self, trajectory: Trajectory) -> None:
            trajectory._note_cluster(self.on)
            trajectory._seen(self.fingerprint)

    class ActivityDelivered(Event):
        TOPIC = "ggzledger.Trajectory.ActivityDelivered"
        PERSONAL_FIELDS = ("professional",)
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

    class PrestatieDelivered(ActivityDelivered):
        """An activity under the zorgprestatiemodel: the v1 fields, then the prestatie it was derived as.

        ``prestatie`` None is a legacy record (an explicit code) that carried planned_minutes.
        The public feed shows it as ``activity_delivered`` with these fields added.
        """

        TOPIC = "ggzledger.Trajectory.PrestatieDelivered"
        # Each prestatie fills a few of these; stored, the empty ones are left out (half the bytes
        # of the state) and read back as None (store.codec.TypedMapper).
        OMITTED_WHEN_NONE = (
            "minutes", "professional", "setting", "care_form", "consult_type", "beroep", "beroep_category",
            "practitioner", "planned_minutes", "start", "group_size", "care_level", "security_level",
            "surcharge_type", "linked_activity", "effective_minutes", "band", "max_amount",
        )  # fmt: skip
        prestatie: str | None
        consult_type: str | None
        beroep: str | None
        beroep_category: str | None
        practitioner: str | None
        planned_minutes: int | None
        start: str | None
        group_size: int | None
        care_level: str | None
        security_level: int | None
        surcharge_type: str | None
        linked_activity: str | None
        effective_minutes: int | None
        band: int | None
        tariff_type: str
        max_amount: int | None
        price_basis: str

        def apply(self, trajectory: Trajectory) -> None:
            activities = trajectory.activities
            linked_id = self.linked_activity if self.prestatie == "surcharge" else None
            activities[self.activity] = DeliveredActivity(
                self.on,
                self.fingerprint,
                prestatie=self.prestatie,
                consult_type=self.consult_type,
                band=self.band,
                surcharge_type=self.surcharge_type if linked_id is not None else None,
                linked_activity=linked_id,
            )
            linked = activities.get(linked_id) if linked_id is not None else None
            if linked_id is not None and linked is not None and self.surcharge_type is not None:
                activities[linked_id] = attrs.evolve(linked, surcharges=linked.surcharges | {self.surcharge_type})
            trajectory._seen(self.fingerprint)

    class ActivityVoided(Event):
        TOPIC = "ggzledger.Trajectory.ActivityVoided"
        PERSONAL_FIELDS = ("reason",)
        trajectory: str
        record_id: str | None
        fingerprint: str
        activity: str
        on: date
        reason: str | None

        def apply(self, trajectory: Trajectory) -> None:
            activities = trajectory.activities
            delivered = activities[self.activity]
            activities[self.activity] = attrs.evolve(delivered, voided=True)
            if delivered.surcharge_type is not None and delivered.linked_activity in activities:
                # A voided surcharge no longer counts against its consult's one of each type.
                linked = activities[delivered.linked_activity]
                activities[delivered.linked_activity] = attrs.evolve(
                    linked, surcharges=linked.surcharges - {delivered.surcharge_type}
                )
            trajectory._seen(self.fingerprint)

    class Reviewed(Event):
        """A review; scores given with it count as an assessment.

        Version 2 records their total; version 3 the route and hoofdgroep (zpm.md Z3.1).
        """

        TOPIC = "ggzledger.Trajectory.Reviewed"
        PERSONAL_FIELDS = ("cluster", "scores", "total", "hoofdgroep")
        class_version = 3
        trajectory: str
        record_id: str | None
        fingerprint: str
        on: date
        cluster: int
        scores: ScoreItems | None
        total: int | None
        route: str | None = None
        hoofdgroep: str | None = None

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["total"] = None if state["scores"] is None else total_of(state["scores"])

        @staticmethod
        def upcast_v2_v3(state: dict[str, Any]) -> None:
            state["route"] = state["hoofdgroep"] = None

        def apply(self, trajectory: Trajectory) -> None:
            if self.scores is not None:
                trajectory._note_assessment(self.on)
            trajectory._note_cluster(self.on)
            trajectory._seen(self.fingerprint)

    class ReferredBack(Event):
        TOPIC = "ggzledger.Trajectory.ReferredBack"
        PERSONAL_FIELDS = ("reason",)
        trajectory: str
        record_id: str | None
        fingerprint: str
        on: date
        to: str
        reason: str | None

        def apply(self, trajectory: Trajectory) -> None:
            trajectory.referred_back_on = self.on
            trajectory._seen(self.fingerprint)

    class RegiebehandelaarAssigned(Event):
        """The practitioner responsible for the treatment plan from ``on`` (zpm.md Z2.10)."""

        TOPIC = "ggzledger.Trajectory.RegiebehandelaarAssigned"
        trajectory: str
        record_id: str | None
        fingerprint: str
        on: date
        practitioner: str
        beroep: str

        def apply(self, trajectory: Trajectory) -> None:
            trajectory._seen(self.fingerprint)

    class PrivacyStatementSigned(Event):
        """The patient objects to diagnosis data on claims from ``on`` (zpm.md Z6.4)."""

        TOPIC = "ggzledger.Trajectory.PrivacyStatementSigned"
        trajectory: str
        record_id: str | None
        fingerprint: str
        on: date

        def apply(self, trajectory: Trajectory) -> None:
            trajectory._note_privacy(self.on, signed=True)
            trajectory._seen(self.fingerprint)

    class PrivacyStatementWithdrawn(Event):
        """The patient's privacy statement no longer holds from ``on``."""

        TOPIC = "ggzledger.Trajectory.PrivacyStatementWithdrawn"
        trajectory: str
        record_id: str | None
        fingerprint: str
        on: date

        def apply(self, trajectory: Trajectory) -> None:
            trajectory._note_privacy(self.on, signed=False)
            trajectory._seen(self.fingerprint)

    class Admitted(Event):
        """A clinical admission; ``after_20h``: the admission day is not a stay day (zpm.md Z7)."""

        TOPIC = "ggzledger.Trajectory.Admitted"
        trajectory: str
        record_id: str | None
        fingerprint: str
        on: date
        after_20h: bool

        def apply(self, trajectory: Trajectory) -> None:
            trajectory.admitted_on = self.on
            trajectory._seen(self.fingerprint)

    class Discharged(Event):
        """The end of the open admission; the discharge day is not a stay day."""

        TOPIC = "ggzledger.Trajectory.Discharged"
        trajectory: str
        record_id: str | None
        fingerprint: str
        on: date

        def apply(self, trajectory: Trajectory) -> None:
            trajectory.admitted_on = None
            trajectory._seen(self.fingerprint)

    class Registered(Event):
        """The patient's registration (aanmelding) with the provider, on or before the opening (docs/analyses.md).

        ``region`` is a code of the zorgkantoorregio list (reference.regions), checked when the record
        was read; ``care_form`` the cruciale-ggz form the patient was registered for, if any. The
        record's ``patient`` and ``provider`` are checked against the opening and not stored again.
        """

        TOPIC = "ggzledger.Trajectory.Registered"
        trajectory: str
        record_id: str | None
        fingerprint: str
        on: date
        region: str
        care_form: str | None

        def apply(self, trajectory: Trajectory) -> None:
            trajectory.registered_on = self.on
            trajectory._seen(self.fingerprint)

    class PersonalDataErased(Event):
        """The patient's data key was erased (AVG art. 17 or WGBO art. 7:455; docs/sealing.md).

        Holds no personal data: the subject (a random id), the legal basis and the moment. From
        then on every personal field of the trajectory's events reads None, and the trajectory
        takes no more records; its codes, amounts and dates stay for the fiscal retention duty.

        Version 2 keeps ``digests``: (month, digest) of the trajectory's declarations issued at
        closes of digest form 1, which covered the cluster. Erasure makes them impossible to
        recompute, so the event that causes it carries them, as the log gave them just before.
        """

        TOPIC = "ggzledger.Trajectory.PersonalDataErased"
        class_version = 2
        trajectory: str
        subject: str
        basis: str
        erased_at: datetime
        digests: tuple[tuple[str, str], ...] = ()

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["digests"] = []

        def apply(self, trajectory: Trajectory) -> None:
            trajectory.erased = self.basis

    @staticmethod
    def create_id(trajectory: str, **_: Any) -> UUID:
        return trajectory_id(trajectory)

    @event(Opened)
    def __init__(
        self,
        # Before the "*" only because the library treats every keyword-only parameter as required,
        # default or not: v1 callers open a trajectory without a referral.
        referral_type: str | None = None,
        referrer_agb: str | None = None,
        referral_date: date | None = None,
        bsn: str | None = None,
        member_number: str | None = None,
        birth_date: date | None = None,
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
        self.referral_type = referral_type
        self.referrer_agb = referrer_agb
        self.referral_date = referral_date
        self.bsn = bsn
        self.member_number = member_number
        self.birth_date = birth_date
        self.referred_back_on: date | None = None
        # The latest privacy event by date, then recording order: (date, signed) (zpm.md Z6.4).
        self.privacy: tuple[date, bool] | None = None
        # The date of the open admission, None when there is none (3.17).
        self.admitted_on: date | None = None
        # The date of the patient's registration (aanmelding), once recorded.
        self.registered_on: date | None = None
        self.first_assessed_on: date | None = None
        self.first_clustered_on: date | None = None
        # Latest date of an assessment, clustering or review: a referral back
        # may not be dated before it.
        self.latest_care_need_on: date | None = None
        self.activities: dict[str, DeliveredActivity] = {}
        self.fingerprints: set[str] = {fingerprint}
        # The basis of the erasure of the patient's personal data, once erased: no more records.
        self.erased: str | None = None

    # Queries the application asks before it commands.

    def check_takes_records(self) -> None:
        """Raise NotAllowed when the patient's personal data was erased: the trajectory takes no more records."""
        if self.erased is not None:
            raise NotAllowed(
                f"trajectory {self.number}: its patient's personal data was erased ({self.erased}); it takes no"
                " more records (a returning patient is recorded on a new trajectory)"
            )

    def has_seen(self, fingerprint: str) -> bool:
        """True when a record with this fingerprint is stored in this trajectory."""
        return fingerprint in self.fingerprints

    # Commands: check the rules, then trigger the event.

    def assess(
        self,
        *,
        on: date,
        scores: ScoreItems,
        assessor: str | None,
        record_id: str | None,
        fingerprint: str,
        route: str | None = None,
    ) -> None:
        """Record a HoNOS+ assessment (scores already validated, for the route taken)."""
        self._check_open_on("assessment", on)
        self._trigger(
            self.Assessed,
            on=on,
            scores=scores,
            assessor=assessor,
            total=total_of(scores),
            route=route,
            record_id=record_id,
            fingerprint=fingerprint,
        )

    def cluster(
        self,
        *,
        on: date,
        cluster: int,
        record_id: str | None,
        fingerprint: str,
        hoofdgroep: str | None = None,
        diagnosis_group: str | None = None,
    ) -> None:
        """Type the care need into a catalogue cluster (code, hoofdgroep and DBC diagnosis group already checked)."""
        self._check_open_on("clustering", on)
        self._check_assessed_by("clustering", on)
        self._trigger(
            self.Clustered,
            on=on,
            cluster=cluster,
            hoofdgroep=hoofdgroep,
            diagnosis_group=diagnosis_group,
            record_id=record_id,
            fingerprint=fingerprint,
        )

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
        self._check_deliverable(activity, on, minutes)
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

    def deliver_prestatie(
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
        prestatie: str | None,
        consult_type: str | None,
        beroep: str | None,
        beroep_category: str | None,
        practitioner: str | None,
        planned_minutes: int | None,
        start: str | None,
        group_size: int | None,
        care_level: str | None,
        security_level: int | None,
        surcharge_type: str | None,
        linked_activity: str | None,
        effective_minutes: int | None,
        band: int | None,
        tariff_type: str,
        max_amount: int | None,
        price_basis: str,
        record_id: str | None,
        fingerprint: str,
    ) -> None:
        """Record an activity under the zorgprestatiemodel, its prestatie derived and priced by the application.

        The rules that need the tariff tables (zpm.md Z4.8 d-k) are the application's; here
        the trajectory's own: a new activity id, positive minutes, a date the trajectory is open on.
        """
        self._check_deliverable(activity, on, minutes)
        self._trigger(
            self.PrestatieDelivered,
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
            prestatie=prestatie,
            consult_type=consult_type,
            beroep=beroep,
            beroep_category=beroep_category,
            practitioner=practitioner,
            planned_minutes=planned_minutes,
            start=start,
            group_size=group_size,
            care_level=care_level,
            security_level=security_level,
            surcharge_type=surcharge_type,
            linked_activity=linked_activity,
            effective_minutes=effective_minutes,
            band=band,
            tariff_type=tariff_type,
            max_amount=max_amount,
            price_basis=price_basis,
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
        self,
        *,
        on: date,
        cluster: int,
        scores: ScoreItems | None,
        record_id: str | None,
        fingerprint: str,
        route: str | None = None,
        hoofdgroep: str | None = None,
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
            route=route,
            hoofdgroep=hoofdgroep,
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

    def register(
        self,
        *,
        on: date,
        region: str,
        care_form: str | None,
        patient: str | None,
        provider: str | None,
        record_id: str | None,
        fingerprint: str,
    ) -> None:
        """Record the registration that preceded the opening; once, dated on or before the opening.

        An assessment is never dated before the opening, so a registration on or before the
        opening is also on or before the first assessment. ``patient`` and ``provider``, when the
        record gives them, must be the opening's.
        """
        if self.registered_on is not None:
            raise NotAllowed(
                f"registration on {on}: trajectory {self.number} was registered already, on {self.registered_on}"
            )
        if patient is not None and patient != self.patient:
            # The message names no patient: both ids are personal data.
            raise NotAllowed(
                f"registration on {on}: field 'patient' is not the patient trajectory {self.number} was opened for"
            )
        if provider is not None and provider != self.provider:
            raise NotAllowed(
                f"registration on {on}: provider {provider} is not trajectory {self.number}'s provider {self.provider}"
            )
        if on > self.opened_on:
            raise OutOfOrder(
                f"registration on {on} is dated after trajectory {self.number} was opened on {self.opened_on};"
                " a registration precedes the opening"
            )
        self._trigger(
            self.Registered, on=on, region=region, care_form=care_form, record_id=record_id, fingerprint=fingerprint
        )

    def erase_personal_data(
        self, *, subject: str, basis: str, erased_at: datetime, digests: tuple[tuple[str, str], ...] = ()
    ) -> None:
        """Record that the patient's data key was erased; refused when it was recorded already.

        ``digests``: (month, digest) of the declarations issued at form-1 closes (see the event).
        """
        if self.erased is not None:
            raise NotAllowed(f"trajectory {self.number}: its personal data was erased already ({self.erased})")
        self._trigger(self.PersonalDataErased, subject=subject, basis=basis, erased_at=erased_at, digests=digests)

    def assign_regiebehandelaar(
        self, *, on: date, practitioner: str, beroep: str, record_id: str | None, fingerprint: str
    ) -> None:
        """Name the regiebehandelaar from ``on``; the application has checked that the beroep may be one (3.15)."""
        self._check_open_on("regiebehandelaar", on)
        self._trigger(
            self.RegiebehandelaarAssigned,
            on=on,
            practitioner=practitioner,
            beroep=beroep,
            record_id=record_id,
            fingerprint=fingerprint,
        )

    def sign_privacy_statement(self, *, on: date, record_id: str | None, fingerprint: str) -> None:
        """Record the patient's privacy statement; refused when the latest privacy event is one already (3.16)."""
        self._check_open_on("privacy statement", on)
        if self.privacy is not None and self.privacy[1]:
            raise NotAllowed(
                f"privacy statement on {on}: trajectory {self.number} has a privacy statement "
                f"(of {self.privacy[0]}) as its latest privacy event already"
            )
        self._trigger(self.PrivacyStatementSigned, on=on, record_id=record_id, fingerprint=fingerprint)

    def withdraw_privacy_statement(self, *, on: date, record_id: str | None, fingerprint: str) -> None:
        """Record the withdrawal of the privacy statement; refused when the latest privacy event is not one (3.16)."""
        self._check_open_on("privacy withdrawal", on)
        if self.privacy is None or not self.privacy[1]:
            raise NotAllowed(
                f"privacy withdrawal on {on}: trajectory {self.number} has no privacy statement to withdraw"
            )
        self._trigger(self.PrivacyStatementWithdrawn, on=on, record_id=record_id, fingerprint=fingerprint)

    def admit(self, *, on: date, after_20h: bool, record_id: str | None, fingerprint: str) -> None:
        """Record a clinical admission; refused while another is open (3.17)."""
        self._check_open_on("admission", on)
        if self.admitted_on is not None:
            raise NotAllowed(
                f"admission on {on}: trajectory {self.number} has an open admission of {self.admitted_on} already"
            )
        self._trigger(self.Admitted, on=on, after_20h=after_20h, record_id=record_id, fingerprint=fingerprint)

    def discharge(self, *, on: date, record_id: str | None, fingerprint: str) -> None:
        """Record the discharge from the open admission (3.17)."""
        self._check_open_on("discharge", on)
        if self.admitted_on is None:
            raise NotAllowed(f"discharge on {on}: trajectory {self.number} has no open admission")
        if on < self.admitted_on:
            raise OutOfOrder(
                f"discharge on {on} is dated before the admission of trajectory {self.number} on {self.admitted_on}"
            )
        self._trigger(self.Discharged, on=on, record_id=record_id, fingerprint=fingerprint)

    # Checks shared by the commands.

    def _check_deliverable(self, activity: str, on: date, minutes: int | None) -> None:
        if activity in self.activities:
            raise Conflict(f"activity {activity} is already recorded in trajectory {self.number} with other content")
        if minutes is not None and minutes <= 0:
            raise NotAllowed(f"activity {activity}: minutes must be positive, got {minutes}")
        self._check_open_on(f"activity {activity}", on)

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

    def _note_privacy(self, on: date, *, signed: bool) -> None:
        # The latest by date; of two on one date, the one recorded later.
        if self.privacy is None or on >= self.privacy[0]:
            self.privacy = (on, signed)

    def _note_care_need(self, on: date) -> None:
        if self.latest_care_need_on is None or on > self.latest_care_need_on:
            self.latest_care_need_on = on

    def _trigger(self, event_class: type[Trajectory.Event], **kwargs: Any) -> None:
        """The library's trigger_event, with the event built by :func:`~ggzledger.domain.fast_events.build_event`.

        The event mutates the trajectory through the library's own mutate (which checks
        id and version, applies it, and moves version and modified_on).
        """
        self.check_takes_records()
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
