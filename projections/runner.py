"""Keeping read models up to date: pages of the notification log, applied with their tracking position."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Protocol

from eventsourcing.persistence import ApplicationRecorder, Mapper

from ggzledger.bulk import fewer_collections
from ggzledger.projections.store import Cursor, ProjectionStore

__all__ = ["View", "TableView", "Projector", "Progress"]

# Called after each page with (position reached, head position).
Progress = Callable[[int, int], None]

# One row per view: the last ledger position it applied, and the version of its
# tables' layout (a view whose layout changed is rebuilt from position 0).
_POSITIONS = (
    "CREATE TABLE IF NOT EXISTS projection_positions"
    " (name TEXT PRIMARY KEY, position BIGINT NOT NULL, version INTEGER NOT NULL DEFAULT 0)"
)


class View(Protocol):
    """A read model: its tables and how events change them.

    ``version`` is the layout of its tables: raise it when they change, and an
    existing database rebuilds that view instead of failing on old tables.
    """

    name: str
    version: int

    def create(self, c: Cursor) -> None: ...

    def drop(self, c: Cursor) -> None: ...

    def apply(self, c: Cursor, events: Sequence[tuple[int, Any]]) -> None: ...


class TableView:
    """Base of a view whose tables are created from ``schema`` and dropped by ``tables``."""

    schema: tuple[str, ...] = ()
    tables: tuple[str, ...] = ()

    def create(self, c: Cursor) -> None:
        for statement in self.schema:
            c.execute(statement)

    def drop(self, c: Cursor) -> None:
        for table in self.tables:
            c.execute(f"DROP TABLE IF EXISTS {table}")


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
        mapper: Mapper[Any],
        store: ProjectionStore,
        views: Sequence[View],
        page_size: int = 10_000,
    ) -> None:
        self.recorder = recorder
        self.mapper = mapper
        self.store = store
        self.views = list(views)
        self.page_size = page_size
        with store.transaction(write=True) as c:
            c.execute(_POSITIONS)
            c.execute("SELECT name, version FROM projection_positions")
            versions = dict(c.fetchall())
            for view in self.views:
                if view.name in versions and versions[view.name] != view.version:
                    # Tables of another layout: start this view again from position 0.
                    view.drop(c)
                    c.execute(
                        "UPDATE projection_positions SET position = 0, version = ? WHERE name = ?",
                        (view.version, view.name),
                    )
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

    def head(self) -> int:
        """The ledger's latest position (0 when empty)."""
        return self.recorder.max_notification_id() or 0

    def catch_up(self, progress: Progress | None = None, until: int | None = None) -> int:
        """Apply every event recorded since the views' positions; returns the position reached."""
        head = self.head() if until is None else until
        with fewer_collections():
            while True:
                with self.store.transaction(write=False) as c:
                    reached = min(self.positions(c).get(v.name, 0) for v in self.views)
                if reached >= head:
                    return reached
                notifications = self.recorder.select_notifications(
                    start=reached, limit=self.page_size, stop=head, inclusive_of_start=False
                )
                if not notifications:
                    return reached
                to_domain_event = self.mapper.to_domain_event
                events = [(n.id, to_domain_event(n)) for n in notifications]
                self._apply_page(events)
                if progress is not None:
                    progress(events[-1][0], head)

    def _apply_page(self, events: list[tuple[int, Any]]) -> None:
        last = events[-1][0]
        with self.store.transaction(write=True) as c:
            positions = self.positions(c, lock=True)
            for view in self.views:
                done = positions.get(view.name, 0)
                # Another process may have applied part of this page already.
                fresh = [pair for pair in events if pair[0] > done] if events[0][0] <= done else events
                if fresh:
                    view.apply(c, fresh)
                    c.execute("UPDATE projection_positions SET position = ? WHERE name = ?", (last, view.name))

    def rebuild(self, progress: Progress | None = None) -> int:
        """Drop every view and apply the whole ledger again from position 0."""
        with self.store.transaction(write=True) as c:
            # Lock the positions before dropping anything, as a catch-up does, so
            # that a concurrent catch-up waits instead of deadlocking on a dropped table.
            self.positions(c, lock=True)
            for view in self.views:
                view.drop(c)
                view.create(c)
                c.execute("UPDATE projection_positions SET position = 0 WHERE name = ?", (view.name,))
        return self.catch_up(progress)
