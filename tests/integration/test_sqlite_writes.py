"""The SQLite event writes: one executemany per batch, positions as the log shows them, tuned durability,
and a commit that runs beside the caller."""

from __future__ import annotations

import sqlite3
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from pathlib import Path
from typing import Any

import pytest

import builders
from builders import as_line
from ggzledger import Ledger, ingest
from ggzledger.domain import Trajectory
from ggzledger.store import StoreError


def opened(number: str) -> Trajectory:
    return Trajectory(
        trajectory=number, record_id=None, fingerprint=f"fp-{number}", patient=f"P-{number}",
        provider="12345678", insurer="3311", opened_on=date(2024, 1, 2), region=None, referrer=None,
    )  # fmt: skip


def test_a_batch_gets_the_positions_the_log_shows(tmp_path: Path) -> None:
    ledger = Ledger(str(tmp_path / "ledger.db"))
    first = ledger.save(*(opened(f"T-{n}") for n in range(3)))
    second = ledger.save(*(opened(f"T-{n}") for n in range(3, 8)))

    saved = [
        (r.notification.id, r.domain_event.originator_id, r.domain_event.originator_version) for r in first + second
    ]
    logged = [(n.id, n.originator_id, n.originator_version) for n in ledger.recorder.select_notifications(1, 100)]

    assert saved == logged
    assert [position for position, _, _ in saved] == list(range(1, 9))
    ledger.close()


def synchronous_of_writes(ledger: Ledger) -> int:
    ledger.save(opened("T-sync"))
    datastore = ledger.recorder.datastore  # type: ignore[attr-defined]
    with datastore.get_connection(commit=True) as connection, connection.cursor() as cursor:
        cursor.execute("PRAGMA synchronous")
        return int(cursor.fetchone()[0])


def test_events_are_written_with_synchronous_full_unless_told_normal(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    full = Ledger(str(tmp_path / "full.db"))
    assert synchronous_of_writes(full) == 2
    full.close()

    monkeypatch.setenv("GGZLEDGER_SQLITE_SYNCHRONOUS", "normal")
    normal = Ledger(str(tmp_path / "normal.db"))
    assert synchronous_of_writes(normal) == 1
    normal.close()


def test_an_unknown_synchronous_setting_is_a_store_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GGZLEDGER_SQLITE_SYNCHRONOUS", "OFF")

    with pytest.raises(StoreError, match="NORMAL, FULL or EXTRA"):
        Ledger(str(tmp_path / "ledger.db"))


def test_a_commit_handed_to_an_executor_is_seen_by_other_connections_once_waited_for(tmp_path: Path) -> None:
    ledger = Ledger(str(tmp_path / "ledger.db"))
    ledger.save(opened("T-0"))
    recorder: Any = ledger.recorder
    stored = [ledger.mapper.to_stored_event(e) for e in opened("T-1").collect_events()]
    with ThreadPoolExecutor(1) as executor:
        positions = recorder.insert_events(stored, commit_in=executor)
        recorder.wait_for_commit()

    other = sqlite3.connect(tmp_path / "ledger.db")
    assert [row[0] for row in other.execute("SELECT rowid FROM stored_events ORDER BY rowid")] == [1, *positions]
    assert positions == [2]
    ledger.close()


def test_an_ingest_of_one_record_batches_committed_beside_it_stores_each_and_sees_the_repeat(tmp_path: Path) -> None:
    ledger = Ledger(str(tmp_path / "ledger.db"))
    first, second = builders.opened("T-1", id="r1"), builders.opened("T-2", id="r2")
    lines = [as_line(first), as_line(second), as_line(first)]
    refused: list[str] = []

    summary = ingest(ledger, lines, lambda n, m: refused.append(m), batch_size=1)

    assert (summary.recorded, summary.unchanged, summary.refused) == (2, 1, 0), refused
    assert ledger.projector.head() == 2
    ledger.close()
