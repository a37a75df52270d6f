"""The coded list of regions: the 31 zorgkantoorregio's, and how an old free-text region reads."""

from __future__ import annotations

import functools
import json
from collections.abc import Iterator, Mapping
from importlib import resources
from typing import Any

import attrs

__all__ = ["UNCODED", "Region", "Regions", "UnknownRegion", "load_regions"]

UNCODED = "uncoded"
"""The key of a trajectory whose region is free text that names no region of the list, or absent."""


class UnknownRegion(ValueError):
    """A code that is not on the list."""


@attrs.frozen
class Region:
    """One region of the list: its code (``ZK11``) and its name (``Utrecht``)."""

    code: str
    name: str

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Region:
        return cls(code=str(data["code"]), name=str(data["name"]))


@attrs.frozen
class Regions:
    """The list, with its version; codes and names are unique."""

    version: str
    regions: tuple[Region, ...]
    _by_code: dict[str, Region] = attrs.field(init=False, repr=False, eq=False)
    _by_name: dict[str, Region] = attrs.field(init=False, repr=False, eq=False)

    def __attrs_post_init__(self) -> None:
        by_code = {region.code: region for region in self.regions}
        by_name = {region.name.casefold(): region for region in self.regions}
        if len(by_code) != len(self.regions) or len(by_name) != len(self.regions):
            raise ValueError("region list: a code or a name is given twice")
        object.__setattr__(self, "_by_code", by_code)
        object.__setattr__(self, "_by_name", by_name)

    @property
    def codes(self) -> tuple[str, ...]:
        """Every code, in the list's order."""
        return tuple(region.code for region in self.regions)

    def lookup(self, code: str) -> Region:
        """The region of ``code``; raises UnknownRegion for a code not on the list."""
        try:
            return self._by_code[code]
        except KeyError:
            raise UnknownRegion(
                f"region {code!r} is not a code of the {len(self.regions)} zorgkantoorregio's"
            ) from None

    def named(self, name: str) -> Region | None:
        """The region whose name is ``name`` (letter case and surrounding spaces aside), else None."""
        return self._by_name.get(name.strip().casefold())

    def code_of(self, text: str | None) -> str:
        """How a free-text region reads: the code it is (``ZK11``), the code of the region it names exactly
        (``Utrecht`` -> ``ZK11``), else :data:`UNCODED` (``Amersfoort``, a typing error, none given)."""
        if text is None:
            return UNCODED
        if text in self._by_code:
            return text
        named = self.named(text)
        return UNCODED if named is None else named.code

    def __iter__(self) -> Iterator[Region]:
        return iter(self.regions)

    def __len__(self) -> int:
        return len(self.regions)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Regions:
        return cls(version=str(data["version"]), regions=tuple(Region.from_json(r) for r in data["regions"]))


@functools.cache
def load_regions() -> Regions:
    """The list shipped with the package (``data/regions.json``), read once. Raises ValueError when damaged."""
    text = (resources.files("ggzledger.reference") / "data" / "regions.json").read_text("utf-8")
    return Regions.from_json(json.loads(text))
