"""The SQLite adapter: the ledger's event recorder on a SQLite file, and reading its log in bulk."""

from __future__ import annotations

import os
import sqlite3
import weakref
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import Executor, Future
from contextlib import contextmanager
from typing import Any
from uuid import UUID

from eventsourcing.persistence import IntegrityError, Notification, OperationalError, PersistenceError, StoredEvent
from eventsourcing.sqlite import SQLiteApplicationRecorder, SQLiteCursor, SQLiteDatastore

from ggzledger.store.chain import UPGRADE_PAGE, ZERO, ChainedRow, copy_start, extend, upgrade
from ggzledger.store.protocol import KeyRow, Listener
from ggzledger.store.settings import StoreError
from ggzledger.store.sql import chunked, placeholders

__all__ = ["SQLiteLedgerRecorder", "create_private", "read_states"]

PRIVATE = 0o600
"""The mode of every SQLite file the ledger creates: patients' data, for the owner only."""


def create_private(path: str) -> None:
    """Create ``path`` as an empty file readable and writable by its owner only, whatever the umask.

    An empty file is an empty SQLite database, and SQLite gives the ``-wal`` and
    ``-shm`` files it makes beside a database the database file's mode. An
    existing file is left as it is, mode included (docs/operations.md): it is the
    owner's to chmod. SQLite URIs and in-memory names are left alone, and so is a
    path that cannot be created: opening it then fails as SQLite says.
    """
    if not path or path.startswith("file:") or ":memory:" in path:
        return
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE)
    except OSError:
        return
    try:
        os.fchmod(descriptor, PRIVATE)  # a umask can take bits away from the mode asked for; this cannot
    finally:
        os.close(descriptor)


def _writer_pragmas() -> tuple[str, ...]:
    """Settings of the connection that writes events (docs/performance.md explains each).

    ``synchronous`` is FULL (the log is synced at every commit) unless GGZLEDGER_SQLITE_SYNCHRONOUS
    says NORMAL or EXTRA: in WAL mode NORMAL syncs the log only at checkpoints; the file stays
    consistent, but a power cut or OS crash may undo the last commits (a killed process does
    not). With 20,000-record batches the sync per commit costs nothing measurable, so the
    durable setting is the default. A 64 MiB page cache keeps the stream index's pages between
    batches, and checkpoints every 10,000 pages (40 MiB of log) copy each often-changed index
    page once, not per commit.
    """
    value = os.environ.get("GGZLEDGER_SQLITE_SYNCHRONOUS", "FULL").upper()
    if value not in ("NORMAL", "FULL", "EXTRA"):
        raise StoreError(f"GGZLEDGER_SQLITE_SYNCHRONOUS must be NORMAL, FULL or EXTRA, not {value!r}")
    return (f"PRAGMA synchronous={value}", "PRAGMA cache_size=-65536", "PRAGMA wal_autocheckpoint=10000")


