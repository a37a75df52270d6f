"""Pages of stored events made into what views read: decoded, filtered by topic, prepared chunk by chunk."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import orjson

from ggzledger.projections.view import Recorded, View
from ggzledger.store import TypedMapper

__all__ = ["Decoder", "StoredRow", "events_for", "prepare_chunks"]

StoredRow = tuple[int, str, bytes]
"""An event as stored: position, topic, state."""


class Decoder:
    """Decodes stored rows into what views read, leaving out events no view reads."""

    def __init__(self, mapper: TypedMapper, views: Sequence[View]) -> None:
        self.mapper = mapper
        self.views = views
        # Per topic, how its stored state is decoded (None: no view reads it).
        self._decoders: dict[str, Callable[[bytes], dict[str, Any]] | None] = {}
        # A plain ledger's states are JSON as they are: orjson.loads directly is the fast path.
        # An encrypted or compressed one's go through the mapper's own unsealing.
        self._loads: Callable[[bytes], dict[str, Any]] = (
            mapper.decode_state if mapper.cipher or mapper.compressor else orjson.loads
        )

    def __call__(self, rows: Sequence[StoredRow]) -> list[Recorded]:
        decoders = self._decoders
        for topic in {row[1] for row in rows} - decoders.keys():
            decoders[topic] = self._decoder(topic)
        return [(position, topic, decode(state)) for position, topic, state in rows if (decode := decoders[topic])]

    def _decoder(self, topic: str) -> Callable[[bytes], dict[str, Any]] | None:
        if not any(topic in view.topics for view in self.views):
            return None
        loads = self._loads
        if not self.mapper.is_versioned(topic):
            # Most events are of classes with one version: their stored state is current as it is.
            return loads
        current = self.mapper.current_state
        return lambda state: current(topic, loads(state))


def events_for(view: View, events: list[Recorded], present: set[str], after: int = 0) -> list[Recorded]:
    """The events a view reads (``present``: the topics among ``events``), those after position ``after``."""
    topics = view.topics
    if events and events[0][0] <= after:
        return [e for e in events if e[0] > after and e[1] in topics]
    return events if present <= topics else [e for e in events if e[1] in topics]


def prepare_chunks(rows: Sequence[StoredRow], decode: Decoder, views: Sequence[View], chunk: int) -> list[list[Any]]:
    """Each view's prepared work on rows, ``chunk`` events at a time (the events of a small chunk stay in cache)."""
    prepared = []
    for start in range(0, len(rows), chunk):
        events = decode(rows[start : start + chunk])
        present = {event[1] for event in events}
        prepared.append([view.prepare(events_for(view, events, present)) for view in views])
    return prepared
