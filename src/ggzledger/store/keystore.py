"""The key store: one data key (DEK) per patient subject, wrapped by the KEK, in a database of its own.

erasure.md §6: ``subject_keys`` (the wrapped DEK, found by a keyed HMAC of the patient id,
never the id itself), ``erasures`` (the tombstones), and ``secrets`` (the HMAC key, wrapped
like a DEK). Which trajectory belongs to which subject is kept in the ledger itself (a
``subject:<stream>`` row of its key index, written with the trajectory's opening), so that
an opening and its subject can never be recorded apart.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import sqlite3
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from eventsourcing.persistence import IntegrityError

from ggzledger.store.kek import Kek, KeyStoreError, load_kek
from ggzledger.store.sqlite_store import create_private

__all__ = ["KeyStore", "KeyStoreError", "keys_location"]

KEYS_ENV = "GGZLEDGER_KEYS"

_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS subject_keys (subject_id TEXT PRIMARY KEY, lookup TEXT UNIQUE NOT NULL,"
    " wrapped_dek BYTEA NOT NULL, kek_id TEXT NOT NULL, created_at TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS erasures (subject_id TEXT PRIMARY KEY, erased_at TEXT NOT NULL, basis TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS secrets (name TEXT PRIMARY KEY, wrapped BYTEA NOT NULL, kek_id TEXT NOT NULL)",
)
# How long a process trusts a data key it read: another process may erase it meanwhile
# (erasure.md §2, "other processes cache DEKs only briefly"). The process that erases forgets at once.
CACHE_SECONDS = 60.0


def keys_location(db: str) -> str:
    """Where a ledger's key store is: GGZLEDGER_KEYS, else ``<file>.keys`` beside a SQLite ledger,
    else the database ``<name>_keys`` on the ledger's PostgreSQL server."""
    given = os.environ.get(KEYS_ENV)
    if given:
        return given
    if db.startswith(("postgresql://", "postgres://")):
        parts = urlsplit(db)
        return urlunsplit(parts._replace(path=parts.path.rstrip("/") + "_keys"))
    return db + ".keys"


