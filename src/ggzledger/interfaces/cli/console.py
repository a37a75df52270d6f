"""What every command shares: its usage errors, its output, its progress bars, and opening the ledger."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, TypeVar

import orjson

from ggzledger.progress import Progress
from ggzledger.service.ledger import Ledger
from ggzledger.store import store_env
from ggzledger.store.chain import Anchor

__all__ = [
    "UsageError", "print_json", "counted", "print_listing", "progress_bar", "position_bar", "check_store", "bring_up_to_date",
    "open_ledger",
]  # fmt: skip

T = TypeVar("T")

# The first 16 bytes of every SQLite database file.
_SQLITE_HEADER = b"SQLite format 3\x00"


class UsageError(Exception):
    """A user's mistake on the command line; printed as one line, exit status 2."""


def print_json(value: Any) -> None:
    """Print a JSON document, indented, keys in the order the value holds them (the docs' order)."""
    sys.stdout.write(orjson.dumps(value, option=orjson.OPT_INDENT_2).decode() + "\n")


def counted(count: int, noun: str, plural: str | None = None) -> str:
    """``1 declaration``, ``2 declarations``, ``12,345 events``: a count with its noun, in English."""
    return f"{count:,} {noun if count == 1 else plural or noun + 's'}"


def print_listing(
    rows: Sequence[T],
    as_json: bool,
    line: Callable[[T], str],
    noun: str,
    plural: str | None = None,
    to_json: Callable[[T], Any] = lambda row: row,
) -> None:
    """Print ``rows`` as one JSON array (``--json``), else one ``line`` each and then their count."""
    if as_json:
        print_json([to_json(row) for row in rows])
        return
    for row in rows:
        print(line(row))
    print(counted(len(rows), noun, plural))


@contextlib.contextmanager
def progress_bar(what: str, unit: str = " events", total: int | None = None) -> Iterator[Any]:
    """A tqdm bar on standard error while the block runs, or None when standard error is no terminal."""
    if not sys.stderr.isatty():
        yield None
        return
    from tqdm import tqdm

    with tqdm(desc=what, unit=unit, unit_scale=True, total=total, leave=False, file=sys.stderr) as bar:
        yield bar


@contextlib.contextmanager
def position_bar(what: str) -> Iterator[Progress | None]:
    """A bar for whole-log work, fed as ``progress(position, head)``; None when no bar is shown."""
    with progress_bar(what) as bar:
        if bar is None:
            yield None
            return

        def update(position: int, head: int) -> None:
            bar.total = head
            bar.update(position - bar.n)

        yield update


def check_store(db: str | None, *, create: bool) -> None:
    """Refuse, as a UsageError naming the path, a --db that would be a mistake to open.

    An empty --db is refused (it would fall back to the default silently). A SQLite path must name
    a SQLite file; a missing one is created only by commands that write (``create``), and only in a
    directory that exists. A read never leaves an empty ledger behind a mistyped path.
    """
    if db == "":
        raise UsageError("--db is empty: give a SQLite file path or a postgresql:// URL")
    path = store_env(db).get("SQLITE_DBNAME")
    if path is None:
        return  # PostgreSQL: the server says whether the database exists
    file = Path(path)
    if file.is_dir():
        raise UsageError(f"{path} is a directory, not a ledger file")
    if not file.exists():
        if not create:
            raise UsageError(f"no ledger at {path}: the file does not exist (ingest creates one)")
        if not file.parent.is_dir():
            raise UsageError(f"cannot create a ledger at {path}: the directory {file.parent} does not exist")
        return
    try:
        with file.open("rb") as opened:
            header = opened.read(len(_SQLITE_HEADER))
    except OSError as error:
        raise UsageError(f"cannot read {path}: {error.strerror}") from None
    # An empty file is an empty SQLite database to SQLite itself.
    if header and header != _SQLITE_HEADER:
        raise UsageError(f"{path} is not a SQLite database: is --db naming the right file?")


def bring_up_to_date(ledger: Ledger) -> None:
    """Catch the read models up with a bar on a terminal; elsewhere the command's own catch-up does it."""
    with position_bar("catching up") as bar:
        if bar is not None:
            ledger.projector.catch_up(bar)


@contextlib.contextmanager
def open_ledger(db: str | None, *, create: bool = False, catch_up: bool = False) -> Iterator[Ledger]:
    """The ledger a command works on, closed afterwards.

    ``create``: the command writes, and may start a new ledger. ``catch_up``: bring the read models
    up to date first, with a progress bar on a terminal (the first read after a large ingest is long).
    """
    check_store(db, create=create)
    ledger = Ledger(db)
    try:
        if catch_up:
            bring_up_to_date(ledger)
        yield ledger
    finally:
        _tell_chain_upgrade(ledger)
        ledger.close()


def _tell_chain_upgrade(ledger: Ledger) -> None:
    """Once, on the write that chained a ledger recorded before the chain: the anchor of that moment.

    Only when the chain rows were committed (a transaction that upgraded can still roll back).
    """
    upgraded = ledger.recorder.chain_upgraded
    if upgraded is not None and ledger.recorder.select_chain(upgraded[0] - 1, upgraded[0], 1) == [upgraded]:
        print(f"the events recorded before the event chain existed are chained now: {Anchor(*upgraded)}")
