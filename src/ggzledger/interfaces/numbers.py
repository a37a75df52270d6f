"""Whole numbers given as text (query parameters, command options): ASCII digits within stated bounds."""

from __future__ import annotations

__all__ = ["parse_count", "POSITION_MAX"]

POSITION_MAX = 2**63 - 1
"""The largest feed position: both stores keep positions in a signed 64-bit integer."""


def parse_count(text: str, name: str, maximum: int, minimum: int = 0) -> int:
    """The whole number ``minimum..maximum`` written in ``text`` as ASCII digits.

    Raises ValueError, with a one-line message naming ``name`` and the bounds, for
    anything else: a sign, white space, underscores, non-ASCII digits (``'²'.isdigit()``
    is true), an empty text, or a number out of bounds, however long.
    """
    if not (text.isascii() and text.isdigit()):
        raise ValueError(f"{name} must be a whole number {minimum}..{maximum}, got {_short(text)}")
    # A bound check on the length first: int() of a huge text is slow, and refused anyway.
    significant = text.lstrip("0")
    value = int(text) if len(significant) <= len(str(maximum)) else maximum + 1
    if not minimum <= value <= maximum:
        raise ValueError(f"{name} must be a whole number {minimum}..{maximum}, got {_short(text)}")
    return value


def _short(text: str) -> str:
    shown = repr(text)
    return shown if len(shown) <= 30 else shown[:27] + "..."
