"""Sealing an event's personal fields under its patient's data key, and opening them again.

An event class names its ``PERSONAL_FIELDS``. Those of its fields that are not None are
taken out of the stored state and stored as one sealed value::

    "_sealed": {"s": "<subject uuid hex>", "c": "<base64 of nonce ‖ AES-GCM ciphertext>"}

whose plaintext is the orjson object of those fields. The associated data binds the subject,
the trajectory, the event's topic and its record fingerprint (unique within a trajectory),
so a sealed value moved to another event does not open. One AES-GCM call per event rather
than per field (erasure.md §2 sketches per field): the fields of one event are always
erased together, and one call costs a third of three. An event whose personal fields are
all None stores no envelope. Once the subject's key is erased, every personal field of the
class reads None.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
from typing import Any
from uuid import UUID

import orjson
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from eventsourcing.utils import resolve_topic

from ggzledger.store.kek import KeyStoreError
from ggzledger.store.keystore import KeyStore

__all__ = ["ERASED_TOPIC", "OPENED_TOPIC", "SUBJECT_KEY", "Sealer", "keyed", "subject_key"]

ENVELOPE = "_sealed"
ERASED_TOPIC = "ggzledger.Trajectory.PersonalDataErased"
OPENED_TOPIC = "ggzledger.Trajectory.Opened"
SUBJECT_KEY = "subject:"


def subject_key(stream: UUID) -> str:
    """The ledger key-index row naming a trajectory's subject: ``subject:<stream hex>``."""
    return SUBJECT_KEY + stream.hex


