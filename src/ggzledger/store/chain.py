"""The event chain: every stored event's hash over the hash before it (trust.md §2), and anchors.

``h_n = SHA-256(h_prev ‖ canonical(n))`` where ``h_prev`` is the hash of the event before it in
position order (32 zero bytes before the first, or the base a sealed copy starts from) and
``canonical(n)`` is five fields, each as a 4-byte big-endian length followed by its bytes:

1. the position, in decimal ASCII digits;
2. the stream id, as the 36-character lowercase UUID text (``str(uuid)``), ASCII;
3. the stream version, in decimal ASCII digits;
4. the topic, UTF-8;
5. the state, exactly the bytes stored (ciphertext where fields are sealed).

Decimal text and the UUID's usual form rather than each store's own column types, so that a
SQLite ledger and a PostgreSQL ledger of the same events have the same chain, and an auditor
can recompute it from an export with a few lines of any language (docs/audit.md shows one).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any, NamedTuple, Protocol
from uuid import UUID

from eventsourcing.persistence import IntegrityError

__all__ = [
    "UPGRADE_PAGE",
    "ZERO",
    "Anchor",
    "AnchorError",
    "ChainReader",
    "anchor_at",
    "ChainedRow",
    "canonical",
    "copy_start",
    "extend",
    "parse_anchor",
    "read_anchors",
    "stream_text",
    "upgrade",
]

ZERO = bytes(32)
"""h_0: what the first event of a ledger (without a base) is chained onto."""

_LENGTH = 4


class ChainedRow(NamedTuple):
    """What the chain covers of one stored event (and what ``insert_copied`` takes)."""

    position: int
    stream: UUID
    version: int
    topic: str
    state: bytes


def stream_text(stream: UUID | str) -> bytes:
    """A stream id as the chain hashes it: the 36-character UUID text, whatever form a store keeps it in."""
    return str(stream if isinstance(stream, UUID) else UUID(str(stream))).encode()


def canonical(position: int, stream: UUID | str, version: int, topic: str, state: bytes) -> bytes:
    """The bytes of one event the chain hashes: each field length-prefixed (see the module's docstring)."""
    parts = (str(position).encode(), stream_text(stream), str(version).encode(), topic.encode(), bytes(state))
    return b"".join(len(part).to_bytes(_LENGTH, "big") + part for part in parts)


def extend(previous: bytes, rows: Iterable[tuple[int, UUID | str, int, str, bytes]]) -> list[tuple[int, bytes]]:
    """(position, hash) of each of ``rows`` (in position order), chained onto ``previous``."""
    links = []
    sha256 = hashlib.sha256
    # canonical() inlined, with each stream's and topic's prefixed bytes made once per call: ingest
    # chains every event it records, and most of a batch's events share a few topics and streams.
    made: dict[Any, bytes] = {}
    for position, stream, version, topic, state in rows:
        id_part = made.get(stream)
        if id_part is None:
            text = stream_text(stream)
            id_part = made[stream] = len(text).to_bytes(4, "big") + text
        topic_part = made.get(topic)
        if topic_part is None:
            text = topic.encode()
            topic_part = made[topic] = len(text).to_bytes(4, "big") + text
        at, step = str(position).encode(), str(version).encode()
        previous = sha256(
            b"".join((previous, len(at).to_bytes(4, "big"), at, id_part, len(step).to_bytes(4, "big"), step,
                      topic_part, len(state).to_bytes(4, "big"), state))
        ).digest()  # fmt: skip
        links.append((position, previous))
    return links


Row = tuple[int, UUID | str, int, str, bytes]

UPGRADE_PAGE = 10_000
"""Events chained per page while a ledger recorded before the chain gets its chain."""


def upgrade(
    previous: bytes, read: Callable[[int], Sequence[Row]], write: Callable[[list[tuple[int, bytes]]], None]
) -> tuple[bytes, tuple[int, bytes] | None]:
    """Chain the events a ledger recorded before the chain existed onto ``previous``, page by page.

    ``read(after)`` gives the next page of those events (at most UPGRADE_PAGE, after position
    ``after``; none when done), ``write`` stores a page's chain rows. Returns the hash the
    new events chain onto, and (position, hash) of the upgraded head, or None when there was
    nothing to upgrade. The adapters call it, in the write's own transaction, on an empty chain.
    """
    after, upgraded = 0, None
    while page := read(after):
        links = extend(previous, page)
        write(links)
        after, previous = upgraded = links[-1]
    return previous, upgraded


def copy_start(
    base: tuple[int, bytes],
    recorded: tuple[int, bytes] | None,
    holds_events: bool,
    last: tuple[int, bytes] | None,
    first: int | None,
) -> bytes:
    """The hash copied rows are chained onto (``insert_copied``, see the store protocol).

    ``recorded``: the base the ledger holds (None before the first copy, which then records
    ``base``); ``holds_events``: whether it holds events; ``last``: its last chain row;
    ``first``: the first copied position (None: no rows). Raises IntegrityError for a copy
    into a ledger with events of its own, another base, or rows not after the head.
    """
    if recorded is None:
        if holds_events:
            raise IntegrityError("a copy goes into a new ledger only: this one holds events")
    elif recorded != tuple(base):
        raise IntegrityError(f"this ledger's chain starts from position {recorded[0]}, not {base[0]}")
    if last is None:
        return base[1]
    if first is not None and first <= last[0]:
        raise IntegrityError(f"copied rows must come after position {last[0]}")
    return last[1]


class AnchorError(ValueError):
    """An anchor an auditor gave that cannot be read; the message names it and says what is wrong."""


class Anchor(NamedTuple):
    """A position and the chain hash an auditor kept for it, outside the database."""

    position: int
    hash: bytes

    def __str__(self) -> str:
        """The line close and verify print, and --anchors reads back: ``anchor <position> <hex hash>``."""
        return f"anchor {self.position} {self.hash.hex()}"


class ChainReader(Protocol):
    """What :func:`anchor_at` needs of a recorder."""

    def select_chain(self, after: int, stop: int, limit: int) -> list[tuple[int, bytes]]: ...


def anchor_at(recorder: ChainReader, position: int) -> Anchor | None:
    """The anchor of the event at ``position``: its chain row; None when it has none (a ledger before the chain).

    What ``close`` prints for each month it closes, and the web view shows beside a closed month.
    """
    for at, hashed in recorder.select_chain(position - 1, position, 1):
        return Anchor(at, bytes(hashed))
    return None


def parse_anchor(text: str, where: str) -> Anchor:
    """An anchor from ``P:H``, ``P H`` or ``anchor P H``; raises AnchorError naming ``where``."""
    words = text.replace(":", " ").split()
    if words and words[0] == "anchor":
        words = words[1:]
    if len(words) != 2:
        raise AnchorError(f"{where}: {text.strip()!r} is not an anchor: give POSITION:HASH or 'anchor POSITION HASH'")
    position, digest = words
    if not position.isdigit() or int(position) < 1:
        raise AnchorError(f"{where}: the position {position!r} is not a whole number of 1 or more")
    try:
        hashed = bytes.fromhex(digest)
    except ValueError:
        hashed = b""
    if len(hashed) != len(ZERO):
        raise AnchorError(f"{where}: the hash {digest!r} is not 64 hexadecimal digits")
    return Anchor(int(position), hashed)


def read_anchors(path: str) -> list[Anchor]:
    """The anchors of a file of lines as close and verify print them (or ``P:H``); blank lines and
    ``#`` comments are skipped. Raises AnchorError naming the file and line."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise AnchorError(f"cannot read the anchors file {path}: {getattr(error, 'strerror', None) or error}") from None
    anchors = []
    for number, line in enumerate(text.splitlines(), 1):
        kept = line.split("#", 1)[0].strip()
        if kept:
            anchors.append(parse_anchor(kept, f"{path} line {number}"))
    return anchors


# How many chain differences verify spells out; past them it counts.
_SHOWN = 10


class ChainCheck:
    """The chain recomputed from the stored events, page by page, against the stored chain and anchors.

    Feed it pages of events and the chain rows of the same positions (:meth:`page`), then
    :meth:`finish` with the chain rows after the head. It keeps two running hashes: the chain
    recomputed from the events alone (what an anchor is checked against: an auditor's own
    recomputation gives it), and one that restarts from each stored hash, so that every altered
    event is named at its own position rather than only the first.
    """

    def __init__(self, base: tuple[int, bytes] | None, anchors: Iterable[Anchor] = (), *, stored: bool = True) -> None:
        self.base = base
        self.stored = stored
        self.computed = ZERO if base is None else base[1]
        self._local = self.computed
        self.head = Anchor(0 if base is None else base[0], self.computed)
        self.events = 0
        self.differences: list[tuple[str, str, str]] = []  # (kind, where, what): "chain" or "anchor"
        self.notes: list[str] = []
        self._hidden = 0
        self._anchors: dict[int, list[Anchor]] = {}
        # Anchors a sealed copy cannot check against its own chain: at or before its base.
        self._sealed: dict[int, list[Anchor]] = {}
        for anchor in anchors:
            sealed = base is not None and anchor.position <= base[0]
            (self._sealed if sealed else self._anchors).setdefault(anchor.position, []).append(anchor)
        self.anchors_checked = 0

    def _differ(self, where: str, what: str) -> None:
        kind, _, where = where.partition(" ")
        if len(self.differences) < _SHOWN:
            self.differences.append((kind, where, what))
        else:
            self._hidden += 1

    def page(
        self, events: Iterable[tuple[int, UUID | str, int, str, bytes]], links: Iterable[tuple[int, bytes]]
    ) -> None:
        """Check one page: events and chain rows of the same positions, each in position order."""
        stored = dict(links)
        rows = list(events)
        sha256 = hashlib.sha256
        # The chain from the events alone, as ingest computes it; the local chain is hashed apart
        # (canonical() again) only where the stored chain has stopped agreeing: after an alteration.
        before = self.computed
        for row, (position, hashed) in zip(rows, extend(self.computed, rows), strict=True):
            local = hashed if self._local == before else sha256(self._local + canonical(*row)).digest()
            before = self.computed = hashed
            self.head = Anchor(position, self.computed)
            self.events += 1
            kept = stored.pop(position, None)
            if kept is None:
                if self.stored:
                    self._differ(
                        f"chain at position {position}",
                        "an event without a chain row (inserted after its chain was written)",
                    )
                self._local = local
            else:
                if kept != local:
                    self._differ(
                        f"chain at position {position}",
                        "an event was altered, inserted or deleted here: its chain hash differs",
                    )
                self._local = kept
            if position in self._anchors:
                self._check(self._anchors.pop(position), self.computed)
        for position in sorted(stored):
            self._differ(f"chain at position {position}", "a chain row without an event (an event was deleted)")

    def _check(self, anchors: list[Anchor], actual: bytes) -> None:
        for anchor in anchors:
            self.anchors_checked += 1
            if anchor.hash != actual:
                self._differ(
                    f"anchor {anchor.position}",
                    f"the chain no longer passes through {anchor.hash.hex()[:12]}…: an event at or before"
                    f" position {anchor.position} was altered, inserted or deleted",
                )

    def finish(self, links_after_head: Iterable[tuple[int, bytes]] = ()) -> None:
        """Chain rows after the last event, and the anchors no event reached."""
        for position, _ in links_after_head:
            self._differ(f"chain at position {position}", "a chain row without an event (an event was deleted)")
        for position, anchors in sorted(self._sealed.items()):
            assert self.base is not None  # only a copy has anchors before its base
            if position == self.base[0]:
                self._check(anchors, self.base[1])
            else:
                self.notes.append(
                    f"anchor {position} lies before the sealing at {self.base[0]}: check it against the plain ledger"
                )
        for position in sorted(self._anchors):
            anchors = self._anchors.pop(position)
            if position > self.head.position:
                self.anchors_checked += len(anchors)
                self._differ(f"anchor {position}", f"lies beyond the head, position {self.head.position}")
            else:
                self.anchors_checked += len(anchors)
                self._differ(f"anchor {position}", "no event is stored at that position (was it deleted?)")
        if self._hidden:
            self.differences.append(("chain", "…", f"{self._hidden} more differences"))
