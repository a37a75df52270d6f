"""Stream ids derived from natural keys."""

from __future__ import annotations

import functools
from uuid import NAMESPACE_URL, UUID, uuid5

__all__ = ["trajectory_id"]

# All ids are derived from natural keys, so that a trajectory number always
# maps to the same stream, in every store and every process.
_NAMESPACE = uuid5(NAMESPACE_URL, "https://ggzledger.invalid/trajectory")


@functools.lru_cache(maxsize=1 << 16)
def trajectory_id(number: str) -> UUID:
    """The stream id of a trajectory number."""
    return uuid5(_NAMESPACE, number)
