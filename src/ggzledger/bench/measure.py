"""Measuring one bench run: the ledger's write and read paths on a synthetic year, beside their ceilings."""

from __future__ import annotations

import gc
import sqlite3
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from datetime import date
from pathlib import Path
from typing import Any

import orjson
from eventsourcing.sqlite import SQLiteDatastore
from tqdm import tqdm

from ggzledger.audit.reconstruction import reconstruct
from ggzledger.bench.baseline import LibraryLedger
from ggzledger.bench.clock import ChildMemory, Clock, peak_rss_mb
from ggzledger.bench.workload import trajectories_for, workload
from ggzledger.bench.zpm_care import BENCH_TABLE, bench_table
from ggzledger.domain.errors import Refused
from ggzledger.domain.months import months_between
from ggzledger.feed.public import Feed
from ggzledger.service.ingest import ingest
from ggzledger.service.ledger import Ledger
from ggzledger.service.records import parse_line
from ggzledger.service.sealing import make_plain
from ggzledger.store import create_private, store_env

__all__ = ["FIGURES", "BenchError", "run"]

FIGURES = (
    "ingest_events_per_s",
    "baseline_library_events_per_s",
    "raw_sqlite_rows_per_s",
    "rebuild_events_per_s",
    "rebuild_with_closes_events_per_s",
    "raw_read_decode_rows_per_s",
    "close_month_s",
    "reconstruct_ms",
    "feed_events_per_s",
    "peak_rss_mb",
)
"""The figures a run measures, in the order the table shows them."""

# Rows per transaction for the raw SQLite ceiling, and rows per page for the raw reads.
_RAW_TRANSACTION = 20_000
_PAGE = 2_000
# Reconstructions timed for the median.
_RECONSTRUCTIONS = 7


class BenchError(Exception):
    """The bench cannot run: the store it was given is not empty, or the workload was refused."""


def run(
    events: int,
    *,
    db: str | None = None,
    seed: int = 1,
    baseline_records: int = 20_000,
    progress: bool = False,
    say: Callable[[str], None] = lambda text: None,
    plain: bool = False,
) -> dict[str, Any]:
    """Generate ``events`` lines, ingest them into ``db`` and measure every figure; returns the results.

    ``db`` must be empty (None: a fresh temporary SQLite file). Raises BenchError when it is not,
    or when the ledger refuses a line of the workload (which would make the figures meaningless).
    Besides the figures, the results hold each phase's wall and CPU seconds and the peak memory
    reached by its end. ``plain``: the ledger does not seal personal fields (docs/sealing.md),
    to measure what sealing costs.
    """
    with ExitStack() as stack:
        scratch = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="ggzledger-bench-")))
        store = db or str(scratch / "ledger.db")
        postgres = store.startswith(("postgresql://", "postgres://"))
        clock = Clock()
        children = ChildMemory()
        lines_file = scratch / "workload.jsonl"
        # Refuse a store that holds events before spending minutes on a workload it cannot take.
        ledger = Ledger(store)
        stack.callback(ledger.close)
        if ledger.projector.head():
            raise BenchError(f"the bench needs an empty store; {store} holds events already")
        if plain:
            make_plain(ledger)
        # The workload's settings 2-4 bill with the bench's own (invented) codes.
        ledger.load_tariff_table(bench_table(), BENCH_TABLE)
        say(f"generating {events:,} lines (seed {seed}) into {lines_file}")
        with clock.phase("generate"), open(lines_file, "wb") as out, _bar(progress, events, "generate", "lines") as bar:
            for line in workload(events, seed):
                out.write(line)
                bar.update(1)
        results: dict[str, Any] = {
            "store": "postgresql" if postgres else "sqlite", "seed": seed, "sealed": ledger.keys is not None
        }  # fmt: skip

        say("ingesting")
        refused: list[str] = []
        with open(lines_file, "rb") as source, _bar(progress, events, "ingest", "lines") as bar:

            def advance(read: int) -> None:
                bar.update(read - bar.n)

            with clock.phase("ingest"):
                summary = ingest(ledger, source, lambda n, m: refused.append(f"line {n}: {m}"), on_batch=advance)
        if refused:
            raise BenchError(f"the ledger refused {len(refused)} workload lines, first {refused[0]}")
        stored = ledger.projector.head()
        results.update(events=stored, lines=summary.recorded, trajectories=trajectories_for(events))
        results["ingest_events_per_s"] = stored / clock.wall["ingest"]

        # Each ceiling and the baseline are measured right beside the figure they are compared
        # with: on a shared machine the speed drifts during a run of several minutes.
        say("inserting the stored events into a fresh SQLite file (the raw ceiling)")
        with clock.phase("raw_insert"):
            rows, took = _raw_sqlite_insert(ledger, store, postgres, scratch / "raw.db", progress)
        results["raw_sqlite_rows_per_s"] = rows / took

        prefix = min(baseline_records, events)
        say(f"the library baseline on the first {prefix:,} lines")
        with clock.phase("baseline"):
            recorded, took = _baseline(
                lines_file, prefix, store if postgres else str(scratch / "baseline.db"), progress
            )
        results["baseline_library_events_per_s"] = recorded / took
        results["baseline_records"] = prefix

        say("rebuilding every view from position 0")
        with clock.phase("rebuild"), children.watching(), _bar(progress, stored, "rebuild", "events") as bar:
            ledger.projector.rebuild(lambda reached, _head: bar.update(reached - bar.n))
        results["rebuild_events_per_s"] = stored / clock.wall["rebuild"]

        say("reading and decoding every stored event row")
        with clock.phase("raw_read_decode"):
            rows, took = _raw_read_decode(ledger, store, postgres)
        results["raw_read_decode_rows_per_s"] = rows / took

        timed = _last_month(lines_file)
        say(f"closing every month before {timed}, one by one, then timing the close of {timed}")
        with clock.phase("close_earlier"):
            for month in _months_before(timed, _first_month(lines_file)):
                ledger.close_month(month)
        with clock.phase("close"):
            closes = ledger.close_month(timed)
        last = closes[-1].declarations
        results.update(close_month_s=clock.wall["close"], close_month=timed, close_month_declarations=len(last))

        say("rebuilding again, now with every close recomputed as it comes")
        head = ledger.projector.head()
        with clock.phase("rebuild_with_closes"), children.watching(), _bar(progress, head, "rebuild", "events") as bar:
            ledger.projector.rebuild(lambda reached, _head: bar.update(reached - bar.n))
        results["rebuild_with_closes_events_per_s"] = head / clock.wall["rebuild_with_closes"]
        results["closes_recomputed"] = len(closes) + len(_months_before(timed, _first_month(lines_file)))

        with clock.phase("reconstruct"):
            reconstruct = _reconstruct_ms(ledger, last[-1].trajectory if last else None, timed)
        if reconstruct is not None:
            results["reconstruct_ms"] = reconstruct

        say("reading the feed")
        with clock.phase("feed"):
            feed_rate, results["feed_source"] = _feed_events_per_s(ledger, head, progress)
        results["feed_events_per_s"] = feed_rate

        # The rebuild's child processes run beside this one: their peaks are added to this
        # process's (an upper bound of what the run held at any one time).
        results["peak_rss_children_mb"] = children.peak_mb
        results["peak_rss_mb"] = peak_rss_mb() + children.peak_mb
        results.update(clock.as_json())
        return results


