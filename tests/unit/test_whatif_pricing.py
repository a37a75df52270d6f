"""The what-if's arithmetic: percentages, the per-line uplift and its rounding, and one activity priced again."""

from __future__ import annotations

from datetime import date
from decimal import ROUND_HALF_UP, Decimal

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from ggzledger.analyses.whatif_pricing import (
    Delivered,
    OtherContracts,
    Unpriceable,
    format_percent,
    parse_percent,
    price_under_contracts,
    price_under_tables,
    shifted,
    uplifted,
)
from ggzledger.domain import Contract
from ggzledger.reference.tariffs import CSV_HEADER_V2, Tariffs, TariffTable, load_tariffs

ON = date(2024, 10, 22)
TABLE = TariffTable.from_csv(
    "alt",
    ",".join(CSV_HEADER_V2)
    + "\nCO0497,Behandeling vanaf 45 min GZ-psycholoog setting 1,consult,15000,2024-01-01,2024-12-31,maximum,consult,"
    "behandeling,1,gz_psycholoog,45,,,,,\n"
    "CO0627,Behandeling vanaf 60 min GZ-psycholoog setting 1,consult,18000,2024-01-01,2024-12-31,maximum,consult,"
    "behandeling,1,gz_psycholoog,60,,,,,\n"
    "VR0001,Vrij,item,,2024-01-01,2024-12-31,vrij,other,,,,,,,,,\n"
    "CONSULT,Consult,consult,12345,2024-01-01,2024-12-31,,,,,,,,,,,\n",
)
ALT = Tariffs([TABLE])
K90 = Contract("K-90", "12345678", "3311", date(2024, 1, 1), date(2024, 12, 31), percentage_bp=9000)


def consult(minutes: int = 45, effective: int | None = None, code: str = "CO0497") -> Delivered:
    return Delivered(
        position=9, activity="A-04", on=ON, code=code, amount=12230, tariff="zpm-2024b", prestatie="consult",
        consult_type="behandeling", setting=1, beroep_category="gz_psycholoog", minutes=minutes,
        effective_minutes=effective if effective is not None else minutes,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("text", "points"),
    [("10", 1000), ("2.5", 250), ("2.50", 250), ("-3.25", -325), ("+0", 0), ("0.01", 1), ("-100", -10000),
     ("1000", 100000)],
)  # fmt: skip
def test_a_percentage_is_read_in_basis_points_to_two_decimals(text: str, points: int) -> None:
    assert parse_percent(text) == points


@pytest.mark.parametrize("text", ["", "10%", "2.555", "1e1", "-100.01", "1000.01", "١٠", " 10", "10.", ".5", "nan"])
def test_anything_else_is_refused_naming_the_rule(text: str) -> None:
    with pytest.raises(ValueError, match="uplift must be"):
        parse_percent(text)


@pytest.mark.parametrize(("points", "shown"), [(1000, "10"), (250, "2.5"), (-325, "-3.25"), (0, "0"), (1, "0.01")])
def test_basis_points_show_as_people_write_a_percentage(points: int, shown: str) -> None:
    assert format_percent(points) == shown
    assert parse_percent(shown) == points


def test_the_uplift_rounds_each_line_half_up_to_the_cent() -> None:
    assert uplifted(12230, 1000) == 13453  # 134,53 exactly
    assert uplifted(1188, 1000) == 1307  # 13,068 -> 13,07
    assert uplifted(2255, 1000) == 2481  # 24,805 -> 24,81: half up
    assert uplifted(5, 1000) == 6  # 0,055 -> 0,06
    assert uplifted(10000, -10000) == 0
    assert uplifted(333, 250) == 341  # 3,41325 -> 3,41


@given(st.integers(0, 10**12), st.integers(-10000, 100000))
def test_a_credit_mirrors_its_debit_and_the_rounding_is_decimal_half_up(amount: int, points: int) -> None:
    up = uplifted(amount, points)
    exact = Decimal(amount) * (Decimal(10000 + points) / Decimal(10000))
    assert up == int(exact.quantize(Decimal(1), rounding=ROUND_HALF_UP))
    assert uplifted(-amount, points) == -up
    assert uplifted(amount, 0) == amount


