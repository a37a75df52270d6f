"""The zorgprestatiemodel share of the bench's year: contracts, practices, and consults recorded as facts.

About two in five trajectories of the synthetic year are billed the way providers bill today: each
consult, group unit, overleg and travel surcharge is an ``activity_delivered`` with ``prestatie``
and the facts its code follows from, priced through the insurers' contracts. Setting-1 practices
bill with the shipped NZa rows (``zpm-2024b``); settings 2 to 4, with professions the shipped rows do
not cover, bill with :data:`BENCH_TABLE`, a table of invented codes that only the bench loads.
"""

from __future__ import annotations

import random
from datetime import date, timedelta
from typing import Any

from ggzledger.reference import TariffTable

__all__ = ["BENCH_TABLE", "BENCH_TABLE_VERSION", "ZPM_SHARE", "Practice", "bench_table", "contracts", "practice"]

ZPM_SHARE = 0.4
"""The share of the year's trajectories recorded as ZPM prestaties."""

BENCH_TABLE_VERSION = "bench-2024"
"""The label of the bench's own table (loaded into the bench's ledgers only)."""

_BANDS = (5, 15, 30, 45, 60, 75, 90, 120)
_BENCH_SETTINGS = (2, 3, 4)
# Beroepscategorie -> (a beroep of it, index used in the invented codes, a per-minute rate in cents).
_BENCH_CATEGORIES = {
    "arts_specialist": ("psychiater", 1, 330),
    "gz_psycholoog": ("gz_psycholoog", 2, 260),
    "verpleegkundige": ("verpleegkundige", 3, 170),
    "vs_ggz": ("vs_ggz", 4, 230),
    "overig": ("wo_psycholoog", 5, 150),
}


def _bench_rows() -> str:
    header = (
        "code,description,unit,amount,valid_from,valid_to,tariff_type,kind,consult_type,setting,"
        "beroep_category,min_minutes,group_size,unit_minutes,care_level,security_level,surcharge_type"
    )
    rows = [header]
    for setting in _BENCH_SETTINGS:
        for category, (_, index, rate) in _BENCH_CATEGORIES.items():
            for consult_type in ("diagnostiek", "behandeling"):
                letter = consult_type[0].upper()
                for band in _BANDS:
                    # Invented codes and prices: shaped like the NZa's (a price per band, diagnostiek
                    # dearer, settings 3 and 4 dearer than 2), not taken from any table.
                    amount = (band + 20) * rate * (12 if letter == "D" else 10) // 10 + setting * 150
                    rows.append(
                        f"B{setting}{index}{letter}{band:03d},Bench {consult_type} vanaf {band} min {category} "
                        f"setting {setting},consult,{amount},2024-01-01,2024-12-31,maximum,consult,{consult_type},"
                        f"{setting},{category},{band},,,,,"
                    )
    return "\n".join(rows) + "\n"


BENCH_TABLE = _bench_rows()
"""A v2 tariff table of invented 2024 consult codes for settings 2-4 and five beroepscategorieën."""


def bench_table() -> TariffTable:
    """:data:`BENCH_TABLE` read as the table the bench's ledgers load before the year is ingested."""
    return TariffTable.from_csv(BENCH_TABLE_VERSION, BENCH_TABLE, source="bench-2024.csv")


# The insurers' contracts of the bench's provider: four contracts, one a written max-max agreement,
# and the provider's own list for the insurers it has no contract with.
_CONTRACTS: tuple[tuple[str | None, int, bool], ...] = (
    ("3311", 9000, False),
    ("3343", 8750, False),
    ("7029", 9300, False),
    ("0101", 10500, True),
    (None, 9700, False),
)


def contracts(provider: str, year: int, record_id: Any) -> list[dict[str, Any]]:
    """The contract_agreed records the year starts with (``record_id()`` numbers them)."""
    records = []
    for insurer, percentage, max_max in _CONTRACTS:
        record: dict[str, Any] = {
            "type": "contract_agreed",
            "id": record_id(),
            "contract": f"K-{insurer or 'EIGEN'}-{year}",
            "provider": provider,
            "valid_from": f"{year}-01-01",
            "valid_to": f"{year}-12-31",
            "percentage_bp": percentage,
        }
        if insurer is not None:
            record["insurer"] = insurer
        if max_max:
            record["max_max"] = True
        if insurer == "3311":
            record["code_amounts"] = {"OV0012": 12000}
        records.append(record)
    return records


