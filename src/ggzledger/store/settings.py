"""Which store a --db value names, as the eventsourcing library's environment."""

from __future__ import annotations

import os
from urllib.parse import unquote, urlsplit

from eventsourcing.utils import get_topic

__all__ = ["StoreError", "store_env", "DEFAULT_DB"]

DEFAULT_DB = "ggzledger.db"


class StoreError(Exception):
    """The store cannot be used: a bad --db value or an unreachable database."""


def store_env(db: str | None) -> dict[str, str]:
    """The eventsourcing environment for a --db value: a SQLite path or a postgresql:// URL.

    None means ``GGZLEDGER_DB``, else ``ggzledger.db`` in the current directory.
    Raises StoreError for a URL that cannot be used.
    """
    db = db or os.environ.get("GGZLEDGER_DB") or DEFAULT_DB
    if db.startswith(("postgresql://", "postgres://")):
        return _postgres_env(db)
    if "://" in db:
        raise StoreError(f"unsupported database {db!r}: give a SQLite file path or a postgresql:// URL")
    return {
        "PERSISTENCE_MODULE": "eventsourcing.sqlite",
        "SQLITE_DBNAME": db,
        "SQLITE_LOCK_TIMEOUT": "30",
        "APPLICATION_RECORDER_TOPIC": _sqlite_recorder_topic(),
    }


def _postgres_env(url: str) -> dict[str, str]:
    parts = urlsplit(url)
    dbname = parts.path.lstrip("/")
    if not dbname:
        raise StoreError(f"database URL {url!r} names no database (postgresql://USER@HOST:PORT/DBNAME)")
    try:
        port = parts.port or 5432
    except ValueError:
        raise StoreError(f"database URL {url!r} has a bad port") from None
    env = {
        "PERSISTENCE_MODULE": "eventsourcing.postgres",
        "POSTGRES_DBNAME": dbname,
        "POSTGRES_HOST": parts.hostname or "127.0.0.1",
        "POSTGRES_PORT": str(port),
        "POSTGRES_USER": unquote(parts.username or "postgres"),
        "POSTGRES_PASSWORD": unquote(parts.password or ""),
        # Defaults for one ggzledger process; an operator overrides each with
        # GGZLEDGER_POSTGRES_<KEY> in the environment (docs/operations.md).
        # Fail a blocked write after a few seconds instead of waiting forever
        # (the library then retries it a few times).
        "POSTGRES_LOCK_TIMEOUT": "5",
        # Wait at most this long for a connection (the library's default is 30 s).
        "POSTGRES_CONNECT_TIMEOUT": "5",
        # A command needs one connection; serve's worker threads take more, up to 1 + 7.
        "POSTGRES_POOL_SIZE": "1",
        "POSTGRES_MAX_OVERFLOW": "7",
    }
    env["APPLICATION_RECORDER_TOPIC"] = _postgres_recorder_topic()
    return env


def _sqlite_recorder_topic() -> str:
    # Imported here: the adapter imports StoreError from this module.
    from ggzledger.store.sqlite_store import SQLiteLedgerRecorder  # noqa: PLC0415

    return get_topic(SQLiteLedgerRecorder)


def _postgres_recorder_topic() -> str:
    from ggzledger.store.postgres_store import PostgresLedgerRecorder  # noqa: PLC0415

    return get_topic(PostgresLedgerRecorder)
