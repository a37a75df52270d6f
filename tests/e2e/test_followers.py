"""Long-running followers beside writer processes: `feed --follow` and `project --follow`, on both stores."""

from __future__ import annotations

import signal
import subprocess
import threading
import time
from pathlib import Path

import orjson

from builders import HENK, opened
from ggzledger import Ledger
from ggzledger.feed.public import TOPICS
from processes import run_cli, start_cli
from workload import as_lines, ingest_summary, writer_records


def collect(process: subprocess.Popen[bytes]) -> list[bytes]:
    """The process's output lines, gathered in a thread while it runs."""
    lines: list[bytes] = []

    def read() -> None:
        assert process.stdout is not None
        lines.extend(process.stdout)

    threading.Thread(target=read, daemon=True).start()
    return lines


def public_positions(db: str) -> list[int]:
    ledger = Ledger(db)
    try:
        stored = ledger.recorder.select_notifications(start=0, limit=1_000_000, topics=TOPICS, inclusive_of_start=False)
        return [n.id for n in stored]
    finally:
        ledger.close()


def wait_until(condition, seconds: float = 60) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def write_files(tmp_path: Path, tags: str) -> list[Path]:
    paths = []
    for tag in tags:
        path = tmp_path / f"{tag}.jsonl"
        path.write_bytes(as_lines(writer_records(tag, trajectories=40)))
        paths.append(path)
    return paths


def test_a_feed_follower_receives_every_event_of_several_writers_once_in_order(db: str, tmp_path: Path) -> None:
    files = write_files(tmp_path, "ABC")
    Ledger(db).close()
    reader = start_cli("--db", db, "feed", "--follow")
    received = collect(reader)

    writers = [start_cli("--db", db, "ingest", str(path)) for path in files]
    recorded = sum(ingest_summary(writer)[0] for writer in writers)
    closed = run_cli("--db", db, "close", "2017-02")
    assert closed.returncode == 0, closed.stderr
    expected = public_positions(db)
    wait_until(lambda: len(received) >= len(expected))
    # A duplicate would come before anything recorded later: once a marker recorded now has arrived,
    # everything before it is all the follower will send of the writers' events.
    marker = run_cli("--db", db, "ingest", "-", input=as_lines([opened("T-MARKER", "2017-03-01")]))
    assert marker.returncode == 0, marker.stderr
    markers = public_positions(db)[len(expected) :]
    assert markers, "the marker is a public event"
    wait_until(lambda: len(received) >= len(expected) + len(markers))
    reader.send_signal(signal.SIGINT)
    _, err = reader.communicate(timeout=30)

    assert reader.returncode == 0, err
    assert err == b""
    lines = [orjson.loads(line) for line in received]
    assert [line["position"] for line in lines] == expected + markers
    lines = lines[: len(expected)]
    closes = [line for line in lines if line["type"] == "month_closed"]
    assert len(lines) == recorded + len(closes)
    assert [c["data"]["month"] for c in closes] == ["2016-11", "2016-12", "2017-01", "2017-02"]


def test_a_feed_follower_started_after_a_position_resumes_right_after_it(db: str, tmp_path: Path) -> None:
    (first, second) = write_files(tmp_path, "AB")
    assert run_cli("--db", db, "ingest", str(first)).returncode == 0
    before = public_positions(db)
    resume_after = before[len(before) // 2]
    reader = start_cli("--db", db, "feed", "--follow", "--after", str(resume_after))
    received = collect(reader)

    assert run_cli("--db", db, "ingest", str(second)).returncode == 0
    expected = [position for position in public_positions(db) if position > resume_after]
    wait_until(lambda: len(received) >= len(expected))
    reader.send_signal(signal.SIGTERM)
    reader.communicate(timeout=30)

    assert reader.returncode == 0
    assert [orjson.loads(line)["position"] for line in received] == expected


def test_project_follow_keeps_the_read_models_at_the_head_beside_writers(db: str, tmp_path: Path) -> None:
    files = write_files(tmp_path, "AB")
    ledger = Ledger(db)
    projector = start_cli("--db", db, "project", "--follow")

    writers = [start_cli("--db", db, "ingest", str(path)) for path in files]
    for writer in writers:
        ingest_summary(writer)
    head = ledger.projector.head()

    def projected() -> int:
        with ledger.store.transaction(write=False) as c:
            return min(ledger.projector.positions(c).values())

    try:
        wait_until(lambda: projected() == head)
    finally:
        ledger.close()
    projector.send_signal(signal.SIGTERM)
    out, err = projector.communicate(timeout=30)

    assert projector.returncode == 0, err
    assert out.decode().strip() == f"projections at position {head} of {head}"


def test_feed_prints_the_lines_asked_for_and_a_follower_with_a_limit_ends_by_itself(db: str) -> None:
    assert run_cli("--db", db, "ingest", str(HENK)).returncode == 0

    page = run_cli("--db", db, "feed", "--after", "3", "--limit", "2")
    # Position 38 is the billing calendar's start: internal, never published.
    followed = run_cli("--db", db, "feed", "--follow", "--after", "36", "--limit", "2")
    bad = run_cli("--db", db, "feed", "--after", "three")

    assert (page.returncode, page.stderr) == (0, "")
    assert [orjson.loads(line)["position"] for line in page.stdout.splitlines()] == [4, 5]
    assert (followed.returncode, followed.stderr) == (0, "")
    assert [orjson.loads(line)["position"] for line in followed.stdout.splitlines()] == [37, 39]
    assert bad.returncode == 2 and "must be a whole number" in bad.stderr
