"""The access log: every read of a patient's data, append-only and chained like the events (trust.md §5).

In the spirit of NEN 7513: when (UTC), who (a token's name, or ``os:USER`` for the command line),
what (the request or command), which trajectory, and the outcome. Row ``n``'s hash is
SHA-256(hash of row n-1 ‖ n ‖ at ‖ who ‖ what ‖ trajectory ‖ outcome), each field length-prefixed,
the first row's previous hash 32 zero bytes: a row altered, inserted or deleted breaks the chain
from there on, and ``verify`` names the first row that no longer fits.
"""

from __future__ import annotations

import getpass
import hashlib
import struct
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime
from typing import Any

import attrs

from ggzledger.projections.store import ProjectionStore

__all__ = ["ALLOWED", "NOT_FOUND", "Entry", "Row", "AccessLog", "Broken", "entries", "os_user", "refused"]

ALLOWED = "allowed"
NOT_FOUND = "not found"
_GENESIS = bytes(32)
# Never dropped by a rebuild (which drops only the views' tables). The id is given by the writer,
# one past the last, under a lock (BEGIN IMMEDIATE; an advisory lock on PostgreSQL): no sequence,
# so a role that may only append needs INSERT and SELECT on this one table and nothing else.
_TABLE = (
    "CREATE TABLE IF NOT EXISTS access_log (id BIGINT PRIMARY KEY, at TEXT NOT NULL, who TEXT NOT NULL,"
    " what TEXT NOT NULL, trajectory TEXT, outcome TEXT NOT NULL, hash TEXT NOT NULL)"
)
_INDEX = "CREATE INDEX IF NOT EXISTS access_log_trajectory ON access_log (trajectory)"
# Held to the end of the appending transaction: appenders on PostgreSQL take turns, as BEGIN IMMEDIATE does on SQLite.
_PG_LOCK = "SELECT pg_advisory_xact_lock(hashtext('ggzledger.access_log'))"
_COLUMNS = "id, at, who, what, trajectory, outcome, hash"


def refused(status: int) -> str:
    """The outcome of a request refused with ``status`` (401, 403)."""
    return f"refused {status}"


def os_user() -> str:
    """The ``who`` of a command-line read: the operating-system user running it."""
    try:
        return f"os:{getpass.getuser()}"
    except (KeyError, OSError):  # no name for the uid (a container's bare uid)
        import os

        return f"os:uid-{os.getuid()}"


@attrs.frozen
class Entry:
    """One access to log: who did what to which trajectory (None: none named), with what outcome."""

    who: str
    what: str
    trajectory: str | None
    outcome: str


@attrs.frozen
class Row:
    """A logged access, as ``access-log --json`` prints it."""

    id: int
    at: str
    who: str
    what: str
    trajectory: str | None
    outcome: str
    hash: str

    def to_json(self) -> dict[str, Any]:
        """The row as a JSON object, keys in column order."""
        return attrs.asdict(self)


@attrs.frozen
class Broken:
    """The first row whose hash does not follow from the rows before it (``id`` None: the log is whole)."""

    id: int | None
    rows: int
    # The hash (hex) of the last row that verified: with ``rows``, the log's anchor (None: no row).
    head: str | None = None


def _field(value: str | None) -> bytes:
    # A length of 2**32-1 marks None, so that None and "" hash differently.
    if value is None:
        return b"\xff\xff\xff\xff"
    data = value.encode("utf-8", "surrogateescape")
    return struct.pack(">I", len(data)) + data


def chain_hash(previous: bytes, id: int, at: str, entry: Entry) -> bytes:
    """SHA-256 of the previous row's hash followed by this row's length-prefixed fields."""
    fields = (str(id), at, entry.who, entry.what, entry.trajectory, entry.outcome)
    return hashlib.sha256(previous + b"".join(_field(value) for value in fields)).digest()


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


class AccessLog:
    """The ``access_log`` table of a ledger's database."""

    def __init__(self, store: ProjectionStore) -> None:
        self.store = store

    def create(self) -> None:
        """Create the table and its index when they are not there (a read-only server never calls this)."""
        with self.store.transaction(write=True) as c:
            c.execute(_TABLE)
            c.execute(_INDEX)

    def append(self, entries: Sequence[Entry]) -> None:
        """Append ``entries`` in one transaction, each chained to the one before."""
        if not entries:
            return
        with self.store.transaction(write=True) as c:
            if self.store.dialect == "postgresql":
                c.execute(_PG_LOCK)
            c.execute("SELECT id, hash FROM access_log ORDER BY id DESC LIMIT 1")
            last = c.fetchone()
            id, previous = (0, _GENESIS) if last is None else (int(last[0]), bytes.fromhex(last[1]))
            at = _now()
            rows = []
            for entry in entries:
                id += 1
                previous = chain_hash(previous, id, at, entry)
                rows.append((id, at, entry.who, entry.what, entry.trajectory, entry.outcome, previous.hex()))
            c.executemany(f"INSERT INTO access_log ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)", rows)

    def rows(self, trajectory: str | None = None, since: date | None = None) -> list[Row]:
        """The logged accesses in order, only of ``trajectory`` and from ``since`` (UTC) when given."""
        conditions, params = [], []
        if trajectory is not None:
            conditions.append("trajectory = ?")
            params.append(trajectory)
        if since is not None:
            # ISO timestamps in UTC sort as text.
            conditions.append("at >= ?")
            params.append(since.isoformat())
        where = f" WHERE {' AND '.join(conditions)}" if conditions else ""
        with self.store.transaction(write=False) as c:
            c.execute(f"SELECT {_COLUMNS} FROM access_log{where} ORDER BY id", params)
            return [Row(*row) for row in c.fetchall()]

    def hash_of(self, id: int) -> str | None:
        """The hash (hex) of row ``id``, None when there is no such row."""
        with self.store.transaction(write=False) as c:
            c.execute("SELECT hash FROM access_log WHERE id = ?", (id,))
            found = c.fetchone()
        return None if found is None else str(found[0])

    def verify(self, page: int = 10_000) -> Broken:
        """Recompute the chain from the first row; the first row that does not fit, if any."""
        previous, expected_id, after = _GENESIS, 1, 0
        while True:
            with self.store.transaction(write=False) as c:
                c.execute(f"SELECT {_COLUMNS} FROM access_log WHERE id > ? ORDER BY id LIMIT ?", (after, page))
                rows = [Row(*row) for row in c.fetchall()]
            head = previous.hex() if expected_id > 1 else None
            if not rows:
                return Broken(None, expected_id - 1, head)
            for row in rows:
                entry = Entry(row.who, row.what, row.trajectory, row.outcome)
                # A deleted row shows as a gap in the ids; an inserted or altered one as a hash that differs.
                if row.id != expected_id or chain_hash(previous, row.id, row.at, entry).hex() != row.hash:
                    return Broken(row.id, expected_id - 1, head)
                previous, expected_id = bytes.fromhex(row.hash), expected_id + 1
            after = rows[-1].id


def entries(who: str, what: str, trajectories: Iterable[str | None], outcome: str) -> list[Entry]:
    """One entry per trajectory, in the order given, without repeats; one without a trajectory when none."""
    unique = list(dict.fromkeys(trajectories))
    return [Entry(who, what, trajectory, outcome) for trajectory in unique or [None]]
