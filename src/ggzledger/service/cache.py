"""The trajectories an ingesting process keeps in memory between batches, and how it knows they are current."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence
from typing import TYPE_CHECKING

from ggzledger.domain import Trajectory, trajectory_id

if TYPE_CHECKING:
    from ggzledger.store.protocol import LedgerRecorder

__all__ = ["TrajectoryCache", "CACHE_SIZE"]

# How many trajectories an ingesting process keeps in memory between batches.
CACHE_SIZE = 50_000


class TrajectoryCache:
    """The most recently used trajectories, and the ledger position up to which all of them are current.

    Another process may append to a cached trajectory at any time; :meth:`refresh`
    drops the ones that changed since the cache was last known to be current, by
    reading only the positions recorded in between.
    """

    def __init__(self, size: int = CACHE_SIZE) -> None:
        self.size = size
        self._items: OrderedDict[str, Trajectory] = OrderedDict()
        # The ledger position up to which every cached trajectory is known to be current
        # (None: not known). While the head stays there, batches need not ask for versions.
        self._head: int | None = None

    def __len__(self) -> int:
        return len(self._items)

    def get(self, number: str) -> Trajectory | None:
        """The cached state of a trajectory, or None."""
        trajectory = self._items.get(number)
        if trajectory is not None:
            self._items.move_to_end(number)
        return trajectory

    def put(self, trajectory: Trajectory) -> None:
        """Keep a trajectory's state, evicting the least recently used beyond the size."""
        self._items[trajectory.number] = trajectory
        self._items.move_to_end(trajectory.number)
        while len(self._items) > self.size:
            self._items.popitem(last=False)

    def forget(self) -> None:
        """Drop everything: what is cached can no longer be vouched for (a failed commit, a conflict)."""
        self._items.clear()
        self._head = None

    def refresh(self, recorder: LedgerRecorder) -> bool:
        """Drop the cached trajectories that other writers changed; True when the rest is current.

        Compares the ledger's head with the position the cache is current up to and drops the
        streams recorded in between (a few rows when another writer is active, none when this
        process is the only one). False when the cache cannot be vouched for (nothing known yet).
        """
        head = recorder.max_notification_id() or 0
        known = self._head
        if known is not None and known != head:
            if head - known > self.size:
                self._items.clear()
            else:
                changed = recorder.select_notifications(
                    start=known, stop=head, limit=head - known, inclusive_of_start=False
                )
                streams = {n.originator_id for n in changed}
                for number in [n for n in self._items if trajectory_id(n) in streams]:
                    del self._items[number]
        self._head = head
        return known is not None

    def committed(self, positions: Sequence[int]) -> None:
        """This process recorded a batch at ``positions``: the cache is current past them if they follow on."""
        if positions and self._head is not None and positions[0] == self._head + 1:
            self._head = positions[-1]
