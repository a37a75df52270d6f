"""Rebuilding views from position 0 in bulk: the strategy the projector hands a rebuild to.

A view being rebuilt is listed in ``projection_rebuilds`` from the moment its
tables are dropped until it is made whole, so that every process applies a
page to it the same way, and a rebuild cut off half-way is finished by the
next catch-up, whoever runs it. Views that are :class:`~ggzledger.projections.bulk.BulkRebuild`
are filled without what only makes reads fast; on SQLite a long rebuild has
child processes read and prepare its pages (pages.py).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence, Set
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from typing import TYPE_CHECKING, Any, cast

from ggzledger.collector import fewer_collections
from ggzledger.progress import Progress
from ggzledger.projections.bulk import SCRATCH, BulkRebuild, FinishedFromPages
from ggzledger.projections.pages import prepared_pages
from ggzledger.projections.store import Cursor
from ggzledger.projections.view import View

if TYPE_CHECKING:
    from ggzledger.projections.runner import Projector

__all__ = ["Rebuilder"]

# The views being rebuilt. Kept in the database so that every process applies a page the
# same way, and so that a rebuild cut off half-way is finished by the next catch-up.
_REBUILDS = "CREATE TABLE IF NOT EXISTS projection_rebuilds (name TEXT PRIMARY KEY)"


class Rebuilder:
    """Starts, feeds and finishes the rebuild of a projector's views.

    ``page_size``: events per transaction while rebuilding; ``chunk_size``: events
    decoded at a time within a page; ``second_process_from``: the fewest events
    to go for which child processes prepare the pages.
    """

    def __init__(self, projector: Projector[Any], page_size: int = 50_000) -> None:
        self.projector = projector
        self.views: Sequence[View] = projector.views
        # A rebuild writes into tables without secondary indexes: larger pages
        # mean fewer commits, and each commit rewrites fewer pages twice.
        self.page_size = page_size
        # Events decoded at a time within a rebuild's page (see Projector.apply_rows): 250 decoded
        # events fit in the processor's cache, 2,000 did not and decoding took twice as long.
        self.chunk_size = 250
        # A rebuild with at least this many events to go has its pages prepared by
        # child processes (SQLite only; see pages.py). Starting them takes a few tenths of a second.
        self.second_process_from = 100_000

    def create(self, c: Cursor) -> None:
        """Create the table of the views being rebuilt."""
        c.execute(_REBUILDS)

    def rebuilding(self, c: Cursor) -> set[str]:
        """The views in the middle of a rebuild."""
        c.execute("SELECT name FROM projection_rebuilds")
        return {row[0] for row in c.fetchall()}

    def writer(self, view: View, rebuilding: set[str]) -> Callable[[Cursor, Any], None]:
        """How a page is written to ``view``: in bulk while it is being rebuilt, if it can be."""
        if view.name in rebuilding and isinstance(view, BulkRebuild):
            return view.write_bulk
        return view.write

    def rebuild(self, progress: Progress | None = None) -> int:
        """Drop every view and apply the whole ledger again from position 0; returns the position reached."""
        # Pages from child processes are applied here, before catch_up, with its collector thresholds.
        with fewer_collections():
            started = self.from_children(0, self.projector.head(), progress, restart=True)
        if not started:
            self.start()
        return self.projector.catch_up(progress)

    def restart(self, c: Cursor, view: View) -> None:
        """Drop a view's tables and start it again from position 0, as being rebuilt."""
        view.drop(c)
        if isinstance(view, BulkRebuild):
            view.create_tables(c)
        else:
            view.create(c)
        c.execute("UPDATE projection_positions SET position = 0 WHERE name = ?", (view.name,))
        c.execute("INSERT INTO projection_rebuilds (name) VALUES (?) ON CONFLICT (name) DO NOTHING", (view.name,))

    def start(self, empty_only: bool = False) -> bool:
        """Start every view again from position 0; ``empty_only``: only if none has applied an event yet."""
        with self.projector.store.transaction(write=True) as c:
            # Lock the positions before dropping anything, as a catch-up does, so
            # that a concurrent catch-up waits instead of deadlocking on a dropped table.
            positions = self.projector.positions(c, lock=True)
            if empty_only and any(positions.get(view.name, 0) for view in self.views):
                return False
            for view in self.views:
                self.restart(c, view)
        return True

    def from_children(self, after: int, head: int, progress: Progress | None, restart: bool = False) -> bool:
        """Apply pages prepared by child processes; False when none was applied (the caller goes on here).

        Only on SQLite, with at least ``second_process_from`` events to go: starting the
        children costs a few tenths of a second.

        When the children read from position 0 and every page they prepared was
        applied, the rebuild is finished here with what they prepared for it.
        ``restart``: start every view again from position 0 once the children are
        started (they read only the events, so they start while the old tables
        are dropped); nothing is dropped when no child could be started.
        """
        projector = self.projector
        path = getattr(projector.store, "path", None)
        table = getattr(projector.recorder, "events_table_name", None)
        if projector.store.dialect != "sqlite" or path is None or table is None:
            return False
        if head - after < self.second_process_from:
            return False
        size, applied = self.page_size, False
        # From position 0 this process applies the first page itself while the children start
        # (a few tenths of a second), and keeps what it prepared for the views' finishes.
        own = after == 0 and head - after > size
        kept = self._keeping()
        with ExitStack() as stack:
            try:
                children_from = after + size if own else after
                pages = stack.enter_context(
                    prepared_pages(
                        path, table, self.views, children_from, head, size, self.chunk_size, mapper=projector.mapper
                    )
                )
            except OSError:  # no child process here (no interpreter to start): this process does it all
                return False
            if restart:
                self.start()
            with projector.store.transaction(write=False) as c:
                # Views the children's pages cover from their start: their finish may come from the children.
                from_start = {name for name, position in projector.positions(c).items() if position == 0}
            if own:
                rows = projector.select(after, after + size, size)
                if rows:
                    projector.apply_rows(rows, self.chunk_size, kept)
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
                    index: pool.submit(cast(FinishedFromPages, self.views[index]).prepare_finish, pages)
                    for index, pages in kept.items()
                    if self.views[index].name in from_start
                }
                self.finish(lambda index: finishes[index].result(), from_start, covered=head)
        return applied

    def finish(
        self, prepared: Callable[[int], Any] | None = None, from_start: Set[str] = frozenset(), covered: int = 0
    ) -> None:
        """Make the views being rebuilt whole.

        ``prepared(index)`` gives a view in ``from_start`` its finish as prepared from
        every event up to position ``covered``; a view that has gone past it (another
        process applied later events meanwhile) finishes from its tables instead.
        """
        with self.projector.store.transaction(write=True) as c:
            positions = self.projector.positions(c, lock=True)
            rebuilding = self.rebuilding(c)
            for index, view in enumerate(self.views):
                if view.name not in rebuilding:
                    continue
                usable = (
                    isinstance(view, FinishedFromPages)
                    and view.name in from_start
                    and positions.get(view.name) == covered
                )
                if isinstance(view, BulkRebuild):
                    view.finish_rebuild(c, prepared(index) if prepared is not None and usable else None)
                c.execute("DELETE FROM projection_rebuilds WHERE name = ?", (view.name,))

    def _keeping(self) -> dict[int, list[Any]]:
        """Empty lists for the prepared pages of the views whose finish is computed from them, by index."""
        return {index: [] for index, view in enumerate(self.views) if isinstance(view, FinishedFromPages)}

    def _write_prepared(
        self,
        first: int,
        last: int,
        chunks: list[list[Any]],
        scratch: str | None = None,
        kept: dict[int, list[Any]] | None = None,
    ) -> bool:
        """Write a page prepared elsewhere, like Projector.apply_rows; False (nothing written) when
        another process applied part of it already, which only this process can sort out.

        ``scratch``: the page's scratch database (see pages.Scratch), attached while the page is
        written and deleted after. ``kept``: as for Projector.apply_rows.
        """
        with ExitStack() as stack:
            if scratch is not None:
                stack.callback(os.remove, scratch)
                stack.enter_context(self.projector.store.attached(scratch, SCRATCH))  # type: ignore[attr-defined]
            with self.projector.page(last) as (c, positions, behind):
                if any(positions.get(view.name, 0) >= first for _, view, _ in behind):
                    behind.clear()  # nothing written, no position moved
                    return False
                for chunk in chunks:
                    for index, _, write in behind:
                        write(c, chunk[index])
                        if kept is not None and index in kept:
                            kept[index].append(chunk[index])
        return True
