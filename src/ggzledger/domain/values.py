"""Value objects of the domain: HoNOS+ scores and the closed lists of the contract."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import attrs

from ggzledger.domain.errors import Malformed

__all__ = [
    "HONOS_REQUIRED",
    "HONOS_OPTIONAL",
    "NOT_KNOWN",
    "CARE_FORMS",
    "REFERRAL_TARGETS",
    "ScoreItems",
    "Scores",
]

HONOS_REQUIRED = tuple(str(n) for n in range(1, 13))
HONOS_OPTIONAL = ("13", "A", "B", "C", "D", "E")
# Order in which items are kept, so that equal scores have one representation.
_ITEM_ORDER = {item: n for n, item in enumerate(HONOS_REQUIRED + HONOS_OPTIONAL)}
NOT_KNOWN = 9

CARE_FORMS = (
    "acute",
    "outreach",
    "secure",
    "clinical",
    "highly_specialised_hospital",
    "highly_specialised_institution",
)
REFERRAL_TARGETS = ("huisarts", "other_provider", "none")

# What an event stores: (item, score) pairs in catalogue order. A tuple, not a
# dict, because events must hold immutable values only.
ScoreItems = tuple[tuple[str, int], ...]


@attrs.frozen
class Scores:
    """A HoNOS+ rating: items "1".."12" required, "13" and "A".."E" optional.

    Each score is 0..4, or 9 for "not known". Build one from outside data with
    :meth:`from_mapping`, which raises :class:`Malformed` for anything else.
    """

    items: ScoreItems

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> Scores:
        """Validate a JSON object of item -> score; raises Malformed naming the item."""
        unknown = sorted(set(data) - set(_ITEM_ORDER))
        if unknown:
            raise Malformed(f"honos: unknown item {unknown[0]!r} (items are 1..13 and A..E)")
        missing = [item for item in HONOS_REQUIRED if item not in data]
        if missing:
            raise Malformed(f"honos: required item {missing[0]!r} is missing")
        for item, score in data.items():
            # bool is an int subclass; JSON true is not a score.
            if type(score) is not int or not (0 <= score <= 4 or score == NOT_KNOWN):
                # Shown as the JSON the user wrote (true, 4.0, null), not as a Python repr.
                shown = json.dumps(score, default=repr)
                raise Malformed(
                    f"honos: item {item!r} has score {shown}; a score is an integer 0..4, or 9 for not known"
                )
        return cls(tuple(sorted(data.items(), key=lambda pair: _ITEM_ORDER[pair[0]])))

    @property
    def total(self) -> int:
        """Sum of items 1..12, not counting items scored 9 (not known)."""
        return total_of(self.items)


def total_of(items: ScoreItems) -> int:
    """Sum of items 1..12 of stored score items, skipping 9 (not known)."""
    return sum(score for item, score in items if item in HONOS_REQUIRED and score != NOT_KNOWN)
