"""The Ledger service: records input records on trajectories, closes months, answers for declarations."""

from __future__ import annotations

import random
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Executor
from datetime import date
from typing import Any
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Application, ProcessingEvent
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import IntegrityError, Mapper, PersistenceError, Recording

from ggzledger.domain import BillingCalendar, Trajectory, trajectory_id
from ggzledger.domain.errors import Conflict, NotAllowed, Refused, UnknownTrajectory
from ggzledger.domain.months import month_of, months_between, next_month
from ggzledger.store import KeyRow, TypedMapper, store_env
from ggzledger.projections import BillingView, CloseResult, Projector, Declaration, open_store, views_for
from ggzledger.service.records import Record
from ggzledger.reference import Catalogue, NoTariff, Tariffs, TariffTable, UnknownCluster, load_catalogue, load_tariffs

__all__ = ["Ledger", "Outcome", "MonthAlreadyClosed", "WriteContention", "RECORDED", "UNCHANGED"]

RECORDED = "recorded"
UNCHANGED = "unchanged"
Outcome = str

# How many trajectories an ingesting process keeps in memory between batches.
_CACHE_SIZE = 50_000
# Tariff tables that users loaded, in the order they were loaded (later ones win).
_TARIFF_TABLE = "CREATE TABLE IF NOT EXISTS tariff_tables (version TEXT PRIMARY KEY, csv TEXT NOT NULL, loaded INTEGER NOT NULL)"
# How often a batch is retried after another writer got in first.
_RETRIES = 20


def _back_off(attempt: int) -> None:
    """Wait a little, longer after each conflict, so that competing writers spread out."""
    time.sleep(random.uniform(0, 0.01 * 2 ** min(attempt, 6)))


class WriteContention(PersistenceError):
    """Other writers kept getting in first, retry after retry; nothing of the attempt was stored."""


class MonthAlreadyClosed(NotAllowed):
    """The close command for a month that is closed already (rules.md §3.10)."""


