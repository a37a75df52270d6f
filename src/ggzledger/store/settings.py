"""Which store a --db value names, as the eventsourcing library's environment."""

from __future__ import annotations

import os
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit, urlunsplit

from eventsourcing.utils import get_topic

__all__ = ["StoreError", "store_env", "shown_url", "DEFAULT_DB", "CONNECT_OPTIONS"]

DEFAULT_DB = "ggzledger.db"
# The env key that carries a URL's query parameters (libpq connection options, e.g. sslmode) to the
# connection pool; the library's own factory has no place for them (store/postgres_store.PostgresFactory does).
CONNECT_OPTIONS = "GGZLEDGER_CONNECT_OPTIONS"
# libpq options a URL may carry as ?key=value. The URL's own parts (user, password, host, port,
# database) are not repeated there, and connect_timeout is GGZLEDGER_POSTGRES_CONNECT_TIMEOUT.
_URL_OPTIONS = (
    "sslmode", "sslcert", "sslkey", "sslrootcert", "sslcrl", "sslcrldir", "sslsni", "sslpassword",
    "ssl_min_protocol_version", "ssl_max_protocol_version", "channel_binding", "gssencmode", "krbsrvname",
    "application_name", "options", "target_session_attrs", "passfile", "service", "hostaddr",
    "keepalives", "keepalives_idle", "keepalives_interval", "keepalives_count", "tcp_user_timeout", "requirepeer",
)  # fmt: skip
# The settings an operator may give as GGZLEDGER_POSTGRES_<KEY> (docs/operations.md): (least, most).
_SETTINGS = {
    "POOL_SIZE": (1, 1000),
    "MAX_OVERFLOW": (0, 1000),
    "MAX_WAITING": (0, 100_000),
    "CONNECT_TIMEOUT": (1, 86_400),
    "LOCK_TIMEOUT": (0, 86_400),
    "IDLE_IN_TRANSACTION_SESSION_TIMEOUT": (0, 86_400),
    "CONN_MAX_AGE": (0, 31_536_000),
}


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


def shown_url(url: str) -> str:
    """The URL as it may be shown: a password in it replaced by ``***``."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.rpartition("@")
    user = netloc[0].partition(":")[0]
    return urlunsplit(parts._replace(netloc=f"{user}:***@{netloc[2]}"))


def _postgres_env(url: str) -> dict[str, str]:
    parts = urlsplit(url)
    shown = shown_url(url)
    dbname = parts.path.lstrip("/")
    if not dbname:
        raise StoreError(f"database URL {shown!r} names no database (postgresql://USER@HOST:PORT/DBNAME)")
    try:
        port = parts.port or 5432
    except ValueError:
        raise StoreError(f"database URL {shown!r} has a bad port (1..65535)") from None
    options = _connect_options(parts.query, shown)
    _check_settings()
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
    if options:
        # Only then: without options the library's own factory is used, exactly as before.
        env["PERSISTENCE_MODULE"] = _postgres_factory_topic()
        env[CONNECT_OPTIONS] = urlencode(options)
    return env


def _connect_options(query: str, shown: str) -> list[tuple[str, str]]:
    """The URL's ?key=value connection options; an option ggzledger cannot pass on is refused, never dropped."""
    try:
        options = parse_qsl(query, keep_blank_values=True, strict_parsing=bool(query))
    except ValueError:
        raise StoreError(f"database URL {shown!r} has a malformed query (?key=value&...)") from None
    for key, _ in options:
        if key not in _URL_OPTIONS:
            raise StoreError(
                f"database URL {shown!r}: unknown connection option {key!r} (known: {', '.join(_URL_OPTIONS)})"
            )
    return options


def _check_settings() -> None:
    """Refuse a GGZLEDGER_POSTGRES_<KEY> that is not a whole number in range (the library would raise OSError)."""
    for key, (least, most) in _SETTINGS.items():
        name = f"GGZLEDGER_POSTGRES_{key}"
        value = os.environ.get(name, "")
        if value == "":
            continue  # unset or empty: the default
        if not (value.isascii() and value.isdigit() and least <= int(value) <= most):
            raise StoreError(f"{name} must be a whole number {least}..{most}, not {value[:30]!r}")


def _sqlite_recorder_topic() -> str:
    # Imported here: the adapter imports StoreError from this module.
    from ggzledger.store.sqlite_store import SQLiteLedgerRecorder

    return get_topic(SQLiteLedgerRecorder)


def _postgres_factory_topic() -> str:
    from ggzledger.store.postgres_store import PostgresFactory

    return get_topic(PostgresFactory)


def _postgres_recorder_topic() -> str:
    from ggzledger.store.postgres_store import PostgresLedgerRecorder

    return get_topic(PostgresLedgerRecorder)
