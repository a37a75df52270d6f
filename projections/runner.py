"""Keeping read models up to date: pages of the notification log, applied with their tracking position."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Protocol

import orjson
from eventsourcing.persistence import ApplicationRecorder

from ggzledger.bulk import fewer_collections
from ggzledger.persistence import TypedMapper
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

    def create(self, c: Cursor, *, rebuilding: bool = False) -> None: ...

    def drop(self, c: Cursor) -> None: ...

    def apply(self, c: Cursor, events: Sequence[Recorded], rebuilding: bool) -> None: ...

    def finish_rebuild(self, c: Cursor) -> None: ...


class TableView:
    """Base of a view whose tables are created from ``schema`` and dropped by ``tables``.

    ``indexes`` are the secondary indexes, which serve reads only: a rebuild
    creates them once at its end (or when a read during it needs them), which is
    cheaper than keeping them up to date row by row.
    """

    schema: tuple[str, ...] = ()
    indexes: tuple[str, ...] = ()
    tables: tuple[str, ...] = ()

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

    def finish_rebuild(self, c: Cursor) -> None:
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
        so that what is read after a catch-up is complete.
        """
        head = self.head() if until is None else until
        with fewer_collections():
            while True:
                with self.store.transaction(write=False) as c:
                    reached = min(self.positions(c).get(v.name, 0) for v in self.views)
                    bulk = bool(self.rebuilding(c))
                if reached >= head:
                    break
                events = self._read(reached, head, self.rebuild_page_size if bulk else self.page_size)
                if not events:
                    break
                self._apply_page(events)
                if progress is not None:
                    progress(events[-1][0], head)
            if bulk:
                self._finish_rebuilds()
        return reached

    def _read(self, after: int, stop: int, limit: int) -> list[Recorded]:
        """The next page of events, decoded for the views."""
        loads, current = orjson.loads, self.mapper.current_state
        select = getattr(self.recorder, "select_states", None)
        if select is not None:
            rows = select(after, limit, stop)
        else:  # pragma: no cover - both ledger recorders have select_states
            notifications = self.recorder.select_notifications(after, limit, stop, inclusive_of_start=False)
            rows = [(n.id, n.topic, n.state) for n in notifications]
        return [(position, topic, current(topic, loads(state))) for position, topic, state in rows]

    def _apply_page(self, events: list[Recorded]) -> None:
        last = events[-1][0]
        with self.store.transaction(write=True) as c:
            positions = self.positions(c, lock=True)
            rebuilding = self.rebuilding(c)
            for view in self.views:
                done = positions.get(view.name, 0)
                # Another process may have applied part of this page already.
                fresh = [e for e in events if e[0] > done] if events[0][0] <= done else events
                if fresh:
                    view.apply(c, fresh, view.name in rebuilding)
                    c.execute("UPDATE projection_positions SET position = ? WHERE name = ?", (last, view.name))

    def _finish_rebuilds(self) -> None:
        with self.store.transaction(write=True) as c:
            self.positions(c, lock=True)
            rebuilding = self.rebuilding(c)
            for view in self.views:
                if view.name in rebuilding:
                    view.finish_rebuild(c)
                    c.execute("DELETE FROM projection_rebuilds WHERE name = ?", (view.name,))

    def _restart(self, c: Cursor, view: View) -> None:
        view.drop(c)
        view.create(c, rebuilding=True)
        c.execute("UPDATE projection_positions SET position = 0 WHERE name = ?", (view.name,))
        c.execute("INSERT INTO projection_rebuilds (name) VALUES (?) ON CONFLICT (name) DO NOTHING", (view.name,))

    def rebuild(self, progress: Progress | None = None) -> int:
        """Drop every view and apply the whole ledger again from position 0."""
        with self.store.transaction(write=True) as c:
            # Lock the positions before dropping anything, as a catch-up does, so
            # that a concurrent catch-up waits instead of deadlocking on a dropped table.
            self.positions(c, lock=True)
            for view in self.views:
                self._restart(c, view)
        return self.catch_up(progress)
