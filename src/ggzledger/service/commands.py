"""From an input record to the Trajectory's command: the one dispatch every writer uses."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from ggzledger.domain import Contract, Trajectory
from ggzledger.domain.errors import NotAllowed
from ggzledger.reference import Catalogue, NoTariff, Tariffs, UnknownCluster
from ggzledger.reference.beroepen import REGIEBEHANDELAARS
from ggzledger.reference.pricing import Contracts
from ggzledger.service.prestatie import check_legacy, derive, effective_minutes
from ggzledger.service.records import Record

__all__ = ["open_trajectory", "apply_record", "contract_of"]

# The ZPM fields of a PrestatieDelivered that come from the input as they are (zpm.md Z3.2).
_GIVEN = (
    "consult_type", "beroep", "practitioner", "planned_minutes", "start", "group_size", "care_level",
    "security_level", "surcharge_type", "linked_activity",
)  # fmt: skip


def open_trajectory(record: Record) -> Trajectory:
    """A new Trajectory from a ``trajectory_opened`` record (its referral judged when it was read, 3.19)."""
    return Trajectory(
        trajectory=record.get("trajectory"),
        record_id=record.record_id,
        fingerprint=record.fingerprint,
        patient=record.get("patient"),
        provider=record.get("provider"),
        insurer=record.get("insurer"),
        opened_on=record.get("date"),
        region=record.get("region"),
        referrer=record.get("referrer"),
        referral_type=record.get("referral_type"),
        referrer_agb=record.get("referrer_agb"),
        referral_date=record.get("referral_date"),
        bsn=record.get("bsn"),
        member_number=record.get("member_number"),
        birth_date=record.get("birth_date"),
    )


def contract_of(record: Record) -> Contract:
    """The Contract a ``contract_agreed`` record agrees."""
    fields = record.fields
    return Contract(
        contract=fields["contract"],
        provider=fields["provider"],
        insurer=fields.get("insurer"),
        valid_from=fields["valid_from"],
        valid_to=fields["valid_to"],
        percentage_bp=fields.get("percentage_bp"),
        code_amounts=fields.get("code_amounts"),
        max_max=fields.get("max_max", False),
    )


def apply_record(
    trajectory: Trajectory,
    record: Record,
    tariffs: Tariffs,
    catalogue: Catalogue,
    contracts: Contracts = (),
) -> None:
    """Call the command a (non-opening) record stands for; raises the domain's Refused.

    Reference data is resolved here and passed in as values: the aggregate records the
    tariff it was priced with, and never consults today's tables on replay. ``contracts``
    price the ZPM activities (zpm.md Z5.4).
    """
    common: dict[str, Any] = {"record_id": record.record_id, "fingerprint": record.fingerprint}
    on = record.get("date")
    kind = record.type
    if kind == "activity_delivered":
        fields = record.fields  # the most frequent record: read its fields directly
        if "prestatie" in fields:
            _deliver_prestatie(trajectory, fields, tariffs, contracts, common)
            return
        try:
            priced = tariffs.lookup(fields["code"], on)
        except NoTariff as error:
            raise NotAllowed(f"activity {fields['activity']}: {error}") from None
        check_legacy(fields, on, tariffs)
        if "planned_minutes" in fields:
            _deliver_legacy_planned(trajectory, fields, on, tariffs, common)
            return
        trajectory.deliver(
            activity=fields["activity"],
            on=on,
            code=priced.code,
            description=priced.description,
            unit=priced.unit,
            amount=priced.amount,
            tariff=priced.table,
            minutes=fields.get("minutes"),
            professional=fields.get("professional"),
            setting=fields.get("setting"),
            care_form=fields.get("care_form"),
            **common,
        )
    elif kind == "assessed":
        trajectory.assess(
            on=on, scores=record.get("honos"), assessor=record.get("assessor"), route=record.get("route"), **common
        )
    elif kind == "clustered":
        trajectory.cluster(
            on=on,
            cluster=_cluster(record, catalogue),
            hoofdgroep=record.get("hoofdgroep"),
            diagnosis_group=record.get("diagnosis_group"),
            **common,
        )
    elif kind == "activity_voided":
        trajectory.void(activity=record.get("activity"), on=on, reason=record.get("reason"), **common)
    elif kind == "reviewed":
        trajectory.review(
            on=on,
            cluster=_cluster(record, catalogue),
            scores=record.get("honos"),
            route=record.get("route"),
            hoofdgroep=record.get("hoofdgroep"),
            **common,
        )
    elif kind == "referred_back":
        trajectory.refer_back(on=on, to=record.get("to"), reason=record.get("reason"), **common)
    elif kind == "regiebehandelaar_assigned":
        beroep = record.get("beroep")
        if beroep not in REGIEBEHANDELAARS:
            # Rule 3.15: the professions list is reference data, so the service judges it (as clusters).
            raise NotAllowed(f"regiebehandelaar: beroep {beroep} cannot be regiebehandelaar")
        trajectory.assign_regiebehandelaar(on=on, practitioner=record.get("practitioner"), beroep=beroep, **common)
    elif kind == "privacy_statement":
        trajectory.sign_privacy_statement(on=on, **common)
    elif kind == "privacy_withdrawn":
        trajectory.withdraw_privacy_statement(on=on, **common)
    elif kind == "admitted":
        trajectory.admit(on=on, after_20h=record.get("after_20h") or False, **common)
    elif kind == "discharged":
        trajectory.discharge(on=on, **common)
    elif kind == "registered":
        trajectory.register(
            on=on,
            region=record.get("region"),
            care_form=record.get("care_form"),
            patient=record.get("patient"),
            provider=record.get("provider"),
            **common,
        )
    else:
        raise NotAllowed(f"records of type {kind} are not trajectory records")


def _deliver_prestatie(
    trajectory: Trajectory,
    fields: Mapping[str, Any],
    tariffs: Tariffs,
    contracts: Contracts,
    common: dict[str, Any],
) -> None:
    """A ZPM activity: its prestatie derived and priced (3.12d-k), then the trajectory's own rules."""
    derived = derive(fields, trajectory, tariffs, contracts)
    get = fields.get
    # The given ZPM fields (_GIVEN) are named one by one: the most frequent ZPM path builds no extra dict.
    trajectory.deliver_prestatie(
        activity=fields["activity"],
        on=fields["date"],
        code=derived.code,
        description=derived.description,
        unit=derived.unit,
        amount=derived.amount,
        tariff=derived.tariff,
        minutes=get("minutes"),
        professional=get("professional"),
        setting=get("setting"),
        care_form=get("care_form"),
        prestatie=fields["prestatie"],
        beroep_category=derived.beroep_category,
        effective_minutes=derived.effective_minutes,
        band=derived.band,
        tariff_type=derived.tariff_type,
        max_amount=derived.max_amount,
        price_basis=derived.price_basis,
        consult_type=get("consult_type"),
        beroep=get("beroep"),
        practitioner=get("practitioner"),
        planned_minutes=get("planned_minutes"),
        start=get("start"),
        group_size=get("group_size"),
        care_level=get("care_level"),
        security_level=get("security_level"),
        surcharge_type=get("surcharge_type"),
        linked_activity=get("linked_activity"),
        **common,
    )


