"""Crashing the CLI on purpose: a command SIGKILLed at seeded random moments, restarted until it completes."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import tempfile
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
        # Months counted from January 2024, the year's first: a registration dated in December 2023 is
        # month 0, not 12 (which closed the whole year at once).
        month = (int(day[:4]) - 2024) * 12 + int(day[5:7]) if day else 0
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

    ``label`` names the case (seed and store) in every failure message; ``kills`` is the log of attempts;
    ``reconciled`` counts the erasures that ``reconcile-erasures`` finished (a killed erase had deleted the key).
    """

    db: str
    rng: random.Random
    label: str
    kills: list[Kill] = attrs.Factory(list)
    reconciled: int = 0

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        """Run ``ggzledger --db DB ARGS`` to the end, uninterrupted."""
        return run_cli("--db", self.db, *args)

    def ok(self, *args: str) -> str:
        """Run ARGS to the end; its standard output. Fails the test, saying where, if it does not exit 0."""
        result = self.run(*args)
        assert result.returncode == 0, self.failure(f"{' '.join(args)} exited {result.returncode}", result)
        return result.stdout

    def crash(
        self, phase: str, args: tuple[str, ...], attempts: int, longest: float, shortest: float = 0.05
    ) -> subprocess.CompletedProcess[str]:
        """Start ARGS until ``attempts`` runs were SIGKILLed (with any process each started) after a random
        delay between ``shortest`` and ``longest`` seconds; then run it to the end and return that last run.

        A run that ended before its delay was no kill: the next delays are drawn from a shorter span
        (a restart often has less left to do), so the kills asked for land on a slow or a fast
        machine alike; at most four times ``attempts`` runs are started.
        """
        killed_runs = 0
        for _ in range(attempts * 4):
            if killed_runs == attempts:
                break
            delay = self.rng.uniform(min(shortest, longest), longest)
            if self.attempt(phase, args, delay) is None:
                killed_runs += 1
            else:
                longest = max(0.1, delay * 0.7)
        return self.run(*args)

    def erase(self, patient: str, attempts: int, longest: float, shortest: float) -> str:
        """Erase PATIENT as an operator would through ``attempts`` SIGKILLs: restart ``erase``, and once it
        says the key is gone (a killed run deleted it), finish with ``reconcile-erasures`` (docs/sealing.md).

        Delays are drawn as in :meth:`crash`. Returns the command that completed the erasure.
        """
        erase = ("erase", patient, "--basis", "AVG17")
        args = erase
        killed_runs = 0
        for _ in range(attempts * 4):
            if killed_runs == attempts:
                break
            ended = self.attempt("erase", args, self.rng.uniform(min(shortest, longest), longest))
            if ended is None:
                killed_runs += 1
            elif args == erase and self._key_gone(ended):
                args = ("reconcile-erasures",)
            else:
                assert ended.returncode == 0, self.failure(f"{' '.join(args)} exited {ended.returncode}", ended)
                self.reconciled += args != erase
                return args[0]
        last = self.run(*args)
        if args == erase and self._key_gone(last):
            args = ("reconcile-erasures",)
            last = self.run(*args)
        assert last.returncode == 0, self.failure(f"{' '.join(args)} after the kills exited {last.returncode}", last)
        self.reconciled += args != erase
        return args[0]

    @staticmethod
    def _key_gone(result: subprocess.CompletedProcess[str]) -> bool:
        return result.returncode == 1 and "no data key for that patient" in result.stderr

    def attempt(self, phase: str, args: tuple[str, ...], delay: float) -> subprocess.CompletedProcess[str] | None:
        """Start ARGS and SIGKILL it (with any process it started) after DELAY seconds; None when it was
        killed, the finished run (its output) when it had ended by then. Logs the attempt in ``kills``."""
        with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
            # Files, not pipes: a command whose pipe filled up would wait, and its end would come late.
            # A session of its own: the kill takes the command's whole process group, as a crash would.
            process = subprocess.Popen(
                [sys.executable, "-m", "ggzledger", "--db", self.db, *args],
                stdout=out,
                stderr=err,
                text=True,
                # As run_cli's: the test run's KEK file among them (a sealed ledger's key store needs one KEK).
                env=cli_environment(),
                start_new_session=True,
            )
            time.sleep(delay)
            killed = process.poll() is None
            if killed:
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()
            self.kills.append(Kill(phase, delay, killed))
            if killed:
                return None
            out.seek(0)
            err.seek(0)
            return subprocess.CompletedProcess(process.args, process.returncode, out.read(), err.read())

    def failure(self, what: str, result: subprocess.CompletedProcess[str] | None = None) -> str:
        """A failure message naming the case, its attempts so far, WHAT broke, and the RESULT's output."""
        said = ""
        if result is not None:
            said = f"\n  stdout: {_shown(result.stdout)}\n  stderr: {_shown(result.stderr)}"
        return f"{self.label}: {what}{said}\n  attempts: {', '.join(map(str, self.kills)) or 'none'}"


def _shown(output: str | None) -> str:
    """A command's output for a failure message: whole, unless long (its head and tail then)."""
    if not output:
        return "(nothing)"
    if len(output) > 4000:
        output = f"{output[:2000]}\n  …\n{output[-2000:]}"
    return output.rstrip("\n").replace("\n", "\n    ")
