"""Pages of stored events for the views: decoding them, and preparing them in child processes.

A view's work on a page has two halves: ``prepare`` turns events into rows
without the database, ``write`` stores them inside the projector's
transaction. Only ``write`` must run where the transaction is. On a SQLite
ledger a long rebuild therefore has two child processes read, decode and
prepare its pages in turn while the projector writes them: SQLite allows one
writer, but the machine has more than one core, and reading and decoding a
million events is more work than writing what the views make of them
(docs/performance.md).

Rows that a rebuild only ever appends to a table (billing's activities, most of
a ledger) do not travel through the pipe: the child writes them into a scratch
SQLite file of its own, and the projector copies them into the view's table
with one INSERT ... SELECT, which runs inside SQLite instead of binding every
value from Python (:class:`Scratch`).
"""

from __future__ import annotations

import marshal
import os
import pickle
import shutil
import sqlite3
import struct
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, BinaryIO
from urllib.request import pathname2url

import orjson

from ggzledger.collector import fewer_collections
from ggzledger.store import TypedMapper, read_states

if TYPE_CHECKING:
    from ggzledger.projections.runner import Recorded, View

__all__ = ["Decoder", "Pages", "PreparedPage", "Put", "Scratch", "Spilled", "events_for", "prepare_chunks", "prepared_pages"]

StoredRow = tuple[int, str, bytes]
"""An event as stored: position, topic, state."""

PreparedPage = tuple[int, int, list[list[Any]], str | None]
"""First and last position of a page, per chunk of it each view's prepared work, and the
page's scratch database (None: nothing was spilled; see :class:`Scratch`)."""

Spilled = tuple[str, int, int]
"""Where a child put rows instead of sending them: a table of the page's scratch database (read as
``FROM {SCRATCH}.{table}``), and the first and last ``seq`` of the rows in it."""

SCRATCH = "ggz_page"
"""The schema name the projector attaches a page's scratch database under while it writes the page."""


Put = Callable[[str, Sequence[Sequence[Any]]], Spilled]
"""How a view's ``spill`` puts rows of a table aside (see :class:`Scratch`)."""


class Scratch:
    """A page's scratch database: rows a child puts aside for the projector to copy.

    Each named table holds rows of one shape, numbered by ``seq`` in the order
    put; a view's ``spill`` puts rows and sends the returned :data:`Spilled` in
    their place. One file per page, finished before the page is sent: the
    projector attaches it only while it writes that page (attached, it is locked
    by the projector's write transaction, so the child could not go on writing
    to it), then deletes it. Written without a journal: it lives as long as
    the page, and a crash loses nothing the ledger cannot give again. The file
    is made only when something is put.
    """

    def __init__(self, path: str) -> None:
        self.path = path
        self._connection: sqlite3.Connection | None = None
        self._last: dict[str, int] = {}

    def put(self, table: str, rows: Sequence[Sequence[Any]]) -> Spilled:
        """Store rows (all of one width) in ``table``; returns where the projector finds them."""
        if self._connection is None:
            self._connection = sqlite3.connect(self.path, isolation_level=None)
            self._connection.execute("PRAGMA journal_mode=OFF")
            self._connection.execute("PRAGMA synchronous=OFF")
            self._connection.execute("BEGIN")
        width = len(rows[0])
        names = [f"c{i}" for i in range(width)]
        if table not in self._last:
            self._connection.execute(f"CREATE TABLE {table} (seq INTEGER PRIMARY KEY, {', '.join(names)})")
            self._last[table] = 0
        first = self._last[table] + 1
        self._connection.executemany(
            f"INSERT INTO {table} ({', '.join(names)}) VALUES ({', '.join('?' * width)})", rows
        )
        self._last[table] = first + len(rows) - 1
        return (table, first, self._last[table])

    def finish(self) -> str | None:
        """Commit and close; the file's path, or None when nothing was put (there is no file)."""
        if self._connection is None:
            return None
        self._connection.execute("COMMIT")
        self._connection.close()
        return self.path