class Sealer:
    """Seals and opens personal fields with the data keys of a :class:`KeyStore`.

    ``subject_of_stream`` finds the subject of a trajectory recorded earlier (the ledger's
    key index); subjects of trajectories opened in the batch being stored are remembered
    here until :meth:`take_keys` hands their key-index rows to the batch.
    """

    def __init__(self, keys: KeyStore, subject_of_stream: Any = None) -> None:
        self.keys = keys
        self.subject_of_stream = subject_of_stream
        self._aeads: dict[str, tuple[bytes, AESGCM]] = {}
        self._streams: dict[UUID, str] = {}
        self._new_keys: list[tuple[str, str, str | None]] = []
        self._fields: dict[str, tuple[str, ...]] = {}
        self._fingerprint_keys: dict[str, tuple[bytes, bytes]] = {}

    def __getstate__(self) -> dict[str, Any]:
        # A rebuild's child opens sealed fields only: the key store travels, the ledger's index does not.
        return {"keys": self.keys}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(state["keys"])  # type: ignore[misc]

    # Storing.

    def seal(self, cls: type, topic: str, state: dict[str, Any], stream: UUID) -> None:
        """Take the event's personal fields that are not None out of ``state`` into its envelope (in place)."""
        fields = getattr(cls, "PERSONAL_FIELDS", ())
        given = {name: state.pop(name) for name in fields if state.get(name) is not None}
        if not given:
            return
        if topic == OPENED_TOPIC:
            subject, dek = self.keys.subject_for(given["patient"])
            self._streams[stream] = subject
            self._new_keys.append((subject_key(stream), subject, state["trajectory"]))
        else:
            subject = self._subject(stream)
            found = self.keys.dek(subject)
            if found is None:
                raise KeyStoreError(f"trajectory {state.get('trajectory')}: its patient's data key is erased")
            dek = found
        nonce = os.urandom(12)
        aad = _aad(subject, state, topic)
        sealed = nonce + self._aead(subject, dek).encrypt(nonce, orjson.dumps(given), aad)
        state[ENVELOPE] = {"s": subject, "c": base64.b64encode(sealed).decode()}

    # Fingerprints.

    def subject_of_patient(self, patient: str) -> str:
        """The subject of the patient a trajectory is opened for: the one stored, else one minted now.

        Inside ``keys.deferred()`` a minted key is written when the block ends, before the
        batch's events (the ledger's record() wraps its judging in one).
        """
        return self.keys.subject_for(patient)[0]

    def subject_of(self, stream: UUID) -> str | None:
        """The subject of a trajectory recorded earlier, or None (never opened)."""
        subject = self._streams.get(stream)
        if subject is None and self.subject_of_stream is not None:
            subject = self.subject_of_stream(stream)
            if subject is not None:
                if len(self._streams) > 200_000:
                    self._streams.clear()
                self._streams[stream] = subject
        return subject

    def keyed_fingerprint(self, fingerprint: str, subject: str) -> str | None:
        """A record's fingerprint as a sealed ledger stores it: keyed with its patient's data key.

        The plain fingerprint is a digest of the whole input record, personal fields included:
        stored as it is, anyone holding the ledger could test guesses against it (one of some
        twenty clusters, a patient number, HoNOS scores) and so read what the seal hides, also
        after an erasure. Keyed with a key derived from the patient's data key, it tells a
        repeat exactly as before, and means nothing once that key is erased. None when the
        subject's key is erased.
        """
        key = self.fingerprint_key(subject)
        return None if key is None else keyed(fingerprint, key)

    def fingerprint_key(self, subject: str) -> bytes | None:
        """The key a subject's record fingerprints are keyed with (see :func:`keyed`); None once erased."""
        dek = self.keys.dek(subject)
        if dek is None:
            return None
        known = self._fingerprint_keys.get(subject)
        if known is None or known[0] != dek:
            if len(self._fingerprint_keys) > 100_000:
                self._fingerprint_keys.clear()
            # A key of its own for fingerprints (never the AES key itself): HMAC of the data key.
            derived = hmac.new(dek, b"ggzledger record fingerprint", hashlib.sha256).digest()
            known = self._fingerprint_keys[subject] = (dek, derived)
        return known[1]

    def take_keys(self) -> list[tuple[str, str, str | None]]:
        """The key-index rows (``subject:<stream>``, subject, trajectory) of the trajectories opened since the last call."""
        rows, self._new_keys = self._new_keys, []
        return rows

    def forget_batch(self) -> None:
        """Drop what a batch that was not stored remembered (its openings' subjects)."""
        for key, _subject, _number in self._new_keys:
            self._streams.pop(UUID(key[len(SUBJECT_KEY) :]), None)
        self._new_keys = []
        self.keys.forget_all()

    def _subject(self, stream: UUID) -> str:
        subject = self.subject_of(stream)
        if subject is None:
            raise KeyStoreError(f"stream {stream} has no subject in the ledger's key index: it was never opened")
        return subject

    def _aead(self, subject: str, dek: bytes) -> AESGCM:
        known = self._aeads.get(subject)
        if known is None or known[0] != dek:
            if len(self._aeads) > 100_000:
                self._aeads.clear()
            known = self._aeads[subject] = (dek, AESGCM(dek))
        return known[1]

    # Reading.

    def open(self, topic: str, state: dict[str, Any]) -> dict[str, Any]:
        """``state`` with its envelope opened (in place): the fields back, or every personal field
        None once the subject's key is erased. Raises KeyStoreError for an envelope that does not open."""
        envelope = state.pop(ENVELOPE, None)
        if envelope is None:
            if topic == ERASED_TOPIC:
                # This process reads the erasure: it must not go on opening that subject's fields.
                self.forget(state["subject"])
            return state
        subject = envelope["s"]
        dek = self.keys.dek(subject)
        if dek is None:
            for name in self._personal(topic):
                state[name] = None
            return state
        raw = base64.b64decode(envelope["c"])
        try:
            plain = self._aead(subject, dek).decrypt(raw[:12], raw[12:], _aad(subject, state, topic))
        except InvalidTag:
            raise KeyStoreError(
                f"the sealed fields of a {topic.rsplit('.', 1)[-1]} event of trajectory {state.get('trajectory')}"
                " do not open with its patient's key: the event was altered or moved"
            ) from None
        state.update(orjson.loads(plain))
        return state

    def forget(self, subject: str) -> None:
        """Forget a subject's key here and in the key store's cache."""
        self._aeads.pop(subject, None)
        self._fingerprint_keys.pop(subject, None)
        self.keys.forget(subject)

    def _personal(self, topic: str) -> tuple[str, ...]:
        fields = self._fields.get(topic)
        if fields is None:
            fields = self._fields[topic] = tuple(getattr(resolve_topic(topic), "PERSONAL_FIELDS", ()))
        return fields


def keyed(fingerprint: str, key: bytes) -> str:
    """A plain record fingerprint keyed with ``key`` (Sealer.fingerprint_key): 128-bit keyed BLAKE2b, hex."""
    return hashlib.blake2b(fingerprint.encode(), key=key, digest_size=16).hexdigest()


def _aad(subject: str, state: dict[str, Any], topic: str) -> bytes:
    return f"{subject}\0{state.get('trajectory')}\0{topic}\0{state.get('fingerprint')}".encode()
