"""Where read models live: the same database as the events, behind one small interface per backend."""

from __future__ import annotations

import sqlite3
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
        # Debian and others build SQLite with secure deletion on: dropping a view's tables
        # for a rebuild then writes every freed page again as zeros, which took a tenth of a
        # rebuild. FAST still clears what is deleted inside the pages that stay in use; freed
        # pages keep their bytes until the rebuild writes over them (docs/performance.md).
        self._connection.execute("PRAGMA secure_delete=FAST")

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

    def close(self) -> None:
        self._connection.close()


def open_store(factory: Any) -> ProjectionStore:
    """The projection store in the same database as an eventsourcing infrastructure factory."""
    from eventsourcing.sqlite import SQLiteFactory

    if isinstance(factory, SQLiteFactory):
        return SQLiteProjectionStore(factory.datastore.pool.db_name)
    from ggzledger.store.postgres_store import PostgresProjectionStore

    return PostgresProjectionStore(factory.datastore)