class Decoder:
    """Decodes stored rows into what views read, leaving out events no view reads."""

    def __init__(self, mapper: TypedMapper, views: Sequence[View]) -> None:
        self.mapper = mapper
        self.views = views
        # Per topic, how its stored state is decoded (None: no view reads it).
        self._decoders: dict[str, Callable[[bytes], dict[str, Any]] | None] = {}

    def __call__(self, rows: Sequence[StoredRow]) -> list[Recorded]:
        decoders = self._decoders
        for topic in {row[1] for row in rows} - decoders.keys():
            decoders[topic] = self._decoder(topic)
        return [(position, topic, decode(state)) for position, topic, state in rows if (decode := decoders[topic])]

    def _decoder(self, topic: str) -> Callable[[bytes], dict[str, Any]] | None:
        if not any(topic in view.topics for view in self.views):
            return None
        if not self.mapper.is_versioned(topic):
            # Most events are of classes with one version: their stored state is current as it is.
            return orjson.loads
        current = self.mapper.current_state
        return lambda state: current(topic, orjson.loads(state))


def events_for(view: View, events: list[Recorded], present: set[str], after: int = 0) -> list[Recorded]:
    """The events a view reads (``present``: the topics among ``events``), those after position ``after``."""
    topics = view.topics
    if events and events[0][0] <= after:
        return [e for e in events if e[0] > after and e[1] in topics]
    return events if present <= topics else [e for e in events if e[1] in topics]


def prepare_chunks(rows: Sequence[StoredRow], decode: Decoder, views: Sequence[View], chunk: int) -> list[list[Any]]:
    """Each view's prepared work on rows, ``chunk`` events at a time (the events of a small chunk stay in cache)."""
    prepared = []
    for start in range(0, len(rows), chunk):
        events = decode(rows[start : start + chunk])
        present = {event[1] for event in events}
        prepared.append([view.prepare(events_for(view, events, present)) for view in views])
    return prepared


class Pages:
    """What the children send: the pages in order."""

    def __init__(self, children: list[subprocess.Popen[bytes]], count: int) -> None:
        self._children = children
        self._count = count

    def __iter__(self) -> Iterator[PreparedPage]:
        # Page i comes from child i mod N: the children take pages in turn.
        for index in range(self._count):
            yield self._receive(self._children[index % len(self._children)])[1]

    def _receive(self, child: subprocess.Popen[bytes]) -> Any:
        assert child.stdout is not None
        message = _read_message(child.stdout)
        if message is None:
            raise RuntimeError(f"a process preparing pages of events stopped (exit code {child.wait()})")
        if message[0] == "error":
            raise RuntimeError(f"preparing pages of events failed: {message[1]}")
        return message


@contextmanager
def prepared_pages(
    path: str,
    table: str,
    views: Sequence[View],
    after: int,
    stop: int,
    page_size: int,
    chunk: int,
    processes: int = 2,
) -> Iterator[Pages]:
    """Pages of a SQLite ledger after ``after`` up to ``stop``, prepared for ``views`` by child processes.

    Page i holds the positions after ``after + i * page_size``, up to the next
    page's start or ``stop``; child i mod ``processes`` prepares it. Each child
    is a new Python running :func:`main` (not multiprocessing, whose "spawn"
    would import the caller's main script again); it is given its job on stdin
    and sends length-prefixed messages on stdout, and the pipe keeps it about a
    page ahead. The pages' scratch databases are made in a folder beside the
    ledger, named after this process, and removed with what is left in it when the
    block ends; folders left by processes that no longer run (killed outright) are
    removed first. Leaving the block stops the children. Raises OSError when a
    child cannot be started or the folder cannot be made.
    """
    count = -(-(stop - after) // page_size)
    # Beside the ledger: the disk it is on has room for what the rebuild writes anyway.
    folder = os.path.dirname(os.path.abspath(path))
    _remove_abandoned_scratch(folder)
    scratch = tempfile.TemporaryDirectory(prefix=f"{_SCRATCH_PREFIX}{os.getpid()}-", dir=folder)
    # The children import ggzledger from where this process found it.
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if isinstance(p, str))}
    children: list[subprocess.Popen[bytes]] = []
    try:
        for _ in range(max(1, min(processes, count))):
            children.append(
                subprocess.Popen(
                    [sys.executable, "-c", "import sys; from ggzledger.projections.pages import main; sys.exit(main())"],
                    stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE,
                    env=env,
                )
            )
        for turn, child in enumerate(children):
            assert child.stdin is not None
            job = (path, table, list(views), after, stop, page_size, chunk, turn, len(children), scratch.name)
            child.stdin.write(pickle.dumps(job))
            child.stdin.close()
        yield Pages(children, count)
    finally:
        for child in children:
            if child.poll() is None:
                child.kill()
            assert child.stdout is not None
            child.stdout.close()
            child.wait()
        scratch.cleanup()