def test_a_date_shifted_by_years_keeps_its_day_and_29_february_becomes_the_28th() -> None:
    assert shifted(date(2024, 10, 22), 1) == date(2025, 10, 22)
    assert shifted(date(2024, 2, 29), 1) == date(2025, 2, 28)
    assert shifted(date(2024, 2, 29), 4) == date(2028, 2, 29)
    assert shifted(date(2024, 3, 1), 0) == date(2024, 3, 1)


def test_a_consult_is_found_again_by_its_key_and_band_and_priced_under_its_contract() -> None:
    # 90% of 150,00 = 135,00; the 60 band gives CO0627 at 90% of 180,00.
    assert price_under_tables(consult(), ALT, [K90], "12345678", "3311") == 13500
    assert price_under_tables(consult(62, 60), ALT, [K90], "12345678", "3311") == 16200
    # Without a contract of that pair: the maximum.
    assert price_under_tables(consult(), ALT, [K90], "12345678", "7029") == 15000


def test_planning_realisatie_holds_the_band_the_event_recorded() -> None:
    # Held 44 minutes, planned 45: the effective minutes (45) choose the band, as at recording.
    assert price_under_tables(consult(44, 45), ALT, (), "12345678", None) == 15000


def test_a_record_by_code_takes_its_codes_row_and_no_contract() -> None:
    legacy = Delivered(position=3, activity="H-1", on=ON, code="CONSULT", amount=10000, tariff="demo-2017")
    assert price_under_tables(legacy, ALT, [K90], "12345678", "3311") == 12345
    assert price_under_contracts(legacy, {}, [K90], "12345678", "3311") == 10000


def test_no_row_and_a_free_tariff_without_a_contract_are_unpriceable_saying_why() -> None:
    with pytest.raises(Unpriceable, match="no prestatie in force on 2024-10-22 for consult behandeling"):
        price_under_tables(consult(95), ALT, (), "12345678", None)
    with pytest.raises(Unpriceable, match="no tariff for code 'CONSULT' in force on 2025-10-22"):
        legacy = Delivered(position=3, activity="H-1", on=ON, code="CONSULT", amount=10000, tariff="demo-2017")
        price_under_tables(legacy, ALT, (), "12345678", None, shift_years=1)
    free = Delivered(position=4, activity="V-1", on=ON, code="VR0001", amount=5000, tariff="alt", prestatie="other")
    with pytest.raises(Unpriceable, match="free tariff and no contract price"):
        price_under_tables(free, ALT, (), "12345678", "3311")


def test_other_contracts_price_the_recorded_row_again() -> None:
    tables = {TABLE.version: TABLE}
    recorded = Delivered(position=9, activity="A-04", on=ON, code="CO0497", amount=13500, tariff="alt",
                         prestatie="consult")  # fmt: skip
    k80 = Contract("K-80", "12345678", "3311", date(2024, 1, 1), date(2024, 12, 31), percentage_bp=8000)
    assert price_under_contracts(recorded, tables, [k80], "12345678", "3311") == 12000
    with pytest.raises(Unpriceable, match="table zpm-2099 with code CO0497"):
        price_under_contracts(attrs.evolve(recorded, tariff="zpm-2099"), tables, [k80], "12345678", "3311")


def test_a_contract_file_is_judged_as_recording_judges_it() -> None:
    line = (
        '{"type":"contract_agreed","contract":"K-1","provider":"12345678","insurer":"3311",'
        '"valid_from":"2024-01-01","valid_to":"2024-12-31","percentage_bp":%d}'
    )
    read = OtherContracts.from_jsonl(line % 8000 + "\n\n", "k.jsonl", load_tariffs(), date(2025, 1, 1))
    assert [c.percentage_bp for c in read.contracts] == [8000]
    with pytest.raises(ValueError, match=r"k\.jsonl line 1: contract K-1: percentage_bp 10500 is above 10000"):
        OtherContracts.from_jsonl(line % 10500, "k.jsonl", load_tariffs(), date(2025, 1, 1))
    with pytest.raises(ValueError, match=r"k\.jsonl line 1: a month_closed record"):
        OtherContracts.from_jsonl('{"type":"month_closed","month":"2024-10"}', "k.jsonl", load_tariffs(), ON)
    with pytest.raises(ValueError, match="no contract_agreed records"):
        OtherContracts.from_jsonl("\n", "k.jsonl", load_tariffs(), ON)
