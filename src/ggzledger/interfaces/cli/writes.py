"""The commands that write: ingest, close, demo, tariffs load, bench."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from importlib import resources
from pathlib import Path
from typing import NamedTuple

import orjson

from ggzledger.domain import BillingCalendar
from ggzledger.domain.money import format_euro
from ggzledger.domain.months import month_of
from ggzledger.interfaces.cli.console import (
    UsageError,
    bring_up_to_date,
    check_store,
    counted,
    open_ledger,
    progress_bar,
)  # fmt: skip
from ggzledger.interfaces.text.declaration import render_declaration
from ggzledger.projections import ComputedClose
from ggzledger.reference import TariffError, TariffTable
from ggzledger.service.ingest import ingest
from ggzledger.service.ledger import Ledger
from ggzledger.service.records import bounded_lines
from ggzledger.store.chain import anchor_at

__all__ = ["cmd_ingest", "cmd_close", "cmd_demo", "cmd_tariffs", "cmd_bench", "DEMO_DB", "DEMOS"]

DEMO_DB = "ggzledger-demo.db"
# How an encoding is named to the reader of a message.
_ENCODINGS = {"utf-8-sig": "UTF-8"}


def _refused(number: int, message: str) -> None:
    print(f"line {number}: {message}", file=sys.stderr)


def cmd_ingest(args: argparse.Namespace) -> int:
    """Record the lines of a file or standard input; exit 1 when a line was refused."""
    source = args.file
    try:
        stream = sys.stdin.buffer if source == "-" else open(source, "rb")  # noqa: SIM115
    except OSError as error:
        raise UsageError(f"cannot read {source}: {error.strerror}") from None
    size = None if source == "-" else os.fstat(stream.fileno()).st_size
    with open_ledger(args.db, create=True) as ledger, stream, progress_bar("ingest", "B", size) as bar:
        on_batch = None
        if bar is not None:
            # A file's position in bytes against its size; standard input counts lines.
            def on_batch(lines: int) -> None:
                bar.update((lines if size is None else stream.tell()) - bar.n)

        summary = ingest(ledger, bounded_lines(stream), _refused, on_batch=on_batch)
    print(summary)
    return 1 if summary.refused else 0


def cmd_close(args: argparse.Namespace) -> int:
    """Close every open month up to MONTH; the current, unfinished month only when confirmed."""
    with open_ledger(args.db, create=True) as ledger:
        current = month_of(ledger.today())
        if args.month == current and not args.yes and not ledger.is_closed(args.month):
            _confirm_current(current)
        # The catch-up is the long part of a first close; the close itself then finds it done.
        bring_up_to_date(ledger)
        # A closed or future month is refused like any other record: exit 1.
        results = ledger.close_month(args.month)
        anchors = close_anchors(ledger, results)
    for line in close_lines(results) + anchors:
        print(line)
    return 0


def close_anchors(ledger: Ledger, results: Sequence[ComputedClose]) -> list[str]:
    """``anchor P H  # close of MONTH`` for each month closed: the chain's head at its MonthClosed event.

    The close's events are the calendar stream's last ones (recorded together, in month order).
    """
    if not results:
        return []
    closed = ledger.recorder.select_stream_with_positions(BillingCalendar.ID)[-len(results) :]
    lines = []
    for result, (position, _) in zip(results, closed, strict=True):
        anchor = anchor_at(ledger.recorder, position)
        if anchor is not None:
            lines.append(f"{anchor}  # close of {result.month}")
    return lines


def _confirm_current(month: str) -> None:
    """Ask before closing the month that is not over yet; refuse without a terminal to ask on."""
    warning = f"{month} is the current month and not over yet; a close cannot be undone"
    if not sys.stdin.isatty():
        raise UsageError(f"{warning}: add --yes to close it anyway")
    answer = input(f"{warning}. Close it now? [y/N] ")
    if answer.strip().lower() not in ("y", "yes", "j", "ja"):
        raise UsageError(f"{month} not closed")


def close_lines(results: Sequence[ComputedClose]) -> list[str]:
    """One line per close with declarations; a run of months without any is one line."""
    lines: list[str] = []
    empty: list[str] = []

    def flush() -> None:
        if len(empty) == 1:
            lines.append(f"{empty[0]}: no declarations")
        elif empty:
            lines.append(f"{empty[0]} .. {empty[-1]}: {counted(len(empty), 'month')} without declarations")
        empty.clear()

    for result in results:
        if not result.declarations:
            empty.append(result.month)
            continue
        flush()
        count = counted(len(result.declarations), "declaration")
        lines.append(f"{result.month}: {count}, total {format_euro(result.total)}")
    flush()
    return lines


class Demo(NamedTuple):
    """A worked example shipped with the package: its input, its fresh ledger, and the nota it ends with."""

    file: str
    db: str
    trajectory: str
    month: str
    told: str


DEMOS = {
    "henk": Demo("meneer-henk.jsonl", DEMO_DB, "T-HENK", "2017-02", "Meneer Henk recorded"),
    "zpm": Demo(
        "zpm-example.jsonl",
        "ggzledger-demo-zpm.db",
        "T-ZPM1",
        "2024-11",
        "The zorgprestatiemodel example (docs/zpm.md) recorded",
    ),
}


def cmd_demo(args: argparse.Namespace) -> int:
    """Record a worked example in a fresh demo ledger (or an empty --db) and print its last zorgnota."""
    demo = DEMOS[args.scenario]
    # GGZLEDGER_DB is not read: it may name the production ledger, where a fictional patient is forever.
    db = args.db or demo.db
    if args.db is None:
        for suffix in ("", "-wal", "-shm"):
            Path(db + suffix).unlink(missing_ok=True)
    scenario = resources.files("ggzledger") / "scenarios" / demo.file
    with open_ledger(db, create=True) as ledger:
        if ledger.projector.head():
            raise UsageError(f"the demo needs an empty ledger; {db} holds events already")
        refusals: list[str] = []
        summary = ingest(
            ledger, scenario.read_bytes().splitlines(), lambda number, why: refusals.append(f"line {number}: {why}")
        )
        declaration = ledger.declaration(demo.trajectory, demo.month)
    print(f"{demo.told} in {db}: {summary}; months closed through {demo.month}.")
    if refusals:
        # zpm.md Z12 refuses two of its lines on purpose (a 3-minute consult, a wrong code): they
        # show what the ledger refuses, so they are part of the story, not an error of the demo.
        print("Refused, as the example means them to be:")
        print("\n".join(f"  {refusal}" for refusal in refusals))
    print()
    assert declaration is not None
    print(render_declaration(declaration))
    return 0


def cmd_tariffs(args: argparse.Namespace) -> int:
    """List the tariff tables as a table, or load one from a CSV file."""
    if args.action == "load":
        return _load_tariffs(args)
    if args.file or args.version:
        raise UsageError("tariffs list takes no FILE or --version")
    with open_ledger(args.db) as ledger:
        tables = ledger.tariffs.tables
    rows = [
        (table.version, row.code, row.description, row.unit,
         format_euro(row.amount) if row.amount is not None else "vrij",
         f"{row.valid_from.isoformat()} .. {row.valid_to.isoformat() if row.valid_to else '(open)'}")
        for table in tables for row in table.rows
    ]  # fmt: skip
    heads = ("version", "code", "description", "unit", "amount", "valid")
    widths = [max(len(cells[i]) for cells in [heads, *rows]) for i in range(len(heads))]

    def shown(cells: Sequence[str]) -> str:
        # The amount column is right-aligned, so that the cents line up.
        return "  ".join(
            c.rjust(w) if i == 4 else c.ljust(w) for i, (c, w) in enumerate(zip(cells, widths, strict=True))
        ).rstrip()

    print(shown(heads))
    print("  ".join("-" * w for w in widths))
    for cells in rows:
        print(shown(cells))
    return 0


def _load_tariffs(args: argparse.Namespace) -> int:
    if not args.file or not args.version:
        raise UsageError("tariffs load needs FILE and --version LABEL")
    try:
        text = Path(args.file).read_text(encoding=args.encoding)
    except OSError as error:
        raise UsageError(f"cannot read {args.file}: {error.strerror}") from None
    except UnicodeDecodeError as error:
        raise UsageError(
            f"{args.file} is not {_ENCODINGS.get(args.encoding, args.encoding)} text (byte {error.start + 1});"
            " a CSV saved by Excel on Windows is often Windows-1252:"
            " add --encoding cp1252"
        ) from None
    with open_ledger(args.db, create=True) as ledger:
        try:
            table = TariffTable.from_csv(args.version, text, source=args.file)
            ledger.load_tariff_table(table, text)
        except TariffError as error:
            raise UsageError(str(error)) from None
    print(f"loaded tariff table {table.version}: {counted(len(table.rows), 'row')}")
    return 0


def cmd_bench(args: argparse.Namespace) -> int:
    """Measure every figure on a synthetic workload; the figures on standard output."""
    from ggzledger.bench import BenchError, render, run

    if args.db is not None:
        check_store(args.db, create=True)
    try:
        results = run(
            args.events,
            db=args.db,
            seed=args.seed,
            baseline_records=args.baseline_records,
            progress=sys.stderr.isatty(),
            say=lambda text: print(f"bench: {text}", file=sys.stderr, flush=True),
            plain=args.plain,
        )
    except BenchError as error:
        raise UsageError(str(error)) from None
    print(render(results))
    if args.json:
        Path(args.json).write_bytes(orjson.dumps(results, option=orjson.OPT_INDENT_2) + b"\n")
    return 0
