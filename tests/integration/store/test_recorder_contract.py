"""The store contract: what ggzledger relies on of an event recorder, held against every kind of recorder.

Tests taking ``recorder`` run on the ledger's two adapters and on the library's plain
recorders: when one fails on the plain recorders too, the library changed. The tests of
:class:`TestWhatTheLedgerAdaptersAdd` take ``ledger_recorder`` and hold what the adapters add.
"""

from __future__ import annotations

import select
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import pytest
from eventsourcing.persistence import IntegrityError, StoredEvent
from recorder_kinds import KINDS, LEDGER_KINDS, close, postgres_recorder, sqlite_recorder

from ggzledger.store import LedgerRecorder


def _made(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Any]:
    cls, store = KINDS[request.param]
    if store == "sqlite":
        made = sqlite_recorder(cls, tmp_path / "events.db")
    else:
        made = postgres_recorder(cls, request.getfixturevalue("postgres_db"))
    yield made
    close(made)


@pytest.fixture(params=list(KINDS))
def recorder(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Any]:
    """Each kind of recorder in turn: the ledger's adapters and the library's plain recorders."""
    yield from _made(request, tmp_path)


@pytest.fixture(params=LEDGER_KINDS)
def ledger_recorder(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Any]:
    """The ledger's two adapters: for what they add to the library's recorders."""
    yield from _made(request, tmp_path)


def events(stream: UUID, versions: range, topic: str = "t.Happened") -> list[StoredEvent]:
    """Stored events of one stream, at the given versions; each state names its stream and version."""
    return [StoredEvent(stream, v, topic, f'{{"s":"{stream.hex[:6]}","v":{v}}}'.encode()) for v in versions]


def everything(recorder: Any) -> list[tuple[int, UUID, int]]:
    """(position, stream, version) of every stored event, in position order."""
    return [(n.id, n.originator_id, n.originator_version) for n in recorder.select_notifications(None, 10_000)]


def test_events_come_back_as_inserted_at_the_positions_returned(recorder: Any) -> None:
    a, b = uuid4(), uuid4()
    assert recorder.max_notification_id() is None

    first = recorder.insert_events([*events(a, range(1, 3)), *events(b, range(1, 2))])
    second = recorder.insert_events(events(a, range(3, 5)))

    assert list(first) == [1, 2, 3]
    assert list(second) == [4, 5]
    assert recorder.max_notification_id() == 5
    assert everything(recorder) == [(1, a, 1), (2, a, 2), (3, b, 1), (4, a, 3), (5, a, 4)]
    notification = recorder.select_notifications(None, 10)[3]
    assert (notification.topic, notification.state) == ("t.Happened", f'{{"s":"{a.hex[:6]}","v":3}}'.encode())
    assert [(e.originator_version, e.state) for e in recorder.select_events(a)] == [
        (e.originator_version, e.state) for e in events(a, range(1, 5))
    ]


def test_notifications_are_selected_by_start_stop_limit_and_topic(recorder: Any) -> None:
    a = uuid4()
    recorder.insert_events([*events(a, range(1, 4), "t.Odd"), *events(a, range(4, 7), "t.Even")])

    def ids(*args: Any, **kwargs: Any) -> list[int]:
        return [n.id for n in recorder.select_notifications(*args, **kwargs)]

    assert ids(None, 10) == [1, 2, 3, 4, 5, 6]
    assert ids(2, 3) == [2, 3, 4]
    assert ids(2, 3, inclusive_of_start=False) == [3, 4, 5]
    assert ids(2, 10, stop=4) == [2, 3, 4]
    assert ids(2, 10, stop=4, inclusive_of_start=False) == [3, 4]
    assert ids(1, 10, topics=["t.Even"]) == [4, 5, 6]
    assert ids(1, 2, topics=["t.Odd", "t.Even"]) == [1, 2]
    assert ids(7, 10) == []


def test_a_version_already_stored_fails_the_whole_batch_and_stores_nothing_of_it(recorder: Any) -> None:
    a, b = uuid4(), uuid4()
    recorder.insert_events(events(a, range(1, 3)))

    with pytest.raises(IntegrityError):
        recorder.insert_events([*events(b, range(1, 3)), *events(a, range(2, 3))])

    assert everything(recorder) == [(1, a, 1), (2, a, 2)]
    # PostgreSQL's sequence does not give back the positions of a failed transaction: later, not next.
    (position,) = recorder.insert_events(events(b, range(1, 2)))
    assert position > 2 and everything(recorder)[-1] == (position, b, 1)


