"""SIGKILLed at random moments and restarted, ingest, project, close, erase and rebuild lose nothing and count
nothing twice.

Each case is one seed on one store (a SQLite file, a fresh PostgreSQL database). Its ledger gets the
bench's year (a few thousand lines, month closes among them) through ``ingest``, then ``project``,
``close``, ``erase`` of a few patients and ``rebuild``; every command is first SIGKILLed a few times
at seeded random delays, then restarted until it completes (an erase whose killed run had deleted
the key is finished by ``reconcile-erasures``, as docs/sealing.md says). After each phase the ledger
must be where a clean run of the same file and erasures into a fresh ledger ends: re-sending the file
records nothing, the event count is the clean run's, views (declarations, totals) equal the clean
run's and a rebuild's, ``verify`` exits 0 (chain and digests hold); after ``erase``, every trajectory
of an erased patient has exactly one ``personal_data_erased`` in the feed and reads its patient null.
Reproduce a run with GGZLEDGER_CRASH_SEED=N; the seed is in every failure message.
"""

from __future__ import annotations

import os
import random
import re
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import attrs
import orjson
import pytest

from crashes import Crasher, crash_workload, fresh_postgres
from databases import postgres_or_skip
from ggzledger.bench.zpm_care import BENCH_TABLE, BENCH_TABLE_VERSION

SEED = int(os.environ.get("GGZLEDGER_CRASH_SEED", "13"))
LINES = 4_000
CASES = 4  # seeds per store
CLOSE_THROUGH = "2024-10"
# Kills per phase and case, before the run that completes (an attempt whose command ended before
# its delay counts as no kill, and another attempt is made: Crasher.crash).
ATTEMPTS = {"ingest": 4, "project": 3, "close": 3, "erase": 4, "rebuild": 3}
# Patients erased per case; the erase kills are spread over them.
ERASED = 2
# How much longer than on SQLite each phase runs on PostgreSQL (measured, rounded down), so that the
# kills spread over the whole run there too.
SLOWER = {
    "sqlite": {"ingest": 1.0, "project": 1.0, "close": 1.0, "erase": 1.0, "rebuild": 1.0},
    "postgresql": {"ingest": 2.4, "project": 1.3, "close": 1.8, "erase": 1.5, "rebuild": 3.0},
}
# At least this many kills per store and run (the issue asks 100 per run across both).
AT_LEAST = 50


@attrs.frozen
class Reference:
    """Where a clean run of a seed's file ends: its events, views, erasures, and how long each phase took.

    ``views`` are the read side after the close, ``erased_views`` after the erasures (and a rebuild);
    ``erased`` maps each erased patient to its trajectories; ``resent`` is what re-sending the file
    to the erased ledger says (the erased trajectories' lines are refused).
    """

    lines: int
    ingested: int
    events: int
    months: tuple[str, ...]
    views: dict[str, str]
    erased: dict[str, tuple[str, ...]]
    erased_events: int
    erased_views: dict[str, str]
    resent: str
    seconds: dict[str, float]


def views(crasher: Crasher, months: tuple[str, ...]) -> dict[str, str]:
    """What the read side shows: the totals and the declarations of MONTHS, as JSON text."""
    shown = {"totals": crasher.ok("totals", "--json")}
    for month in months:
        shown[month] = crasher.ok("invoices", month, "--json")
    return shown


def event_count(crasher: Crasher) -> int:
    """The stored events, as ``verify`` counts them (it must exit 0: the chain and every digest hold)."""
    result = crasher.run("verify")
    found = re.match(r"verify: (\d+) events", result.stdout)
    assert result.returncode == 0 and found, crasher.failure(f"verify exited {result.returncode}", result)
    return int(found.group(1))


def timed(crasher: Crasher, *args: str, exits: int = 0) -> float:
    started = time.perf_counter()
    result = crasher.run(*args)
    assert result.returncode == exits, crasher.failure(f"{' '.join(args)} exited {result.returncode}", result)
    return time.perf_counter() - started


def patients_of(data: bytes) -> dict[str, str]:
    """Each trajectory's patient, as the file opens it."""
    opened = (orjson.loads(line) for line in data.splitlines() if b'"trajectory_opened"' in line)
    return {record["trajectory"]: record["patient"] for record in opened}


