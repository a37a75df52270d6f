"""Keeping read models up to date: pages of the notification log, applied with their tracking position."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from typing import Any, Protocol

from eventsourcing.persistence import ApplicationRecorder

from ggzledger.collector import fewer_collections
from ggzledger.store import TypedMapper
from ggzledger.projections.pages import SCRATCH, Decoder, Put, events_for, prepared_pages
from ggzledger.projections.store import Cursor, ProjectionStore

__all__ = ["Recorded", "View", "TableView", "Projector", "Progress"]

# Called after each page with (position reached, head position).
Progress = Callable[[int, int], None]

Recorded = tuple[int, str, dict[str, Any]]
"""What a view is given of one event: its ledger position, its topic and its recorded state.

The state is the stored JSON decoded and brought to the event class's current
version (dates stay ISO text): views read recorded facts, and building domain
objects for each of a million events only to read a few fields back was most
of a rebuild's Python time (docs/performance.md).
"""

# One row per view: the last ledger position it applied, and the version of its
# tables' layout (a view whose layout changed is rebuilt from position 0).
_POSITIONS = (
    "CREATE TABLE IF NOT EXISTS projection_positions"
    " (name TEXT PRIMARY KEY, position BIGINT NOT NULL, version INTEGER NOT NULL DEFAULT 0)"
)
# The views being rebuilt: from position 0 up to the head they apply events in bulk
# (no secondary indexes, derived rows computed once at the end). Kept in the
# database so that every process applies a page the same way, and so that a
# rebuild cut off half-way is finished by the next catch-up, whoever runs it.
_REBUILDS = "CREATE TABLE IF NOT EXISTS projection_rebuilds (name TEXT PRIMARY KEY)"


class View(Protocol):
    """A read model: its tables and how events change them.

    ``version`` is the layout of its tables: raise it when they change, and an
    existing database rebuilds that view instead of failing on old tables.
    While ``rebuilding``, a view may leave out what only makes reads fast or
    what it can derive at the end; ``finish_rebuild`` then makes it whole.
    """

    name: str
    version: int
    topics: frozenset[str]  # the events it reads; it is given no others
    keeps_prepared: bool  # True: a rebuild keeps its prepared pages for prepare_finish

    def create(self, c: Cursor, *, rebuilding: bool = False) -> None: ...

    def drop(self, c: Cursor) -> None: ...

    def prepare(self, events: Sequence[Recorded]) -> Any:
        """What the events change, computed without the database; it may run in another process."""

    def write(self, c: Cursor, prepared: Any, rebuilding: bool) -> None:
        """Store what :meth:`prepare` computed, inside the projector's transaction."""

    def spill(self, prepared: Any, put: Put) -> Any:
        """``prepared`` with rows that only go into a table put aside by ``put(table, rows)``.

        Called in a rebuild's child process (see pages.py): ``put`` stores the rows
        in the page's scratch database and returns where they are, which ``write``
        is then given in their place; it copies them with INSERT ... SELECT from
        ``pages.SCRATCH``. What is not put aside is sent to the projector as usual.
        A view that keeps its prepared pages does not spill.
        """

    def prepare_finish(self, pages: Sequence[Any]) -> Any:
        """What finish_rebuild needs, from the view's prepared pages since position 0."""

    def finish_rebuild(self, c: Cursor, prepared: Any = None) -> None: ...


class TableView:
    """Base of a view whose tables are created from ``schema`` and dropped by ``tables``.

    ``indexes`` are the secondary indexes, which serve reads only: a rebuild
    creates them once at its end (or when a read during it needs them), which is
    cheaper than keeping them up to date row by row.
    """

    schema: tuple[str, ...] = ()
    indexes: tuple[str, ...] = ()
    tables: tuple[str, ...] = ()
    keeps_prepared = False

    def create(self, c: Cursor, *, rebuilding: bool = False) -> None:
        for statement in self.schema:
            c.execute(statement)
        if not rebuilding:
            self.create_indexes(c)

    def create_indexes(self, c: Cursor) -> None:
        for statement in self.indexes:
            c.execute(statement)

    def drop(self, c: Cursor) -> None:
        for table in self.tables:
            c.execute(f"DROP TABLE IF EXISTS {table}")

    def spill(self, prepared: Any, put: Put) -> Any:
        return prepared

    def prepare_finish(self, pages: Sequence[Any]) -> Any:
        return None

    def finish_rebuild(self, c: Cursor, prepared: Any = None) -> None:
        self.create_indexes(c)


