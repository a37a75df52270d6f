"""What the rest of ggzledger needs of an event store: the seam each store adapter implements."""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import Executor
from typing import Protocol
from uuid import UUID

from eventsourcing.persistence import Notification, StoredEvent

from ggzledger.store.chain import ChainedRow

__all__ = ["ChainedRow", "KeyRow", "LedgerRecorder", "Listener", "head_of"]

# (key, fingerprint, trajectory): one row of the ledger-wide index of ids that
# must be unique across trajectories ("activity:<id>", "record:<id>").
KeyRow = tuple[str, str, str | None]


class Listener(Protocol):
    """A connection of its own that is woken when events are recorded (PostgreSQL's LISTEN)."""

    def fileno(self) -> int:
        """The descriptor that becomes readable when a notification arrives (for ``select``)."""

    def drain(self) -> None:
        """Consume the notifications that arrived; raises when the connection is lost."""

    def close(self) -> None:
        """Stop listening and release the connection."""


class LedgerRecorder(Protocol):
    """The event recorder of a ledger: the library's application recorder plus what the ledger adds.

    ``SQLiteLedgerRecorder`` and ``PostgresLedgerRecorder`` implement it; the rest of ggzledger
    types against this and never asks which one it got. Positions are the library's
    notification ids: consecutive within a batch, increasing in commit order.
    """

    @property
    def events_table_name(self) -> str:
        """The name of the table the events are stored in."""

    @property
    def hands_over_commit(self) -> bool:
        """True when ``insert_events(..., commit_in=executor)`` commits in that executor (SQLite only)."""

    def insert_events(
        self,
        stored_events: Sequence[StoredEvent],
        *,
        keys: Sequence[KeyRow] | None = None,
        expected_head: int | None = None,
        commit_in: Executor | None = None,
    ) -> Sequence[int]:
        """Store the events and ``keys`` in one transaction; returns the events' positions.

        Raises IntegrityError, storing nothing, when a stream already has one of the
        versions, a key is already stored, or an event was recorded after position
        ``expected_head``. ``commit_in``: see :attr:`hands_over_commit`; where the store
        cannot hand its commit over, the commit is done before returning.
        """

    def wait_for_commit(self) -> None:
        """Wait for a commit handed over by insert_events; raises what it raised (no-op if none)."""

    def max_notification_id(self) -> int | None:
        """The latest position (None when no event is stored)."""

    def select_notifications(
        self,
        start: int | None,
        limit: int,
        stop: int | None = None,
        topics: Sequence[str] = (),
        *,
        inclusive_of_start: bool = True,
    ) -> Sequence[Notification]:
        """At most ``limit`` events from ``start`` up to ``stop`` (both included unless told), in position order."""

    def select_states(self, after: int, limit: int, stop: int) -> list[tuple[int, str, bytes]]:
        """(position, topic, state) of the events after ``after`` up to ``stop``, at most ``limit``."""

    def select_stream_with_positions(self, originator_id: UUID) -> list[tuple[int, StoredEvent]]:
        """Every stored event of one stream, in version order, each with its position."""

    def max_versions(self, ids: Sequence[UUID]) -> dict[UUID, int]:
        """The latest version of each given stream that has events (absent streams are left out)."""

    def select_keys(self, keys: Sequence[str]) -> dict[str, KeyRow]:
        """The stored rows of the given keys (absent keys are left out)."""

    def listen(self) -> Listener | None:
        """A :class:`Listener` woken by every write transaction; None where the store has none (poll)."""

    # The event chain (store/chain.py, trust.md §2). insert_events chains every event it stores, in
    # the same transaction; a ledger recorded before the chain gets its chain on its first write.

    @property
    def chain_upgraded(self) -> tuple[int, bytes] | None:
        """(position, hash) of the head when this recorder chained a ledger recorded before the chain; else None."""

    def select_chain(self, after: int, stop: int, limit: int) -> list[tuple[int, bytes]]:
        """(position, hash) of the chain rows after ``after`` up to ``stop``, at most ``limit``, in position order."""

    def chain_base(self) -> tuple[int, bytes] | None:
        """(position, hash) a sealed copy's chain starts from (the plain ledger's head); None if not a copy."""

    def insert_copied(self, rows: Sequence[ChainedRow], base: tuple[int, bytes]) -> None:
        """Insert another ledger's events at exactly their positions, in one transaction, chained onto ``base``.

        For ``ggzledger seal --into NEW``: ``rows`` in position order, each after the ledger's
        head. The first call records ``base`` (the plain ledger's head position and hash) and
        needs a ledger without events; later calls (a large copy in batches) must give the same
        base and continue from the last chain row. The next event recorded comes after the last
        copied position. Raises IntegrityError, storing nothing, otherwise.
        """


def head_of(recorder: LedgerRecorder) -> int:
    """The ledger's head: its latest position, 0 while it holds no event."""
    return recorder.max_notification_id() or 0
