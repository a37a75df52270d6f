"""The recorders the store contract is held against: the ledger's two adapters and the library's plain two."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from eventsourcing.postgres import PostgresApplicationRecorder, PostgresDatastore
from eventsourcing.sqlite import SQLiteApplicationRecorder, SQLiteDatastore

from ggzledger.store import SQLiteLedgerRecorder
from ggzledger.store.postgres_store import PostgresLedgerRecorder

# name: (recorder class, store). The ledger's adapters first; the library's plain recorders
# show what the library itself does, so a failure on an adapter alone is ours.
KINDS: dict[str, tuple[type[Any], str]] = {
    "sqlite-ledger": (SQLiteLedgerRecorder, "sqlite"),
    "postgres-ledger": (PostgresLedgerRecorder, "postgresql"),
    "sqlite-plain": (SQLiteApplicationRecorder, "sqlite"),
    "postgres-plain": (PostgresApplicationRecorder, "postgresql"),
}
LEDGER_KINDS = ["sqlite-ledger", "postgres-ledger"]


def sqlite_recorder(cls: type[Any], path: Path) -> Any:
    """A recorder of ``cls`` on a SQLite file, its tables created."""
    recorder = cls(SQLiteDatastore(db_name=str(path)))
    recorder.create_table()
    return recorder


def postgres_recorder(cls: type[Any], url: str) -> Any:
    """A recorder of ``cls`` on the PostgreSQL database at ``url``, its tables created."""
    parts = urlsplit(url)
    datastore = PostgresDatastore(
        dbname=parts.path.lstrip("/"), host=parts.hostname or "127.0.0.1", port=parts.port or 5432,
        user=parts.username or "postgres", password=parts.password or "", pool_size=4, max_overflow=12,
    )  # fmt: skip
    recorder = cls(datastore, events_table_name="stored_events")
    recorder.create_table()
    return recorder


def close(recorder: Any) -> None:
    """Release the recorder's connections (a PostgreSQL pool's threads, a SQLite file's handles)."""
    recorder.datastore.close()
