"""The what-if's key property on the bench's year: ``python -m ggzledger.bench.whatif_check --events 200000``.

Builds the bench's ledger (its synthetic 2024, closed through December), then times three what-ifs of
the year and checks them: the tables in force and ``--uplift 0`` give back the declared totals to the
cent per insurer and per month, and ``--uplift 10`` raises every line by 10%, half up per line, as an
independent computation from the declarations' own amounts says. docs/performance.md has the figures.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

from ggzledger.analyses.whatif import WhatIf, whatif
from ggzledger.analyses.whatif_pricing import OtherTables, Uplift
from ggzledger.audit.reports import totals
from ggzledger.bench.workload import workload
from ggzledger.bench.zpm_care import BENCH_TABLE, bench_table
from ggzledger.service.ingest import ingest
from ggzledger.service.ledger import Ledger

__all__ = ["main"]


def main(argv: list[str] | None = None) -> int:
    """Build, time, check; prints one line per step and exits 1 when a check fails."""
    parser = argparse.ArgumentParser(prog="python -m ggzledger.bench.whatif_check")
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--db", help="an empty store to build in (default: a temporary SQLite file)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="ggzledger-whatif-") as scratch:
        ledger = Ledger(args.db or str(Path(scratch) / "ledger.db"))
        try:
            return _run(ledger, args.events, args.seed)
        finally:
            ledger.close()


def _run(ledger: Ledger, events: int, seed: int) -> int:
    ledger.load_tariff_table(bench_table(), BENCH_TABLE)
    started = time.perf_counter()
    summary = ingest(ledger, workload(events, seed), lambda n, m: print(f"line {n}: {m}", file=sys.stderr))
    ledger.close_month("2024-12")
    print(f"built: {summary.recorded:,} events recorded, 2024 closed, in {time.perf_counter() - started:.1f} s")
    failed = 0
    year = ("2024-01", "2024-12")
    for name, alternative in (("tables in force", OtherTables(ledger.tariffs, ("in force",))), ("uplift 0", Uplift(0))):
        result, took = _timed(lambda alt=alternative: whatif(ledger, *year, alt))
        ok = _reproduces(ledger, result)
        failed += not ok
        print(f"{name}: {result.lines:,} lines, declared {result.declared:,} = what-if {result.total:,} cents"
              f" per insurer and month: {'yes' if ok else 'NO'}; unpriced {len(result.unpriced)}; {took:.2f} s")  # fmt: skip
    result, took = _timed(lambda: whatif(ledger, *year, Uplift(1000), lines=True))
    wrong = [line for line in result.repriced if line.alternative != _ten_percent(line.declared)]
    failed += bool(wrong)
    print(f"uplift 10: {result.lines:,} lines, every line +10% half up: {'yes' if not wrong else f'NO ({len(wrong)})'};"
          f" declared {result.declared:,}, what-if {result.total:,} cents; {took:.2f} s (lines kept)")  # fmt: skip
    return 1 if failed else 0


def _timed(call: object) -> tuple[WhatIf, float]:
    started = time.perf_counter()
    result = call()  # type: ignore[operator]
    return result, time.perf_counter() - started


def _ten_percent(amount: int) -> int:
    # Independently of uplifted(): integer tenths, half up on the size, the sign put back.
    size = (abs(amount) * 11 + 5) // 10
    return size if amount >= 0 else -size


def _reproduces(ledger: Ledger, result: WhatIf) -> bool:
    if result.unpriced or result.total != result.declared:
        return False
    for dimension in ("insurer", "month"):
        shown = {row.key: row for d, rows in result.sections if d == dimension for row in rows}
        if any(row.declared != row.alternative for row in shown.values()):
            return False
        if {key: row.declared for key, row in shown.items()} != dict(totals(ledger, dimension).rows):
            return False
    return True


if __name__ == "__main__":
    sys.exit(main())
