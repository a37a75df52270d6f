"""The Treeknormen: the longest acceptable waits for ggz, in days, by the date they are in force."""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping
from datetime import date
from importlib import resources
from typing import Any

import attrs

__all__ = ["Treeknorm", "Treeknormen", "load_treeknormen"]


@attrs.frozen
class Treeknorm:
    """One version: aanmeldwachttijd (registration -> intake), behandelwachttijd (intake -> treatment), total.

    A wait exceeds a norm when it takes more days than the norm: 28 days is within 4 weeks, 29 is not.
    """

    version: str
    valid_from: date
    aanmeld_days: int
    behandel_days: int
    total_days: int

    def limit(self, kind: str) -> int:
        """The norm of ``kind`` (``aanmeld``, ``behandel`` or ``total``) in days."""
        return {"aanmeld": self.aanmeld_days, "behandel": self.behandel_days, "total": self.total_days}[kind]

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Treeknorm:
        return cls(
            version=str(data["version"]),
            valid_from=date.fromisoformat(data["valid_from"]),
            aanmeld_days=int(data["aanmeld_days"]),
            behandel_days=int(data["behandel_days"]),
            total_days=int(data["total_days"]),
        )


@attrs.frozen
class Treeknormen:
    """Every version, oldest first."""

    versions: tuple[Treeknorm, ...]

    def lookup(self, on: date) -> Treeknorm:
        """The version in force on ``on`` (the latest that starts on or before it; the first before any)."""
        found = self.versions[0]
        for version in self.versions:
            if version.valid_from <= on:
                found = version
        return found


@functools.cache
def load_treeknormen() -> Treeknormen:
    """The norms shipped with the package (``data/treeknormen.json``), read once."""
    text = (resources.files("ggzledger.reference") / "data" / "treeknormen.json").read_text("utf-8")
    versions = sorted((Treeknorm.from_json(v) for v in json.loads(text)["versions"]), key=lambda v: v.valid_from)
    return Treeknormen(tuple(versions))
