"""The exports on the bench's year: ``python -m ggzledger.bench.export_check --events 200000``.

Builds the bench's ledger with a BSN and a birth date on every opening (the bench's own patients have
none, and a claim without them is refused), closes it through June 2024, and times the commands a user
runs: ``export gds801`` of June to the insurer with the most declarations, and ``export fhir`` of June.
docs/performance.md has the figures.
"""

from __future__ import annotations

import argparse
import collections
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import orjson

from ggzledger.bench.workload import workload
from ggzledger.bench.zpm_care import BENCH_TABLE, BENCH_TABLE_VERSION

__all__ = ["main", "with_identities", "test_bsn"]

MONTH = "2024-06"


def test_bsn(n: int) -> str:
    """A nine-digit number made from ``n`` that passes the elfproef, made up for the benchmark's ledger.

    Any such number may be someone's BSN: it lives only in the sealed ledger and the exports of a
    temporary folder, deleted when the run ends.
    """
    for last_two in range(100):
        digits = f"{n % 10_000_000:07d}{last_two:02d}"
        weighted = sum(int(d) * w for d, w in zip(digits, (9, 8, 7, 6, 5, 4, 3, 2, -1), strict=True))
        if digits != "000000000" and weighted % 11 == 0:
            return digits
    raise ValueError(f"no test BSN for {n}")  # pragma: no cover - every 7-digit prefix has one


def with_identities(lines: Iterator[bytes]) -> Iterator[bytes]:
    """The bench's lines, each opening given a test BSN and a birth date."""
    for n, line in enumerate(lines):
        if b'"trajectory_opened"' in line:
            record = orjson.loads(line)
            record.update(bsn=test_bsn(n), birth_date="1980-01-01")
            line = orjson.dumps(record) + b"\n"
        yield line


def main(argv: list[str] | None = None) -> int:
    """Build, then time each export; prints one line per step, exits 1 when a command fails."""
    parser = argparse.ArgumentParser(prog="python -m ggzledger.bench.export_check")
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="ggzledger-exports-") as scratch:
        folder = Path(scratch)
        year = folder / "year.jsonl"
        year.write_bytes(b"".join(with_identities(iter(workload(args.events, args.seed)))))
        (folder / "bench.csv").write_text(BENCH_TABLE)
        run = _runner(folder / "ledger.db")
        steps = [
            ("tariffs", "load", str(folder / "bench.csv"), "--version", BENCH_TABLE_VERSION),
            ("ingest", str(year)),
            ("close", MONTH, "--yes"),
        ]
        for step in steps:
            took, result = run(*step)
            print(f"{step[0]}: {took:.1f} s, exit {result.returncode}")
            if result.returncode:
                print(result.stderr, file=sys.stderr)
                return 1
        _, result = run("invoices", MONTH, "--json")
        insurer_of = _insurers(year)
        insurers = collections.Counter(insurer_of[d["trajectory"]] for d in orjson.loads(result.stdout))
        insurer, declarations = insurers.most_common(1)[0]
        for label, command in (
            (f"gds801 to {insurer} ({declarations:,} declarations)", ("export", "gds801", "--insurer", insurer)),
            (f"fhir ({sum(insurers.values()):,} declarations)", ("export", "fhir")),
        ):
            out = folder / f"{command[1]}.out"
            took, result = run(*command, "--month", MONTH, "--out", str(out))
            size = out.stat().st_size if out.exists() else 0
            print(f"{label}: {took:.2f} s, exit {result.returncode}, {size:,} bytes; {result.stderr.strip()}")
            if result.returncode:
                return 1
    return 0


def _insurers(year: Path) -> dict[str, str]:
    return {r["trajectory"]: r["insurer"] for r in map(orjson.loads, year.read_bytes().splitlines()) if r["type"] == "trajectory_opened"}  # fmt: skip


Run = Callable[..., tuple[float, "subprocess.CompletedProcess[str]"]]


def _runner(db: Path) -> Run:
    def run(*args: str) -> tuple[float, subprocess.CompletedProcess[str]]:
        started = time.perf_counter()
        result = subprocess.run(
            [sys.executable, "-m", "ggzledger", "--db", str(db), *args], capture_output=True, text=True
        )
        return time.perf_counter() - started, result

    return run


if __name__ == "__main__":
    sys.exit(main())
