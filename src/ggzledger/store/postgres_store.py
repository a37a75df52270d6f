"""PostgreSQL, the production store: the ledger recorder with its key index, and the projection store."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import Executor
from contextlib import contextmanager
from typing import Any, ClassVar
from urllib.parse import parse_qsl
from uuid import UUID

import psycopg
from eventsourcing.persistence import StoredEvent
from eventsourcing.postgres import PostgresApplicationRecorder, PostgresDatastore
from eventsourcing.postgres import PostgresFactory as LibraryPostgresFactory
from eventsourcing.utils import Environment
from psycopg import Cursor
from psycopg.rows import DictRow, tuple_row
from psycopg.sql import SQL, Identifier

from ggzledger.store.chain import UPGRADE_PAGE, ZERO, ChainedRow, copy_start, extend, upgrade
from ggzledger.store.protocol import KeyRow, Listener
from ggzledger.store.settings import CONNECT_OPTIONS, StoreError

__all__ = ["PostgresLedgerRecorder", "PostgresProjectionStore", "PostgresFactory", "connection_settings"]

# Taken by every transaction that creates tables (events and read models), so
# that processes starting at the same time on a fresh database do not collide.
DDL_LOCK = "SELECT pg_advisory_xact_lock(hashtext('ggzledger.ddl'))"


class PostgresLedgerRecorder(PostgresApplicationRecorder):
    """The library's PostgreSQL recorder plus the ledger-wide key index, in the same transaction.

    The library's table lock stays on (no database functions), so commit order
    equals position order and a follower never skips an event.

    Constructing it checks the server once with a short timeout, so that an
    unreachable server or a missing database is one clear StoreError at once
    rather than a vague pool timeout later.
    """

    # A commit is one round trip that returns once the server has it: nothing to hand over.
    hands_over_commit = False

    def __init__(self, datastore: PostgresDatastore, *, events_table_name: str = "stored_events") -> None:
        if datastore.enable_db_functions:
            # The insert function skips LOCK TABLE: a follower could then miss events.
            raise StoreError("POSTGRES_ENABLE_DB_FUNCTIONS is set: ggzledger needs the table lock it removes; unset it")
        _check_reachable(datastore)
        super().__init__(datastore, events_table_name=events_table_name)
        # The insert function is the path without the table lock: never created, never used.
        del self.sql_create_statements[self.create_insert_function_statement_index]
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
        self._events_table = SQL("{schema}.{table}").format(schema=schema, table=Identifier(self.events_table_name))
        # The event chain (store/chain.py), and where a sealed copy's chain starts (one row, or none).
        self._chain_table = SQL("{schema}.ledger_chain").format(schema=schema)
        self._base_table = SQL("{schema}.ledger_chain_base").format(schema=schema)
        for table in (self._chain_table, self._base_table):
            self.sql_create_statements.append(
                SQL("CREATE TABLE IF NOT EXISTS {table} (position bigint PRIMARY KEY, hash bytea NOT NULL)").format(
                    table=table
                )
            )
        self._upgraded: tuple[int, bytes] | None = None

    def create_table(self) -> None:
        """Create the type, tables and indexes, one process at a time.

        Processes that start together on a fresh database would otherwise race
        in the catalogue (CREATE TYPE has no IF NOT EXISTS; concurrent CREATE
        TABLE IF NOT EXISTS can still collide).
        """
        with self.datastore.transaction(commit=True) as curs:
            curs.execute(DDL_LOCK)
            for statement in self.sql_create_statements:
                text = statement.as_string()
                if text.startswith("CREATE TYPE"):
                    name = f"{self.datastore.schema}.{self.stored_event_type_name}"
                    curs.execute("SELECT to_regtype(%s) IS NOT NULL AS present", (name,))
                    row = curs.fetchone()
                    if row is not None and row["present"]:
                        continue
                curs.execute(statement, prepare=False)
        self.datastore.register_type_adapters()

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

        ``commit_in`` is accepted for the seam's sake and not used: the commit is done
        before this returns (see ``hands_over_commit``).
        """
        return list(super().insert_events(stored_events, keys=keys, expected_head=expected_head, **kwargs) or ())

    def wait_for_commit(self) -> None:
        """Nothing to wait for: insert_events commits before it returns."""

    def listen(self) -> Listener | None:
        """A connection of its own, listening on the channel the library notifies in every write transaction.

        None when it cannot connect: the head is still readable through the pool, so the caller polls.
        """
        settings = connection_settings(self.datastore)
        try:
            connection = psycopg.connect(**settings, autocommit=True, connect_timeout=5)
            connection.execute(SQL("LISTEN {}").format(Identifier(self.channel_name)))
        except psycopg.Error:
            return None
        return _Listener(connection)

    def _insert_events(self, curs: Cursor[DictRow], stored_events: Sequence[StoredEvent], **kwargs: Any) -> None:
        super()._insert_events(curs, stored_events, **kwargs)
        keys: Iterable[KeyRow] | None = kwargs.get("keys")
        if keys:
            # A key another writer claimed first fails the whole transaction with
            # IntegrityError, exactly like a version conflict.
            curs.executemany(self._insert_key, list(keys))

    def _insert_stored_events(self, curs: Cursor[DictRow], stored_events: Sequence[StoredEvent], **kwargs: Any) -> None:
        head: int | None = kwargs.get("expected_head")
        if head is not None:
            # Under the table lock nobody else can append: check that nobody did
            # since the caller read the head. The error is a unique violation so
            # that it surfaces as IntegrityError, the signal to retry from fresh state.
            self._lock_table(curs)
            curs.execute(
                SQL(
                    "DO $$ BEGIN IF (SELECT COALESCE(MAX(notification_id), 0) FROM {table}) > {head} THEN"
                    " RAISE EXCEPTION 'the ledger moved past position {head}' USING ERRCODE = 'unique_violation';"
                    " END IF; END $$"
                ).format(table=self._events_table, head=SQL(str(int(head))))
            )
        super()._insert_stored_events(curs, stored_events, **kwargs)

    def _fetch_ids_after_insert_events(
        self, curs: Cursor[DictRow], stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        """The new events' positions, once their chain rows are written: still under the table lock,
        in the same transaction, so chains cannot interleave."""
        ids = super()._fetch_ids_after_insert_events(curs, stored_events, **kwargs)
        if ids:
            curs.execute(SQL("SELECT hash FROM {chain} ORDER BY position DESC LIMIT 1").format(chain=self._chain_table))
            row = curs.fetchone()
            previous = bytes(row["hash"]) if row is not None else self._chain_start(curs, ids[0])
            rows = [
                (p, s.originator_id, s.originator_version, s.topic, s.state)
                for p, s in zip(ids, stored_events, strict=True)
            ]
            self._insert_links(curs, extend(previous, rows))
        return ids

    def _insert_links(self, curs: Cursor[DictRow], links: list[tuple[int, bytes]]) -> None:
        # One statement for the batch: executemany in pipeline mode is one round trip anyway, but
        # unnest binds two arrays instead of a parameter pair per row.
        curs.execute(
            SQL("INSERT INTO {chain} (position, hash) SELECT * FROM unnest(%s::bigint[], %s::bytea[])").format(
                chain=self._chain_table
            ),
            ([p for p, _ in links], [h for _, h in links]),
        )

    def _chain_start(self, curs: Cursor[DictRow], first: int) -> bytes:
        """The hash an empty chain starts from: a sealed copy's base, else h_0 after chaining the
        events recorded before the chain existed (once: the upgrade, in this same transaction)."""
        curs.execute(SQL("SELECT hash FROM {base}").format(base=self._base_table))
        base = curs.fetchone()
        select = SQL(
            "SELECT notification_id, originator_id, originator_version, topic, state FROM {table}"
            " WHERE notification_id > %s AND notification_id < %s ORDER BY notification_id LIMIT %s"
        ).format(table=self._events_table)

        def read(after: int) -> list[tuple[int, UUID, int, str, bytes]]:
            curs.execute(select, (after, first, UPGRADE_PAGE))
            return [
                (r["notification_id"], r["originator_id"], r["originator_version"], r["topic"], bytes(r["state"]))
                for r in curs.fetchall()
            ]

        def write(links: list[tuple[int, bytes]]) -> None:
            self._insert_links(curs, links)

        previous, upgraded = upgrade(ZERO if base is None else bytes(base["hash"]), read, write)
        self._upgraded = upgraded or self._upgraded
        return previous

    @property
    def chain_upgraded(self) -> tuple[int, bytes] | None:
        """(position, hash) of the chain's head when this recorder chained the events of a ledger
        recorded before the chain existed; None when it did not."""
        return self._upgraded

    def select_chain(self, after: int, stop: int, limit: int) -> list[tuple[int, bytes]]:
        """(position, hash) of the chain rows after ``after`` up to ``stop``, at most ``limit``."""
        statement = SQL(
            "SELECT position, hash FROM {chain} WHERE position > %s AND position <= %s ORDER BY position LIMIT %s"
        ).format(chain=self._chain_table)
        with self.datastore.transaction(commit=False) as curs:
            curs.execute(statement, (after, stop, limit), prepare=True)
            return [(row["position"], bytes(row["hash"])) for row in curs.fetchall()]

    def chain_base(self) -> tuple[int, bytes] | None:
        """(position, hash) of the plain ledger's head a sealed copy's chain starts from; None if not a copy."""
        with self.datastore.transaction(commit=False) as curs:
            curs.execute(SQL("SELECT position, hash FROM {base}").format(base=self._base_table))
            row = curs.fetchone()
        return None if row is None else (row["position"], bytes(row["hash"]))

    def insert_copied(self, rows: Sequence[ChainedRow], base: tuple[int, bytes]) -> None:
        """Insert events of another ledger at their own positions, chained onto ``base`` (see the protocol).

        Under the table lock, as every write of events; the position sequence is then moved past
        the last copied position, so that the next event recorded comes after them.
        """
        with self.datastore.transaction(commit=True) as curs:
            self._lock_table(curs)
            curs.execute(SQL("SELECT position, hash FROM {base}").format(base=self._base_table))
            recorded = curs.fetchone()
            curs.execute(SQL("SELECT 1 FROM {table} LIMIT 1").format(table=self._events_table))
            holds_events = curs.fetchone() is not None
            curs.execute(
                SQL("SELECT position, hash FROM {chain} ORDER BY position DESC LIMIT 1").format(chain=self._chain_table)
            )
            last = curs.fetchone()
            previous = copy_start(
                base,
                None if recorded is None else (recorded["position"], bytes(recorded["hash"])),
                holds_events,
                None if last is None else (last["position"], bytes(last["hash"])),
                rows[0].position if rows else None,
            )
            if recorded is None:
                curs.execute(SQL("INSERT INTO {base} (position, hash) VALUES (%s, %s)").format(base=self._base_table),
                             base)  # fmt: skip
            if not rows:
                return
            curs.executemany(
                SQL(
                    "INSERT INTO {table} (notification_id, originator_id, originator_version, topic, state)"
                    " VALUES (%s, %s, %s, %s, %s)"
                ).format(table=self._events_table),
                [(r.position, r.stream, r.version, r.topic, r.state) for r in rows],
            )
            curs.execute(
                SQL("SELECT setval(pg_get_serial_sequence(%s, 'notification_id'), %s)"),
                (f"{self.datastore.schema}.{self.events_table_name}", rows[-1].position),
            )
            self._insert_links(curs, extend(previous, rows))

    def select_states(self, after: int, limit: int, stop: int) -> list[tuple[int, str, bytes]]:
        """(position, topic, state) of the events after ``after`` up to ``stop``, at most ``limit``."""
        statement = SQL(
            "SELECT notification_id, topic, state FROM {schema}.{table}"
            " WHERE notification_id > %s AND notification_id <= %s ORDER BY notification_id LIMIT %s"
        ).format(schema=Identifier(self.datastore.schema), table=Identifier(self.events_table_name))
        with self.datastore.transaction(commit=False) as curs:
            curs.execute(statement, (after, stop, limit), prepare=True)
            return [(row["notification_id"], row["topic"], row["state"]) for row in curs.fetchall()]

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

    def select_stream_with_positions(self, originator_id: UUID) -> list[tuple[int, StoredEvent]]:
        """Every stored event of one stream, in version order, each with its ledger position.

        Reads that stream only (by the primary key), however large the ledger:
        what ``audit`` needs to replay one trajectory as of a close.
        """
        statement = SQL(
            "SELECT notification_id, originator_version, topic, state FROM {schema}.{table}"
            " WHERE originator_id = %s ORDER BY originator_version"
        ).format(schema=Identifier(self.datastore.schema), table=Identifier(self.events_table_name))
        with self.datastore.transaction(commit=False) as curs:
            curs.execute(statement, (originator_id,))
            return [
                (
                    row["notification_id"],
                    StoredEvent(
                        originator_id=originator_id,
                        originator_version=row["originator_version"],
                        topic=row["topic"],
                        state=bytes(row["state"]),
                    ),
                )
                for row in curs.fetchall()
            ]


class _Listener:
    """A LISTENing psycopg connection, as the seam's Listener."""

    def __init__(self, connection: psycopg.Connection[Any]) -> None:
        self._connection = connection

    def fileno(self) -> int:
        return self._connection.fileno()

    def drain(self) -> None:
        for _ in self._connection.notifies(timeout=0):
            pass

    def close(self) -> None:
        self._connection.close()


def connection_settings(datastore: PostgresDatastore) -> dict[str, Any]:
    """The pool's connection settings (dbname, host, port, user, password), for a connection of one's own."""
    kwargs = datastore.pool.kwargs
    if callable(kwargs):  # psycopg_pool also takes a function that gives them
        kwargs = kwargs()
    return {key: value for key, value in dict(kwargs or {}).items() if key != "row_factory"}


def _check_reachable(datastore: PostgresDatastore) -> None:
    """Connect once with the pool's own settings; raise StoreError saying why that fails."""
    settings = connection_settings(datastore)
    where = f"{settings.get('host')}:{settings.get('port')}"
    try:
        psycopg.connect(**settings, connect_timeout=max(1, int(datastore.pool.timeout))).close()
    except psycopg.Error as error:
        raise StoreError(
            f"cannot connect to PostgreSQL database {settings.get('dbname')!r} at {where}: {_reason(error)}"
        ) from None


def _reason(error: psycopg.Error) -> str:
    """The server's or libpq's own words, without the connection preamble."""
    lines = [line.strip() for line in str(error).strip().splitlines() if line.strip()]
    text = lines[0] if lines else type(error).__name__
    text = text.rsplit(" failed: ", 1)[-1]
    return text.removeprefix("FATAL:").strip()


class _Cursor:
    """A psycopg cursor that takes the views' ``?`` placeholders."""

    _statements: ClassVar[dict[str, str]] = {}

    def __init__(self, cursor: Cursor[Any]) -> None:
        self._cursor = cursor
        self._ddl_locked = False

    @classmethod
    def _sql(cls, sql: str) -> str:
        converted = cls._statements.get(sql)
        if converted is None:
            # Views key tables by ledger position with SQLite's rowid alias, INTEGER PRIMARY
            # KEY; positions are BIGINT here.
            converted = sql.replace("?", "%s").replace("INTEGER PRIMARY KEY", "BIGINT PRIMARY KEY")
            cls._statements[sql] = converted
        return converted

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Any:
        if not self._ddl_locked and sql.lstrip()[:6].upper() in ("CREATE", "DROP T", "DROP I", "ALTER "):
            # Before the transaction's first schema change, as the recorder does.
            self._cursor.execute(DDL_LOCK)
            self._ddl_locked = True
        return self._cursor.execute(self._sql(sql), params)

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> Any:
        if rows:
            self._cursor.executemany(self._sql(sql), rows)

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
        with (
            self.datastore.get_connection() as conn,
            conn.transaction(force_rollback=not write),
            conn.cursor(row_factory=tuple_row) as cursor,
        ):
            yield _Cursor(cursor)

    def checkpoint(self) -> None:
        """Nothing to do here: the server's WAL and dead rows are VACUUM's and the archive's (docs/sealing.md)."""

    def close(self) -> None:
        """The pool belongs to the application, which closes it."""


class PostgresFactory(LibraryPostgresFactory):
    """Builds the datastore as the library does, then adds the URL's options to every connection's settings.

    The library's factory only knows dbname, host, port, user and password; ``?sslmode=require``
    must not be dropped on the way. The pool is not open yet here, so every connection it makes,
    and the adapter's reachability check, gets the options.
    """

    def __init__(self, env: Environment) -> None:
        super().__init__(env)
        options = dict(parse_qsl(env.get(CONNECT_OPTIONS) or "", keep_blank_values=True))
        kwargs = self.datastore.pool.kwargs if self.datastore.pool is not None else None
        if not isinstance(kwargs, dict):  # pragma: no cover - the library's pool takes a dict of settings
            raise StoreError("cannot pass the database URL's options to the library's connection pool")
        kwargs.update(options)