def _deliver_legacy_planned(
    trajectory: Trajectory, fields: Mapping[str, Any], on: date, tariffs: Tariffs, common: dict[str, Any]
) -> None:
    """A legacy record (explicit code) that carried planned_minutes: priced as v1, kept with its planning.

    Its planned minutes are a fact the v1 event has no field for; PrestatieDelivered with
    ``prestatie`` None holds them, and the row's band and tariff type, beside the v1 price.
    """
    found = tariffs.row(fields["code"], on)
    row = found.row
    minutes = fields.get("minutes")
    planned = fields["planned_minutes"]
    trajectory.deliver_prestatie(
        activity=fields["activity"],
        on=on,
        code=row.code,
        description=row.description,
        unit=row.unit,
        amount=tariffs.lookup(row.code, on).amount,
        tariff=found.table,
        minutes=minutes,
        professional=fields.get("professional"),
        setting=fields.get("setting"),
        care_form=fields.get("care_form"),
        prestatie=None,
        beroep_category=None,
        effective_minutes=effective_minutes(minutes, planned)
        if minutes is not None and row.kind == "consult"
        else None,
        band=row.min_minutes,
        tariff_type=row.tariff_type,
        max_amount=row.amount,
        price_basis="vast" if row.tariff_type == "vast" else "nza_max",
        **_given(fields),
        **common,
    )


def _given(fields: Mapping[str, Any]) -> dict[str, Any]:
    return {name: fields.get(name) for name in _GIVEN}


def _cluster(record: Record, catalogue: Catalogue) -> int:
    code: int = record.get("cluster")
    try:
        catalogue.lookup(code)
    except UnknownCluster as error:
        raise NotAllowed(f"{record.type} on {record.get('date')}: {error}") from None
    return code
