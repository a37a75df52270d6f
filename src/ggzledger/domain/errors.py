"""Why the ledger refuses a record: one exception type per kind of rule."""

from __future__ import annotations

__all__ = ["Refused", "Malformed", "UnknownTrajectory", "Conflict", "OutOfOrder", "NotAllowed"]


class Refused(ValueError):
    """A record that the rules refuse; its message names the record and the rule.

    Nothing of a refused record is stored. Subclasses say which family of rule
    (rules.md §3) refused it, so that callers can count or test by kind.
    """


class Malformed(Refused):
    """The input is not a well-formed record (rules.md §3.11, §3.6)."""


class UnknownTrajectory(Refused):
    """An event for a trajectory number that was never opened (rules.md §3.1)."""


class Conflict(Refused):
    """An id (trajectory, activity, record) already used with other content (§3.2, §3.8)."""


class OutOfOrder(Refused):
    """A date that the trajectory's history does not allow (rules.md §3.3, §3.4)."""


class NotAllowed(Refused):
    """Any other rule: unknown cluster, no tariff, bad void, closed month (§3.4–§3.10)."""