def to_erase(data: bytes, shown: dict[str, str], seed: int) -> dict[str, tuple[str, ...]]:
    """ERASED patients with a declaration among the views shown (so erasing them changes what is compared),
    each with all of their trajectories."""
    patients = patients_of(data)
    declared = {d["trajectory"] for month, text in shown.items() if month != "totals" for d in orjson.loads(text)}
    chosen = random.Random(seed).sample(sorted({patients[t] for t in declared}), ERASED)
    return {p: tuple(sorted(t for t, of in patients.items() if of == p)) for p in chosen}


def reference_for(seed: int, root: Path) -> Reference:
    """A clean run of the seed's file, and of its erasures, into a fresh SQLite ledger."""
    folder = root / f"reference-{seed}"
    folder.mkdir()
    data = crash_workload(LINES, seed)
    (folder / "year.jsonl").write_bytes(data)
    (folder / "bench.csv").write_text(BENCH_TABLE)
    clean = Crasher(str(folder / "ledger.db"), random.Random(seed), f"reference seed {seed}")
    clean.ok("tariffs", "load", str(folder / "bench.csv"), "--version", BENCH_TABLE_VERSION)
    started = time.perf_counter()
    summary = clean.ok("ingest", str(folder / "year.jsonl"))
    seconds = {"ingest": time.perf_counter() - started}
    lines = len(data.splitlines())
    assert summary.strip() == f"recorded {lines}, unchanged 0, refused 0", clean.failure(summary)
    ingested = event_count(clean)
    seconds["project"] = timed(clean, "project")
    seconds["close"] = timed(clean, "close", CLOSE_THROUGH)
    months_rng = random.Random(seed)
    months = (f"2024-{months_rng.randint(1, 8):02d}", f"2024-{months_rng.randint(9, 10):02d}")
    shown = views(clean, months)
    events = event_count(clean)
    erased = to_erase(data, shown, seed)
    # An erase of nobody ends where a real one begins its work (the key store looked in): the kills
    # are drawn from there on, not spent on the interpreter's start.
    seconds["erase start"] = timed(clean, "erase", "P-NOBODY", "--basis", "AVG17", exits=1)
    seconds["erase"] = max(timed(clean, "erase", patient, "--basis", "AVG17") for patient in erased)
    erased_shown = views(clean, months)
    seconds["rebuild"] = timed(clean, "rebuild")
    assert views(clean, months) == erased_shown, clean.failure("a clean rebuild changed the views")
    resent = clean.run("ingest", str(folder / "year.jsonl")).stdout
    return Reference(lines, ingested, events, months, shown, erased, event_count(clean), erased_shown, resent, seconds)


@pytest.fixture(scope="module")
def references(tmp_path_factory: pytest.TempPathFactory) -> dict[int, Reference]:
    """The clean run of each case's seed, made once for both stores."""
    root = tmp_path_factory.mktemp("references")
    seeds = case_seeds()
    with ThreadPoolExecutor(2) as pool:
        return dict(zip(seeds, pool.map(lambda seed: reference_for(seed, root), seeds), strict=True))


def case_seeds() -> list[int]:
    master = random.Random(SEED)
    return [master.randrange(1, 1_000_000) for _ in range(CASES)]


@contextmanager
def store(kind: str, folder: Path, tag: str) -> Iterator[str]:
    if kind == "sqlite":
        yield str(folder / "ledger.db")
    else:
        with fresh_postgres(tag) as url:
            yield url


