"""The zorgprestatiemodel's prestatie kinds: which table columns each kind needs, its key, its duration bands."""

from __future__ import annotations

from collections.abc import Iterable

__all__ = [
    "BANDS",
    "CARE_LEVELS",
    "CONSULT_TYPES",
    "KEY_COLUMNS",
    "KINDS",
    "OPTIONAL_COLUMNS",
    "REQUIRED_COLUMNS",
    "TARIFF_TYPES",
    "ZPM_COLUMNS",
    "band_of",
]

KINDS = ("consult", "group", "overleg", "stay", "surcharge", "other")
"""The ``kind`` of a v2 table row, as a record's ``prestatie`` names it (zpm.md Z3.2, Z5.1)."""

TARIFF_TYPES = ("maximum", "vast", "vrij")
"""NZa tariff types: a ceiling, a fixed amount, or free (priced by contract only) (Z5.2)."""

CONSULT_TYPES = ("diagnostiek", "behandeling")

CARE_LEVELS = ("A", "B", "C", "D", "E", "F", "G", "H", "VMR")
"""Stay-day care levels in ggz (Z2.8)."""

ZPM_COLUMNS = (
    "consult_type",
    "setting",
    "beroep_category",
    "min_minutes",
    "group_size",
    "unit_minutes",
    "care_level",
    "security_level",
    "surcharge_type",
)
"""The key and duration columns of a v2 table row, in the CSV's order."""

KEY_COLUMNS: dict[str, tuple[str, ...]] = {
    "consult": ("consult_type", "setting", "beroep_category"),
    "group": ("beroep_category", "group_size"),
    "overleg": ("setting",),
    "stay": ("setting", "care_level", "security_level"),
    "surcharge": ("surcharge_type",),
    "other": (),  # the code itself is the key (Z4.4)
}
"""Per kind, the columns a record's values are matched against (Z4.3); min_minutes is the band."""

REQUIRED_COLUMNS: dict[str, frozenset[str]] = {
    "consult": frozenset({"consult_type", "setting", "beroep_category", "min_minutes"}),
    "group": frozenset({"beroep_category", "group_size", "unit_minutes"}),
    "overleg": frozenset({"setting", "min_minutes"}),
    "stay": frozenset({"setting", "care_level"}),
    "surcharge": frozenset({"surcharge_type"}),
    "other": frozenset(),
}
"""Per kind, the ZPM columns a row must fill (Z5.1)."""

OPTIONAL_COLUMNS: dict[str, frozenset[str]] = {
    "stay": frozenset({"security_level"}),
    # reistijd has bands, psychodiagnostiek has none; one type never mixes the two (Z4.3).
    "surcharge": frozenset({"min_minutes"}),
}
"""Per kind, the ZPM columns a row may fill or leave empty; every other column must stay empty."""

BANDS: dict[str, tuple[int, ...]] = {
    "consult": (5, 15, 30, 45, 60, 75, 90, 120),
    "overleg": (5, 15),
}
"""The NZa's "vanaf N minuten" bands of the kinds whose bands are fixed; a surcharge's come from its rows."""


def band_of(minutes: int, bands: Iterable[int]) -> int | None:
    """The band ``minutes`` falls in: the largest of ``bands`` at most ``minutes``; None below the lowest.

    ``band_of(104, BANDS["consult"])`` is 90, ``band_of(140, …)`` 120, ``band_of(4, …)`` None.
    """
    chosen = None
    for band in bands:
        if band <= minutes and (chosen is None or band > chosen):
            chosen = band
    return chosen