@contextmanager
def _bar(progress: bool, total: int, what: str, unit: str) -> Iterator[Any]:
    bar = tqdm(total=total, desc=what, unit=f" {unit}", unit_scale=True, disable=not progress, leave=False)
    try:
        yield bar
    finally:
        bar.close()


def _last_month(lines_file: Path) -> str:
    """The month of the workload's last line: the month whose close is timed (December for a full year)."""
    with open(lines_file, "rb") as source:
        source.seek(max(0, lines_file.stat().st_size - 4096))
        last = source.read().splitlines()[-1]
    return str(orjson.loads(last)["date"])[:7]


def _first_month(lines_file: Path) -> str:
    """The month of the workload's first dated line (the contracts it starts with carry no ``date``)."""
    with open(lines_file, "rb") as source:
        for line in source:
            record = orjson.loads(line)
            if "date" in record:
                return str(record["date"])[:7]
    raise BenchError(f"{lines_file} holds no dated line")


def _months_before(month: str, first: str) -> list[str]:
    """Every month from ``first`` up to the one before ``month``, oldest first: the monthly billing runs."""
    return list(months_between(first, month))[:-1] if first < month else []


def _reconstruct_ms(ledger: Ledger, trajectory: str | None, month: str) -> float | None:
    """Median milliseconds to reconstruct one late declaration; None when the workload has none."""
    if trajectory is None:
        return None
    timings = []
    for _ in range(_RECONSTRUCTIONS):
        started = time.perf_counter()
        reconstruct(ledger, trajectory, month)
        timings.append((time.perf_counter() - started) * 1000)
    return statistics.median(timings)


def _feed_events_per_s(ledger: Ledger, head: int, progress: bool) -> tuple[float, str]:
    """Events per second reading the whole public feed as ``ggzledger feed`` writes it (JSON lines)."""
    count = 0
    with _bar(progress, head, "feed", "events") as bar:
        started = time.perf_counter()
        dumps = orjson.dumps
        for item in Feed(ledger.recorder, ledger.mapper).lines(page_size=_PAGE):
            dumps(item)
            count += 1
            if count % _PAGE == 0:
                bar.update(_PAGE)
        source = "ggzledger.feed: Feed.lines() serialised with orjson"
        took = time.perf_counter() - started
    return count / took, source


