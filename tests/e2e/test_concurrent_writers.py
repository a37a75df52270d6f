"""Several ingest processes writing the same trajectories at once end where one process writing it all ends."""

from __future__ import annotations

from pathlib import Path

from ggzledger import Ledger, ingest
from processes import run_cli, start_cli
from workload import MONTHS, as_lines, ingest_summary, writer_records


def state(db: str) -> tuple[int, list[list[dict[str, object]]]]:
    """The number of stored events and every month's declarations."""
    ledger = Ledger(db)
    try:
        events = len(ledger.recorder.select_notifications(start=0, limit=1_000_000, inclusive_of_start=False))
        return events, [ledger.declarations(month) for month in MONTHS]
    finally:
        ledger.close()


def test_three_writers_of_the_same_trajectories_end_as_one_writer_of_all_three_files(db: str, tmp_path: Path) -> None:
    files = []
    for tag in ("A", "B", "C"):
        path = tmp_path / f"{tag}.jsonl"
        path.write_bytes(as_lines(writer_records(tag)))
        files.append(path)
    reference = str(tmp_path / "reference.db")
    one = Ledger(reference)
    expected_recorded = sum(ingest(one, path.read_bytes().splitlines(), lambda n, m: None).recorded for path in files)
    one.close_month("2017-02")
    one.close()
    # Create the tables first, so that the writers race on records, not on DDL.
    Ledger(db).close()

    writers = [start_cli("--db", db, "ingest", str(path)) for path in files]
    summaries = [ingest_summary(writer) for writer in writers]

    assert sum(recorded for recorded, _, _ in summaries) == expected_recorded
    assert all(refused == 0 for _, _, refused in summaries)
    closed = run_cli("--db", db, "close", "2017-02")
    assert closed.returncode == 0, closed.stderr
    assert state(db) == state(reference)
