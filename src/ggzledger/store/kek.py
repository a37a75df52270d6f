"""The key-encryption key (KEK): where it comes from, and wrapping data keys with it."""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import sys
from collections.abc import Callable
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

__all__ = ["Kek", "KeyStoreError", "load_kek", "kek_from_text", "new_kek_text"]

KEK_ENV = "GGZLEDGER_KEK"
KEK_FILE_ENV = "GGZLEDGER_KEK_FILE"
_NONCE = 12


class KeyStoreError(Exception):
    """The key store or the KEK cannot be used: missing, unreadable, or the wrong key."""


class Kek:
    """A 32-byte key-encryption key: wraps and unwraps the patients' data keys (AES-GCM).

    ``id`` names the key without revealing it (the first 16 hex digits of its SHA-256):
    each wrapped data key records the id of the KEK that wrapped it, so a wrong KEK is
    told apart from a damaged key store before any decryption is tried.
    """

    def __init__(self, key: bytes, source: str) -> None:
        self._aead = AESGCM(key)
        self.id = hashlib.sha256(key).hexdigest()[:16]
        self.source = source

    def wrap(self, dek: bytes, subject: str) -> bytes:
        """``dek`` encrypted under the KEK, bound to its subject (nonce ‖ ciphertext)."""
        nonce = os.urandom(_NONCE)
        return nonce + self._aead.encrypt(nonce, dek, subject.encode())

    def unwrap(self, wrapped: bytes, subject: str) -> bytes:
        """The data key inside ``wrapped``; raises KeyStoreError when this KEK did not wrap it."""
        try:
            return self._aead.decrypt(wrapped[:_NONCE], wrapped[_NONCE:], subject.encode())
        except InvalidTag:
            raise KeyStoreError(
                f"the KEK from {self.source} does not open the key store's data keys"
                " (a wrong or rotated KEK: give the one the key store was wrapped with)"
            ) from None


def new_kek_text() -> str:
    """A new KEK as it is written: base64 of 32 random bytes."""
    return base64.b64encode(os.urandom(32)).decode()


def kek_from_text(text: str, source: str) -> Kek:
    """A KEK from its written form (base64 of 32 bytes); raises KeyStoreError naming ``source``."""
    try:
        key = base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise KeyStoreError(f"{source} is not base64 (give base64 of 32 random bytes)") from None
    if len(key) != 32:
        raise KeyStoreError(f"{source} holds {len(key)} bytes, not 32 (give base64 of 32 random bytes)")
    return Kek(key, source)


def load_kek(default_file: Path | None, wrapped_by: Callable[[], str | None] = lambda: None) -> Kek:
    """The KEK the environment gives: GGZLEDGER_KEK, else the file GGZLEDGER_KEK_FILE names, else
    ``default_file`` (generated there, 0600, on first use, saying so once on stderr). An empty
    variable counts as unset.

    ``default_file`` None (a key store without a file of its own, on PostgreSQL): the KEK must be
    configured. ``wrapped_by()``: the id of the KEK the key store's keys are already wrapped with,
    if any; a KEK is then never generated (it could not open them). Raises KeyStoreError saying
    what is missing or wrong.
    """
    text = os.environ.get(KEK_ENV)
    if text:
        return kek_from_text(text, KEK_ENV)
    named = os.environ.get(KEK_FILE_ENV)
    if named:
        return _from_file(Path(named), f"{KEK_FILE_ENV} ({named})")
    if default_file is None:
        raise KeyStoreError(
            f"no KEK: set {KEK_ENV} (base64 of 32 random bytes) or {KEK_FILE_ENV} (a file holding that);"
            " a PostgreSQL key store has no file beside it to keep a generated one in"
        )
    if default_file.exists():
        return _from_file(default_file, str(default_file))
    used = wrapped_by()
    if used is not None:
        raise KeyStoreError(
            f"no KEK: the key store's keys are wrapped with KEK id {used}, and neither {KEK_ENV} nor"
            f" {KEK_FILE_ENV} gives it (an empty one counts as unset), nor {default_file}: give that KEK"
        )
    text = new_kek_text()
    try:
        descriptor = os.open(default_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process made it first: use theirs
        return _from_file(default_file, str(default_file))
    except OSError as error:
        raise KeyStoreError(f"cannot create the KEK file {default_file}: {error.strerror}") from None
    try:
        os.fchmod(descriptor, 0o600)
        os.write(descriptor, (text + "\n").encode())
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
    print(
        f"ggzledger: generated a key-encryption key in {default_file} (mode 0600); keep a copy apart from the"
        f" ledger's backups, or set {KEK_ENV}/{KEK_FILE_ENV} (docs/sealing.md)",
        file=sys.stderr,
    )
    return kek_from_text(text, str(default_file))


def _from_file(path: Path, source: str) -> Kek:
    try:
        text = path.read_text("ascii")
    except OSError as error:
        raise KeyStoreError(f"cannot read the KEK file {source}: {error.strerror}") from None
    except UnicodeDecodeError:
        raise KeyStoreError(f"the KEK file {source} is not base64 text") from None
    lines = [line for line in text.splitlines() if line.strip()]
    if len(lines) != 1:
        raise KeyStoreError(f"the KEK file {source} must hold one line (base64 of 32 random bytes)")
    return kek_from_text(lines[0], source)
