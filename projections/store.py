"""Where read models live: the same database as the events, behind one small interface per backend."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any, Protocol

__all__ = ["Cursor", "ProjectionStore", "SQLiteProjectionStore", "open_store"]


class Cursor(Protocol):
    """The part of a DB-API cursor the views use; SQL is written with ``?`` placeholders."""

    def execute(self, sql: str, params: Sequence[Any] = ...) -> Any: ...

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> Any: ...

    def fetchone(self) -> Any: ...

    def fetchall(self) -> list[Any]: ...


class ProjectionStore(Protocol):
    """A database for read models: transactions that views write in, rows as tuples."""

    dialect: str

    def transaction(self, *, write: bool) -> Any:
        """A context manager yielding a cursor; a write transaction commits on success."""

    def checkpoint(self) -> None:
        """Leave no old copy of deleted values in the database's log files (SQLite's -wal); a no-op where
        the server keeps its own log (PostgreSQL: VACUUM and WAL archives, docs/sealing.md)."""

    def close(self) -> None:
        """Release connections."""


class SQLiteProjectionStore:
    """Read models in the ledger's SQLite file, on a connection of their own.

    Write transactions start with ``BEGIN IMMEDIATE``: the write lock is taken
    before the tracking position is read, so two processes catching up the same
    view serialise instead of both applying the same events.
    """

    dialect = "sqlite"

    def __init__(self, path: str, timeout: float = 30.0) -> None:
        self.path = path
        self._connection = sqlite3.connect(path, timeout=timeout, isolation_level=None, check_same_thread=False)
        self._connection.execute("PRAGMA journal_mode=WAL")
        # The events are the source of truth; a read model lost to a power cut
        # is rebuilt from them (docs/performance.md on durability).
        self._connection.execute("PRAGMA synchronous=NORMAL")
        # As on the event writer: a page cache that keeps the views' index pages
        # from one page of events to the next, and a checkpoint every 10,000
        # pages instead of after nearly every page of events.
        self._connection.execute("PRAGMA cache_size=-65536")
        self._connection.execute("PRAGMA wal_autocheckpoint=10000")
        # Views hold personal fields until an erasure purges them: what is deleted or
        # overwritten must not stay readable in freed pages (erasure.md §2, docs/sealing.md).
        # Some builds default to OFF; FAST would leave freed pages as they were. Dropping a
        # view's tables for a rebuild costs more for it (docs/performance.md).
        self._connection.execute("PRAGMA secure_delete=ON")

    @contextmanager
    def transaction(self, *, write: bool) -> Iterator[sqlite3.Cursor]:
        cursor = self._connection.cursor()
        cursor.execute("BEGIN IMMEDIATE" if write else "BEGIN")
        try:
            yield cursor
        except BaseException:
            self._connection.rollback()
            raise
        else:
            if write:
                self._connection.commit()
            else:
                self._connection.rollback()
        finally:
            cursor.close()

    @contextmanager
    def attached(self, path: str, schema: str) -> Iterator[None]:
        """Another SQLite file readable as ``schema`` inside the block (entered outside a transaction).

        A write transaction locks the attached file too: nothing else should be writing to it.
        """
        self._connection.execute(f"ATTACH DATABASE ? AS {schema}", (path,))
        try:
            yield
        finally:
            self._connection.execute(f"DETACH DATABASE {schema}")

    def checkpoint(self) -> None:
        """Copy the -wal into the file and truncate it to nothing: no old page (with values an
        erasure removed) is left in it. Retried briefly while a reader holds an old snapshot."""
        for _ in range(50):
            busy = self._connection.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0]
            if not busy:
                return
            time.sleep(0.1)
        raise sqlite3.OperationalError("the -wal could not be checkpointed: another process keeps reading; run again")

    def close(self) -> None:
        self._connection.close()


def open_store(factory: Any) -> ProjectionStore:
    """The projection store in the same database as an eventsourcing infrastructure factory."""
    from eventsourcing.sqlite import SQLiteFactory

    if isinstance(factory, SQLiteFactory):
        return SQLiteProjectionStore(factory.datastore.pool.db_name)
    from ggzledger.store.postgres_store import PostgresProjectionStore

    return PostgresProjectionStore(factory.datastore)
