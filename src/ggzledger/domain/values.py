"""Value objects of the domain: HoNOS+ scores and the closed lists of the contract."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import date
from typing import Any

import attrs

from ggzledger.domain.errors import Malformed

__all__ = [
    "passes_elfproef",
    "HONOS_REQUIRED",
    "HONOS_OPTIONAL",
    "NOT_KNOWN",
    "CARE_FORMS",
    "REFERRAL_TARGETS",
    "ZPM_START",
    "HONOS_Q",
    "PRESTATIES",
    "CONSULT_TYPES",
    "CARE_LEVELS",
    "REFERRAL_TYPES",
    "WITHOUT_REFERRER",
    "ROUTES",
    "HOOFDGROEPEN",
    "hoofdgroep_of",
    "ScoreItems",
    "Scores",
]

HONOS_REQUIRED = tuple(str(n) for n in range(1, 13))
HONOS_OPTIONAL = ("13", "A", "B", "C", "D", "E")
HONOS_Q = "Q"
"""The 19th HoNOS+ item, accepted from 2022 (zpm.md Z7, 3.14)."""
# Order in which items are kept, so that equal scores have one representation.
_ITEM_ORDER = {item: n for n, item in enumerate((*HONOS_REQUIRED, *HONOS_OPTIONAL, HONOS_Q))}
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

# The zorgprestatiemodel (zpm.md).
ZPM_START = date(2022, 1, 1)
"""The first day of care the zorgprestatiemodel applies to (Z0)."""
PRESTATIES = ("consult", "group", "overleg", "stay", "surcharge", "other")
CONSULT_TYPES = ("diagnostiek", "behandeling")
CARE_LEVELS = ("A", "B", "C", "D", "E", "F", "G", "H", "VMR")
REFERRAL_TYPES = ("01", "02", "03", "04", "05", "06", "07")
WITHOUT_REFERRER = ("04", "05", "06")
"""Referral types that carry no referrer: no referrer_agb, no referral_date (3.19)."""
ROUTES = ("full", "dynamic")
HOOFDGROEPEN = {"X": range(1, 9), "Y": range(10, 18), "Z": range(18, 22)}
"""Each hoofdgroep and the zorgvraagtypes (cluster codes) it holds (Z2.2)."""


def hoofdgroep_of(cluster: int) -> str | None:
    """The hoofdgroep (X, Y, Z) of a cluster code; None for one without (0, 9, unknown codes)."""
    for hoofdgroep, codes in HOOFDGROEPEN.items():
        if cluster in codes:
            return hoofdgroep
    return None


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
    def from_mapping(cls, data: Mapping[str, Any], *, item_q: bool = False, dynamic: bool = False) -> Scores:
        """Validate a JSON object of item -> score; raises Malformed naming the item.

        ``item_q``: item "Q" is accepted too (care from 2022, 3.14). ``dynamic``: the dynamic
        route, which stops early by design: items 1..12 are not required, but one item is.
        """
        unknown = sorted(item for item in data if item not in _ITEM_ORDER or (item == HONOS_Q and not item_q))
        if unknown:
            items = "1..13, A..E and Q" if item_q else "1..13 and A..E"
            raise Malformed(f"honos: unknown item {unknown[0]!r} (items are {items})")
        if dynamic:
            if not data:
                raise Malformed("honos: the dynamic route needs at least one item")
        else:
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


def passes_elfproef(bsn: str) -> bool:
    """Whether nine digits are a possible BSN: the weighted sum 9·d1 + 8·d2 + … + 2·d8 − 1·d9 is a multiple of 11.

    The check every Dutch register applies to a burgerservicenummer; all zeros passes it and is no number.
    """
    if len(bsn) != 9 or not bsn.isascii() or not bsn.isdigit() or bsn == "000000000":
        return False
    weighted = sum(int(digit) * weight for digit, weight in zip(bsn, (9, 8, 7, 6, 5, 4, 3, 2, -1), strict=True))
    return weighted % 11 == 0