class Ledger(Application[UUID]):
    """The ggzledger application: one event store, the reference data, and the read models.

    ``db`` is a SQLite path or a ``postgresql://`` URL (None: ``GGZLEDGER_DB`` or
    ``ggzledger.db``). ``today`` is the clock that judges "a date after today"
    and "a month after the current month".
    """

    name = "ggzledger"

    def __init__(
        self,
        db: str | None = None,
        *,
        catalogue: Catalogue | None = None,
        tariffs: Tariffs | None = None,
        today: Callable[[], date] = date.today,
    ) -> None:
        super().__init__(env=store_env(db))
        self.catalogue = catalogue or load_catalogue()
        self.today = today
        self.store = open_store(self.factory)
        self.views = views_for(self.catalogue)
        self.billing: BillingView = self.views[0]  # type: ignore[assignment]
        self.projector = Projector(self.recorder, self.mapper, self.store, self.views)
        self.tariffs = tariffs or self._stored_tariffs(load_tariffs())
        self._cache: OrderedDict[str, Trajectory] = OrderedDict()
        # The ledger position up to which every cached trajectory is known to be current
        # (None: not known). While the head stays there, batches need not ask for versions.
        self._cache_head: int | None = None

    def construct_mapper(self) -> Mapper[UUID]:
        return TypedMapper()

    def save(self, *objs: Any, **kwargs: Any) -> list[Recording[UUID]]:
        """The library's save, without its runtime protocol check per aggregate.

        ``isinstance(obj, DomainEventProtocol)`` walks the protocol's members on each call
        (about 25 µs on Python 3.11); a batch saves hundreds of aggregates at once.
        """
        processing: ProcessingEvent[UUID] = ProcessingEvent()
        for obj in objs:
            if isinstance(obj, Aggregate):
                processing.events.extend(obj.collect_events())
                processing.aggregates[obj.id] = obj
            else:
                processing.collect_events(obj)
        processing.saved_kwargs.update(kwargs)
        recordings = self._record(processing)
        self._take_snapshots(processing)
        self._notify(recordings)
        return recordings

    def close(self) -> None:  # type: ignore[override]
        """Release the store's connections."""
        self.store.close()
        super().close()

    # Recording input records, a batch at a time.

    def record(self, records: Sequence[Record | Refused], commit_in: Executor | None = None) -> list[Outcome | Refused]:
        """Judge and store a batch of trajectory records in one transaction; one outcome per record.

        Each record is accepted (``recorded``), recognised as a repeat
        (``unchanged``), or refused (the :class:`Refused` is returned in its
        place); a refused record stores nothing and does not affect the others.
        Items that are already a Refused (malformed lines) pass through. When
        another writer stored events for the same trajectories first, the batch
        is judged again from fresh state.

        ``commit_in``: on SQLite, hand the commit to this executor and return
        while it runs (ingest parses the next lines meanwhile). The next
        record(), close_month() or close_record() waits for it first; anything
        else calls :meth:`wait_for_commit` before it reads.
        """
        self.wait_for_commit()
        for attempt in range(_RETRIES):
            batch = _Batch(self, [r for r in records if isinstance(r, Record)])
            outcomes: list[Outcome | Refused] = []
            for record in records:
                if isinstance(record, Refused):
                    outcomes.append(record)
                    continue
                try:
                    outcomes.append(batch.apply(record))
                except Refused as refused:
                    outcomes.append(refused)
            try:
                batch.commit(commit_in)
            except IntegrityError:
                # Another writer got in first: judge the whole batch again from fresh state.
                self._forget_cache()
                _back_off(attempt)
                continue
            return outcomes
        raise WriteContention(f"gave up after {_RETRIES} write conflicts with other writers; try again")

    def wait_for_commit(self) -> None:
        """Wait for a batch's commit handed to an executor by :meth:`record`; raise what it raised.

        A failed commit stored nothing of its batch: the trajectory cache, which
        holds that batch's events, is dropped.
        """
        wait = getattr(self.recorder, "wait_for_commit", None)
        if wait is None:
            return
        try:
            wait()
        except BaseException:
            self._forget_cache()
            raise

    def load(self, number: str) -> Trajectory:
        """The current state of a trajectory; raises UnknownTrajectory."""
        try:
            return self.repository.get(trajectory_id(number))  # type: ignore[return-value]
        except AggregateNotFoundError:
            raise UnknownTrajectory(f"trajectory {number} was never opened") from None

    # The month close.

    def close_month(self, month: str, record_id: str | None = None, fingerprint: str | None = None) -> list[CloseResult]:
        """Close every open month up to ``month``, oldest first, each as its own close.

        Raises MonthAlreadyClosed when ``month`` is closed, NotAllowed when it lies
        after the current calendar month.
        """
        self.wait_for_commit()
        current = month_of(self.today())
        if month > current:
            raise NotAllowed(f"month {month} lies after the current month {current}; it cannot be closed yet")
        for attempt in range(_RETRIES):
            calendar = self._calendar()
            if calendar.is_closed(month):
                raise MonthAlreadyClosed(f"month {month} is closed already")
            up_to = self.projector.catch_up()
            with self.store.transaction(write=False) as c:
                months = self._months_to_close(c, calendar.last_closed, month)
                results = self.billing.compute_closes(c, months, up_to, previous_digest=calendar.last_digest)
            for result in results:
                calendar.close(
                    month=result.month,
                    up_to=up_to,
                    declarations=len(result.declarations),
                    total=result.total,
                    digest=result.digest,
                    record_id=record_id if result.month == month else None,
                )
                self.billing.expect_close(result)
            keys: list[KeyRow] = [(f"record:{record_id}", fingerprint or "", None)] if record_id else []
            try:
                # A close covers every event recorded before it: the save fails
                # if another writer recorded anything after ``up_to`` meanwhile.
                self.save(calendar, keys=keys, expected_head=up_to)
            except IntegrityError:
                self.billing.forget_expected()
                _back_off(attempt)
                continue
            self.projector.catch_up()
            return results
        raise WriteContention(f"gave up after {_RETRIES} write conflicts with other writers; try again")

    def close_record(self, record: Record) -> Outcome:
        """A month_closed input record: close, or unchanged when the month is closed already."""
        self.wait_for_commit()
        if record.record_id is not None:
            known = self.recorder.select_keys([f"record:{record.record_id}"])  # type: ignore[attr-defined]
            row = known.get(f"record:{record.record_id}")
            if row is not None:
                if row[1] == record.fingerprint:
                    return UNCHANGED
                raise Conflict(f"record id {record.record_id} was used before with other content")
        try:
            self.close_month(record.get("month"), record.record_id, record.fingerprint)
        except MonthAlreadyClosed:
            return UNCHANGED
        return RECORDED

    def _calendar(self) -> BillingCalendar:
        try:
            return self.repository.get(BillingCalendar.ID)  # type: ignore[return-value]
        except AggregateNotFoundError:
            return BillingCalendar()

    def _months_to_close(self, c: Any, last_closed: str | None, month: str) -> list[str]:
        if last_closed is not None:
            return list(months_between(next_month(last_closed), month))
        earliest = self.billing.earliest_activity(c)
        first = min(month_of(earliest), month) if earliest is not None else month
        return list(months_between(first, month))

    # Reading declarations.

    def is_closed(self, month: str) -> bool:
        """True when the month has been closed."""
        return self._calendar().is_closed(month)

    def declaration(self, trajectory: str, month: str) -> dict[str, Any] | None:
        """The declaration of a trajectory for a month: issued when closed, else the draft; None if none.

        Raises UnknownTrajectory for a trajectory that was never opened.
        """
        up_to = self.projector.catch_up()
        with self.store.transaction(write=False) as c:
            if not self.billing.has_trajectory(c, trajectory):
                raise UnknownTrajectory(f"trajectory {trajectory} was never opened")
            closed = self.billing.closed_months(c)
            if closed and month <= closed[-1]:
                return self.billing.declaration(c, trajectory, month)
            draft = self._drafts(c, closed, month, up_to, only=trajectory)
        return draft[0].to_json() if draft else None

    def declarations(self, month: str) -> list[dict[str, Any]]:
        """Every declaration of a month: issued when closed, else the drafts."""
        up_to = self.projector.catch_up()
        with self.store.transaction(write=False) as c:
            closed = self.billing.closed_months(c)
            if closed and month <= closed[-1]:
                return self.billing.declarations(c, month)
            return [d.to_json() for d in self._drafts(c, closed, month, up_to)]

    def _drafts(self, c: Any, closed: list[str], month: str, up_to: int, only: str | None = None) -> list[Declaration]:
        # A draft is what closing the month now would issue, earlier open months closing first.
        months = self._months_to_close(c, closed[-1] if closed else None, month)
        results = self.billing.compute_closes(c, months, up_to, only=only, status="draft")
        return list(results[-1].declarations) if results else []

    # Tariff tables loaded by users.

    def load_tariff_table(self, table: TariffTable, csv_text: str) -> None:
        """Store a user's tariff table in the ledger; it overrides shipped tables from now on.

        Loading a table equal to one already loaded (same label, same rows) changes nothing.
        Raises TariffError when a different table with the same label is loaded already.
        """
        if table in self.tariffs.tables:
            return
        self.tariffs = self.tariffs.with_table(table)
        with self.store.transaction(write=True) as c:
            c.execute(_TARIFF_TABLE)
            c.execute(
                "INSERT INTO tariff_tables (version, csv, loaded)"
                " SELECT ?, ?, COALESCE(MAX(loaded), 0) + 1 FROM tariff_tables",
                (table.version, csv_text),
            )

    def _stored_tariffs(self, tariffs: Tariffs) -> Tariffs:
        with self.store.transaction(write=True) as c:
            c.execute(_TARIFF_TABLE)
            c.execute("SELECT version, csv FROM tariff_tables ORDER BY loaded")
            rows = c.fetchall()
        for version, text in rows:
            tariffs = tariffs.with_table(TariffTable.from_csv(version, text, source=f"stored table {version}"))
        return tariffs

    # The trajectory cache used by batches.

    def _cached(self, number: str) -> Trajectory | None:
        trajectory = self._cache.get(number)
        if trajectory is not None:
            self._cache.move_to_end(number)
        return trajectory

    def _remember(self, trajectory: Trajectory) -> None:
        self._cache[trajectory.number] = trajectory
        self._cache.move_to_end(trajectory.number)
        while len(self._cache) > _CACHE_SIZE:
            self._cache.popitem(last=False)

    def _save_batch(
        self, trajectories: Sequence[Trajectory], keys: Sequence[KeyRow], commit_in: Executor | None = None
    ) -> list[int]:
        """Store a batch's new events and keys in one transaction; returns their positions.

        Beside storing, the library's save builds a Recording and a Notification per event and
        looks for snapshots to take; a batch needs only the positions. With snapshots or the
        aggregate cache configured, it goes through save after all.
        """
        if self.snapshots is not None or self.repository.cache is not None:  # pragma: no cover - not configured
            return [r.notification.id for r in self.save(*trajectories, keys=keys)]
        to_stored_event = self.mapper.to_stored_event
        stored = [to_stored_event(event) for trajectory in trajectories for event in trajectory.collect_events()]
        if not stored:
            return []
        # Only the SQLite recorder can hand its commit over (PostgreSQL's is a round trip anyway).
        hands_over = commit_in is not None and hasattr(self.recorder, "wait_for_commit")
        later = {"commit_in": commit_in} if hands_over else {}
        return list(self.recorder.insert_events(stored, keys=keys, **later) or ())

    def _forget_cache(self) -> None:
        self._cache.clear()
        self._cache_head = None

    def _refresh_cache(self) -> bool:
        """Drop the cached trajectories that other writers changed; True when the rest is current.

        Compares the ledger's head with the position the cache is current up to and drops the
        streams recorded in between (a few rows when another writer is active, none when this
        process is the only one). False when the cache cannot be vouched for (nothing known yet).
        """
        head = self.recorder.max_notification_id() or 0
        known = self._cache_head
        if known is not None and known != head:
            if head - known > _CACHE_SIZE:
                self._cache.clear()
            else:
                changed = self.recorder.select_notifications(
                    start=known, stop=head, limit=head - known, inclusive_of_start=False
                )
                streams = {n.originator_id for n in changed}
                for number in [n for n in self._cache if trajectory_id(n) in streams]:
                    del self._cache[number]
        self._cache_head = head
        return known is not None

    def _committed(self, positions: Sequence[int]) -> None:
        """A batch of this process was recorded at ``positions``: the cache is current past them if they follow on."""
        if positions and self._cache_head is not None and positions[0] == self._cache_head + 1:
            self._cache_head = positions[-1]


