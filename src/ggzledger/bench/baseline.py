"""The baseline: the same records through the library's straightforward use, one save per record."""

from __future__ import annotations

from datetime import date
from typing import Any
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.persistence import Transcoder, Transcoding

from ggzledger.domain import Trajectory, trajectory_id
from ggzledger.domain.errors import NotAllowed, Refused, UnknownTrajectory
from ggzledger.service.records import Record
from ggzledger.reference import NoTariff, load_catalogue, load_tariffs

__all__ = ["LibraryLedger"]


class _DateAsISO(Transcoding):
    """The one transcoding the default JSON transcoder lacks for these events."""

    type = date
    name = "date_iso"

    def encode(self, obj: date) -> str:
        return obj.isoformat()

    def decode(self, data: str) -> date:
        return date.fromisoformat(data)


class LibraryLedger(Application[UUID]):
    """The same Trajectory aggregate as the ledger, used the way the library's examples do.

    Default mapper and JSON transcoder (plus a date transcoding), default recorder; each record
    is one ``repository.get``, one command and one ``save``. No key index, no cache, no
    batching: what the ledger's own write path is measured against.
    """

    # Pinned, so that on PostgreSQL its tables (ggzbaseline_events) sit beside the ledger's.
    name = "ggzbaseline"

    def __init__(self, env: dict[str, str]) -> None:
        super().__init__(env=env)
        self.catalogue = load_catalogue()
        self.tariffs = load_tariffs()

    def register_transcodings(self, transcoder: Transcoder) -> None:
        super().register_transcodings(transcoder)  # type: ignore[arg-type]
        transcoder.register(_DateAsISO())  # type: ignore[attr-defined]

    def record(self, record: Record) -> bool:
        """Judge and store one record; False when it repeats a stored one. Raises Refused."""
        if record.type == "trajectory_opened":
            trajectory = Trajectory(
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
        else:
            try:
                trajectory = self.repository.get(trajectory_id(record.get("trajectory")))  # type: ignore[assignment]
            except AggregateNotFoundError:
                raise UnknownTrajectory(f"trajectory {record.get('trajectory')} was never opened") from None
            if trajectory.has_seen(record.fingerprint):
                return False
            self._command(trajectory, record)
        self.save(trajectory)
        return True

    def _command(self, trajectory: Trajectory, record: Record) -> None:
        common: dict[str, Any] = {"record_id": record.record_id, "fingerprint": record.fingerprint}
        on, kind = record.get("date"), record.type
        if kind == "assessed":
            trajectory.assess(on=on, scores=record.get("honos"), assessor=record.get("assessor"), **common)
        elif kind in ("clustered", "reviewed"):
            if record.get("cluster") not in self.catalogue:
                raise NotAllowed(f"{kind}: cluster {record.get('cluster')} is not in the catalogue")
            if kind == "clustered":
                trajectory.cluster(on=on, cluster=record.get("cluster"), **common)
            else:
                trajectory.review(on=on, cluster=record.get("cluster"), scores=record.get("honos"), **common)
        elif kind == "activity_delivered":
            try:
                priced = self.tariffs.lookup(record.get("code"), on)
            except NoTariff as error:
                raise NotAllowed(str(error)) from None
            trajectory.deliver(
                activity=record.get("activity"),
                on=on,
                code=priced.code,
                description=priced.description,
                unit=priced.unit,
                amount=priced.amount,
                tariff=priced.table,
                minutes=record.get("minutes"),
                professional=record.get("professional"),
                setting=record.get("setting"),
                care_form=record.get("care_form"),
                **common,
            )
        elif kind == "activity_voided":
            trajectory.void(activity=record.get("activity"), on=on, reason=record.get("reason"), **common)
        elif kind == "referred_back":
            trajectory.refer_back(on=on, to=record.get("to"), reason=record.get("reason"), **common)
        else:
            raise Refused(f"the baseline does not record {kind} records")
