"""The ggzledger command line: one subcommand per task of the contract."""

from __future__ import annotations

import argparse
import contextlib
import itertools
import os
import signal
import sys
import time
from importlib import resources
from collections.abc import Callable, Iterator, Sequence
from datetime import date
from pathlib import Path
from typing import Any, NoReturn

import orjson
from eventsourcing.persistence import PersistenceError

from ggzledger.service.ledger import Ledger
from ggzledger.domain.errors import Refused
from ggzledger.domain.months import is_month
from ggzledger.feed.public import Feed
from ggzledger.feed.follow import Follower
from ggzledger.service.ingest import ingest
from ggzledger.domain.money import format_euro
from ggzledger.store import StoreError
from ggzledger.projections.totals import DIMENSIONS
from ggzledger.reference import TariffError, TariffTable
from ggzledger.interfaces.text.declaration import render_declaration

__all__ = ["main"]

DEMO_DB = "ggzledger-demo.db"


class UsageError(Exception):
    """A user's mistake on the command line; printed as one line, exit status 2."""


def _print_json(value: Any) -> None:
    sys.stdout.write(orjson.dumps(value, option=orjson.OPT_INDENT_2).decode() + "\n")


def _month(text: str) -> str:
    if not is_month(text):
        raise argparse.ArgumentTypeError(f"{text!r} is not a month YYYY-MM")
    return text


# Commands. Each takes the parsed arguments and returns the exit status.


def cmd_ingest(args: argparse.Namespace) -> int:
    source = args.file
    try:
        stream = sys.stdin.buffer if source == "-" else open(source, "rb")  # noqa: SIM115
    except OSError as error:
        raise UsageError(f"cannot read {source}: {error.strerror}") from None
    with _ledger(args) as ledger, stream:
        summary = ingest(ledger, stream, lambda n, message: print(f"line {n}: {message}", file=sys.stderr))
    print(summary)
    return 1 if summary.refused else 0


def cmd_close(args: argparse.Namespace) -> int:
    with _ledger(args) as ledger:
        # A closed or future month is refused like any other record: exit 1.
        results = ledger.close_month(args.month)
    for result in results:
        print(f"{result.month}: {len(result.declarations)} declarations, total {format_euro(result.total)}")
    return 0


def cmd_invoice(args: argparse.Namespace) -> int:
    with _ledger(args) as ledger:
        declaration = ledger.declaration(args.trajectory, args.month)
    if declaration is None:
        print(f"trajectory {args.trajectory} has no declaration for {args.month}", file=sys.stderr)
        return 1
    if args.json:
        _print_json(declaration)
    else:
        print(render_declaration(declaration))
    return 0


def cmd_invoices(args: argparse.Namespace) -> int:
    with _ledger(args) as ledger:
        declarations = ledger.declarations(args.month)
    if args.json:
        _print_json(declarations)
        return 0
    if not declarations:
        print(f"no declarations for {args.month}")
    for declaration in declarations:
        print(render_declaration(declaration))
        print()
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    db = args.db or os.environ.get("GGZLEDGER_DB")
    if not db:
        # The demo starts from a fresh file unless told which store to use.
        db = DEMO_DB
        for suffix in ("", "-wal", "-shm"):
            Path(db + suffix).unlink(missing_ok=True)
    args.db = db
    scenario = resources.files("ggzledger") / "scenarios" / "meneer-henk.jsonl"
    lines = scenario.read_bytes().splitlines()
    with _ledger(args) as ledger:
        summary = ingest(ledger, lines, lambda n, message: print(f"line {n}: {message}", file=sys.stderr))
        declaration = ledger.declaration("T-HENK", "2017-02")
    print(f"Meneer Henk recorded in {db}: {summary}; months closed through 2017-02.\n")
    assert declaration is not None
    print(render_declaration(declaration))
    return 0


def cmd_tariffs(args: argparse.Namespace) -> int:
    with _ledger(args) as ledger:
        if args.action == "load":
            if not args.file or not args.version:
                raise UsageError("tariffs load needs FILE and --version LABEL")
            try:
                text = Path(args.file).read_text(encoding="utf-8-sig")
            except OSError as error:
                raise UsageError(f"cannot read {args.file}: {error.strerror}") from None
            try:
                table = TariffTable.from_csv(args.version, text, source=args.file)
                ledger.load_tariff_table(table, text)
            except TariffError as error:
                raise UsageError(str(error)) from None
            print(f"loaded tariff table {table.version}: {len(table.rows)} rows")
            return 0
        for table in ledger.tariffs.tables:
            for row in table.rows:
                until = row.valid_to.isoformat() if row.valid_to else ""
                print(
                    f"{table.version:<12}{row.code:<10}{row.description:<26}{row.unit:<8}"
                    f"{format_euro(row.amount):>12}  {row.valid_from.isoformat()}..{until}"
                )
    return 0