class _Batch:
    """One transaction's worth of records: the trajectories they touch and the keys they claim."""

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
        self.keys: dict[str, KeyRow] = ledger.recorder.select_keys(wanted) if wanted else {}  # type: ignore[attr-defined]
        self.new_keys: list[KeyRow] = []
        self.changed: dict[str, Trajectory] = {}

    def _load(self, numbers: set[str]) -> dict[str, Trajectory | None]:
        ledger = self.ledger
        loaded: dict[str, Trajectory | None] = {}
        if ledger._refresh_cache():
            # Nobody else changed what is cached: only the others need the store.
            for number in numbers:
                cached = ledger._cached(number)
                if cached is not None:
                    loaded[number] = cached
            numbers = numbers - loaded.keys()
        ids = {number: trajectory_id(number) for number in numbers}
        versions: dict[UUID, int] = ledger.recorder.max_versions(list(ids.values())) if ids else {}  # type: ignore[attr-defined]
        for number, stream in ids.items():
            version = versions.get(stream)
            if version is None:
                loaded[number] = None
                continue
            cached = ledger._cached(number)
            if cached is not None and cached.version == version:
                loaded[number] = cached
                continue
            if cached is not None and cached.version < version:
                # Another writer appended: bring the cached state forward.
                for event in ledger.events.get(stream, gt=cached.version):
                    event.mutate(cached)
                loaded[number] = cached
                continue
            loaded[number] = ledger.repository.get(stream)  # type: ignore[assignment]
        return loaded

    def apply(self, record: Record) -> Outcome:
        """Judge one record; returns recorded or unchanged, raises Refused."""
        # Repeats are recognised before any other rule (rules.md §3.8).
        fingerprint = record.fingerprint
        record_key = None if record.record_id is None else f"record:{record.record_id}"
        if record_key is not None:
            claimed = self.keys.get(record_key)
            if claimed is not None:
                if claimed[1] == fingerprint:
                    return UNCHANGED
                raise Conflict(f"record id {record.record_id} was used before with other content")
        number = record.fields.get("trajectory")
        assert number is not None
        trajectory = self.trajectories.get(number)
        activity_key = None
        if record.type == "activity_delivered":
            activity = record.fields["activity"]
            activity_key = f"activity:{activity}"
            claimed = self.keys.get(activity_key)
            if claimed is not None:
                if claimed[1] == fingerprint:
                    return UNCHANGED
                where = f" (in trajectory {claimed[2]})" if claimed[2] != number else ""
                raise Conflict(f"activity {activity} is already recorded{where} with other content")
        if trajectory is not None and trajectory.has_seen(fingerprint):
            return UNCHANGED
        if record.type == "trajectory_opened":
            if trajectory is not None:
                raise Conflict(f"trajectory {number} is already opened, with other content")
            trajectory = self._open(record)
        elif trajectory is None:
            raise UnknownTrajectory(f"trajectory {number} was never opened")
        else:
            self._command(trajectory, record)
        self.trajectories[number] = trajectory
        self.changed[number] = trajectory
        # Claim the record's keys for this batch (and the store, when it commits).
        for key in (record_key, activity_key):
            if key is not None:
                row = (key, fingerprint, number)
                self.keys[key] = row
                self.new_keys.append(row)
        return RECORDED

    def _open(self, record: Record) -> Trajectory:
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

    def _command(self, trajectory: Trajectory, record: Record) -> None:
        common = {"record_id": record.record_id, "fingerprint": record.fingerprint}
        on = record.get("date")
        kind = record.type
        if kind == "assessed":
            trajectory.assess(on=on, scores=record.get("honos"), assessor=record.get("assessor"), **common)
        elif kind == "clustered":
            trajectory.cluster(on=on, cluster=self._cluster(record), **common)
        elif kind == "activity_delivered":
            fields = record.fields  # the most frequent record: read its fields directly
            try:
                priced = self.ledger.tariffs.lookup(fields["code"], on)
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
        elif kind == "activity_voided":
            trajectory.void(activity=record.get("activity"), on=on, reason=record.get("reason"), **common)
        elif kind == "reviewed":
            trajectory.review(on=on, cluster=self._cluster(record), scores=record.get("honos"), **common)
        elif kind == "referred_back":
            trajectory.refer_back(on=on, to=record.get("to"), reason=record.get("reason"), **common)
        else:  # pragma: no cover - parse_object admits no other type
            raise NotAllowed(f"records of type {kind} are not trajectory records")

    def _cluster(self, record: Record) -> int:
        code: int = record.get("cluster")
        try:
            self.ledger.catalogue.lookup(code)
        except UnknownCluster as error:
            raise NotAllowed(f"{record.type} on {record.get('date')}: {error}") from None
        return code

    def commit(self, commit_in: Executor | None = None) -> None:
        """Store every accepted record's event and key in one transaction."""
        if not self.changed:
            return
        positions = self.ledger._save_batch(list(self.changed.values()), self.new_keys, commit_in)
        for trajectory in self.changed.values():
            self.ledger._remember(trajectory)
        self.ledger._committed(positions)