def _pages(ledger: Ledger, store: str, postgres: bool) -> Iterator[list[tuple[Any, ...]]]:
    """Every stored event row (position, stream, version, topic, state), a page at a time, with the plain driver."""
    if postgres:
        import psycopg

        recorder: Any = ledger.recorder
        table = f'"{recorder.datastore.schema}"."{recorder.events_table_name}"'
        sql = (
            f"SELECT notification_id, originator_id, originator_version, topic, state FROM {table}"
            " WHERE notification_id > %s ORDER BY notification_id LIMIT %s"
        )
        with psycopg.connect(store) as connection:
            position = 0
            while rows := connection.execute(sql, (position, _PAGE)).fetchall():
                yield rows
                position = rows[-1][0]
        return
    lite = sqlite3.connect(store)
    try:
        sql = (
            "SELECT rowid, originator_id, originator_version, topic, state FROM stored_events"
            " WHERE rowid > ? ORDER BY rowid LIMIT ?"
        )
        position = 0
        while rows := lite.execute(sql, (position, _PAGE)).fetchall():
            yield rows
            position = rows[-1][0]
    finally:
        lite.close()


def _raw_read_decode(ledger: Ledger, store: str, postgres: bool) -> tuple[int, float]:
    """Rows read and seconds: every stored event read with the plain driver and its state orjson-decoded."""
    loads, count = orjson.loads, 0
    started = time.perf_counter()
    for rows in _pages(ledger, store, postgres):
        for row in rows:
            loads(row[4])
        count += len(rows)
    return count, time.perf_counter() - started


def _raw_sqlite_insert(ledger: Ledger, store: str, postgres: bool, path: Path, progress: bool) -> tuple[int, float]:
    """Rows and seconds inserting the stored events into a fresh SQLite file with executemany.

    Same table as the library's (rowid, primary key on stream and version), WAL, the same
    ``synchronous`` setting as the ledger's event connection, 20,000 rows per transaction. Only
    the inserts and commits are timed, not reading the rows from the ledger.
    """
    create_private(str(path))
    connection = sqlite3.connect(path, isolation_level=None)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute(f"PRAGMA synchronous={_event_synchronous(ledger)}")
    connection.execute(
        "CREATE TABLE stored_events (originator_id TEXT, originator_version INTEGER, topic TEXT, state BLOB,"
        " PRIMARY KEY (originator_id, originator_version))"
    )
    insert = "INSERT INTO stored_events VALUES (?, ?, ?, ?)"
    took, count = 0.0, 0
    pending: list[tuple[Any, ...]] = []
    with _bar(progress, ledger.projector.head(), "raw insert", "rows") as bar:

        def flush() -> None:
            nonlocal took
            started = time.perf_counter()
            connection.execute("BEGIN")
            connection.executemany(insert, pending)
            connection.execute("COMMIT")
            took += time.perf_counter() - started
            bar.update(len(pending))
            pending.clear()

        for rows in _pages(ledger, store, postgres):
            pending.extend((str(r[1]).replace("-", ""), r[2], r[3], bytes(r[4])) for r in rows)
            count += len(rows)
            if len(pending) >= _RAW_TRANSACTION:
                flush()
        if pending:
            flush()
    connection.close()
    return count, took


def _event_synchronous(ledger: Ledger) -> str:
    """The ``synchronous`` setting of the ledger's SQLite event connection (FULL on PostgreSQL runs)."""
    datastore = getattr(ledger.recorder, "datastore", None)
    if not isinstance(datastore, SQLiteDatastore):
        return "FULL"
    with datastore.transaction(commit=False) as c:
        c.execute("PRAGMA synchronous")
        return {0: "OFF", 1: "NORMAL", 2: "FULL", 3: "EXTRA"}[c.fetchone()[0]]


def _baseline(lines_file: Path, records: int, store: str, progress: bool) -> tuple[int, float]:
    """Events and seconds recording the first lines with the library's straightforward use."""
    env = {k: v for k, v in store_env(store).items() if k != "APPLICATION_RECORDER_TOPIC"}
    postgres = store.startswith(("postgresql://", "postgres://"))
    if postgres:
        _drop_baseline_tables(store)
    else:
        create_private(store)  # the library's own recorder would make it 0644 (in the bench's 0700 folder)
    app = LibraryLedger(env)
    try:
        today = date.today()
        recorded = 0
        with open(lines_file, "rb") as source, _bar(progress, records, "baseline", "lines") as bar:
            started = time.perf_counter()
            for _, line in zip(range(records), source, strict=False):
                try:
                    recorded += app.record(parse_line(line, today))
                except Refused as refused:
                    raise BenchError(f"the library baseline refused a workload line: {refused}") from None
                bar.update(1)
            took = time.perf_counter() - started
    finally:
        app.close()
        if postgres:
            _drop_baseline_tables(store)
    gc.collect()
    return recorded, took


def _drop_baseline_tables(store: str) -> None:
    import psycopg

    with psycopg.connect(store, autocommit=True) as connection:
        for table in ("ggzbaseline_events", "ggzbaseline_snapshots", "ggzbaseline_tracking"):
            connection.execute(f"DROP TABLE IF EXISTS {table}")
