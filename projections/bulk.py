"""What a view offers to be rebuilt in bulk: the protocols a rebuild looks for, and how rows are spilled."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Protocol, runtime_checkable

from ggzledger.projections.store import Cursor

__all__ = ["SCRATCH", "BulkRebuild", "FinishedFromPages", "Put", "Spilled"]

Spilled = tuple[str, int, int]
"""Where a child put rows instead of sending them: a table of the page's scratch database (read as
``FROM {SCRATCH}.{table}``), and the first and last ``seq`` of the rows in it."""

SCRATCH = "ggz_page"
"""The schema name the projector attaches a page's scratch database under while it writes the page."""

Put = Callable[[str, Sequence[Sequence[Any]]], Spilled]
"""How a view's ``spill`` puts rows of a table aside (see pages.Scratch)."""


@runtime_checkable
class BulkRebuild(Protocol):
    """A view that a rebuild fills in bulk: without what only makes reads fast, made whole at its end.

    A view that is not one is rebuilt as it is kept: :meth:`View.create` and
    :meth:`View.write`. One that is has, while it is being rebuilt (from
    position 0 up to the head, see rebuild.py), its tables created by
    ``create_tables`` and pages written by ``write_bulk``, leaving out what it
    can derive at the end; ``finish_rebuild`` then makes it whole.
    """

    def create_tables(self, c: Cursor) -> None:
        """Create the tables alone, without the indexes that only serve reads."""

    def write_bulk(self, c: Cursor, prepared: Any) -> None:
        """Store what ``prepare`` computed while the view is being rebuilt."""

    def spill(self, prepared: Any, put: Put) -> Any:
        """``prepared`` with rows that only go into a table put aside by ``put(table, rows)``.

        Called in a rebuild's child process (see pages.py): ``put`` stores the rows
        in the page's scratch database and returns where they are, which
        ``write_bulk`` is then given in their place; it copies them with
        INSERT ... SELECT from :data:`SCRATCH`. What is not put aside is sent to
        the projector as usual. Return ``prepared`` itself to spill nothing.
        """

    def finish_rebuild(self, c: Cursor, prepared: Any = None) -> None:
        """Make the view whole (indexes, derived rows); ``prepared``: see :class:`FinishedFromPages`."""


@runtime_checkable
class FinishedFromPages(Protocol):
    """A :class:`BulkRebuild` view whose finish is computed from its prepared pages rather than its tables.

    A rebuild from position 0 keeps every page such a view prepared, and
    hands :meth:`prepare_finish` of them (run in a thread) to ``finish_rebuild``.
    """

    def prepare_finish(self, pages: Sequence[Any]) -> Any:
        """What ``finish_rebuild`` needs, from the view's prepared pages since position 0."""