class KeyStore:
    """The key store at ``location`` (a SQLite path or a postgresql:// URL), opened on first use.

    Minted keys are written at once, or, inside :meth:`deferred`, all together when the
    block ends: always committed before the events that use them are (a crash in between
    leaves an unused key, never an event nobody can read).
    """

    def __init__(self, location: str) -> None:
        self.location = location
        self.is_postgres = location.startswith(("postgresql://", "postgres://"))
        self._connection: Any = None
        self._kek: Kek | None = None
        self._lookup_key: bytes | None = None
        self._deks: dict[str, tuple[bytes | None, float]] = {}
        self._pending: list[tuple[str, str, bytes, str, str]] = []
        self._minted: dict[str, tuple[str, bytes]] = {}
        # Subjects found by lookup, kept as long as data keys are (CACHE_SECONDS; forget() drops them).
        self._found: dict[str, tuple[str, float]] = {}
        self._deferring = 0

    def __getstate__(self) -> dict[str, Any]:
        # Sent to a rebuild's child process: its own connection and caches, the same place.
        return {"location": self.location}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(state["location"])  # type: ignore[misc]

    # The KEK and the connection.

    @property
    def kek(self) -> Kek:
        """The KEK from the environment (or the generated file beside a SQLite key store, never
        generated while the key store holds keys: a new KEK could not open them)."""
        return self._load_kek(self._wrapped_by)

    def _load_kek(self, wrapped_by: Callable[[], str | None]) -> Kek:
        # Inside a transaction the caller says what the key store holds (no nested transaction).
        if self._kek is None:
            self._kek = load_kek(None if self.is_postgres else Path(self.location + ".kek"), wrapped_by)
        return self._kek

    def _wrapped_by(self) -> str | None:
        """The id of the KEK that wrapped the key store's keys; None while it holds none (or does not exist)."""
        if not self.exists():
            return None
        with self._transaction() as c:
            c.execute("SELECT kek_id FROM secrets UNION ALL SELECT kek_id FROM subject_keys LIMIT 1")
            row = c.fetchone()
        return None if row is None else str(row[0])

    def exists(self) -> bool:
        """True when the key store has been created (a SQLite file that exists; always on PostgreSQL)."""
        return self.is_postgres or Path(self.location).exists()

    def _connect(self) -> Any:
        if self._connection is None:
            self._connection = _open_postgres(self.location) if self.is_postgres else _open_sqlite(self.location)
        return self._connection

    @contextmanager
    def _transaction(self) -> Iterator[Any]:
        connection = self._connect()
        cursor = connection.cursor()
        if not self.is_postgres:
            cursor.execute("BEGIN IMMEDIATE")
        try:
            yield _Cursor(cursor, self.is_postgres)
        except BaseException:
            connection.rollback()
            raise
        else:
            connection.commit()
        finally:
            cursor.close()

    def close(self) -> None:
        """Close the connection (a later use opens it again)."""
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    # Subjects and their data keys.

    def lookup_of(self, patient: str) -> str:
        """The keyed HMAC the key store finds a patient by (hex): never an unsalted hash (erasure.md §4)."""
        if self._lookup_key is None:
            self._lookup_key = self._secret("lookup")
        return hmac.new(self._lookup_key, patient.encode(), hashlib.sha256).hexdigest()

    def find(self, patient: str) -> str | None:
        """The subject of a patient with a data key, or None (never seen, or erased)."""
        lookup = self.lookup_of(patient)
        minted = self._minted.get(lookup)
        if minted is not None:
            return minted[0]
        found = self._found.get(lookup)
        if found is not None and found[1] > time.monotonic():
            return found[0]
        with self._transaction() as c:
            c.execute("SELECT subject_id FROM subject_keys WHERE lookup = ?", (lookup,))
            row = c.fetchone()
        if row is None:
            return None
        if len(self._found) > 100_000:
            self._found.clear()
        self._found[lookup] = (str(row[0]), time.monotonic() + CACHE_SECONDS)
        return str(row[0])

    def subject_for(self, patient: str) -> tuple[str, bytes]:
        """(subject, DEK) of a patient: the one stored, else a new random subject and key (minted)."""
        lookup = self.lookup_of(patient)
        minted = self._minted.get(lookup)
        if minted is not None:
            return minted
        subject = self.find(patient)
        if subject is not None:
            dek = self.dek(subject)
            if dek is not None:
                minted = self._minted[lookup] = (subject, dek)
                return minted
        subject, dek = uuid.uuid4().hex, os.urandom(32)
        kek = self.kek
        self._pending.append((subject, lookup, kek.wrap(dek, subject), kek.id, _now()))
        self._minted[lookup] = (subject, dek)
        self._deks[subject] = (dek, time.monotonic() + CACHE_SECONDS)
        if not self._deferring:
            self.flush()
        return subject, dek

    @contextmanager
    def deferred(self) -> Iterator[None]:
        """Keys minted inside the block are written in one transaction when :meth:`flush` is called (or at its end)."""
        self._deferring += 1
        try:
            yield
        finally:
            self._deferring -= 1
        if not self._deferring:
            self.flush()

    def flush(self) -> None:
        """Commit the minted keys. Another process that minted for the same patient first makes this
        raise IntegrityError (the batch is judged again, and then finds that subject)."""
        if not self._pending:
            # Found subjects are remembered for one batch only: another process may erase them.
            self._minted.clear()
            return
        pending, self._pending = self._pending, []
        try:
            with self._transaction() as c:
                c.executemany(
                    "INSERT INTO subject_keys (subject_id, lookup, wrapped_dek, kek_id, created_at)"
                    " VALUES (?, ?, ?, ?, ?)",
                    pending,
                )
        except (sqlite3.IntegrityError, _pg_integrity_error()) as error:
            self.forget_all()
            raise IntegrityError(f"another writer minted a patient's key first: {error}") from None
        # Committed: found from now on like any stored subject (the opening's seal looks it up again).
        until = time.monotonic() + CACHE_SECONDS
        for _subject, lookup, _wrapped, _kek, _at in pending:
            minted = self._minted.get(lookup)
            if minted is not None:
                self._found[lookup] = (minted[0], until)
        self._minted.clear()

    def dek(self, subject: str) -> bytes | None:
        """The data key of a subject; None when it was erased (or never stored here)."""
        cached = self._deks.get(subject)
        if cached is not None and cached[1] > time.monotonic():
            return cached[0]
        with self._transaction() as c:
            c.execute("SELECT wrapped_dek, kek_id FROM subject_keys WHERE subject_id = ?", (subject,))
            row = c.fetchone()
        dek = None if row is None else self._unwrap(bytes(row[0]), str(row[1]), subject)
        if len(self._deks) > 100_000:
            self._deks.clear()
        self._deks[subject] = (dek, time.monotonic() + CACHE_SECONDS)
        return dek

    def forget(self, subject: str) -> None:
        """Drop a subject's cached data key (after its erasure), and the patient found for it."""
        self._deks.pop(subject, None)
        for lookup in [lookup for lookup, (found, _dek) in self._minted.items() if found == subject]:
            del self._minted[lookup]
        for lookup in [lookup for lookup, (found, _until) in self._found.items() if found == subject]:
            del self._found[lookup]

    def forget_all(self) -> None:
        """Drop every cached key and anything minted but not written."""
        self._deks.clear()
        self._minted.clear()
        self._found.clear()
        self._pending.clear()

    # Erasure.

    def erase(self, subject: str, basis: str, erased_at: str) -> bool:
        """Delete the subject's data key and write its tombstone, in one transaction.

        False when there was no key (erased before): the tombstone is written all the same.
        """
        with self._transaction() as c:
            c.execute("DELETE FROM subject_keys WHERE subject_id = ?", (subject,))
            deleted = bool(c.rowcount)
            c.execute(
                "INSERT INTO erasures (subject_id, erased_at, basis) VALUES (?, ?, ?) ON CONFLICT (subject_id) DO NOTHING",
                (subject, erased_at, basis),
            )
        self.forget(subject)
        return deleted

    def tombstones(self) -> dict[str, tuple[str, str]]:
        """Every erased subject: (erased_at, basis)."""
        with self._transaction() as c:
            c.execute("SELECT subject_id, erased_at, basis FROM erasures")
            return {str(s): (str(at), str(basis)) for s, at, basis in c.fetchall()}

    def checkpoint(self) -> None:
        """Nothing of a deleted key may linger: a SQLite key store keeps no -wal (journal_mode=DELETE) and
        overwrites deleted rows (secure_delete=ON); this also drops the journal's free pages (VACUUM)."""
        if not self.is_postgres and self._connection is not None:
            self._connection.execute("VACUUM")

    # The KEK.

    def rotate(self, new: Kek) -> tuple[int, int]:
        """Wrap every data key and secret again under ``new``, in one transaction: (data keys, secrets)."""
        old = self.kek
        with self._transaction() as c:
            c.execute("SELECT subject_id, wrapped_dek, kek_id FROM subject_keys")
            keys = [
                (new.wrap(self._unwrap(bytes(w), str(k), str(s)), str(s)), new.id, str(s)) for s, w, k in c.fetchall()
            ]
            c.execute("SELECT name, wrapped, kek_id FROM secrets")
            secrets = [
                (new.wrap(self._unwrap(bytes(w), str(k), f"secret:{n}"), f"secret:{n}"), new.id, str(n))
                for n, w, k in c.fetchall()
            ]
            c.executemany("UPDATE subject_keys SET wrapped_dek = ?, kek_id = ? WHERE subject_id = ?", keys)
            c.executemany("UPDATE secrets SET wrapped = ?, kek_id = ? WHERE name = ?", secrets)
        self._kek = new
        self.forget_all()
        del old
        return len(keys), len(secrets)

    def _unwrap(self, wrapped: bytes, kek_id: str, subject: str) -> bytes:
        kek = self._load_kek(lambda: kek_id)
        if kek_id != kek.id:
            raise KeyStoreError(
                f"the KEK from {kek.source} (id {kek.id}) is not the one the key store's keys are wrapped with"
                f" (id {kek_id}): give that KEK (GGZLEDGER_KEK or GGZLEDGER_KEK_FILE)"
            )
        return kek.unwrap(wrapped, subject)

    def _secret(self, name: str) -> bytes:
        """A key-store-wide secret (the lookup's HMAC key): made on first use, wrapped by the KEK."""
        with self._transaction() as c:
            c.execute("SELECT wrapped, kek_id FROM secrets WHERE name = ?", (name,))
            row = c.fetchone()
            if row is None:
                kek = self._load_kek(lambda: None)  # the first secret: nothing is wrapped yet
                secret = os.urandom(32)
                c.execute(
                    "INSERT INTO secrets (name, wrapped, kek_id) VALUES (?, ?, ?) ON CONFLICT (name) DO NOTHING",
                    (name, kek.wrap(secret, f"secret:{name}"), kek.id),
                )
                c.execute("SELECT wrapped, kek_id FROM secrets WHERE name = ?", (name,))
                row = c.fetchone()
        return self._unwrap(bytes(row[0]), str(row[1]), f"secret:{name}")