def crash_case(kind: str, seed: int, reference: Reference, root: Path) -> Crasher:
    """One seed's year on one store, each phase killed and restarted; checks where it ends."""
    folder = root / f"{kind}-{seed}"
    folder.mkdir()
    year = folder / "year.jsonl"
    year.write_bytes(crash_workload(LINES, seed))
    (folder / "bench.csv").write_text(BENCH_TABLE)
    with store(kind, folder, str(seed)) as db:
        crasher = Crasher(
            db, random.Random(f"{SEED}-{seed}-{kind}"), f"GGZLEDGER_CRASH_SEED={SEED} case seed {seed} {kind}"
        )
        crasher.ok("tariffs", "load", str(folder / "bench.csv"), "--version", BENCH_TABLE_VERSION)

        def longest(phase: str) -> float:
            return reference.seconds[phase] * SLOWER[kind][phase]

        # Re-sending the file is the restart of an ingest: what was stored comes back unchanged.
        last = crasher.crash("ingest", ("ingest", str(year)), ATTEMPTS["ingest"], longest("ingest"))
        assert last.returncode == 0, crasher.failure("ingest after the kills", last)
        again = crasher.ok("ingest", str(year)).strip()
        assert again == f"recorded 0, unchanged {reference.lines}, refused 0", crasher.failure(
            f"re-sending the whole file: {again} (a record lost or counted twice)"
        )
        assert event_count(crasher) == reference.ingested, crasher.failure("events after ingest")

        last = crasher.crash("project", ("project",), ATTEMPTS["project"], longest("project"))
        assert last.returncode == 0, crasher.failure("project after the kills", last)

        last = crasher.crash("close", ("close", CLOSE_THROUGH), ATTEMPTS["close"], longest("close"))
        # A kill after the close's last commit leaves nothing to do: the restart says so (exit 1).
        finished = last.returncode == 0 or "closed already" in last.stderr
        assert finished, crasher.failure(f"close after the kills exited {last.returncode}", last)
        assert event_count(crasher) == reference.events, crasher.failure("events after close (a close lost or twice)")
        caught_up = views(crasher, reference.months)
        assert caught_up == reference.views, crasher.failure("views after killed catch-ups differ from a clean run")

        erase(crasher, reference, kind)

        last = crasher.crash("rebuild", ("rebuild",), ATTEMPTS["rebuild"], longest("rebuild"))
        assert last.returncode == 0, crasher.failure("rebuild after the kills", last)
        assert views(crasher, reference.months) == reference.erased_views, crasher.failure(
            "views differ from a rebuild"
        )
        assert event_count(crasher) == reference.erased_events, crasher.failure("events after rebuild")
        # Nothing lost or twice: the erased trajectories' lines are refused, every other one is there unchanged.
        again = crasher.run("ingest", str(year)).stdout
        assert again == reference.resent, crasher.failure(f"re-sending the file at the end: {again}")
    return crasher


def erase(crasher: Crasher, reference: Reference, kind: str) -> None:
    """Erase the reference's patients through kills; then the key is gone, each erased trajectory has
    exactly one personal_data_erased and reads its patient null, and the views are the clean run's."""
    shortest = reference.seconds["erase start"] * SLOWER[kind]["erase"] * 0.7
    longest = reference.seconds["erase"] * SLOWER[kind]["erase"]
    left = ATTEMPTS["erase"]
    for index, patient in enumerate(reference.erased):
        before = len(crasher.kills)
        crasher.erase(patient, left // (ERASED - index), longest, shortest)
        # A kill not made (the erasure had ended before it) is made on the next patient.
        left -= sum(kill.killed for kill in crasher.kills[before:])
    assert event_count(crasher) == reference.erased_events, crasher.failure("events after erase (one lost or twice)")
    erasures: dict[str, int] = {}
    feed = crasher.ok("feed")
    for line in feed.splitlines():
        event = orjson.loads(line)
        if event["type"] == "personal_data_erased":
            erasures[event["trajectory"]] = erasures.get(event["trajectory"], 0) + 1
    wanted = {number: 1 for numbers in reference.erased.values() for number in numbers}
    assert erasures == wanted, crasher.failure(f"personal_data_erased per trajectory: {erasures}, not {wanted}")
    for patient in reference.erased:
        assert f'"{patient}"' not in feed, crasher.failure(f"{patient} still reads in the feed")
    shown = views(crasher, reference.months)
    assert shown == reference.erased_views, crasher.failure("views after killed erasures differ from a clean run's")


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_killed_and_restarted_commands_end_where_a_clean_run_ends(
    kind: str, references: dict[int, Reference], tmp_path: Path
) -> None:
    if kind == "postgresql":
        postgres_or_skip()
    with ThreadPoolExecutor(2) as pool:
        cases = list(pool.map(lambda seed: crash_case(kind, seed, references[seed], tmp_path), references))
    kills = [kill for case in cases for kill in case.kills if kill.killed]
    by_phase = {phase: sum(kill.phase == phase for kill in kills) for phase in ATTEMPTS}
    reconciled = sum(case.reconciled for case in cases)
    print(
        f"\n{kind}: {len(kills)} kills {by_phase}, seed {SEED}; {reconciled} erasures finished by reconcile-erasures;"
    )
    print("records lost 0, counted twice 0")
    assert len(kills) >= AT_LEAST, f"seed {SEED}: only {len(kills)} kills on {kind} {by_phase}"
