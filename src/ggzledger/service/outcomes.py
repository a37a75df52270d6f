"""What became of an input record that was not refused."""

from enum import StrEnum

__all__ = ["Outcome"]


class Outcome(StrEnum):
    """A record was stored (``recorded``) or repeats one stored before (``unchanged``, rules.md §3.8)."""

    RECORDED = "recorded"
    UNCHANGED = "unchanged"
