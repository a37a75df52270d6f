"""The chain each ledger adapter writes with the events: recomputed here with hashlib alone, never with store/chain.py.

An auditor's own script does what :func:`recomputed` does: SHA-256 over the previous hash and
five length-prefixed fields (docs/audit.md, "The event chain").
"""

from __future__ import annotations

import hashlib
import struct
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import pytest
from eventsourcing.persistence import IntegrityError, StoredEvent
from recorder_kinds import KINDS, LEDGER_KINDS, close, postgres_recorder, sqlite_recorder

from ggzledger.store.chain import ChainedRow


@pytest.fixture(params=LEDGER_KINDS)
def recorder(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Any]:
    cls, store = KINDS[request.param]
    made = (
        sqlite_recorder(cls, tmp_path / "events.db")
        if store == "sqlite"
        else postgres_recorder(cls, request.getfixturevalue("postgres_db"))
    )
    yield made
    close(made)


def recomputed(rows: list[tuple[int, UUID, int, str, bytes]], start: bytes = bytes(32)) -> list[tuple[int, bytes]]:
    """The chain as the docs spell it out, written without the code under test."""
    out, previous = [], start
    for position, stream, version, topic, state in rows:
        fields = [str(position).encode(), str(stream).encode(), str(version).encode(), topic.encode(), state]
        data = b"".join(struct.pack(">I", len(f)) + f for f in fields)
        previous = hashlib.sha256(previous + data).digest()
        out.append((position, previous))
    return out


def stored(recorder: Any) -> list[tuple[int, UUID, int, str, bytes]]:
    return [
        (n.id, n.originator_id, n.originator_version, n.topic, n.state)
        for n in recorder.select_notifications(None, 10_000)
    ]


def test_every_batch_is_chained_in_position_order_onto_the_one_before(recorder: Any) -> None:
    a, b = uuid4(), uuid4()
    recorder.insert_events([StoredEvent(a, 1, "t.Opened", b'{"x":1}'), StoredEvent(b, 1, "t.Opened", b"{}")])
    recorder.insert_events([StoredEvent(a, 2, "t.Done", "é".encode())])

    assert recorder.select_chain(0, 100, 100) == recomputed(stored(recorder))
    assert recorder.select_chain(1, 2, 100) == recomputed(stored(recorder))[1:2]
    assert recorder.chain_base() is None and recorder.chain_upgraded is None


def test_a_failed_batch_leaves_no_chain_row(recorder: Any) -> None:
    a = uuid4()
    recorder.insert_events([StoredEvent(a, 1, "t.Opened", b"{}")])
    with pytest.raises(IntegrityError):
        recorder.insert_events([StoredEvent(a, 2, "t.Done", b"{}"), StoredEvent(a, 1, "t.Opened", b"{}")])
    recorder.insert_events([StoredEvent(a, 2, "t.Done", b"{}")])

    chain = recorder.select_chain(0, 100, 100)
    assert chain == recomputed(stored(recorder))
    assert [p for p, _ in chain] == [n[0] for n in stored(recorder)]


def test_copied_rows_keep_their_positions_and_chain_onto_the_base(recorder: Any) -> None:
    a = uuid4()
    base = (9, hashlib.sha256(b"the plain ledger's head").digest())
    first = [ChainedRow(2, a, 1, "t.Opened", b"{}"), ChainedRow(5, a, 2, "t.Done", b"{}")]
    recorder.insert_copied(first, base)
    recorder.insert_copied([ChainedRow(9, a, 3, "t.Done", b"{}")], base)
    after = recorder.insert_events([StoredEvent(a, 4, "t.Done", b"{}")])

    assert list(after) == [10]
    assert [n[0] for n in stored(recorder)] == [2, 5, 9, 10]
    assert recorder.chain_base() == base
    assert recorder.select_chain(0, 100, 100) == recomputed(stored(recorder), base[1])


def test_a_copy_refuses_another_base_rows_before_the_head_and_a_ledger_with_events(recorder: Any) -> None:
    a = uuid4()
    base = (3, bytes(range(32)))
    recorder.insert_copied([ChainedRow(3, a, 1, "t.Opened", b"{}")], base)
    with pytest.raises(IntegrityError):
        recorder.insert_copied([ChainedRow(4, a, 2, "t.Done", b"{}")], (3, bytes(32)))
    with pytest.raises(IntegrityError):
        recorder.insert_copied([ChainedRow(2, a, 2, "t.Done", b"{}")], base)
    assert [n[0] for n in stored(recorder)] == [3]


def test_a_copy_into_a_ledger_that_holds_events_is_refused(recorder: Any) -> None:
    recorder.insert_events([StoredEvent(uuid4(), 1, "t.Opened", b"{}")])
    with pytest.raises(IntegrityError):
        recorder.insert_copied([ChainedRow(5, uuid4(), 1, "t.Opened", b"{}")], (4, bytes(32)))