class _Cursor:
    """A cursor taking ``?`` placeholders on either backend."""

    def __init__(self, cursor: Any, postgres: bool) -> None:
        self._cursor = cursor
        self._postgres = postgres

    def _sql(self, sql: str) -> str:
        return sql.replace("?", "%s") if self._postgres else sql

    def execute(self, sql: str, params: tuple[Any, ...] = ()) -> None:
        self._cursor.execute(self._sql(sql), params)

    def executemany(self, sql: str, rows: list[Any]) -> None:
        if rows:
            self._cursor.executemany(self._sql(sql), rows)

    def fetchone(self) -> Any:
        return self._cursor.fetchone()

    def fetchall(self) -> list[Any]:
        return list(self._cursor.fetchall())

    @property
    def rowcount(self) -> int:
        return int(self._cursor.rowcount)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _open_sqlite(path: str) -> sqlite3.Connection:
    """The SQLite key store: 0600, no -wal (a rollback journal, deleted at each commit), deleted rows zeroed."""
    create_private(path)
    try:
        connection = sqlite3.connect(path, timeout=30, isolation_level=None, check_same_thread=False)
        connection.execute("PRAGMA journal_mode=DELETE")
        connection.execute("PRAGMA secure_delete=ON")
        connection.execute("PRAGMA synchronous=FULL")
        for statement in _SCHEMA:
            connection.execute(statement.replace("BYTEA", "BLOB"))
    except sqlite3.Error as error:
        raise KeyStoreError(f"cannot open the key store {path}: {error}") from None
    return connection


