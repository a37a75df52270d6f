"""The professions that may register (group) consults, their tariff categories, and who may be regiebehandelaar.

zpm.md Z2.4, after the field agreement of 2022 (version 1.3). The code strings are the spec's own;
the grouping is the source's. A field agreement can change: a later list is a new version here.
"""

from __future__ import annotations

__all__ = ["BEROEPEN", "CATEGORIES", "REGIEBEHANDELAARS", "category_of"]

# beroep -> beroepscategorie, in the order of Z2.4's table.
BEROEPEN: dict[str, str] = {
    "arts": "arts",
    "verslavingsarts": "arts",
    "avg": "arts_specialist",
    "huisarts": "arts_specialist",
    "internist": "arts_specialist",
    "kinderarts": "arts_specialist",
    "klinisch_geriater": "arts_specialist",
    "neuroloog": "arts_specialist",
    "psychiater": "arts_specialist",
    "specialist_ouderengeneeskunde": "arts_specialist",
    "gz_psycholoog": "gz_psycholoog",
    "klinisch_psycholoog": "klinisch_psycholoog",
    "klinisch_neuropsycholoog": "klinisch_psycholoog",
    "psychotherapeut": "psychotherapeut",
    "vs_ggz": "vs_ggz",
    "vs_agz": "vs_ggz",
    "verpleegkundige": "verpleegkundige",
    **dict.fromkeys(
        (
            "dietist",
            "ergotherapeut",
            "ervaringsdeskundige",
            "fysiotherapeut",
            "ggz_agoog",
            "kinder_jeugdpsycholoog",
            "logopedist",
            "maatschappelijk_werkende",
            "oefentherapeut",
            "orthopedagoog_generalist",
            "physician_assistant",
            "psychodiagnostisch_werkende",
            "sociaal_juridisch_medewerker",
            "sociaal_pedagogisch_hulpverlener",
            "sociaal_werkende",
            "vaktherapeut",
            "wo_orthopedagoog",
            "wo_psycholoog",
        ),
        "overig",
    ),
}

CATEGORIES: tuple[str, ...] = tuple(dict.fromkeys(BEROEPEN.values()))
"""The beroepscategorieën, as a tariff table's ``beroep_category`` column names them."""

# Marked * in Z2.4: may be responsible for the treatment plan.
REGIEBEHANDELAARS: frozenset[str] = frozenset(
    {
        "verslavingsarts",
        "klinisch_geriater",
        "psychiater",
        "specialist_ouderengeneeskunde",
        "gz_psycholoog",
        "klinisch_psycholoog",
        "klinisch_neuropsycholoog",
        "psychotherapeut",
        "vs_ggz",
    }
)


def category_of(beroep: str) -> str:
    """The beroepscategorie of a beroep code; raises KeyError for a code not in the list."""
    return BEROEPEN[beroep]
