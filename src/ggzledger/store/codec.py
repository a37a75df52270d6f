"""How events are encoded: the orjson transcoder and the typed mapper."""

from __future__ import annotations

import types
import typing
from collections.abc import Callable
from datetime import date, datetime
from typing import Any, cast
from uuid import UUID

import orjson
from eventsourcing.domain import DomainEventProtocol
from eventsourcing.persistence import (
    Cipher,
    Compressor,
    InfrastructureFactory,
    Mapper,
    MapperDeserialisationError,
    StoredEvent,
    Transcoder,
)
from eventsourcing.utils import get_topic, resolve_topic

from ggzledger.store.sealing import Sealer

__all__ = ["OrjsonTranscoder", "TypedMapper", "mapper_for"]


class OrjsonTranscoder(Transcoder):
    """Encodes event state with orjson; dates, datetimes and tuples come back as str and list.

    The :class:`TypedMapper` restores the Python types from the event classes'
    annotations, so this transcoder needs no registry of custom types.
    """

    def encode(self, obj: Any) -> bytes:
        return orjson.dumps(obj)

    def decode(self, data: bytes) -> Any:
        return orjson.loads(data)


Converter = Callable[[Any], Any]


def _converter_for(annotation: Any) -> Converter | None:
    """How to turn a JSON value back into the annotated type (None: as it is)."""
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        members = [a for a in typing.get_args(annotation) if a is not type(None)]
        inner = _converter_for(members[0]) if len(members) == 1 else None
        if inner is None:
            return None
        return lambda value: None if value is None else inner(value)
    if annotation is date:
        return date.fromisoformat
    if annotation is datetime:
        return datetime.fromisoformat
    if annotation is UUID:
        return UUID
    if origin is tuple:
        args = typing.get_args(annotation)
        item = _converter_for(args[0]) if args else None
        if item is None and args and typing.get_origin(args[0]) is tuple:
            return lambda value: tuple(map(tuple, value))
        if item is None:
            return tuple
        return lambda value: tuple(map(item, value))
    return None