class TestWhatTheLedgerAdaptersAdd:
    """Keys, expected heads, bulk lookups, positions with streams, handed-over commits, listening."""

    def test_every_member_of_the_protocol_is_there(self, ledger_recorder: Any) -> None:
        members = [name for name in vars(LedgerRecorder) if not name.startswith("_")]

        assert len(members) == 15  # 11, and the chain's four (test_event_chain_store.py)
        assert [name for name in members if not hasattr(ledger_recorder, name)] == []
        assert isinstance(ledger_recorder.hands_over_commit, bool)

    def test_keys_are_stored_with_the_events_and_a_key_stored_twice_fails_the_whole_batch(
        self, ledger_recorder: Any
    ) -> None:
        a, b = uuid4(), uuid4()
        ledger_recorder.insert_events(
            events(a, range(1, 2)), keys=[("activity:1", "f1", "T1"), ("record:9", "f9", None)]
        )

        with pytest.raises(IntegrityError):
            ledger_recorder.insert_events(
                events(b, range(1, 2)), keys=[("activity:2", "f2", "T2"), ("activity:1", "fx", "T2")]
            )
        with pytest.raises(IntegrityError):
            ledger_recorder.insert_events(
                events(b, range(1, 2)), keys=[("activity:3", "f3", "T2"), ("activity:3", "f3", "T2")]
            )

        assert everything(ledger_recorder) == [(1, a, 1)]
        assert ledger_recorder.select_keys(["activity:1", "activity:2", "activity:3", "record:9"]) == {
            "activity:1": ("activity:1", "f1", "T1"),
            "record:9": ("record:9", "f9", None),
        }

    def test_an_expected_head_that_the_ledger_moved_past_fails_and_stores_nothing(self, ledger_recorder: Any) -> None:
        a, b = uuid4(), uuid4()
        ledger_recorder.insert_events(events(a, range(1, 3)))

        assert list(ledger_recorder.insert_events(events(a, range(3, 4)), expected_head=2)) == [3]
        with pytest.raises(IntegrityError):
            ledger_recorder.insert_events(events(b, range(1, 2)), keys=[("record:1", "f", None)], expected_head=2)

        assert everything(ledger_recorder) == [(1, a, 1), (2, a, 2), (3, a, 3)]
        assert ledger_recorder.select_keys(["record:1"]) == {}

    def test_keys_and_versions_are_found_however_many_are_asked_for(self, ledger_recorder: Any) -> None:
        streams = [uuid4() for _ in range(1203)]
        stored = [e for i, s in enumerate(streams[:1201]) for e in events(s, range(1, 2 + i % 3))]
        keys = [(f"record:{i}", f"f{i}", None) for i in range(1201)]
        ledger_recorder.insert_events(stored, keys=keys)

        versions = ledger_recorder.max_versions(streams)
        found = ledger_recorder.select_keys([f"record:{i}" for i in range(1203)])

        assert versions == {s: 1 + i % 3 for i, s in enumerate(streams[:1201])}
        assert found == {key[0]: key for key in keys}
        assert ledger_recorder.max_versions([]) == {} and ledger_recorder.select_keys([]) == {}

    def test_one_stream_is_read_with_its_positions_and_states_with_theirs(self, ledger_recorder: Any) -> None:
        a, b = uuid4(), uuid4()
        ledger_recorder.insert_events([*events(a, range(1, 3)), *events(b, range(1, 3)), *events(a, range(3, 4))])

        stream = ledger_recorder.select_stream_with_positions(a)
        states = ledger_recorder.select_states(1, 2, 5)

        assert [(p, e.originator_id, e.originator_version) for p, e in stream] == [(1, a, 1), (2, a, 2), (5, a, 3)]
        assert [e.state for _, e in stream] == [e.state for e in events(a, range(1, 4))]
        assert states == [
            (2, "t.Happened", events(a, range(2, 3))[0].state),
            (3, "t.Happened", events(b, range(1, 2))[0].state),
        ]
        assert ledger_recorder.select_states(3, 10, 4) == [(4, "t.Happened", events(b, range(2, 3))[0].state)]
        assert ledger_recorder.select_stream_with_positions(uuid4()) == []

    def test_a_commit_handed_to_an_executor_is_seen_once_waited_for(self, ledger_recorder: Any) -> None:
        a = uuid4()
        with ThreadPoolExecutor(1) as executor:
            positions = ledger_recorder.insert_events(events(a, range(1, 3)), commit_in=executor)
            ledger_recorder.wait_for_commit()
            ledger_recorder.wait_for_commit()  # nothing more to wait for

        assert list(positions) == [1, 2]
        assert everything(ledger_recorder) == [(1, a, 1), (2, a, 2)]
        assert ledger_recorder.hands_over_commit is (ledger_recorder.datastore.__class__.__name__ == "SQLiteDatastore")

    def test_a_failed_commit_handed_over_is_raised_by_the_wait_and_stores_nothing(self, ledger_recorder: Any) -> None:
        a = uuid4()
        ledger_recorder.insert_events(events(a, range(1, 2)))

        with ThreadPoolExecutor(1) as executor, pytest.raises(IntegrityError):
            ledger_recorder.insert_events(events(a, range(1, 3)), commit_in=executor)
            ledger_recorder.wait_for_commit()

        assert everything(ledger_recorder) == [(1, a, 1)]

    def test_a_listener_wakes_on_a_write_where_the_store_has_notifications(self, ledger_recorder: Any) -> None:
        listener = ledger_recorder.listen()
        if ledger_recorder.hands_over_commit:
            assert listener is None  # SQLite: followers poll
            return
        try:
            ledger_recorder.insert_events(events(uuid4(), range(1, 2)))
            ready, _, _ = select.select([listener.fileno()], [], [], 30)
            assert ready == [listener.fileno()]
            listener.drain()
        finally:
            listener.close()
