"""Small SQL helpers every adapter and view shares."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TypeVar

__all__ = ["IN_CHUNK", "chunked", "placeholders"]

T = TypeVar("T")

# At most this many values in one IN (...) list: SQLite's default limit on bound
# parameters was 999 before 3.32, and long lists plan no better than short ones.
IN_CHUNK = 500


def chunked(items: Sequence[T], size: int = IN_CHUNK) -> Iterator[Sequence[T]]:
    """``items`` in consecutive slices of at most ``size``: one IN (...) query each."""
    for start in range(0, len(items), size):
        yield items[start : start + size]


def placeholders(count: int) -> str:
    """``?,?,…`` for ``count`` bound values (the PostgreSQL adapter rewrites ``?`` to ``%s``)."""
    return ",".join("?" * count)
