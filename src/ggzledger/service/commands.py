"""From an input record to the Trajectory's command: the one dispatch every writer uses."""

from __future__ import annotations

from typing import Any

from ggzledger.domain import Trajectory
from ggzledger.domain.errors import NotAllowed
from ggzledger.reference import Catalogue, NoTariff, Tariffs, UnknownCluster
from ggzledger.service.records import Record

__all__ = ["open_trajectory", "apply_record"]


def open_trajectory(record: Record) -> Trajectory:
    """A new Trajectory from a ``trajectory_opened`` record."""
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
    )


def apply_record(trajectory: Trajectory, record: Record, tariffs: Tariffs, catalogue: Catalogue) -> None:
    """Call the command a (non-opening) record stands for; raises the domain's Refused.

    Reference data is resolved here and passed in as values: the aggregate records the
    tariff it was priced with, and never consults today's tables on replay.
    """
    common: dict[str, Any] = {"record_id": record.record_id, "fingerprint": record.fingerprint}
    on = record.get("date")
    kind = record.type
    if kind == "activity_delivered":
        fields = record.fields  # the most frequent record: read its fields directly
        try:
            priced = tariffs.lookup(fields["code"], on)
        except NoTariff as error:
            raise NotAllowed(f"activity {fields['activity']}: {error}") from None
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
        trajectory.assess(on=on, scores=record.get("honos"), assessor=record.get("assessor"), **common)
    elif kind == "clustered":
        trajectory.cluster(on=on, cluster=_cluster(record, catalogue), **common)
    elif kind == "activity_voided":
        trajectory.void(activity=record.get("activity"), on=on, reason=record.get("reason"), **common)
    elif kind == "reviewed":
        trajectory.review(on=on, cluster=_cluster(record, catalogue), scores=record.get("honos"), **common)
    elif kind == "referred_back":
        trajectory.refer_back(on=on, to=record.get("to"), reason=record.get("reason"), **common)
    else:
        raise NotAllowed(f"records of type {kind} are not trajectory records")


def _cluster(record: Record, catalogue: Catalogue) -> int:
    code: int = record.get("cluster")
    try:
        catalogue.lookup(code)
    except UnknownCluster as error:
        raise NotAllowed(f"{record.type} on {record.get('date')}: {error}") from None
    return code