_SCRATCH_PREFIX = ".ggzledger-rebuild-"


def _remove_abandoned_scratch(folder: str) -> None:
    """Remove scratch folders whose process is gone; another process's rebuild may be using its own."""
    if os.name != "posix":  # signal 0 asks whether a process runs only there
        return
    for name in os.listdir(folder):
        if not name.startswith(_SCRATCH_PREFIX):
            continue
        pid = name[len(_SCRATCH_PREFIX) :].split("-", 1)[0]
        if not pid.isdigit():
            continue
        try:
            os.kill(int(pid), 0)
        except ProcessLookupError:
            shutil.rmtree(os.path.join(folder, name), ignore_errors=True)
        except PermissionError:  # alive, and someone else's
            continue


def _read_message(stream: BinaryIO) -> Any:
    header = stream.read(_HEADER.size)
    if len(header) < _HEADER.size:
        return None
    (size,) = _HEADER.unpack(header)
    body = stream.read(size)
    return marshal.loads(body) if len(body) == size else None


def _send(stream: BinaryIO, message: Any) -> None:
    # marshal, not pickle: views prepare plain lists, tuples and dicts of text and
    # numbers, which marshal writes several times faster; both ends are the same Python.
    body = marshal.dumps(message)
    stream.write(_HEADER.pack(len(body)))
    stream.write(body)
    stream.flush()


def _prepare(
    stream: BinaryIO,
    path: str,
    table: str,
    views: list[View],
    after: int,
    stop: int,
    page_size: int,
    chunk: int,
    turn: int,
    turns: int,
    scratch: str,
) -> None:
    """A child's work: read, decode, prepare and send pages ``turn``, ``turn + turns``, ...

    Each view spills what it can of each page into the page's scratch database
    in ``scratch`` (see :class:`Scratch`), which is finished before the page is sent.
    """
    decode = Decoder(TypedMapper(), views)
    # Read-only: the child never writes, and must hold nothing that could block the writer.
    connection = sqlite3.connect(f"file:{pathname2url(os.path.abspath(path))}?mode=ro", uri=True)
    cursor = connection.cursor()
    start = after + turn * page_size
    while start < stop:
        end = min(start + page_size, stop)
        rows = read_states(cursor, table, start, end)
        chunks = prepare_chunks(rows, decode, views, chunk)
        spill = Scratch(os.path.join(scratch, f"page-{start + 1}.db"))
        for prepared in chunks:
            for index, view in enumerate(views):
                prepared[index] = view.spill(prepared[index], spill.put)
        _send(stream, ("page", (start + 1, end, chunks, spill.finish())))
        start += turns * page_size
    connection.close()


def main() -> int:
    """The child process: prepare the job read from stdin, send the pages on stdout."""
    out = sys.stdout.buffer
    try:
        with fewer_collections():
            _prepare(out, *pickle.loads(sys.stdin.buffer.read()))
    except BrokenPipeError:  # the projector stopped listening: nothing left to do
        return 0
    except Exception as error:  # reported to the projector, which raises it there
        _send(out, ("error", f"{type(error).__name__}: {error}"))
        return 1
    return 0


_HEADER = struct.Struct("!Q")
