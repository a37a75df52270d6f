"""Pages of stored events for the views: decoding them, and preparing them in a second process.

A view's work on a page has two halves: ``prepare`` turns events into rows
without the database, ``write`` stores them inside the projector's
transaction. Only ``write`` must run where the transaction is. On a SQLite
ledger a long rebuild therefore reads, decodes and prepares its pages in a
child process while the projector writes the previous page: SQLite allows
one writer, but the machine has more than one core, and reading and decoding
a million events is about as much work as writing what the views make of them
(docs/performance.md).
"""

from __future__ import annotations

import marshal
import pickle
import sqlite3
import struct
import subprocess
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, BinaryIO

import orjson

from ggzledger.bulk import fewer_collections
from ggzledger.persistence import TypedMapper

if TYPE_CHECKING:
    from ggzledger.projections.runner import Recorded, View

__all__ = ["Decoder", "Pages", "PreparedPage", "prepare_chunks", "prepared_pages"]

StoredRow = tuple[int, str, bytes]
"""An event as stored: position, topic, state."""

PreparedPage = tuple[int, int, list[list[Any]]]
"""First and last position of a page, and per chunk of it, each view's prepared work."""


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


def prepare_chunks(rows: Sequence[StoredRow], decode: Decoder, views: Sequence[View], chunk: int) -> list[list[Any]]:
    """Each view's prepared work on rows, ``chunk`` events at a time (the events of a small chunk stay in cache)."""
    prepared = []
    for start in range(0, len(rows), chunk):
        events = decode(rows[start : start + chunk])
        present = {event[1] for event in events}
        mine = []
        for view in views:
            topics = view.topics
            mine.append(view.prepare(events if present <= topics else [e for e in events if e[1] in topics]))
        prepared.append(mine)
    return prepared


class Pages:
    """What the child sends: pages (iterate), then, for a run from position 0, each view's prepared finish."""

    def __init__(self, stream: BinaryIO, child: subprocess.Popen[bytes]) -> None:
        self._stream = stream
        self._child = child
        self._finishes: list[Any] | None = None

    def __iter__(self) -> Iterator[PreparedPage]:
        while True:
            message = self._receive()
            if message[0] == "end":
                return
            yield message[1]

    def finished(self, index: int) -> Any:
        """The prepared finish of the view at ``index`` (None: it finishes from the database).

        Read once the pages are all written: the child computes it meanwhile.
        """
        if self._finishes is None:
            self._finishes = self._receive()[1]
        return self._finishes[index]

    def _receive(self) -> Any:
        message = _read_message(self._stream)
        if message is None:
            raise RuntimeError(f"the process preparing pages of events stopped (exit code {self._child.wait()})")
        if message[0] == "error":
            raise RuntimeError(f"preparing pages of events failed: {message[1]}")
        return message


@contextmanager
def prepared_pages(
    path: str, table: str, views: Sequence[View], after: int, stop: int, page_size: int, chunk: int
) -> Iterator[Pages]:
    """Pages of a SQLite ledger after ``after`` up to ``stop``, prepared for ``views`` by a child process.

    The child is a new Python running :func:`main` (not multiprocessing,
    whose "spawn" would import the caller's main script again). It is given the
    job on its stdin and sends length-prefixed messages on its stdout; the pipe
    keeps it at most a page or so ahead. Leaving the block stops the child.
    """
    child = subprocess.Popen(
        [sys.executable, "-c", "import sys; from ggzledger.projections.pages import main; sys.exit(main())"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
    )
    assert child.stdin is not None and child.stdout is not None
    try:
        child.stdin.write(pickle.dumps((path, table, list(views), after, stop, page_size, chunk)))
        child.stdin.close()
        yield Pages(child.stdout, child)
    finally:
        if child.poll() is None:
            child.kill()
        child.stdout.close()
        child.wait()


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


def _prepare(stream: BinaryIO, path: str, table: str, views: list[View], after: int, stop: int, page_size: int, chunk: int) -> None:
    """The child's work: read, decode and prepare each page, and send it; then the views' finishes."""
    decode = Decoder(TypedMapper(), views)
    # From position 0 the child sees every event: a view that asks for it keeps its
    # prepared pages, from which it prepares its finish (HistoryView's entries).
    kept: list[list[Any] | None] = [[] if after == 0 and getattr(v, "keeps_prepared", False) else None for v in views]
    # Read-only: the child never writes, and must hold nothing that could block the writer.
    connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    select = f"SELECT rowid, topic, state FROM {table} WHERE rowid > ? AND rowid <= ? ORDER BY rowid LIMIT ?"
    while after < stop:
        rows = connection.execute(select, (after, stop, page_size)).fetchall()
        if not rows:
            break
        chunks = prepare_chunks(rows, decode, views, chunk)
        _send(stream, ("page", (rows[0][0], rows[-1][0], chunks)))
        for index, pages in enumerate(kept):
            if pages is not None:
                pages.extend(prepared[index] for prepared in chunks)
        after = rows[-1][0]
    connection.close()
    _send(stream, ("end",))
    _send(stream, ("finished", [None if pages is None else view.prepare_finish(pages) for view, pages in zip(views, kept)]))


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
