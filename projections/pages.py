"""A rebuild's pages of stored events prepared in child processes, and the scratch files they spill into.

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
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import IO, TYPE_CHECKING, Any, BinaryIO
from urllib.request import pathname2url

from ggzledger.collector import fewer_collections
from ggzledger.projections.bulk import BulkRebuild, Spilled
from ggzledger.projections.decoding import Decoder, prepare_chunks
from ggzledger.store import TypedMapper, create_private, read_states

if TYPE_CHECKING:
    from ggzledger.projections.view import View

__all__ = ["Pages", "PreparedPage", "Scratch", "main", "prepared_pages"]

PreparedPage = tuple[int, int, list[list[Any]], str | None]
"""First and last position of a page, per chunk of it each view's prepared work, and the
page's scratch database (None: nothing was spilled; see :class:`Scratch`)."""


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
            create_private(self.path)  # it holds patients' rows; its folder is the owner's only already
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
    mapper: TypedMapper | None = None,
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
    removed first. Leaving the block stops the children. ``mapper``: the ledger's,
    whose compressor and cipher the children decode with. Raises OSError when a
    child cannot be started, the folder cannot be made or the mapper's cipher
    cannot be handed to a child.
    """
    count = -(-(stop - after) // page_size)
    try:
        # The children decode as the ledger's mapper does: with its compressor and cipher, if any.
        # And with its sealer, which a child rebuilds from the key store's location (its own connection).
        sealing = (None, None, None) if mapper is None else (mapper.compressor, mapper.cipher, mapper.sealer)
        pickle.dumps(sealing)
    except Exception as error:  # whatever keeps a cipher from being pickled
        raise OSError(f"the mapper's compressor or cipher cannot be sent to a child process: {error}") from error
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
                    [
                        sys.executable,
                        "-c",
                        "import sys; from ggzledger.projections.pages import main; sys.exit(main())",
                    ],
                    stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE,
                    env=env,
                )
            )
        for turn, child in enumerate(children):
            assert child.stdin is not None
            job = (path, table, list(views), after, stop, page_size, chunk, turn, len(children), scratch.name, sealing)
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
    """Remove scratch folders whose process is gone; another process's rebuild may be using its own.

    A folder whose name holds no plausible process id is not one this code made:
    it is left alone, never a reason to stop the rebuild.
    """
    if os.name != "posix":  # signal 0 asks whether a process runs only there
        return
    for name in os.listdir(folder):
        if not name.startswith(_SCRATCH_PREFIX):
            continue
        pid = name[len(_SCRATCH_PREFIX) :].split("-", 1)[0]
        # ASCII digits only ('²'.isdigit() is true), and a number a process id can be.
        if not (pid.isascii() and pid.isdigit() and 0 < int(pid) <= _MAX_PID):
            continue
        try:
            os.kill(int(pid), 0)
        except ProcessLookupError:
            shutil.rmtree(os.path.join(folder, name), ignore_errors=True)
        except OSError:  # alive and someone else's (PermissionError), or not to be judged
            continue


# Linux's largest process id (PID_MAX_LIMIT, 2**22); other systems stay below it too.
_MAX_PID = 2**22


def _read_message(stream: IO[bytes]) -> Any:
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
    sealing: tuple[Any, Any, Any],
) -> None:
    """A child's work: read, decode, prepare and send pages ``turn``, ``turn + turns``, ...

    Each view spills what it can of each page into the page's scratch database
    in ``scratch`` (see :class:`Scratch`), which is finished before the page is sent.
    """
    mapper = TypedMapper(compressor=sealing[0], cipher=sealing[1])
    mapper.sealer = sealing[2]
    decode = Decoder(mapper, views)
    # Read-only: the child never writes, and must hold nothing that could block the writer.
    connection = sqlite3.connect(f"file:{pathname2url(os.path.abspath(path))}?mode=ro", uri=True)
    cursor = connection.cursor()
    spilling = [(index, view) for index, view in enumerate(views) if isinstance(view, BulkRebuild)]
    start = after + turn * page_size
    while start < stop:
        end = min(start + page_size, stop)
        rows = read_states(cursor, table, start, end)
        chunks = prepare_chunks(rows, decode, views, chunk)
        spill = Scratch(os.path.join(scratch, f"page-{start + 1}.db"))
        for prepared in chunks:
            for index, view in spilling:
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
