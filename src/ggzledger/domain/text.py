"""What free text and identifiers may contain, for every input that reaches the ledger."""

from __future__ import annotations

import re

__all__ = ["CONTROL", "has_control"]

# C0 and C1 control characters and DEL: they corrupt terminals, logs and CSV exports.
CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def has_control(text: str) -> bool:
    """True when ``text`` holds a control character."""
    return CONTROL.search(text) is not None