class Projector:
    """Applies the ledger's events to views, exactly once each.

    Each page of events is applied to every view in one transaction together
    with the views' new tracking positions; a crash rolls back the whole page,
    and the next run starts after the last committed position. Write
    transactions lock the positions first (BEGIN IMMEDIATE on SQLite, FOR UPDATE
    on PostgreSQL), so concurrent catch-ups never apply a page twice.
    """

    def __init__(
        self,
        recorder: ApplicationRecorder,
        mapper: TypedMapper,
        store: ProjectionStore,
        views: Sequence[View],
        page_size: int = 10_000,
        rebuild_page_size: int = 50_000,
    ) -> None:
        self.recorder = recorder
        self.mapper = mapper
        self.store = store
        self.views = list(views)
        self.page_size = page_size
        # A rebuild writes into tables without secondary indexes: larger pages
        # mean fewer commits, and each commit rewrites fewer pages twice.
        self.rebuild_page_size = rebuild_page_size
        # Events decoded at a time within a rebuild's page (see _apply_rows): 250 decoded
        # events fit in the processor's cache, 2,000 did not and decoding took twice as long.
        self.chunk_size = 250
        # A rebuild with at least this many events to go has its pages prepared by
        # child processes (SQLite only; see pages.py). Starting them takes a few tenths of a second.
        self.second_process_from = 100_000
        self._decode = Decoder(mapper, self.views)
        with store.transaction(write=True) as c:
            c.execute(_POSITIONS)
            c.execute(_REBUILDS)
            c.execute("SELECT name, version FROM projection_positions")
            versions = dict(c.fetchall())
            for view in self.views:
                if view.name in versions and versions[view.name] != view.version:
                    # Tables of another layout: start this view again from position 0.
                    self._restart(c, view)
                    c.execute("UPDATE projection_positions SET version = ? WHERE name = ?", (view.version, view.name))
                else:
                    view.create(c)
                c.execute(
                    "INSERT INTO projection_positions (name, position, version) VALUES (?, 0, ?)"
                    " ON CONFLICT (name) DO NOTHING",
                    (view.name, view.version),
                )

    def positions(self, c: Cursor, lock: bool = False) -> dict[str, int]:
        """Each view's tracking position: the last ledger position it has applied."""
        suffix = " FOR UPDATE" if lock and self.store.dialect == "postgresql" else ""
        c.execute(f"SELECT name, position FROM projection_positions{suffix}")
        return {name: position for name, position in c.fetchall()}

    def rebuilding(self, c: Cursor) -> set[str]:
        """The views in the middle of a rebuild."""
        c.execute("SELECT name FROM projection_rebuilds")
        return {row[0] for row in c.fetchall()}

    def head(self) -> int:
        """The ledger's latest position (0 when empty)."""
        return self.recorder.max_notification_id() or 0

    def catch_up(self, progress: Progress | None = None, until: int | None = None) -> int:
        """Apply every event recorded since the views' positions; returns the position reached.

        Views being rebuilt are made whole at the end (indexes, derived rows),
        so that what is read after a catch-up is complete. Empty views facing a
        long ledger are filled the way a rebuild fills them.
        """
        head = self.head() if until is None else until
        with fewer_collections():
            while True:
                with self.store.transaction(write=False) as c:
                    reached = min(self.positions(c).get(v.name, 0) for v in self.views)
                    bulk = bool(self.rebuilding(c))
                if reached >= head:
                    break
                if reached == 0 and not bulk and head > self.page_size:
                    bulk = self._start_rebuild(empty_only=True)
                if bulk and self._in_second_process(reached, head, progress):
                    continue
                rows = self._select(reached, head, self.rebuild_page_size if bulk else self.page_size)
                if not rows:
                    break
                self._apply_rows(rows, self.chunk_size if bulk else len(rows))
                if progress is not None:
                    progress(rows[-1][0], head)
            if bulk:
                self._finish_rebuilds()
        return reached

    def _select(self, after: int, stop: int, limit: int) -> list[tuple[int, str, bytes]]:
        """The next page of events as stored: (position, topic, state). Both ledger recorders read them."""
        return self.recorder.select_states(after, limit, stop)  # type: ignore[attr-defined,no-any-return]

    def _in_second_process(self, after: int, head: int, progress: Progress | None, restart: bool = False) -> bool:
        """Apply pages prepared by child processes; False when none was applied (the caller goes on here).

        Only on SQLite, with at least ``second_process_from`` events to go: starting the
        children costs a few tenths of a second.

        When the children read from position 0 and every page they prepared was
        applied, the rebuild is finished here with what they prepared for it.
        ``restart``: start every view again from position 0 once the children are
        started (they read only the events, so they start while the old tables
        are dropped); nothing is dropped when no child could be started.
        """
        path = getattr(self.store, "path", None)
        table = getattr(self.recorder, "events_table_name", None)
        if self.store.dialect != "sqlite" or path is None or table is None or head - after < self.second_process_from:
            return False
        size, applied = self.rebuild_page_size, False
        # From position 0 this process applies the first page itself while the children start
        # (a few tenths of a second), and keeps what it prepared for the views' finishes.
        own = after == 0 and head - after > size
        kept: list[list[Any]] = [[] for _ in self.views]
        with ExitStack() as stack:
            try:
                children_from = after + size if own else after
                pages = stack.enter_context(
                    prepared_pages(path, table, self.views, children_from, head, size, self.chunk_size)
                )
            except OSError:  # no child process here (no interpreter to start): this process does it all
                return False
            if restart:
                self._start_rebuild()
            with self.store.transaction(write=False) as c:
                # Views the children's pages cover from their start: their finish may come from the children.
                from_start = {name for name, position in self.positions(c).items() if position == 0}
            if own:
                rows = self._select(after, after + size, size)
                if rows:
                    self._apply_rows(rows, self.chunk_size, kept)
                    applied = True
                    if progress is not None:
                        progress(rows[-1][0], head)
            for first, last, chunks, scratch in pages:
                if not self._write_prepared(first, last, chunks, scratch, kept if after == 0 else None):
                    return applied or restart  # restarted: the caller's catch-up goes on with the rebuild
                applied = True
                if progress is not None:
                    progress(last, head)
            if after == 0:
                # Views' finishes from the prepared pages are computed in a thread while the
                # others finish: creating an index, SQLite lets go of the interpreter.
                pool = stack.enter_context(ThreadPoolExecutor(1, thread_name_prefix="ggzledger-finish"))
                finishes = {
                    index: pool.submit(view.prepare_finish, kept[index])
                    for index, view in enumerate(self.views)
                    if view.keeps_prepared and view.name in from_start
                }
                self._finish_rebuilds(lambda index: finishes[index].result(), from_start, covered=head)
        return applied

    @contextmanager
    def _page(self, last: int) -> Iterator[tuple[Cursor, dict[str, int], set[str], list[tuple[int, View]]]]:
        """A page's write transaction: the locked positions, the views being rebuilt, and
        the views behind ``last`` (with their index), whose positions move to ``last`` at the end."""
        with self.store.transaction(write=True) as c:
            positions = self.positions(c, lock=True)
            behind = [(index, view) for index, view in enumerate(self.views) if positions.get(view.name, 0) < last]
            yield c, positions, self.rebuilding(c), behind
            for _, view in behind:
                c.execute("UPDATE projection_positions SET position = ? WHERE name = ?", (last, view.name))

    def _apply_rows(self, rows: list[tuple[int, str, bytes]], chunk: int, kept: list[list[Any]] | None = None) -> None:
        """Apply a page of stored events to every view behind it, in one transaction with their positions.

        The page is decoded and applied ``chunk`` events at a time: a rebuild's
        large pages are few commits, while the decoded events of a small chunk
        are still in the processor's cache when the views read them. ``kept``:
        what views that keep their prepared pages prepared is added to it.
        """
        with self._page(rows[-1][0]) as (c, positions, rebuilding, behind):
            for start in range(0, len(rows), chunk):
                events = self._decode(rows[start : start + chunk])
                present = {event[1] for event in events}
                for index, view in behind:
                    # Another process may have applied part of this page already.
                    prepared = view.prepare(events_for(view, events, present, after=positions.get(view.name, 0)))
                    view.write(c, prepared, view.name in rebuilding)
                    if kept is not None and view.keeps_prepared:
                        kept[index].append(prepared)

    def _write_prepared(
        self,
        first: int,
        last: int,
        chunks: list[list[Any]],
        scratch: str | None = None,
        kept: list[list[Any]] | None = None,
    ) -> bool:
        """Write a page prepared elsewhere, like :meth:`_apply_rows`; False (nothing written) when
        another process applied part of it already, which only this process can sort out.

        ``scratch``: the page's scratch database (see pages.Scratch), attached while the page is
        written and deleted after. ``kept``: as for :meth:`_apply_rows`.
        """
        with ExitStack() as stack:
            if scratch is not None:
                stack.callback(os.remove, scratch)
                stack.enter_context(self.store.attached(scratch, SCRATCH))  # type: ignore[attr-defined]
            with self._page(last) as (c, positions, rebuilding, behind):
                if any(positions.get(view.name, 0) >= first for _, view in behind):
                    behind.clear()  # nothing written, no position moved
                    return False
                for chunk in chunks:
                    for index, view in behind:
                        view.write(c, chunk[index], view.name in rebuilding)
                        if kept is not None and view.keeps_prepared:
                            kept[index].append(chunk[index])
        return True

    def _finish_rebuilds(
        self, prepared: Callable[[int], Any] | None = None, from_start: set[str] = frozenset(), covered: int = 0
    ) -> None:
        """Make the views being rebuilt whole.

        ``prepared(index)`` gives a view in ``from_start`` its finish as prepared from
        every event up to position ``covered``; a view that has gone past it (another
        process applied later events meanwhile) finishes from its tables instead.
        """
        with self.store.transaction(write=True) as c:
            positions = self.positions(c, lock=True)
            rebuilding = self.rebuilding(c)
            for index, view in enumerate(self.views):
                if view.name in rebuilding:
                    usable = view.keeps_prepared and view.name in from_start and positions.get(view.name) == covered
                    view.finish_rebuild(c, prepared(index) if prepared is not None and usable else None)
                    c.execute("DELETE FROM projection_rebuilds WHERE name = ?", (view.name,))

    def _restart(self, c: Cursor, view: View) -> None:
        view.drop(c)
        view.create(c, rebuilding=True)
        c.execute("UPDATE projection_positions SET position = 0 WHERE name = ?", (view.name,))
        c.execute("INSERT INTO projection_rebuilds (name) VALUES (?) ON CONFLICT (name) DO NOTHING", (view.name,))

    def _start_rebuild(self, empty_only: bool = False) -> bool:
        """Start every view again from position 0; ``empty_only``: only if none has applied an event yet."""
        with self.store.transaction(write=True) as c:
            # Lock the positions before dropping anything, as a catch-up does, so
            # that a concurrent catch-up waits instead of deadlocking on a dropped table.
            positions = self.positions(c, lock=True)
            if empty_only and any(positions.get(view.name, 0) for view in self.views):
                return False
            for view in self.views:
                self._restart(c, view)
        return True

    def rebuild(self, progress: Progress | None = None) -> int:
        """Drop every view and apply the whole ledger again from position 0."""
        # Pages from child processes are applied here, before catch_up, with its collector thresholds.
        with fewer_collections():
            started = self._in_second_process(0, self.head(), progress, restart=True)
        if not started:
            self._start_rebuild()
        return self.catch_up(progress)
