"""Several ingest processes writing the same trajectories at once end where one process writing it all ends."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from conftest import run_cli
from workload import MONTHS, as_lines, writer_records

from ggzledger import Ledger, ingest

SUMMARY = re.compile(r"recorded (\d+), unchanged (\d+), refused (\d+)")


def start_ingest(db: str, path: Path) -> subprocess.Popen[str]:
    env = {key: value for key, value in os.environ.items() if key != "GGZLEDGER_DB"}
    return subprocess.Popen(
        [sys.executable, "-m", "ggzledger", "--db", db, "ingest", str(path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


def finish(process: subprocess.Popen[str]) -> tuple[int, int, int]:
    out, err = process.communicate(timeout=300)
    assert process.returncode == 0, err
    match = SUMMARY.search(out)
    assert match, out
    return int(match[1]), int(match[2]), int(match[3])


def state(db: str) -> tuple[int, list[list[dict[str, object]]]]:
    """The number of stored events and every month's declarations."""
    ledger = Ledger(db)
    try:
        events = len(ledger.recorder.select_notifications(start=0, limit=1_000_000, inclusive_of_start=False))
        return events, [ledger.declarations(month) for month in MONTHS]
    finally:
        ledger.close()


def test_two_writers_of_the_same_trajectories_end_as_one_writer_of_both_files(db: str, tmp_path: Path) -> None:
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

    writers = [start_ingest(db, path) for path in files]
    summaries = [finish(writer) for writer in writers]

    assert sum(recorded for recorded, _, _ in summaries) == expected_recorded
    assert all(refused == 0 for _, _, refused in summaries)
    closed = run_cli("--db", db, "close", "2017-02")
    assert closed.returncode == 0, closed.stderr
    assert state(db) == state(reference)
