"""The baseline: the same records through the library's straightforward use, one save per record."""

from __future__ import annotations

from datetime import date
from typing import cast
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.persistence import Transcoder, Transcoding

from ggzledger.bench.zpm_care import bench_table
from ggzledger.domain import Trajectory, trajectory_id
from ggzledger.domain.contracts import Contract, ContractBook
from ggzledger.domain.errors import UnknownTrajectory
from ggzledger.reference import load_catalogue, load_tariffs
from ggzledger.service.commands import apply_record, contract_of, open_trajectory
from ggzledger.service.records import Record

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
        self.tariffs = load_tariffs().with_table(bench_table())

    def register_transcodings(self, transcoder: Transcoder) -> None:
        super().register_transcodings(transcoder)  # type: ignore[arg-type]
        transcoder.register(_DateAsISO())  # type: ignore[attr-defined]

    def record(self, record: Record) -> bool:
        """Judge and store one record; False when it repeats a stored one. Raises Refused."""
        if record.type == "contract_agreed":
            # The workload's contracts are accepted by the ledger; here they are only stored.
            try:
                book = cast(ContractBook, self.repository.get(ContractBook.ID))
            except AggregateNotFoundError:
                book = ContractBook()
            book.agree(contract_of(record), record_id=record.record_id, fingerprint=record.fingerprint)
            self.save(book)
            return True
        if record.type == "trajectory_opened":
            trajectory = open_trajectory(record)
        else:
            try:
                trajectory = cast(Trajectory, self.repository.get(trajectory_id(record.get("trajectory"))))
            except AggregateNotFoundError:
                raise UnknownTrajectory(f"trajectory {record.get('trajectory')} was never opened") from None
            if trajectory.has_seen(record.fingerprint):
                return False
            apply_record(trajectory, record, self.tariffs, self.catalogue, self._contracts())
        self.save(trajectory)
        return True

    def _contracts(self) -> tuple[Contract, ...]:
        try:
            return cast(ContractBook, self.repository.get(ContractBook.ID)).contracts
        except AggregateNotFoundError:
            return ()