class TypedMapper(Mapper[UUID]):
    """Maps domain events to stored events and back, restoring types from annotations.

    Upcasters (``upcast_vN_vM`` static methods on an event class with a
    ``class_version``) run on the raw dict before the types are restored, so an
    upcaster sees exactly what an older version stored.

    An event class may name ``OMITTED_WHEN_NONE`` fields: those holding None are left out of
    the stored state, and every read (:meth:`current_state`, so :meth:`to_domain_event` and
    the views alike) puts them back as None.

    ``compressor`` and ``cipher`` are the library's (COMPRESSOR_TOPIC, CIPHER_TOPIC and
    CIPHER_KEY; see :func:`mapper_for`), applied as its Mapper does: a state is
    compressed then encrypted when stored, decrypted then decompressed when read.

    ``sealer`` (a sealed ledger's, set by the Ledger; None on a plain one) seals each event's
    ``PERSONAL_FIELDS`` under its patient's data key before the state is encoded, and
    :meth:`current_state`, which every read goes through, opens them again
    (:mod:`ggzledger.store.sealing`). The library's compressor and cipher layer on top.
    """

    sealer: Sealer | None = None

    def __init__(
        self, transcoder: Transcoder | None = None, compressor: Compressor | None = None, cipher: Cipher | None = None
    ) -> None:
        super().__init__(transcoder=transcoder or OrjsonTranscoder(), compressor=compressor, cipher=cipher)
        self._converters: dict[type, list[tuple[str, Converter]]] = {}
        # Per event class and per stored topic, what each direction needs: looked up once, not per event.
        self._outgoing: dict[type, tuple[str, int, tuple[str, ...]]] = {}
        self._incoming: dict[str, tuple[type, int, list[tuple[str, Converter]]]] = {}

    def to_stored_event(self, domain_event: DomainEventProtocol[UUID]) -> StoredEvent:
        cls = type(domain_event)
        outgoing = self._outgoing.get(cls)
        if outgoing is None:
            outgoing = (get_topic(cls), getattr(cls, "class_version", 1), getattr(cls, "OMITTED_WHEN_NONE", ()))
            self._outgoing[cls] = outgoing
        topic, class_version, omitted = outgoing
        state = domain_event.__dict__.copy()
        originator_id = state.pop("originator_id")
        originator_version = state.pop("originator_version")
        for name in omitted:
            if state[name] is None:
                del state[name]
        if self.sealer is not None:
            self.sealer.seal(cls, topic, state, originator_id)
        if class_version > 1:
            state["class_version"] = class_version
        data = self.transcoder.encode(state)
        if self.compressor or self.cipher:
            data = self._seal(data)
        return StoredEvent(originator_id, originator_version, topic, data)

    def to_domain_event(self, stored_event: StoredEvent) -> DomainEventProtocol[UUID]:
        cls, _, converters = self._incoming_for(stored_event.topic)
        data = stored_event.state
        try:
            decoded = self.transcoder.decode(self._unseal(data) if self.cipher or self.compressor else data)
        except Exception as error:
            # The library's own error for a state that cannot be read (a wrong cipher key, say).
            raise MapperDeserialisationError(
                f"Failed to deserialise state of stored event with topic '{stored_event.topic}', originator_id"
                f" '{stored_event.originator_id}' and originator_version {stored_event.originator_version}: {error}"
            ) from error
        state = self.current_state(stored_event.topic, decoded)
        for name, convert in converters:
            # None: absent, or a personal field whose key was erased (whatever its annotation says).
            value = state.get(name)
            if value is not None:
                state[name] = convert(value)
        originator_id = stored_event.originator_id
        state["originator_id"] = originator_id if isinstance(originator_id, UUID) else UUID(str(originator_id))
        state["originator_version"] = stored_event.originator_version
        domain_event: DomainEventProtocol[UUID] = object.__new__(cls)
        object.__setattr__(domain_event, "__dict__", state)
        return domain_event

    def decode_state(self, data: bytes) -> dict[str, Any]:
        """A stored state as the JSON values it was stored from: decrypted, decompressed, decoded.

        What the read side decodes raw states with (it builds no domain events); the
        class's upcasts are :meth:`current_state`'s.
        """
        return cast(dict[str, Any], self.transcoder.decode(self._unseal(data)))

    def _seal(self, data: bytes) -> bytes:
        """An encoded state compressed, then encrypted, as configured."""
        if self.compressor:
            data = self.compressor.compress(data)
        if self.cipher:
            data = self.cipher.encrypt(data)
        return data

    def _unseal(self, data: bytes) -> bytes:
        """A stored state decrypted, then decompressed, as configured."""
        if self.cipher:
            data = self.cipher.decrypt(data)
        if self.compressor:
            data = self.compressor.decompress(data)
        return data

    def current_state(self, topic: str, state: dict[str, Any]) -> dict[str, Any]:
        """A decoded stored state brought to its class's current version, still as JSON values.

        What the views read: they take the recorded facts as stored (dates as ISO
        text) and need no domain objects, only the upcasts an older version needs.
        On a sealed ledger the personal fields are opened first (None once erased).
        """
        if self.sealer is not None:
            self.sealer.open(topic, state)
        incoming = self._incoming.get(topic) or self._incoming_for(topic)
        from_version = state.pop("class_version", 1)
        cls = incoming[0]
        if from_version < incoming[1]:
            while from_version < incoming[1]:
                getattr(cls, f"upcast_v{from_version}_v{from_version + 1}")(state)
                from_version += 1
        for name in getattr(cls, "OMITTED_WHEN_NONE", ()):
            state.setdefault(name, None)
        return state

    def is_versioned(self, topic: str) -> bool:
        """True when the topic's stored states may need :meth:`current_state`: its class has versions,
        or leaves fields out (``OMITTED_WHEN_NONE``), or the ledger is sealed."""
        cls, version, _ = self._incoming.get(topic) or self._incoming_for(topic)
        return version > 1 or bool(getattr(cls, "OMITTED_WHEN_NONE", ())) or self.sealer is not None

    def _incoming_for(self, topic: str) -> tuple[type, int, list[tuple[str, Converter]]]:
        incoming = self._incoming.get(topic)
        if incoming is None:
            cls = resolve_topic(topic)
            incoming = self._incoming[topic] = (cls, getattr(cls, "class_version", 1), self._field_converters(cls))
        return incoming

    def _field_converters(self, cls: type) -> list[tuple[str, Converter]]:
        converters = self._converters.get(cls)
        if converters is None:
            hints = typing.get_type_hints(cls)
            converters = []
            for name, annotation in hints.items():
                if name in ("originator_id", "originator_version") or typing.get_origin(annotation) is typing.ClassVar:
                    continue
                convert = _converter_for(annotation)
                if convert is not None:
                    converters.append((name, convert))
            self._converters[cls] = converters
        return converters


def mapper_for(factory: InfrastructureFactory[Any]) -> TypedMapper:
    """The ledger's mapper with the cipher and compressor the library's settings name.

    ``factory`` is the application's (``Application.factory``): it reads COMPRESSOR_TOPIC,
    CIPHER_TOPIC and CIPHER_KEY from the application's environment, as the library
    does for its own Mapper, and raises EnvironmentError for a cipher without a key.
    """
    return cast(TypedMapper, factory.mapper(transcoder=OrjsonTranscoder(), mapper_class=TypedMapper))
