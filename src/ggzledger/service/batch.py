"""One transaction's worth of input records: the unit of work of an ingest."""

from __future__ import annotations

from collections.abc import Iterable
from concurrent.futures import Executor
from typing import TYPE_CHECKING, Any, cast
from uuid import UUID

from ggzledger.domain import Trajectory, trajectory_id
from ggzledger.domain.errors import Conflict, NotAllowed, UnknownTrajectory
from ggzledger.reference.pricing import ContractIndex
from ggzledger.service.commands import apply_record, open_trajectory
from ggzledger.service.outcomes import Outcome
from ggzledger.service.records import Record
from ggzledger.store import KeyRow
from ggzledger.store.sealing import keyed, subject_key

if TYPE_CHECKING:
    from ggzledger.service.ledger import Ledger

__all__ = ["Batch"]

_UNKNOWN: Any = object()


class Batch:
    """The trajectories a batch of records touches, the keys they claim, and what they changed.

    Loads every trajectory and key the records name in a few queries up front,
    judges the records one by one against that state, and stores every accepted
    record's event and key in one transaction at :meth:`commit`.
    """

    def __init__(self, ledger: Ledger, records: Iterable[Record]) -> None:
        self.ledger = ledger
        numbers: set[str] = set()
        wanted: list[str] = []
        for record in records:
            fields = record.fields
            if "trajectory" in fields:
                numbers.add(fields["trajectory"])
            if record.record_id is not None:
                wanted.append(f"record:{record.record_id}")
            if record.type == "activity_delivered":
                wanted.append(f"activity:{fields['activity']}")
        self.trajectories = self._load(numbers)
        # On a sealed ledger: the sealer, and each trajectory's (subject, fingerprint key) as this batch
        # found it (None: its patient was erased), looked up once per trajectory, not per record.
        self.sealer = ledger.mapper.sealer
        self.keyers: dict[str, tuple[str, bytes] | None] = {}
        if self.sealer is not None:
            # Each recorded trajectory's subject comes with the batch's other keys: one query, not one each.
            wanted += [subject_key(trajectory_id(n)) for n, t in self.trajectories.items() if t is not None]
        # The contracts as they are when the batch starts price its ZPM activities (zpm.md Z5.4):
        # a contract_agreed record is its own transaction, between batches.
        self.contracts = ContractIndex(ledger.contracts())
        self.keys: dict[str, KeyRow] = ledger.recorder.select_keys(wanted) if wanted else {}
        self.new_keys: list[KeyRow] = []
        self.changed: dict[str, Trajectory] = {}

    def _load(self, numbers: set[str]) -> dict[str, Trajectory | None]:
        ledger = self.ledger
        cache = ledger.cache
        loaded: dict[str, Trajectory | None] = {}
        if cache.refresh(ledger.recorder):
            # Nobody else changed what is cached: only the others need the store.
            for number in numbers:
                cached = cache.get(number)
                if cached is not None:
                    loaded[number] = cached
            numbers = numbers - loaded.keys()
        ids = {number: trajectory_id(number) for number in numbers}
        versions: dict[UUID, int] = ledger.recorder.max_versions(list(ids.values())) if ids else {}
        for number, stream in ids.items():
            version = versions.get(stream)
            if version is None:
                loaded[number] = None
                continue
            cached = cache.get(number)
            if cached is not None and cached.version == version:
                loaded[number] = cached
                continue
            if cached is not None and cached.version < version:
                # Another writer appended: bring the cached state forward.
                for event in ledger.events.get(stream, gt=cached.version):
                    cast(Trajectory.Event, event).mutate(cached)
                loaded[number] = cached
                continue
            loaded[number] = ledger.load(number)
        return loaded

    def apply(self, record: Record) -> Outcome:
        """Judge one record; returns recorded or unchanged, raises Refused."""
        keyer = None
        if self.sealer is not None:
            record, keyer = self._keyed(record)
        # Repeats are recognised before any other rule (rules.md §3.8).
        fingerprint = record.fingerprint
        record_key = None if record.record_id is None else f"record:{record.record_id}"
        if record_key is not None:
            claimed = self.keys.get(record_key)
            if claimed is not None:
                if claimed[1] == fingerprint:
                    return Outcome.UNCHANGED
                raise Conflict(f"record id {record.record_id} was used before with other content")
        number = record.fields.get("trajectory")
        if number is None:
            # month_closed and contract_agreed are transactions of their own (Ledger.close_record, contract_record).
            raise NotAllowed(f"a {record.type} record is not recorded in a batch of trajectory records")
        trajectory = self.trajectories.get(number)
        activity_key = None
        if record.type == "activity_delivered":
            activity = record.fields["activity"]
            activity_key = f"activity:{activity}"
            claimed = self.keys.get(activity_key)
            if claimed is not None:
                if claimed[1] == fingerprint:
                    return Outcome.UNCHANGED
                where = f" (in trajectory {claimed[2]})" if claimed[2] != number else ""
                raise Conflict(f"activity {activity} is already recorded{where} with other content")
        if trajectory is not None and trajectory.has_seen(fingerprint):
            return Outcome.UNCHANGED
        if record.type == "trajectory_opened":
            if trajectory is not None:
                raise Conflict(f"trajectory {number} is already opened, with other content")
            trajectory = open_trajectory(record)
            if keyer is not None:
                self.keyers[number] = keyer  # only now: a refused opening names no subject
        elif trajectory is None:
            raise UnknownTrajectory(f"trajectory {number} was never opened")
        else:
            apply_record(trajectory, record, self.ledger.tariffs, self.ledger.catalogue, self.contracts)
        self.trajectories[number] = trajectory
        self.changed[number] = trajectory
        # Claim the record's keys for this batch (and the store, when it commits).
        for key in (record_key, activity_key):
            if key is not None:
                row = (key, fingerprint, number)
                self.keys[key] = row
                self.new_keys.append(row)
        return Outcome.RECORDED

    def _keyed(self, record: Record) -> tuple[Record, tuple[str, bytes] | None]:
        """The record with its fingerprint keyed by its patient's data key (a sealed ledger), and the
        trajectory's (subject, fingerprint key).

        See Sealer.keyed_fingerprint. An opening of a trajectory not recorded yet takes its
        patient's subject (minted when new); every other record its trajectory's. A record of a
        trajectory never opened keeps its plain fingerprint: it is refused below. Raises NotAllowed
        for a record of a trajectory whose patient was erased.
        """
        number = record.fields.get("trajectory")
        sealer = self.sealer
        if number is None or sealer is None:
            return record, None
        keyer = self.keyers.get(number, _UNKNOWN)
        if keyer is _UNKNOWN:
            opening = record.type == "trajectory_opened" and self.trajectories.get(number) is None
            if opening:
                subject: str | None = sealer.subject_of_patient(record.fields["patient"])
            else:
                stream = trajectory_id(number)
                found = self.keys.get(subject_key(stream))
                subject = found[1] if found is not None else sealer.subject_of(stream)
            if subject is None:
                return record, None  # never opened: refused below
            key = sealer.fingerprint_key(subject)
            keyer = None if key is None else (subject, key)
            if not opening:
                self.keyers[number] = keyer
        if keyer is None:
            # The patient was erased: refused as the trajectory refuses every record, repeats included
            # (their fingerprints can no longer be told).
            trajectory = self.trajectories.get(number)
            if trajectory is not None:
                trajectory.check_takes_records()
            return record, None
        subject, key = cast(tuple[str, bytes], keyer)
        return Record(record.type, record.fields, record.record_id, keyed(record.fingerprint, key)), keyer

    def commit(self, commit_in: Executor | None = None) -> None:
        """Store every accepted record's event and key in one transaction."""
        if not self.changed:
            return
        changed = list(self.changed.values())
        positions = self.ledger.store_events(changed, self.new_keys, commit_in)
        for trajectory in changed:
            self.ledger.cache.put(trajectory)
        self.ledger.cache.committed(positions)