class Practice:
    """How one ZPM trajectory is treated: the setting, the practitioner and which bands have codes."""

    __slots__ = ("setting", "beroep", "practitioner", "regie", "diagnostiek", "behandeling", "groups", "overleg")

    def __init__(
        self,
        setting: int,
        beroep: str,
        practitioner: str,
        regie: tuple[str, str],
        diagnostiek: tuple[int, ...],
        behandeling: tuple[int, ...],
        groups: bool,
    ) -> None:
        self.setting = setting
        self.beroep = beroep
        self.practitioner = practitioner
        self.regie = regie
        self.diagnostiek = diagnostiek
        self.behandeling = behandeling
        self.groups = groups
        self.overleg = setting == 1

    def consult(self, rng: random.Random, day: date, number: int) -> dict[str, Any]:
        """The fields of the trajectory's ``number``-th consult (the first two are diagnostiek)."""
        consult_type = "diagnostiek" if number <= 2 else "behandeling"
        bands = self.diagnostiek if consult_type == "diagnostiek" else self.behandeling
        band = rng.choice(bands)
        top = 20 if band == 120 else min(10, _next_band(band) - band - 1)
        minutes = band + rng.randrange(0, top + 1)
        fields: dict[str, Any] = {
            "prestatie": "consult",
            "consult_type": consult_type,
            "beroep": self.beroep,
            "practitioner": self.practitioner,
            "setting": self.setting,
            "minutes": minutes,
            "start": _start(rng),
        }
        if rng.random() < 0.4:
            # Planned on the band; held within a quarter of an hour of it, so the plan counts.
            fields["planned_minutes"] = band
            fields["minutes"] = max(5, band - rng.randrange(0, 11)) if band > 5 else band
        return fields


def _next_band(band: int) -> int:
    index = _BANDS.index(band)
    return _BANDS[index + 1] if index + 1 < len(_BANDS) else band + 100


def _start(rng: random.Random) -> str:
    quarter = rng.randrange(8 * 4, 17 * 4)
    return f"{quarter // 4:02d}:{quarter % 4 * 15:02d}"


# Setting-1 practices bill with the shipped rows: a GZ-psycholoog (every diagnostiek band from 30,
# behandeling from 45) or a klinisch psycholoog (the bands zpm-2024b has for it).
_GZ = ("gz_psycholoog", (30, 45, 60, 75, 90, 120), (45, 60, 75, 90, 120))
_KP = ("klinisch_psycholoog", (45, 60, 90), (45, 60))


def practice(rng: random.Random, agb: int) -> Practice:
    """A practice for a new ZPM trajectory; ``agb`` numbers its practitioner (8 digits)."""
    practitioner = f"{40000000 + agb % 400:08d}"
    if rng.random() < 0.45:
        beroep, diagnostiek, behandeling = _GZ if rng.random() < 0.75 else _KP
        return Practice(1, beroep, practitioner, (practitioner, beroep), diagnostiek, behandeling, beroep == _GZ[0])
    category = rng.choice(tuple(_BENCH_CATEGORIES))
    beroep = _BENCH_CATEGORIES[category][0]
    setting = rng.choice(_BENCH_SETTINGS)
    # A verpleegkundige or wo-psycholoog treats under a psychiater as regiebehandelaar.
    regie = (
        (practitioner, beroep)
        if beroep in ("psychiater", "gz_psycholoog", "vs_ggz")
        else (
            f"{41000000 + agb % 50:08d}",
            "psychiater",
        )
    )
    return Practice(setting, beroep, practitioner, regie, _BANDS[1:], _BANDS[2:], False)


def referral(rng: random.Random, opened_on: date) -> dict[str, Any]:
    """The referral fields of a ZPM trajectory's opening record: a GP's referral of the weeks before."""
    return {
        "referral_type": "01",
        "referrer_agb": f"{1000000 + rng.randrange(0, 900):08d}",
        "referral_date": (opened_on - timedelta(days=rng.randrange(3, 60))).isoformat(),
    }
