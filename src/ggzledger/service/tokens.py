"""Named bearer tokens with a role, stored hashed in the ledger's database (trust.md §5)."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import threading
import time
from datetime import UTC, datetime
from typing import Any

import attrs

from ggzledger.projections.store import ProjectionStore

__all__ = ["ROLES", "Caller", "TokenError", "TokenRow", "Tokens", "TokenCheck"]

ROLES = ("integrator", "auditor", "backoffice")
"""integrator: the feed, personal fields null; auditor: declarations, histories, totals, findings; backoffice: all."""

# A token is 32 random bytes (256 bits), URL-safe base64: 43 characters of letters, digits, - and _.
_TOKEN_BYTES = 32
# Names appear in the access log's `who` beside `os:USER` for the command line: no colon, nothing invisible.
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
# Kept by `ggzledger rebuild`, which drops only the views' own tables. A revoked token keeps its row,
# so that its name is never given to another token and the access log's `who` stays unambiguous.
_TABLE = (
    "CREATE TABLE IF NOT EXISTS access_tokens (name TEXT PRIMARY KEY, role TEXT NOT NULL,"
    " hash TEXT NOT NULL UNIQUE, created TEXT NOT NULL, revoked TEXT)"
)


class TokenError(Exception):
    """A token command that cannot be done: a duplicate or unknown name, a bad name or role."""


@attrs.frozen
class Caller:
    """Who a request comes from: a token's name and role."""

    name: str
    role: str


@attrs.frozen
class TokenRow:
    """One token as ``token list`` shows it (never its hash)."""

    name: str
    role: str
    created: str
    revoked: str | None

    def to_json(self) -> dict[str, Any]:
        """The row as ``token list --json`` prints it."""
        return attrs.asdict(self)


def digest(token: str) -> str:
    """The stored form of a token: SHA-256, hex.

    No slow KDF: a token is 256 random bits, not a password a person chose, so there is
    no dictionary to try, and a fast hash costs an attacker with the table 2**256 guesses.
    """
    return hashlib.sha256(token.encode("utf-8", "surrogateescape")).hexdigest()


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


class Tokens:
    """The ``access_tokens`` table of a ledger's database."""

    def __init__(self, store: ProjectionStore) -> None:
        self.store = store

    def create(self) -> None:
        """Create the table when it is not there (a read-only server never calls this)."""
        with self.store.transaction(write=True) as c:
            c.execute(_TABLE)

    def add(self, name: str, role: str) -> str:
        """Store a new token for ``name`` with ``role``; returns the token, which is never shown again.

        Raises TokenError for a bad name or role, or a name that was ever used (revoked ones too).
        """
        if not _NAME.fullmatch(name):
            raise TokenError(
                f"token name {name[:70]!r} is not 1-64 letters, digits, '.', '_' or '-' starting with a letter or digit"
            )
        if role not in ROLES:
            raise TokenError(f"role {role[:40]!r} is not one of {', '.join(ROLES)}")
        token = secrets.token_urlsafe(_TOKEN_BYTES)
        with self.store.transaction(write=True) as c:
            c.execute(_TABLE)
            c.execute("SELECT revoked FROM access_tokens WHERE name = ?", (name,))
            found = c.fetchone()
            if found is not None:
                was = "was revoked; a name is never reused" if found[0] else "exists already"
                raise TokenError(f"a token named {name} {was}: choose another name")
            c.execute(
                "INSERT INTO access_tokens (name, role, hash, created) VALUES (?, ?, ?, ?)",
                (name, role, digest(token), _now()),
            )
        return token

    def revoke(self, name: str) -> None:
        """Revoke the token ``name``; raises TokenError when there is none or it is revoked already."""
        with self.store.transaction(write=True) as c:
            c.execute(_TABLE)
            c.execute("SELECT revoked FROM access_tokens WHERE name = ?", (name,))
            found = c.fetchone()
            if found is None:
                raise TokenError(f"there is no token named {name[:70]!r} (ggzledger token list shows them)")
            if found[0] is not None:
                raise TokenError(f"the token {name} was revoked already, at {found[0]}")
            c.execute("UPDATE access_tokens SET revoked = ? WHERE name = ?", (_now(), name))

    def rows(self) -> list[TokenRow]:
        """Every token, revoked ones too, in the order of their names."""
        with self.store.transaction(write=False) as c:
            c.execute("SELECT name, role, created, revoked FROM access_tokens ORDER BY name")
            return [TokenRow(*row) for row in c.fetchall()]

    def active(self) -> list[tuple[str, Caller]]:
        """(hash, caller) of every token not revoked."""
        with self.store.transaction(write=False) as c:
            c.execute("SELECT hash, name, role FROM access_tokens WHERE revoked IS NULL")
            return [(row[0], Caller(row[1], row[2])) for row in c.fetchall()]


class TokenCheck:
    """Who a presented token belongs to, from the table as it was at most ``ttl`` seconds ago.

    The table is read again once ``ttl`` has passed: a token revoked by ``token revoke`` is
    refused by a running server within that time. Every active token is compared, with
    ``hmac.compare_digest``, whatever matched before: the time taken says nothing of how
    close a guess came.
    """

    def __init__(self, tokens: Tokens, ttl: float = 1.0) -> None:
        self.tokens = tokens
        self.ttl = ttl
        self._lock = threading.Lock()
        self._active: list[tuple[bytes, Caller]] = []
        self._read_at = -float("inf")

    def caller(self, token: str) -> Caller | None:
        """The caller of ``token``, or None for an unknown or revoked one. Raises what the store raises."""
        active = self._current()
        presented = digest(token).encode()
        found = None
        for stored, who in active:
            if hmac.compare_digest(stored, presented):
                found = who
        return found

    def _current(self) -> list[tuple[bytes, Caller]]:
        with self._lock:
            if time.monotonic() - self._read_at >= self.ttl:
                self._active = [(stored.encode(), who) for stored, who in self.tokens.active()]
                self._read_at = time.monotonic()
            return self._active
