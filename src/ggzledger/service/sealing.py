"""Sealing a plain ledger: its events copied into a new, sealed ledger at the same positions (seal --into)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import attrs
from eventsourcing.utils import resolve_topic

from ggzledger.audit.access_log import AccessLog
from ggzledger.domain import trajectory_id
from ggzledger.domain.errors import NotAllowed
from ggzledger.progress import Progress
from ggzledger.service.dbc_tables import TABLE_NAME as DBC_TABLES
from ggzledger.service.ledger import Ledger
from ggzledger.service.tariff_storage import LoadedTexts
from ggzledger.service.tokens import Tokens
from ggzledger.store import head_of
from ggzledger.store.chain import ZERO, ChainedRow, extend
from ggzledger.store.sealing import OPENED_TOPIC

__all__ = ["Copied", "seal_into"]

# Events copied per transaction: a large ledger is copied in batches, each chained onto the last.
BATCH = 5_000
# Ledger-wide tables beside the events that the new ledger must have too (the views are rebuilt).
_KEYS = "SELECT key, fingerprint, trajectory FROM ledger_keys ORDER BY key"
_TARIFFS = "SELECT version, csv, loaded FROM tariff_tables ORDER BY version"
_DBC_TABLES = "SELECT version, csv, loaded FROM dbc_tables ORDER BY version"


@attrs.frozen
class Copied:
    """What seal --into copied: events, the new head (the old one), and the patients it minted keys for."""

    events: int
    head: int
    subjects: int


def seal_into(ledger: Ledger, into: str, progress: Any = None) -> Copied:
    """Copy the plain ``ledger`` into a new sealed ledger at ``into``: every event at its position, with its
    stream, version, timestamp and stored fields, the personal ones sealed; its chain starts from the plain
    ledger's head hash, so anchors kept of the old ledger still tie in. The key index and the loaded tariff
    tables are copied; the views are the caller's to bring up to date (rebuilt from the copy).

    ``progress``: a context manager giving a :class:`~ggzledger.progress.Progress` (or None).
    Raises NotAllowed when ``ledger`` is sealed already or ``into`` is not a new, empty ledger. The old
    ledger is only read. Interrupted, the new ledger is incomplete: delete it and run again.
    """
    if ledger.keys is not None:
        raise NotAllowed("this ledger is sealed already: nothing to copy")
    ledger.wait_for_commit()
    head = head_of(ledger.recorder)
    new = Ledger(into)
    try:
        if new.keys is None or head_of(new.recorder):
            raise NotAllowed(f"{into} is not a new, empty ledger: seal --into needs one")
        base = (head, _head_hash(ledger, head))
        sealer = new.mapper.sealer
        assert sealer is not None  # a new ledger is sealed
        copied = 0
        # Each copied trajectory's subject, by stream: its records' fingerprints are keyed with it.
        subjects: dict[UUID, str] = {}
        with progress if progress is not None else _nothing() as bar:
            after = 0
            while after < head:
                page = ledger.recorder.select_notifications(after, BATCH, head, inclusive_of_start=False)
                if not page:
                    break
                rows = []
                with sealer.keys.deferred():
                    for n in page:
                        rows.append(
                            ChainedRow(
                                n.id,
                                _uuid(n.originator_id),
                                n.originator_version,
                                n.topic,
                                _resealed(ledger, new, n, subjects),
                            )
                        )
                new.recorder.insert_copied(rows, base)
                copied += len(rows)
                after = page[-1].id
                if bar is not None:
                    bar(after, head)
        minted = sealer.take_keys()
        _copy_tables(ledger, new, minted, subjects)
        return Copied(copied, head, len({subject for _key, subject, _number in minted}))
    finally:
        new.close()


def _uuid(value: Any) -> UUID:
    return value if isinstance(value, UUID) else UUID(str(value))


def _resealed(ledger: Ledger, new: Ledger, n: Any, subjects: dict[UUID, str]) -> bytes:
    """A plain stored state as the sealed ledger stores it: decoded as stored (no upcast), its record
    fingerprint keyed with its patient's data key (Sealer.keyed_fingerprint), sealed, encoded."""
    state = ledger.mapper.decode_state(n.state)
    sealer = new.mapper.sealer
    assert sealer is not None
    stream = _uuid(n.originator_id)
    if n.topic == OPENED_TOPIC:
        subjects[stream] = sealer.subject_of_patient(state["patient"])
    subject = subjects.get(stream)
    if subject is not None and state.get("fingerprint"):
        keyed = sealer.keyed_fingerprint(state["fingerprint"], subject)
        assert keyed is not None  # minted in this copy, never erased
        state["fingerprint"] = keyed
    sealer.seal(resolve_topic(n.topic), n.topic, state, n.originator_id)
    data = new.mapper.transcoder.encode(state)
    if new.mapper.compressor or new.mapper.cipher:
        data = new.mapper._seal(data)
    return data


