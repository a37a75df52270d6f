"""What free text and identifiers may contain, for every input that reaches the ledger."""

from __future__ import annotations

import re
import unicodedata

__all__ = ["CONTROL", "BIDI", "has_control", "bidi_control", "invisible"]

# C0 and C1 control characters and DEL: they corrupt terminals, logs and CSV exports.
CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")

# The bidirectional controls: marks, embeddings, overrides and isolates (and the Arabic letter mark).
# They reorder what a reader sees: "T-\u202eKNEH" is displayed as "T-HENK".
BIDI = re.compile("[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def has_control(text: str) -> bool:
    """True when ``text`` holds a control character."""
    return CONTROL.search(text) is not None


def bidi_control(text: str) -> str | None:
    """The first bidirectional control character in ``text`` as ``U+XXXX``, or None."""
    found = BIDI.search(text)
    return f"U+{ord(found.group()):04X}" if found else None


def invisible(text: str) -> str | None:
    """The first invisible formatting character in ``text`` as ``U+XXXX``, or None.

    These are Unicode's format characters (category Cf): zero-width spaces and
    joiners (U+200B..U+200D, U+2060), the bidirectional controls, the byte-order
    mark U+FEFF, the soft hyphen, tags. They print as nothing, so two identifiers
    that differ only by them look the same.
    """
    for character in text:
        if unicodedata.category(character) == "Cf":
            return f"U+{ord(character):04X}"
    return None
