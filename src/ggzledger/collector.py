"""Settings for bulk work (ingesting a file, rebuilding the views) that ordinary requests do not need."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["fewer_collections"]


@contextmanager
def fewer_collections() -> Iterator[None]:
    """Run the garbage collector's young-generation passes less often inside the block.

    Bulk work allocates millions of short-lived objects while the trajectory cache keeps
    hundreds of thousands alive; with the default thresholds the collector's passes took
    about a fifth of an ingest (docs/performance.md). Cycles are still collected, later.
    """
    previous = gc.get_threshold()
    gc.set_threshold(50_000, 20, 100)
    try:
        yield
    finally:
        gc.set_threshold(*previous)
