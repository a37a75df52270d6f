"""Crashing the CLI on purpose: a command SIGKILLed at seeded random moments, restarted until it completes."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager

import attrs
import orjson
import psycopg

from databases import POSTGRES_ADMIN
from ggzledger.bench.workload import workload
from processes import cli_environment, run_cli

__all__ = ["Crasher", "Kill", "crash_workload", "fresh_postgres"]


@attrs.frozen
class Kill:
    """One attempt at a command: the delay after its start, and whether it was killed or had ended."""

    phase: str
    delay: float
    killed: bool

    def __str__(self) -> str:
        return f"{self.phase}@{self.delay:.3f}s{'' if self.killed else ' (had ended)'}"


def crash_workload(lines: int, seed: int) -> bytes:
    """The bench's year of ``lines`` lines, with a ``month_closed`` for each month once the month after next begins.

    The closes make an ingest many transactions (each close is its own, after the lines before it), so
    a kill can land between commits as well as inside one.
    """
    out: list[bytes] = []
    closed = 0
    for line in workload(lines, seed):
        day = orjson.loads(line).get("date")
        month = int(day[5:7]) if day else 0
        while closed + 2 < month:
            closed += 1
            out.append(orjson.dumps({"type": "month_closed", "month": f"2024-{closed:02d}"}) + b"\n")
        out.append(line)
    return b"".join(out)


@contextmanager
def fresh_postgres(tag: str) -> Iterator[str]:
    """The URL of a new, empty PostgreSQL database named after TAG, dropped afterwards."""
    name = f"ggzledger_crash_{tag}_{os.getpid()}"
    with psycopg.connect(POSTGRES_ADMIN, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"{POSTGRES_ADMIN.rsplit('/', 1)[0]}/{name}"
    finally:
        with psycopg.connect(POSTGRES_ADMIN, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            admin.execute(f'DROP DATABASE IF EXISTS "{name}_keys" WITH (FORCE)')


@attrs.define
class Crasher:
    """Runs CLI commands on one ledger, SIGKILLing each a few times at random moments before letting it finish.

    ``label`` names the case (seed and store) in every failure message; ``kills`` is the log of attempts.
    """

    db: str
    rng: random.Random
    label: str
    kills: list[Kill] = attrs.Factory(list)

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        """Run ``ggzledger --db DB ARGS`` to the end, uninterrupted."""
        return run_cli("--db", self.db, *args)

    def ok(self, *args: str) -> str:
        """Run ARGS to the end; its standard output. Fails the test, saying where, if it does not exit 0."""
        result = self.run(*args)
        assert result.returncode == 0, self.failure(f"{' '.join(args)} exited {result.returncode}: {result.stderr}")
        return result.stdout

    def crash(
        self, phase: str, args: tuple[str, ...], attempts: int, longest: float
    ) -> subprocess.CompletedProcess[str]:
        """Start ARGS until ``attempts`` runs were SIGKILLed (with any process each started) after a random
        delay of up to ``longest`` seconds; then run it to the end and return that last run.

        A run that ended before its delay was no kill: the next delays are drawn from a shorter span
        (a restart often has less left to do), so the kills asked for land on a slow or a fast
        machine alike; at most four times ``attempts`` runs are started.
        """
        killed_runs = 0
        for _ in range(attempts * 4):
            if killed_runs == attempts:
                break
            delay = self.rng.uniform(0.05, longest)
            # A session of its own: the kill takes the command's whole process group, as a crash would.
            process = subprocess.Popen(
                [sys.executable, "-m", "ggzledger", "--db", self.db, *args],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                # As run_cli's: the test run's KEK file among them (a sealed ledger's key store needs one KEK).
                env=cli_environment(),
                start_new_session=True,
            )
            time.sleep(delay)
            killed = process.poll() is None
            if killed:
                os.killpg(process.pid, signal.SIGKILL)
                killed_runs += 1
            else:
                longest = max(0.1, delay * 0.7)
            process.wait()
            self.kills.append(Kill(phase, delay, killed))
        return self.run(*args)

    def failure(self, what: str) -> str:
        """A failure message naming the case, its attempts so far and WHAT broke."""
        return f"{self.label}: {what}\n  attempts: {', '.join(map(str, self.kills)) or 'none'}"