def cmd_bench(args: argparse.Namespace) -> int:
    from ggzledger.bench import BenchError, render, run  # noqa: PLC0415 - only this command needs it

    if args.events < 1 or args.baseline_records < 1:
        raise UsageError("--events and --baseline-records must be at least 1")
    try:
        results = run(
            args.events,
            db=args.db,
            seed=args.seed,
            baseline_records=args.baseline_records,
            progress=sys.stderr.isatty(),
            say=lambda text: print(f"bench: {text}", file=sys.stderr, flush=True),
        )
    except BenchError as error:
        raise UsageError(str(error)) from None
    print(render(results))
    if args.json:
        Path(args.json).write_bytes(orjson.dumps(results, option=orjson.OPT_INDENT_2) + b"\n")
    return 0


def _date(text: str) -> date:
    # fromisoformat alone would also take 20170101 and other ISO spellings.
    try:
        if len(text) == 10:
            return date.fromisoformat(text)
    except ValueError:
        pass
    raise argparse.ArgumentTypeError(f"{text!r} is not a date YYYY-MM-DD")


def _progress_bar(what: str) -> Any:
    """A tqdm bar on standard error when it is a terminal, else None; called with (position, head)."""
    if not sys.stderr.isatty():
        return None
    from tqdm import tqdm  # noqa: PLC0415 - only when a bar is shown

    bar = tqdm(desc=what, unit=" events", unit_scale=True, leave=False, file=sys.stderr)

    def update(position: int, head: int) -> None:
        bar.total = head
        bar.update(position - bar.n)

    update.close = bar.close  # type: ignore[attr-defined]
    return update


def cmd_history(args: argparse.Namespace) -> int:
    from ggzledger.interfaces.text.audit import render_history  # noqa: PLC0415
    from ggzledger.audit.reports import history  # noqa: PLC0415

    with _ledger(args) as ledger:
        entries = history(ledger, args.trajectory)
        catalogue = ledger.catalogue
    if args.json:
        _print_json({"trajectory": args.trajectory, "entries": [entry.to_json() for entry in entries]})
    else:
        print(render_history(args.trajectory, entries, catalogue))
    return 0


def cmd_reviews(args: argparse.Namespace) -> int:
    from ggzledger.interfaces.text.audit import render_worklist  # noqa: PLC0415
    from ggzledger.audit.reports import worklist  # noqa: PLC0415

    with _ledger(args) as ledger:
        as_of = args.as_of or ledger.today()
        rows = worklist(ledger, as_of)
    if args.json:
        _print_json({"as_of": as_of.isoformat(), "rows": [row.to_json() for row in rows]})
    else:
        print(render_worklist(as_of, rows))
    return 0


def cmd_totals(args: argparse.Namespace) -> int:
    from ggzledger.interfaces.text.audit import render_totals  # noqa: PLC0415
    from ggzledger.audit.reports import totals  # noqa: PLC0415

    with _ledger(args) as ledger:
        result = totals(ledger, args.by, drafts=args.drafts)
    if args.json:
        _print_json(result.to_json())
    else:
        print(render_totals(result))
    return 0


def cmd_audit(args: argparse.Namespace) -> int:
    from ggzledger.audit.reconstruction import NotIssued, audit  # noqa: PLC0415
    from ggzledger.interfaces.text.audit import render_audit  # noqa: PLC0415

    with _ledger(args) as ledger:
        try:
            result = audit(ledger, args.trajectory, args.month)
        except NotIssued as error:
            raise UsageError(str(error)) from None
    print(render_audit(result))
    return 0 if result.equal and result.reconstructed is not None else 1


def cmd_verify(args: argparse.Namespace) -> int:
    from ggzledger.audit.reconstruction import verify  # noqa: PLC0415
    from ggzledger.interfaces.text.audit import render_verification  # noqa: PLC0415

    progress = _progress_bar("verify")
    with _ledger(args) as ledger:
        try:
            result = verify(ledger, progress)
        finally:
            if progress is not None:
                progress.close()
    print(render_verification(result))
    return 0 if result.ok else 1