class SQLiteLedgerRecorder(SQLiteApplicationRecorder):
    """The SQLite event recorder plus the ledger-wide key index, written in the same transaction.

    ``save(..., keys=[KeyRow, ...])`` inserts the key rows with the events; a key
    that another writer inserted first violates the primary key, and the whole
    save fails with IntegrityError like a version conflict does.
    ``save(..., expected_head=N)`` fails the same way when an event was recorded
    after position N (the PostgreSQL recorder takes the same argument).
    """

    # insert_events(..., commit_in=executor) commits in the executor: see wait_for_commit.
    hands_over_commit = True

    def __init__(self, datastore: SQLiteDatastore, events_table_name: str = "stored_events") -> None:
        # Before the first connection (the pool opens them lazily): SQLite would create the file 0644.
        create_private(datastore.pool.db_name)
        super().__init__(datastore, events_table_name)
        self.writer_pragmas = _writer_pragmas()
        self._tuned: weakref.WeakSet[Any] = weakref.WeakSet()
        # Stream ids already read, by their stored hex form.
        self._streams: dict[str, UUID] = {}
        self._pending_commit: Future[None] | None = None
        self._upgraded: tuple[int, bytes] | None = None

    def construct_create_table_statements(self) -> list[str]:
        return [
            *super().construct_create_table_statements(),
            "CREATE TABLE IF NOT EXISTS ledger_keys (key TEXT PRIMARY KEY, fingerprint TEXT NOT NULL, trajectory TEXT)",
            # The event chain (store/chain.py): one hash per event, by its position (the rowid).
            "CREATE TABLE IF NOT EXISTS ledger_chain (position INTEGER PRIMARY KEY, hash BLOB NOT NULL)",
            # Where the chain of a sealed copy starts: the plain ledger's head (one row, or none).
            "CREATE TABLE IF NOT EXISTS ledger_chain_base (position INTEGER PRIMARY KEY, hash BLOB NOT NULL)",
        ]

    def insert_events(
        self,
        stored_events: Sequence[StoredEvent],
        *,
        keys: Sequence[KeyRow] | None = None,
        expected_head: int | None = None,
        commit_in: Executor | None = None,
        **kwargs: Any,
    ) -> Sequence[int]:
        """Insert events (and ``keys``) in one transaction; returns their positions.

        ``commit_in=executor``: the inserts are done here, and the commit, which
        writes the log to disk without holding the interpreter, is handed to the
        executor, so that the caller can go on (ingest parses the next lines).
        The writer connection stays taken until it is done; wait_for_commit()
        raises what the commit raised. At most one commit is in flight.
        """
        self.wait_for_commit()
        taken = self.datastore.get_connection(commit=True)
        connection = taken.__enter__()
        try:
            self._tune(connection)
            with _translated():
                cursor = connection.cursor()
                cursor.execute("BEGIN")
                try:
                    ids = self._insert_events(cursor, stored_events, keys=keys, expected_head=expected_head, **kwargs)
                except BaseException:
                    connection.rollback()
                    raise
        except BaseException:
            taken.__exit__(None, None, None)
            raise

        def commit() -> None:
            try:
                with _translated():
                    try:
                        connection.commit()
                    except BaseException:
                        connection.rollback()
                        raise
            finally:
                taken.__exit__(None, None, None)

        if commit_in is None:
            commit()
        else:
            self._pending_commit = commit_in.submit(commit)
        return ids

    def wait_for_commit(self) -> None:
        """Wait for a commit handed to an executor by insert_events; raises what it raised."""
        pending, self._pending_commit = self._pending_commit, None
        if pending is not None:
            pending.result()

    def _tune(self, connection: Any) -> None:
        if connection not in self._tuned:
            # Once per connection, outside a transaction (before the library's BEGIN).
            with connection.cursor() as cursor:
                for pragma in self.writer_pragmas:
                    cursor.execute(pragma)
            self._tuned.add(connection)

    def listen(self) -> Listener | None:
        """None: SQLite has no notifications, a follower polls the head."""
        return None

    def _insert_events(self, c: SQLiteCursor, stored_events: Sequence[StoredEvent], **kwargs: Any) -> list[int]:
        ids = self._insert_rows(c, stored_events)
        head: int | None = kwargs.get("expected_head")
        if head is not None and ids:
            # The inserts hold the write lock: nobody can append between this check and the commit.
            c.execute(f"SELECT COUNT(*) FROM {self.events_table_name} WHERE rowid > ? AND rowid < ?", (head, ids[0]))
            if c.fetchone()[0]:
                raise IntegrityError(f"the ledger moved past position {head}")
        keys: Iterable[KeyRow] | None = kwargs.get("keys")
        if keys:
            c.executemany("INSERT INTO ledger_keys (key, fingerprint, trajectory) VALUES (?, ?, ?)", list(keys))
        if ids:
            self._chain(c, ids, stored_events)
        return ids

    def _chain(self, c: SQLiteCursor, ids: Sequence[int], stored_events: Sequence[StoredEvent]) -> None:
        """Chain the new events onto the last chain row, under the write lock the inserts took."""
        c.execute("SELECT position, hash FROM ledger_chain ORDER BY position DESC LIMIT 1")
        row = c.fetchone()
        if row is not None and row[0] >= ids[0]:
            # SQLite gives a deleted last event's rowid to the next one: the chain still holds that position.
            raise StoreError(
                f"the event chain already holds position {ids[0]}: an event was deleted after it was chained;"
                " nothing was recorded (ggzledger verify names what is missing)"
            )
        previous = row[1] if row is not None else self._chain_start(c, ids[0])
        rows = [
            (p, s.originator_id, s.originator_version, s.topic, s.state)
            for p, s in zip(ids, stored_events, strict=True)
        ]
        c.executemany("INSERT INTO ledger_chain (position, hash) VALUES (?, ?)", extend(previous, rows))

    def _chain_start(self, c: SQLiteCursor, first: int) -> bytes:
        """The hash an empty chain starts from: a sealed copy's base, else h_0 after chaining the
        events recorded before the chain existed (once: the upgrade, in this same transaction)."""
        c.execute("SELECT position, hash FROM ledger_chain_base")
        base = c.fetchone()

        def read(after: int) -> list[Any]:
            c.execute(
                f"SELECT rowid, originator_id, originator_version, topic, state FROM {self.events_table_name}"
                " WHERE rowid > ? AND rowid < ? ORDER BY rowid LIMIT ?",
                (after, first, UPGRADE_PAGE),
            )
            page: list[Any] = c.fetchall()
            return page

        def write(links: list[tuple[int, bytes]]) -> None:
            c.executemany("INSERT INTO ledger_chain (position, hash) VALUES (?, ?)", links)

        previous, upgraded = upgrade(ZERO if base is None else bytes(base[1]), read, write)
        self._upgraded = upgraded or self._upgraded
        return previous

    @property
    def chain_upgraded(self) -> tuple[int, bytes] | None:
        """(position, hash) of the chain's head when this recorder chained the events of a ledger
        recorded before the chain existed; None when it did not."""
        return self._upgraded

    def select_chain(self, after: int, stop: int, limit: int) -> list[tuple[int, bytes]]:
        """(position, hash) of the chain rows after ``after`` up to ``stop``, at most ``limit``."""
        with self.datastore.transaction(commit=False) as c:
            c.execute(
                "SELECT position, hash FROM ledger_chain WHERE position > ? AND position <= ? ORDER BY position LIMIT ?",
                (after, stop, limit),
            )
            return [(row[0], bytes(row[1])) for row in c.fetchall()]

    def chain_base(self) -> tuple[int, bytes] | None:
        """(position, hash) of the plain ledger's head a sealed copy's chain starts from; None if not a copy."""
        with self.datastore.transaction(commit=False) as c:
            c.execute("SELECT position, hash FROM ledger_chain_base")
            row = c.fetchone()
        return None if row is None else (row[0], bytes(row[1]))

    def insert_copied(self, rows: Sequence[ChainedRow], base: tuple[int, bytes]) -> None:
        """Insert events of another ledger at their own positions, chained onto ``base`` (see the protocol)."""
        with _translated(), self.datastore.transaction(commit=True) as c:
            c.execute("SELECT position, hash FROM ledger_chain_base")
            recorded = c.fetchone()
            c.execute(f"SELECT 1 FROM {self.events_table_name} LIMIT 1")
            holds_events = c.fetchone() is not None
            c.execute("SELECT position, hash FROM ledger_chain ORDER BY position DESC LIMIT 1")
            last = c.fetchone()
            previous = copy_start(
                base,
                None if recorded is None else (recorded[0], bytes(recorded[1])),
                holds_events,
                None if last is None else (last[0], bytes(last[1])),
                rows[0].position if rows else None,
            )
            if recorded is None:
                c.execute("INSERT INTO ledger_chain_base (position, hash) VALUES (?, ?)", base)
            c.executemany(
                f"INSERT INTO {self.events_table_name} (rowid, originator_id, originator_version, topic, state)"
                " VALUES (?, ?, ?, ?, ?)",
                [(r.position, r.stream.hex, r.version, r.topic, r.state) for r in rows],
            )
            c.executemany("INSERT INTO ledger_chain (position, hash) VALUES (?, ?)", extend(previous, rows))

    def _insert_rows(self, c: SQLiteCursor, stored_events: Sequence[StoredEvent]) -> list[int]:
        """Insert the events with one executemany (the library runs one execute per event); their positions.

        Under the write lock each new rowid is the table's largest plus one, so a batch gets
        consecutive positions ending at last_insert_rowid(). The first row's rowid is read back
        to check that rather than trust it; should it ever differ, every position is read back.
        """
        rows = [
            (
                s.originator_id.hex if isinstance(s.originator_id, UUID) else s.originator_id,
                s.originator_version,
                s.topic,
                s.state,
            )
            for s in stored_events
        ]
        if not rows:
            return []
        c.executemany(self.insert_events_statement, rows)
        c.execute("SELECT last_insert_rowid()")
        last: int = c.fetchone()[0]
        select = f"SELECT rowid FROM {self.events_table_name} WHERE originator_id = ? AND originator_version = ?"
        c.execute(select, rows[0][:2])
        if c.fetchone()[0] == last - len(rows) + 1:
            return list(range(last - len(rows) + 1, last + 1))
        ids = []
        for row in rows:  # pragma: no cover - SQLite never allocated rowids out of order here
            c.execute(select, row[:2])
            ids.append(c.fetchone()[0])
        return ids

    def select_notifications(
        self,
        start: int | None,
        limit: int,
        stop: int | None = None,
        topics: Sequence[str] = (),
        *,
        inclusive_of_start: bool = True,
    ) -> Sequence[Notification]:
        """The library's query, with one UUID object per stream rather than one per row.

        A rebuild reads every row; parsing the stream's hex id again for each of them was a
        twentieth of its time.
        """
        if self.datastore.originator_id_type != "uuid":  # pragma: no cover - the ledger uses UUIDs
            return super().select_notifications(start, limit, stop, topics, inclusive_of_start=inclusive_of_start)
        clauses: list[str] = []
        params: list[Any] = []
        if start is not None:
            clauses.append("rowid>=?" if inclusive_of_start else "rowid>?")
            params.append(start)
        if stop is not None:
            clauses.append("rowid<=?")
            params.append(stop)
        if topics:
            clauses.append(f"topic IN ({placeholders(len(topics))})")
            params.extend(topics)
        where = f" WHERE {' AND '.join(clauses)}" if clauses else ""
        params.append(limit)
        with self.datastore.transaction(commit=False) as c:
            c.execute(
                f"SELECT rowid, originator_id, originator_version, topic, state FROM {self.events_table_name}"
                f"{where} ORDER BY rowid LIMIT ?",
                params,
            )
            rows = c.fetchall()
        streams = self._streams
        if len(streams) > 100_000:
            streams.clear()
        notifications = []
        for row in rows:
            stream = streams.get(row[1])
            if stream is None:
                stream = streams[row[1]] = UUID(row[1])
            notifications.append(
                Notification(id=row[0], originator_id=stream, originator_version=row[2], topic=row[3], state=row[4])
            )
        return notifications

    def select_states(self, after: int, limit: int, stop: int) -> list[tuple[int, str, bytes]]:
        """(position, topic, state) of the events after ``after`` up to ``stop``, at most ``limit``.

        What the views read: no Notification objects and no stream ids, which a
        rebuild of every event would build only to throw away.
        """
        with self.datastore.transaction(commit=False) as c:
            # Plain tuples, as the rebuild's own connections give (the library's connections make Rows).
            c.sqlite_cursor.row_factory = None
            return read_states(c, self.events_table_name, after, stop, limit)

    def max_versions(self, ids: Sequence[UUID]) -> dict[UUID, int]:
        """The latest version of each given stream that has events (absent streams are left out)."""
        found: dict[UUID, int] = {}
        with self.datastore.transaction(commit=False) as c:
            for chunk in chunked([i.hex for i in ids]):
                c.execute(
                    f"SELECT originator_id, MAX(originator_version) FROM {self.events_table_name}"
                    f" WHERE originator_id IN ({placeholders(len(chunk))}) GROUP BY originator_id",
                    chunk,
                )
                for row in c.fetchall():
                    found[UUID(row[0])] = row[1]
        return found

    def select_keys(self, keys: Sequence[str]) -> dict[str, KeyRow]:
        """The stored rows of the given keys (absent keys are left out)."""
        found: dict[str, KeyRow] = {}
        with self.datastore.transaction(commit=False) as c:
            for chunk in chunked(keys):
                c.execute(
                    f"SELECT key, fingerprint, trajectory FROM ledger_keys WHERE key IN ({placeholders(len(chunk))})",
                    chunk,
                )
                for row in c.fetchall():
                    found[row[0]] = (row[0], row[1], row[2])
        return found

    def select_stream_with_positions(self, originator_id: UUID) -> list[tuple[int, StoredEvent]]:
        """Every stored event of one stream, in version order, each with its ledger position.

        Reads that stream only (by the primary key), however large the ledger:
        what ``audit`` needs to replay one trajectory as of a close.
        """
        with self.datastore.transaction(commit=False) as c:
            c.execute(
                f"SELECT rowid, originator_version, topic, state FROM {self.events_table_name}"
                " WHERE originator_id = ? ORDER BY originator_version",
                (originator_id.hex,),
            )
            return [
                (
                    row[0],
                    StoredEvent(originator_id=originator_id, originator_version=row[1], topic=row[2], state=row[3]),
                )
                for row in c.fetchall()
            ]


def read_states(cursor: Any, table: str, after: int, stop: int, limit: int = -1) -> list[tuple[int, str, bytes]]:
    """(position, topic, state) of a SQLite events table's rows after ``after`` up to ``stop``.

    At most ``limit`` rows (-1: all). The recorder's select_states and the rebuild's
    child processes, which open the file themselves, read the log with it.
    """
    cursor.execute(
        f"SELECT rowid, topic, state FROM {table} WHERE rowid > ? AND rowid <= ? ORDER BY rowid LIMIT ?",
        (after, stop, limit),
    )
    return cursor.fetchall()  # type: ignore[no-any-return]


@contextmanager
def _translated() -> Iterator[None]:
    """SQLite's errors as the library's (an IntegrityError is what makes a batch be judged again)."""
    try:
        yield
    except sqlite3.IntegrityError as error:
        raise IntegrityError(error) from error
    except sqlite3.OperationalError as error:
        raise OperationalError(error) from error
    except sqlite3.Error as error:
        raise PersistenceError(error) from error
