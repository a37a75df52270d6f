"""What a read model is: its tables, how events change them, and the events it is given."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from ggzledger.projections.store import Cursor

__all__ = ["Recorded", "TableView", "View"]

Recorded = tuple[int, str, dict[str, Any]]
"""What a view is given of one event: its ledger position, its topic and its recorded state.

The state is the stored JSON decoded and brought to the event class's current
version (dates stay ISO text): views read recorded facts, and building domain
objects for each of a million events only to read a few fields back was most
of a rebuild's Python time (docs/performance.md).
"""


class View(Protocol):
    """A read model: its tables and how events change them; its answers are its own methods.

    ``version`` is the layout of its tables: raise it when they change, and an
    existing database rebuilds that view instead of failing on old tables.
    Applying events has two halves, so that the first can run without the
    database (in another process, see rebuild.py): ``prepare`` computes what the
    events change, ``write`` stores it. A view that a rebuild may fill in bulk
    says so by also being a :class:`~ggzledger.projections.rebuild.BulkRebuild`.
    """

    name: str
    version: int
    topics: frozenset[str]  # the events it reads; it is given no others

    def create(self, c: Cursor) -> None:
        """Create its tables and indexes where they do not exist yet."""

    def drop(self, c: Cursor) -> None:
        """Drop its tables."""

    def prepare(self, events: Sequence[Recorded]) -> Any:
        """What the events change, computed without the database."""

    def write(self, c: Cursor, prepared: Any) -> None:
        """Store what :meth:`prepare` computed, inside the projector's transaction."""


class TableView:
    """Base of a view whose tables are created from ``schema`` and dropped by ``tables``.

    ``indexes`` are the secondary indexes, which serve reads only: a rebuild
    creates them once at its end (or when a read during it needs them), which is
    cheaper than keeping them up to date row by row.
    """

    schema: tuple[str, ...] = ()
    indexes: tuple[str, ...] = ()
    tables: tuple[str, ...] = ()

    def create(self, c: Cursor) -> None:
        """Create the tables and their indexes where they do not exist yet."""
        self.create_tables(c)
        self.create_indexes(c)

    def create_tables(self, c: Cursor) -> None:
        """Create the tables alone, without the indexes that only serve reads."""
        for statement in self.schema:
            c.execute(statement)

    def create_indexes(self, c: Cursor) -> None:
        """Create the secondary indexes."""
        for statement in self.indexes:
            c.execute(statement)

    def drop(self, c: Cursor) -> None:
        """Drop the tables (and so their indexes)."""
        for table in self.tables:
            c.execute(f"DROP TABLE IF EXISTS {table}")