def cmd_rebuild(args: argparse.Namespace) -> int:
    from ggzledger.audit.reconstruction import rebuild  # noqa: PLC0415

    progress = _progress_bar("rebuild")
    with _ledger(args) as ledger:
        started = time.perf_counter()
        try:
            result = rebuild(ledger, progress)
        finally:
            if progress is not None:
                progress.close()
        took = time.perf_counter() - started
    rate = f" ({result.position / took:,.0f} events/s)" if took > 0 and result.position else ""
    print(f"rebuilt every view from position 0 to {result.position} in {took:.1f} s{rate}")
    if result.unreproduced:
        months = ", ".join(result.unreproduced)
        print(
            f"ggzledger: the log no longer gives the declarations issued at the close of {months}:"
            " a stored event was altered; run ggzledger verify",
            file=sys.stderr,
        )
        return 1
    return 0


def _position(text: str) -> int:
    if not text.isdigit():
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number")
    return int(text)


class _Stopped(Exception):
    """Raised between two pages of work once a stop signal has arrived."""


@contextlib.contextmanager
def _on_stop_signals(stop: Callable[[], None]) -> Iterator[None]:
    """Call ``stop`` on SIGINT and SIGTERM (instead of dying mid-write); restore the handlers after."""
    signals = (signal.SIGINT, signal.SIGTERM)
    previous = {number: signal.signal(number, lambda *_: stop()) for number in signals}
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)


def cmd_feed(args: argparse.Namespace) -> int:
    out = sys.stdout.buffer
    with _ledger(args) as ledger, contextlib.ExitStack() as following:
        feed = Feed(ledger.recorder, ledger.mapper)
        lines = feed.lines(args.after)
        if args.follow:
            follower = following.enter_context(Follower(ledger.recorder))
            following.enter_context(_on_stop_signals(follower.stop))
            lines = feed.follow(follower, args.after, on_idle=out.flush)
        try:
            # islice stops right after the K-th line: asking a follower for one more would wait for it.
            for item in itertools.islice(lines, args.limit):
                out.write(orjson.dumps(item) + b"\n")
            out.flush()
        except BrokenPipeError:
            # The reader went away (``| head``): that is its right, not an error.
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return 0


def cmd_project(args: argparse.Namespace) -> int:
    with _ledger(args) as ledger, Follower(ledger.recorder) as follower:
        projector = ledger.projector

        def between_pages(position: int, head: int) -> None:
            # The page is committed with its positions: stopping here loses nothing.
            if follower.stopped:
                raise _Stopped

        with _on_stop_signals(follower.stop):
            try:
                reached = projector.catch_up(between_pages)
                if args.follow:
                    print(f"projections at position {reached}; following the ledger", file=sys.stderr, flush=True)
                while args.follow and not follower.stopped:
                    follower.wait(reached)
                    reached = projector.catch_up(between_pages)
            except _Stopped:
                pass
            with ledger.store.transaction(write=False) as c:
                reached = min(projector.positions(c).values(), default=0)
            head = projector.head()
    print(f"projections at position {reached} of {head}")
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    from ggzledger.interfaces.http import ServeError, serve

    try:
        serve(args.db, host=args.host, port=args.port, token=os.environ.get("GGZLEDGER_TOKEN") or None)
    except ServeError as error:
        raise UsageError(str(error)) from None
    return 0


