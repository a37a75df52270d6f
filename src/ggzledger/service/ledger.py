"""The Ledger service: records input records on trajectories, closes months, answers for declarations."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Sequence
from concurrent.futures import Executor
from datetime import date
from typing import TYPE_CHECKING, Any, cast
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.persistence import IntegrityError

from ggzledger.domain import BillingCalendar, Contract, ContractBook, Trajectory, trajectory_id
from ggzledger.domain.errors import Conflict, NotAllowed, Refused, UnknownTrajectory
from ggzledger.domain.months import month_of
from ggzledger.projections import ComputedClose, Declaration
from ggzledger.reference import Catalogue, Tariffs, TariffTable
from ggzledger.reference.pricing import ContractRefused, check_contract
from ggzledger.service.batch import Batch
from ggzledger.service.bootstrap import wire
from ggzledger.service.commands import contract_of
from ggzledger.service.outcomes import Outcome
from ggzledger.service.records import Record
from ggzledger.service.retry import ATTEMPTS, WriteContention, back_off, gave_up
from ggzledger.store import KeyRow, TypedMapper, mapper_for, store_env

if TYPE_CHECKING:
    from ggzledger.store.postgres_store import PostgresLedgerRecorder
    from ggzledger.store.sqlite_store import SQLiteLedgerRecorder

__all__ = ["Ledger", "Outcome", "MonthAlreadyClosed", "WriteContention"]


class MonthAlreadyClosed(NotAllowed):
    """The close command for a month that is closed already (rules.md §3.10)."""


class Ledger(Application[UUID]):
    """The ggzledger application: one event store, the reference data, and the read models.

    ``db`` is a SQLite path or a ``postgresql://`` URL (None: ``GGZLEDGER_DB`` or
    ``ggzledger.db``). ``today`` is the clock that judges "a date after today"
    and "a month after the current month". What it works with is made by
    :mod:`ggzledger.service.bootstrap`. ``read_only``: create no table and keep no
    read model up to date (``serve --read-only``, docs/operations.md); reads see the
    views as far as ``project --follow`` has brought them.
    """

    name = "ggzledger"
    # The library types its recorder as any ApplicationRecorder; the ledger's is one of its two
    # adapters, and both implement ggzledger.store.LedgerRecorder, the seam the rest types against.
    recorder: SQLiteLedgerRecorder | PostgresLedgerRecorder
    mapper: TypedMapper

    def __init__(
        self,
        db: str | None = None,
        *,
        catalogue: Catalogue | None = None,
        tariffs: Tariffs | None = None,
        today: Callable[[], date] = date.today,
        read_only: bool = False,
    ) -> None:
        # The library's recorder creates its tables unless CREATE_TABLE says no.
        super().__init__(env={**store_env(db), **({"CREATE_TABLE": "no"} if read_only else {})})
        wiring = wire(
            self.factory, self.recorder, self.mapper, catalogue=catalogue, tariffs=tariffs, today=today,
            read_only=read_only,
        )  # fmt: skip
        self.catalogue = wiring.catalogue
        self.tariffs = wiring.tariffs
        self.tariff_tables = wiring.tariff_tables
        self.store = wiring.store
        self.projector = wiring.projector
        self.cache = wiring.cache
        self.today = wiring.today
        self.billing = self.projector.views.billing
        # The key store of a sealed ledger (None: a plain one, recorded before sealing existed).
        self.keys = wiring.keys

    def construct_mapper(self) -> TypedMapper:
        return mapper_for(self.factory)

    def close(self) -> None:
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
        accepted = [r for r in records if isinstance(r, Record)]
        sealer = self.mapper.sealer
        for attempt in range(ATTEMPTS):
            try:
                # The keys minted for new patients while judging are written in one key-store
                # transaction when judging ends, before the batch's events (docs/sealing.md).
                with sealer.keys.deferred() if sealer is not None else contextlib.nullcontext():
                    batch = Batch(self, accepted)
                    outcomes: list[Outcome | Refused] = []
                    for record in records:
                        if isinstance(record, Refused):
                            outcomes.append(record)
                            continue
                        try:
                            outcomes.append(batch.apply(record))
                        except Refused as refused:
                            outcomes.append(refused)
                batch.commit(commit_in)
            except IntegrityError:
                # Another writer got in first: judge the whole batch again from fresh state.
                self.cache.forget()
                back_off(attempt)
                continue
            return outcomes
        raise gave_up()

    def store_events(
        self, trajectories: Sequence[Trajectory], keys: Sequence[KeyRow], commit_in: Executor | None = None
    ) -> list[int]:
        """Store the trajectories' new events and the keys in one transaction; returns their positions.

        Beside storing, the library's save builds a Recording and a Notification per event and
        looks for snapshots to take; a batch needs only the positions. With snapshots or the
        aggregate cache configured, it goes through save after all.
        """
        if self.snapshots is not None or self.repository.cache is not None:  # pragma: no cover - not configured
            return [r.notification.id for r in self.save(*trajectories, keys=keys)]
        to_stored_event = self.mapper.to_stored_event
        sealer = self.mapper.sealer
        if sealer is None:
            stored = [to_stored_event(event) for trajectory in trajectories for event in trajectory.collect_events()]
            if not stored:
                return []
            return list(self.recorder.insert_events(stored, keys=keys, commit_in=commit_in))
        try:
            # The data keys minted for the batch's new patients are committed before its events
            # (a crash between leaves an unused key), and each opening's subject goes into the
            # key index in the events' own transaction.
            with sealer.keys.deferred():
                stored = [to_stored_event(e) for trajectory in trajectories for e in trajectory.collect_events()]
            if not stored:
                return []
            keys = [*keys, *sealer.take_keys()]
            return list(self.recorder.insert_events(stored, keys=keys, commit_in=commit_in))
        except BaseException:
            sealer.forget_batch()
            raise

    def wait_for_commit(self) -> None:
        """Wait for a batch's commit handed to an executor by :meth:`record`; raise what it raised.

        A failed commit stored nothing of its batch: the trajectory cache, which
        holds that batch's events, is dropped.
        """
        try:
            self.recorder.wait_for_commit()
        except BaseException:
            self.cache.forget()
            raise

    def load(self, number: str) -> Trajectory:
        """The current state of a trajectory; raises UnknownTrajectory."""
        try:
            return cast(Trajectory, self.repository.get(trajectory_id(number)))
        except AggregateNotFoundError:
            raise UnknownTrajectory(f"trajectory {number} was never opened") from None

    # The month close.

    def close_month(
        self, month: str, record_id: str | None = None, fingerprint: str | None = None
    ) -> list[ComputedClose]:
        """Close every open month up to ``month``, oldest first, each as its own close.

        Raises MonthAlreadyClosed when ``month`` is closed, NotAllowed when it lies
        after the current calendar month.
        """
        self.wait_for_commit()
        current = month_of(self.today())
        if month > current:
            raise NotAllowed(f"month {month} lies after the current month {current}; it cannot be closed yet")
        for attempt in range(ATTEMPTS):
            calendar = self.calendar()
            if calendar.is_closed(month):
                raise MonthAlreadyClosed(calendar.closed_reason(month))
            up_to = self.projector.catch_up()
            with self.store.transaction(write=False) as c:
                months = self.billing.months_to_close(c, calendar.last_closed, month)
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
                back_off(attempt)
                continue
            self.projector.catch_up()
            return results
        raise gave_up()

    def close_record(self, record: Record) -> Outcome:
        """A month_closed input record: close, or unchanged when the month is closed already."""
        self.wait_for_commit()
        if record.record_id is not None:
            row = self.recorder.select_keys([f"record:{record.record_id}"]).get(f"record:{record.record_id}")
            if row is not None:
                if row[1] == record.fingerprint:
                    return Outcome.UNCHANGED
                raise Conflict(f"record id {record.record_id} was used before with other content")
        try:
            self.close_month(record.get("month"), record.record_id, record.fingerprint)
        except MonthAlreadyClosed:
            return Outcome.UNCHANGED
        return Outcome.RECORDED

    # Contracts (zpm.md Z5.3).

    def contract_record(self, record: Record) -> Outcome:
        """A contract_agreed input record: recorded in its own transaction, or unchanged when a repeat.

        A repeat (the same record id with the same content, or the same contract again) is
        recognised first (rules.md §3.8); then the rules of Z5.3 in their order, the last of
        them a contract id used before with other content. Raises Refused.
        """
        self.wait_for_commit()
        record_key = None if record.record_id is None else f"record:{record.record_id}"
        if record_key is not None:
            row = self.recorder.select_keys([record_key]).get(record_key)
            if row is not None:
                if row[1] == record.fingerprint:
                    return Outcome.UNCHANGED
                raise Conflict(f"record id {record.record_id} was used before with other content")
        contract = contract_of(record)
        for attempt in range(ATTEMPTS):
            book = self.contract_book()
            known = book.get(contract.contract)
            if known == contract:
                return Outcome.UNCHANGED
            try:
                check_contract(contract, book.contracts, self.tariffs)
            except ContractRefused as refused:
                raise NotAllowed(str(refused)) from None
            if known is not None:
                raise Conflict(f"contract {contract.contract} was used before with other content")
            book.agree(contract, record_id=record.record_id, fingerprint=record.fingerprint)
            keys: list[KeyRow] = [(record_key, record.fingerprint, None)] if record_key else []
            try:
                self.save(book, keys=keys)
            except IntegrityError:
                # Another writer recorded a contract (or this record id) first: judge again.
                back_off(attempt)
                continue
            return Outcome.RECORDED
        raise gave_up()

    def contract_book(self) -> ContractBook:
        """The book of every contract agreed in this ledger."""
        try:
            return cast(ContractBook, self.repository.get(ContractBook.ID))
        except AggregateNotFoundError:
            return ContractBook()

    def contracts(self) -> tuple[Contract, ...]:
        """Every contract agreed in this ledger, in the order they were recorded."""
        return self.contract_book().contracts

    def calendar(self) -> BillingCalendar:
        """The billing calendar: which months are closed, with the digest chain of their closes."""
        try:
            return cast(BillingCalendar, self.repository.get(BillingCalendar.ID))
        except AggregateNotFoundError:
            return BillingCalendar()

    # Reading declarations.

    def is_closed(self, month: str) -> bool:
        """True when the month has been closed."""
        return self.calendar().is_closed(month)

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
        months = self.billing.months_to_close(c, closed[-1] if closed else None, month)
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
        self.tariff_tables.add(table, csv_text)
