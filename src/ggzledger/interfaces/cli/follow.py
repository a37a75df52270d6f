"""The commands that can run until stopped: feed, project, serve."""

from __future__ import annotations

import argparse
import contextlib
import itertools
import os
import signal
import sys
from collections.abc import Callable, Iterator

import orjson

from ggzledger.feed.follow import Follower
from ggzledger.feed.public import Feed
from ggzledger.interfaces.cli.access import log_read
from ggzledger.interfaces.cli.console import UsageError, check_store, open_ledger, position_bar
from ggzledger.store import store_env

__all__ = ["cmd_feed", "cmd_project", "cmd_serve"]


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
    """Public events as JSON lines; with --follow, until stopped. A reader that goes away is no error."""
    out = sys.stdout.buffer
    # A follower may start before the first writer has made the ledger; a one-off read may not.
    with open_ledger(args.db, create=args.follow) as ledger, contextlib.ExitStack() as following:
        # Every patient's opened fields: one access-log row for the whole read (trajectory none named).
        log_read(ledger, f"feed --after {args.after}" + (" --follow" if args.follow else ""))
        feed = Feed(ledger.recorder, ledger.mapper)
        lines = feed.lines(args.after)
        if args.follow:
            follower = following.enter_context(Follower(ledger.recorder))
            following.enter_context(_on_stop_signals(follower.stop))
            lines = feed.follow(follower, args.after, on_idle=out.flush)
        # islice stops right after the K-th line: asking a follower for one more would wait for it.
        for item in itertools.islice(lines, args.limit):
            out.write(orjson.dumps(item) + b"\n")
        out.flush()
    return 0


def cmd_project(args: argparse.Namespace) -> int:
    """Bring the read models up to date, with a bar on a terminal; --follow keeps them so until stopped."""
    with open_ledger(args.db, create=args.follow) as ledger, Follower(ledger.recorder) as follower:
        projector = ledger.projector
        with position_bar("project") as bar:

            def between_pages(position: int, head: int) -> None:
                # The page is committed with its positions: stopping here loses nothing.
                if bar is not None:
                    bar(position, head)
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
    """The HTTP interface until SIGINT or SIGTERM."""
    from ggzledger.interfaces.http import ServeError, serve

    if os.environ.get("GGZLEDGER_TOKEN"):
        # The one shared token of earlier versions: refused rather than ignored, so that no one believes it guards.
        raise UsageError(
            "GGZLEDGER_TOKEN is no longer used: unset it and create named tokens with"
            " ggzledger token add NAME --role ROLE (docs/operations.md)"
        )
    if args.read_only and "POSTGRES_DBNAME" not in store_env(args.db):
        raise UsageError("--read-only needs a PostgreSQL ledger: a SQLite file has no roles; restrict its mode instead")
    # A service may start before the first ingest: it may make the ledger, but only from a sane --db.
    check_store(args.db, create=not args.read_only)
    try:
        serve(args.db, host=args.host, port=args.port, server_names=args.server_name, read_only=args.read_only)
    except ServeError as error:
        raise UsageError(str(error)) from None
    return 0
