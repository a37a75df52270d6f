"""PostgreSQL, the production store: the ledger recorder with its key index, and the projection store."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any
from uuid import UUID

from eventsourcing.persistence import StoredEvent
from eventsourcing.postgres import PostgresApplicationRecorder, PostgresDatastore
from psycopg import Cursor
from psycopg.rows import DictRow, tuple_row
from psycopg.sql import SQL, Identifier

__all__ = ["PostgresLedgerRecorder", "PostgresProjectionStore"]

KeyRow = tuple[str, str, str | None]


class PostgresLedgerRecorder(PostgresApplicationRecorder):
    """The library's PostgreSQL recorder plus the ledger-wide key index, in the same transaction.

    The library's table lock stays on (no database functions), so commit order
    equals position order and a follower never skips an event.
    """

    def __init__(self, datastore: PostgresDatastore, *, events_table_name: str = "stored_events") -> None:
        super().__init__(datastore, events_table_name=events_table_name)
        schema = Identifier(self.datastore.schema)
        self.keys_table = SQL("{schema}.ledger_keys").format(schema=schema)
        self.sql_create_statements.append(
            SQL(
                "CREATE TABLE IF NOT EXISTS {keys} (key text PRIMARY KEY, fingerprint text NOT NULL, trajectory text)"
            ).format(keys=self.keys_table)
        )
        self._insert_key = SQL("INSERT INTO {keys} (key, fingerprint, trajectory) VALUES (%s, %s, %s)").format(
            keys=self.keys_table
        )
        self._select_keys = SQL("SELECT key, fingerprint, trajectory FROM {keys} WHERE key = ANY(%s)").format(
            keys=self.keys_table
        )
        self._max_versions = SQL(
            "SELECT originator_id, MAX(originator_version) AS version FROM {schema}.{table}"
            " WHERE originator_id = ANY(%s) GROUP BY originator_id"
        ).format(schema=schema, table=Identifier(self.events_table_name))

    def _insert_events(self, curs: Cursor[DictRow], stored_events: Sequence[StoredEvent], **kwargs: Any) -> None:
        super()._insert_events(curs, stored_events, **kwargs)
        keys: Iterable[KeyRow] | None = kwargs.get("keys")
        if keys:
            # A key another writer claimed first fails the whole transaction with
            # IntegrityError, exactly like a version conflict.
            curs.executemany(self._insert_key, list(keys))

    def max_versions(self, ids: Sequence[UUID]) -> dict[UUID, int]:
        """The latest version of each given stream that has events (absent streams are left out)."""
        if not ids:
            return {}
        with self.datastore.transaction(commit=False) as curs:
            curs.execute(self._max_versions, (list(ids),))
            return {row["originator_id"]: row["version"] for row in curs.fetchall()}

    def select_keys(self, keys: Sequence[str]) -> dict[str, KeyRow]:
        """The stored rows of the given keys (absent keys are left out)."""
        if not keys:
            return {}
        with self.datastore.transaction(commit=False) as curs:
            curs.execute(self._select_keys, (list(keys),))
            return {row["key"]: (row["key"], row["fingerprint"], row["trajectory"]) for row in curs.fetchall()}


class _Cursor:
    """A psycopg cursor that takes the views' ``?`` placeholders."""

    _statements: dict[str, str] = {}

    def __init__(self, cursor: Cursor[Any]) -> None:
        self._cursor = cursor

    @classmethod
    def _sql(cls, sql: str) -> str:
        converted = cls._statements.get(sql)
        if converted is None:
            converted = cls._statements[sql] = sql.replace("?", "%s")
        return converted

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Any:
        return self._cursor.execute(self._sql(sql), params)  # type: ignore[call-overload]

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> Any:
        if rows:
            self._cursor.executemany(self._sql(sql), rows)  # type: ignore[call-overload]

    def fetchone(self) -> Any:
        return self._cursor.fetchone()

    def fetchall(self) -> list[Any]:
        return self._cursor.fetchall()

    @property
    def rowcount(self) -> int:
        return self._cursor.rowcount


class PostgresProjectionStore:
    """Read models in the ledger's PostgreSQL database, on the application's connection pool."""

    dialect = "postgresql"

    def __init__(self, datastore: PostgresDatastore) -> None:
        self.datastore = datastore

    @contextmanager
    def transaction(self, *, write: bool) -> Iterator[_Cursor]:
        with self.datastore.get_connection() as conn, conn.transaction(force_rollback=not write):
            with conn.cursor(row_factory=tuple_row) as cursor:
                yield _Cursor(cursor)

    def close(self) -> None:
        """The pool belongs to the application, which closes it."""