def _pg_integrity_error() -> type[Exception]:
    try:
        import psycopg
    except ImportError:  # pragma: no cover - psycopg comes with eventsourcing[postgres]
        return sqlite3.IntegrityError
    return psycopg.errors.IntegrityError


def _open_postgres(url: str) -> Any:
    """The PostgreSQL key store: its own database, created (by the ledger's role) when it may."""
    import psycopg

    from ggzledger.store.settings import shown_url

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    try:
        connection = psycopg.connect(url, connect_timeout=5)
    except psycopg.OperationalError as error:
        if f'"{name}" does not exist' not in str(error):
            raise KeyStoreError(f"cannot connect to the key store {shown_url(url)}: {error}".strip()) from None
        _create_database(url, name)
        connection = psycopg.connect(url, connect_timeout=5)
    with connection.cursor() as cursor:
        # Tables that are there are not made again: a role that may only read them (serve --read-only,
        # docs/operations.md) opens the key store as well as its owner does.
        cursor.execute("SELECT to_regclass('subject_keys'), to_regclass('erasures'), to_regclass('secrets')")
        present = cursor.fetchone()
        if present is None or None in present:
            # One process at a time: concurrent CREATE TABLE IF NOT EXISTS can still collide in the catalogue.
            cursor.execute("SELECT pg_advisory_xact_lock(hashtext('ggzledger.keys.ddl'))")
            try:
                for statement in _SCHEMA:
                    cursor.execute(statement)
            except psycopg.errors.InsufficientPrivilege as error:
                connection.close()
                raise KeyStoreError(
                    f"the key store {shown_url(url)} has no tables and this role may not make them"
                    f" ({str(error).strip().splitlines()[0]}): open it once as the ledger's owner"
                ) from None
    connection.commit()
    return connection


def _create_database(url: str, name: str) -> None:
    import psycopg
    from psycopg.sql import SQL, Identifier

    from ggzledger.store.settings import shown_url

    parts = urlsplit(url)
    # Through the server's maintenance database: the key store's own does not exist yet.
    admin = urlunsplit(parts._replace(path="/postgres"))
    try:
        with psycopg.connect(admin, autocommit=True, connect_timeout=5) as connection:
            connection.execute(SQL("CREATE DATABASE {}").format(Identifier(name)))
    except (psycopg.errors.DuplicateDatabase, psycopg.errors.UniqueViolation):
        return  # another process made it first (at the same moment: the catalogue's unique index says so)
    except psycopg.Error as error:
        raise KeyStoreError(
            f"the key store database {name!r} does not exist and cannot be created ({str(error).strip()});"
            f' create it (CREATE DATABASE "{name}" OWNER <the ledger\'s role>) or set {KEYS_ENV} to another'
            f" database URL or a file path (docs/sealing.md); tried {shown_url(admin)}"
        ) from None
