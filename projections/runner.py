"""Keeping read models up to date: pages of the notification log, applied with their tracking position."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any, Generic, TypeVar

from ggzledger.collector import fewer_collections
from ggzledger.progress import Progress
from ggzledger.projections.decoding import Decoder, StoredRow, events_for
from ggzledger.projections.rebuild import Rebuilder
from ggzledger.projections.store import Cursor, ProjectionStore
from ggzledger.projections.view import View
from ggzledger.store import LedgerRecorder, TypedMapper, head_of

__all__ = ["Projector"]

# One row per view: the last ledger position it applied, and the version of its
# tables' layout (a view whose layout changed is rebuilt from position 0).
_POSITIONS = (
    "CREATE TABLE IF NOT EXISTS projection_positions"
    " (name TEXT PRIMARY KEY, position BIGINT NOT NULL, version INTEGER NOT NULL DEFAULT 0)"
)

ViewsT = TypeVar("ViewsT", bound=Sequence[View])

# A page's views behind its last position: (index, view, how a prepared chunk is written to it).
Behind = list[tuple[int, View, Callable[[Cursor, Any], None]]]


class Projector(Generic[ViewsT]):
    """Applies the ledger's events to views, exactly once each.

    Each page of events is applied to every view in one transaction together
    with the views' new tracking positions; a crash rolls back the whole page,
    and the next run starts after the last committed position. Write
    transactions lock the positions first (BEGIN IMMEDIATE on SQLite, FOR UPDATE
    on PostgreSQL), so concurrent catch-ups never apply a page twice. Views are
    applied in the order given (a view may read what an earlier one wrote in the
    same transaction); a rebuild is the :attr:`rebuilder`'s.
    """

    def __init__(
        self,
        recorder: LedgerRecorder,
        mapper: TypedMapper,
        store: ProjectionStore,
        views: ViewsT,
        page_size: int = 10_000,
        rebuild_page_size: int = 50_000,
        read_only: bool = False,
    ) -> None:
        self.recorder = recorder
        # A read-only process (serve --read-only) creates and applies nothing: it reads the views
        # as ``project --follow``, running as the tables' owner, keeps them.
        self.read_only = read_only
        self.mapper = mapper
        self.store = store
        self.views = views
        self.page_size = page_size
        self.rebuilder = Rebuilder(self, rebuild_page_size)
        self._named = {view.name: view for view in views}
        self._decode = Decoder(mapper, views)
        if read_only:
            return
        with store.transaction(write=True) as c:
            c.execute(_POSITIONS)
            self.rebuilder.create(c)
            c.execute("SELECT name, version FROM projection_positions")
            versions = dict(c.fetchall())
            for view in views:
                if view.name in versions and versions[view.name] != view.version:
                    # Tables of another layout: start this view again from position 0.
                    self.rebuilder.restart(c, view)
                    c.execute("UPDATE projection_positions SET version = ? WHERE name = ?", (view.version, view.name))
                else:
                    view.create(c)
                c.execute(
                    "INSERT INTO projection_positions (name, position, version) VALUES (?, 0, ?)"
                    " ON CONFLICT (name) DO NOTHING",
                    (view.name, view.version),
                )

    def view(self, name: str) -> View:
        """The view of that name; raises KeyError for a name no view has."""
        return self._named[name]

    def positions(self, c: Cursor, lock: bool = False) -> dict[str, int]:
        """Each view's tracking position: the last ledger position it has applied."""
        suffix = " FOR UPDATE" if lock and self.store.dialect == "postgresql" else ""
        c.execute(f"SELECT name, position FROM projection_positions{suffix}")
        return dict(c.fetchall())

    def head(self) -> int:
        """The ledger's latest position (0 when empty)."""
        return head_of(self.recorder)

    def catch_up(self, progress: Progress | None = None, until: int | None = None) -> int:
        """Apply every event recorded since the views' positions; returns the position reached.

        Views being rebuilt are made whole at the end (indexes, derived rows),
        so that what is read after a catch-up is complete. Empty views facing a
        long ledger are filled the way a rebuild fills them.
        """
        if self.read_only:
            with self.store.transaction(write=False) as c:
                return min(self.positions(c).get(v.name, 0) for v in self.views)
        head = self.head() if until is None else until
        rebuilder = self.rebuilder
        with fewer_collections():
            while True:
                with self.store.transaction(write=False) as c:
                    reached = min(self.positions(c).get(v.name, 0) for v in self.views)
                    bulk = bool(rebuilder.rebuilding(c))
                if reached >= head:
                    break
                if reached == 0 and not bulk and head > self.page_size:
                    bulk = rebuilder.start(empty_only=True)
                if bulk and rebuilder.from_children(reached, head, progress):
                    continue
                rows = self.select(reached, head, rebuilder.page_size if bulk else self.page_size)
                if not rows:
                    break
                self.apply_rows(rows, rebuilder.chunk_size if bulk else len(rows))
                if progress is not None:
                    progress(rows[-1][0], head)
            if bulk:
                rebuilder.finish()
        return reached

    def rebuild(self, progress: Progress | None = None) -> int:
        """Drop every view and apply the whole ledger again from position 0 (see :class:`Rebuilder`)."""
        return self.rebuilder.rebuild(progress)

    def select(self, after: int, stop: int, limit: int) -> list[StoredRow]:
        """The next page of events as stored: (position, topic, state). Both ledger recorders read them."""
        return self.recorder.select_states(after, limit, stop)

    @contextmanager
    def page(self, last: int) -> Iterator[tuple[Cursor, dict[str, int], Behind]]:
        """A page's write transaction: the locked positions, and the views behind ``last`` (with
        their index and how to write to them), whose positions move to ``last`` at the end."""
        with self.store.transaction(write=True) as c:
            positions = self.positions(c, lock=True)
            rebuilding = self.rebuilder.rebuilding(c)
            writer = self.rebuilder.writer
            behind: Behind = [
                (index, view, writer(view, rebuilding))
                for index, view in enumerate(self.views)
                if positions.get(view.name, 0) < last
            ]
            yield c, positions, behind
            for _, view, _ in behind:
                c.execute("UPDATE projection_positions SET position = ? WHERE name = ?", (last, view.name))

    def apply_rows(self, rows: list[StoredRow], chunk: int, kept: Mapping[int, list[Any]] | None = None) -> None:
        """Apply a page of stored events to every view behind it, in one transaction with their positions.

        The page is decoded and applied ``chunk`` events at a time: a rebuild's
        large pages are few commits, while the decoded events of a small chunk
        are still in the processor's cache when the views read them. ``kept``:
        what the views with an index in it prepared is added to their list.
        """
        with self.page(rows[-1][0]) as (c, positions, behind):
            for start in range(0, len(rows), chunk):
                events = self._decode(rows[start : start + chunk])
                present = {event[1] for event in events}
                for index, view, write in behind:
                    # Another process may have applied part of this page already.
                    prepared = view.prepare(events_for(view, events, present, after=positions.get(view.name, 0)))
                    write(c, prepared)
                    if kept is not None and index in kept:
                        kept[index].append(prepared)
