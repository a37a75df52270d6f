"""What a writer does when another writer got in first: back off, judge again, give up in the end."""

from __future__ import annotations

import random
import time

from eventsourcing.persistence import PersistenceError

__all__ = ["ATTEMPTS", "WriteContention", "back_off", "gave_up"]

# How often a batch or a close is judged again after another writer got in first.
ATTEMPTS = 20


class WriteContention(PersistenceError):
    """Other writers kept getting in first, retry after retry; nothing of the attempt was stored."""


def back_off(attempt: int) -> None:
    """Wait a little, longer after each conflict, so that competing writers spread out."""
    time.sleep(random.uniform(0, 0.01 * 2 ** min(attempt, 6)))


def gave_up() -> WriteContention:
    """The error to raise once every attempt met a conflict."""
    return WriteContention(f"gave up after {ATTEMPTS} write conflicts with other writers; try again")