def _head_hash(ledger: Ledger, head: int) -> bytes:
    """The chain hash of the plain ledger's head: its chain row, or (a ledger from before the chain) computed."""
    if head == 0:
        return ZERO
    found = ledger.recorder.select_chain(head - 1, head, 1)
    if found:
        return bytes(found[-1][1])
    previous, after = ZERO, 0
    while after < head:
        page = ledger.recorder.select_notifications(after, BATCH, head, inclusive_of_start=False)
        if not page:
            break
        links = extend(previous, ((n.id, n.originator_id, n.originator_version, n.topic, n.state) for n in page))
        previous, after = links[-1][1], page[-1].id
    return previous


def _copy_tables(
    ledger: Ledger, new: Ledger, minted: list[tuple[str, str, str | None]], subjects: dict[UUID, str]
) -> None:
    """The key index (its record fingerprints keyed as the events', and each trajectory's subject) and the
    loaded tariff tables, into the new ledger."""
    sealer = new.mapper.sealer
    assert sealer is not None
    with ledger.store.transaction(write=False) as c:
        c.execute(_KEYS)
        keys = []
        for key, fingerprint, number in c.fetchall():
            subject = subjects.get(trajectory_id(number)) if number is not None else None
            if subject is not None:
                fingerprint = sealer.keyed_fingerprint(fingerprint, subject) or fingerprint
            keys.append((key, fingerprint, number))
        try:
            c.execute(_TARIFFS)
            tariffs = [tuple(row) for row in c.fetchall()]
        except Exception:  # no tariff table was ever loaded into the old ledger
            tariffs = []
    dbc_tables = _rows_if_any(ledger, _DBC_TABLES)
    with new.store.transaction(write=True) as c:
        c.executemany("INSERT INTO ledger_keys (key, fingerprint, trajectory) VALUES (?, ?, ?)", [*keys, *minted])
        c.executemany("INSERT INTO tariff_tables (version, csv, loaded) VALUES (?, ?, ?)", tariffs)
        if dbc_tables:
            c.execute(LoadedTexts(new.store, DBC_TABLES).create)
            c.executemany("INSERT INTO dbc_tables (version, csv, loaded) VALUES (?, ?, ?)", dbc_tables)
    _copy_access(ledger, new)


# The access log (its rows as they are, so its chain still verifies) and the tokens (so the log's names
# stay unambiguous and the same clients go on working): records an auditor and NEN 7513 ask to keep.
_ACCESS = (
    ("access_tokens", "name, role, hash, created, revoked"),
    ("access_log", "id, at, who, what, trajectory, outcome, hash"),
)


def _rows_if_any(ledger: Ledger, query: str) -> list[tuple[Any, ...]]:
    """The rows of a table that exists only once something was loaded into it; none when it does not exist."""
    try:
        with ledger.store.transaction(write=False) as c:
            c.execute(query)
            return [tuple(row) for row in c.fetchall()]
    except Exception:  # the table was never created in the old ledger
        return []


def _copy_access(ledger: Ledger, new: Ledger) -> None:
    """The plain ledger's tokens and access log, row for row, into the new ledger (when it has them)."""
    AccessLog(new.store).create()
    Tokens(new.store).create()
    for table, columns in _ACCESS:
        try:
            with ledger.store.transaction(write=False) as c:
                c.execute(f"SELECT {columns} FROM {table}")
                rows = [tuple(row) for row in c.fetchall()]
        except Exception:  # a ledger from before the table existed
            continue
        marks = ", ".join("?" for _ in columns.split(", "))
        with new.store.transaction(write=True) as c:
            c.executemany(f"INSERT INTO {table} ({columns}) VALUES ({marks})", rows)


class _nothing:
    def __enter__(self) -> Progress | None:
        return None

    def __exit__(self, *exc: object) -> None:
        return None


def make_plain(ledger: Ledger) -> None:
    """Mark a new, empty ledger plain: its personal fields are stored in clear, as before sealing existed.

    For measuring what sealing costs (``ggzledger bench --plain``); a ledger is never made plain
    otherwise. Raises NotAllowed when the ledger holds events.
    """
    if head_of(ledger.recorder):
        raise NotAllowed("only a new, empty ledger can be made plain")
    with ledger.store.transaction(write=True) as c:
        c.execute("UPDATE ledger_settings SET value = '0' WHERE name = 'sealed'")
    ledger.keys = None
    ledger.mapper.sealer = None
