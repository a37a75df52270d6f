"""How long work (a rebuild, a verification, a catch-up) tells its caller how far it got."""

from collections.abc import Callable

__all__ = ["Progress"]

Progress = Callable[[int, int], None]
"""Called with (position reached, head position) while a whole-log job runs."""