class _ledger:
    """Open the ledger for a command and always close it."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.db = args.db

    def __enter__(self) -> Ledger:
        self.ledger = Ledger(self.db)
        return self.ledger

    def __exit__(self, *exc: object) -> None:
        self.ledger.close()


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage mistake is one line (the contract's rule for every user error)."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser; --db is accepted before and after the subcommand."""
    db_help = "SQLite file or postgresql://USER@HOST:PORT/DBNAME (default: $GGZLEDGER_DB or ggzledger.db)"
    parser = _Parser(prog="ggzledger", description="Event-sourced GGZ care-trajectory ledger.")
    parser.add_argument("--db", default=None, help=db_help)
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    def command(name: str, handler: Callable[[argparse.Namespace], int], help: str) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, help=help, description=help)
        sub.add_argument("--db", default=argparse.SUPPRESS, help=db_help)
        sub.set_defaults(handler=handler)
        return sub

    command("demo", cmd_demo, "record the seed's Meneer Henk trajectory and print its February 2017 zorgnota")

    sub = command("ingest", cmd_ingest, "record JSON lines from FILE (- for standard input)")
    sub.add_argument("file", metavar="FILE")

    sub = command("close", cmd_close, "close every open month up to MONTH and issue its declarations")
    sub.add_argument("month", metavar="MONTH", type=_month)

    sub = command("invoice", cmd_invoice, "the declaration of TRAJECTORY for MONTH (issued, or draft)")
    sub.add_argument("trajectory", metavar="TRAJECTORY")
    sub.add_argument("month", metavar="MONTH", type=_month)
    sub.add_argument("--json", action="store_true", help="print the contract's JSON")

    sub = command("invoices", cmd_invoices, "every declaration of MONTH")
    sub.add_argument("month", metavar="MONTH", type=_month)
    sub.add_argument("--json", action="store_true", help="print the contract's JSON")

    sub = command("tariffs", cmd_tariffs, "list the tariff tables, or load one from CSV")
    sub.add_argument("action", choices=["list", "load"], nargs="?", default="list")
    sub.add_argument("file", metavar="FILE", nargs="?")
    sub.add_argument("--version", help="the table's version label (with load)")

    sub = command("bench", cmd_bench, "measure ingest, rebuild, close, audit and feed on a synthetic year")
    sub.add_argument("--events", type=int, default=50_000, help="lines of workload (default 50000)")
    sub.add_argument("--seed", type=int, default=1, help="workload seed (default 1)")
    sub.add_argument("--baseline-records", type=int, default=20_000, help="lines for the library baseline")
    sub.add_argument("--json", metavar="FILE", help="also write the figures as JSON to FILE")
    sub.epilog = "Without --db the bench uses a fresh temporary SQLite file; a given store must be empty."

    sub = command("history", cmd_history, "the care-need history of TRAJECTORY, with findings")
    sub.add_argument("trajectory", metavar="TRAJECTORY")
    sub.add_argument("--json", action="store_true", help="print the contract's JSON")

    sub = command("reviews", cmd_reviews, "the review worklist: open trajectories whose review is due")
    sub.add_argument("--as-of", type=_date, metavar="DATE", help="judge as of DATE (default: today)")
    sub.add_argument("--json", action="store_true", help="print the contract's JSON")

    sub = command("totals", cmd_totals, "cumulative totals of issued declarations")
    by_help = f"one of {', '.join(DIMENSIONS)} (default month)"
    sub.add_argument("--by", choices=DIMENSIONS, default="month", metavar="DIM", help=by_help)
    sub.add_argument("--drafts", action="store_true", help="also the drafts of open months, in a column of their own")
    sub.add_argument("--json", action="store_true", help="print the contract's JSON")

    sub = command("audit", cmd_audit, "reconstruct the declaration of TRAJECTORY for MONTH from the log and compare")
    sub.add_argument("trajectory", metavar="TRAJECTORY")
    sub.add_argument("month", metavar="MONTH", type=_month)

    command("verify", cmd_verify, "recompute every close from the log; exit 1 naming what differs")
    command("rebuild", cmd_rebuild, "drop every view and rebuild it from position 0")

    sub = command("feed", cmd_feed, "public events as JSON lines, in position order (docs/feed.md)")
    sub.add_argument("--after", type=_position, default=0, metavar="N", help="start after position N (default 0)")
    sub.add_argument("--limit", type=_position, default=None, metavar="K", help="stop after K events")
    sub.add_argument("--follow", action="store_true", help="keep streaming new events until SIGINT/SIGTERM")

    sub = command("project", cmd_project, "bring the read models up to date; --follow keeps them so")
    sub.add_argument("--follow", action="store_true", help="keep applying new events until SIGINT/SIGTERM")

    sub = command("serve", cmd_serve, "the HTTP interface: feed, declarations, status, OpenAPI (docs/feed.md)")
    sub.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1; any other "
                     "needs GGZLEDGER_TOKEN)")
    sub.add_argument("--port", type=int, default=8080, help="port (default 8080)")

    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    args = build_parser().parse_args(argv)
    try:
        return int(args.handler(args))
    except (UsageError, StoreError) as error:
        print(f"ggzledger: {error}", file=sys.stderr)
        return 2
    except Refused as error:
        print(f"ggzledger: {error}", file=sys.stderr)
        return 1
    except PersistenceError as error:
        print(f"ggzledger: cannot use the database: {error}".splitlines()[0], file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
