"""The price of a ZPM activity and the contracts that set it (zpm.md Z5.2–Z5.4)."""

from datetime import date, timedelta

import pytest

from ggzledger.domain.contracts import Contract
from ggzledger.reference import TariffTable, load_tariffs
from ggzledger.reference.pricing import (
    ContractIndex,
    ContractRefused,
    NoPrice,
    Price,
    cap_of,
    check_contract,
    contract_for,
    price,
)

HEADER = (
    "code,description,unit,amount,valid_from,valid_to,tariff_type,kind,consult_type,setting,beroep_category,"
    "min_minutes,group_size,unit_minutes,care_level,security_level,surcharge_type\n"
)
ON = date(2024, 10, 8)
PROVIDER, INSURER = "12345678", "3311"


def contract(name="K-3311-2024", *, insurer=INSURER, provider=PROVIDER, start="2024-01-01", end="2024-12-31", **terms):
    return Contract(
        contract=name,
        provider=provider,
        insurer=insurer,
        valid_from=date.fromisoformat(start),
        valid_to=date.fromisoformat(end),
        **terms,
    )


def found(code, on=ON, tariffs=None):
    return (tariffs or load_tariffs()).row(code, on)


def special_tables():
    # A fixed (vast) and a free (vrij) code beside the shipped tables.
    text = HEADER + (
        "AC0001,Acute ggz consult,consult,20000,2024-01-01,2024-12-31,vast,other,,,,,,,,,\n"
        "XX0001,Facultatieve prestatie,item,,2024-01-01,2024-12-31,vrij,other,,,,,,,,,\n"
    )
    return load_tariffs().with_table(TariffTable.from_csv("special", text))


# --- the cap ------------------------------------------------------------------------------------


def test_the_cap_is_the_maximum_without_max_max_and_110_percent_rounded_down_with_it():
    row = found("CO0432").row  # 15970
    assert cap_of(row, max_max=False) == 15970
    assert cap_of(row, max_max=True) == 17567  # 15970 × 1.1 = 17567.0
    odd = found("OV0007").row  # 2505 × 1.1 = 2755.5, rounded down
    assert cap_of(odd, max_max=True) == 2755


def test_a_free_tariff_has_no_cap():
    assert cap_of(found("XX0001", tariffs=special_tables()).row, max_max=True) is None


# --- price --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "on", "maximum", "at_90"),
    [
        ("CO0432", date(2024, 10, 8), 15970, 14373),  # Z12 A-02
        ("CO0473", date(2024, 10, 15), 17924, 16132),  # Z12 A-03
        ("CO0562", date(2024, 10, 1), 18344, 16510),  # Z12 A-01
        ("CO0497", date(2024, 10, 22), 13589, 12230),  # Z12 A-04
        ("OV0007", date(2024, 10, 22), 2505, 2255),  # Z12 A-05: 2254.5 rounds half up
        ("GC0102", date(2024, 11, 12), 1320, 1188),  # Z12 G-01
        ("CO0627", date(2024, 11, 19), 16146, 14531),  # Z12 A-08
    ],
)
def test_a_90_percent_contract_prices_the_worked_example_half_up_to_the_cent(code, on, maximum, at_90):
    priced = price(found(code, on), on, PROVIDER, INSURER, [contract(percentage_bp=9000)])
    assert priced == Price(amount=at_90, basis="contract:K-3311-2024", max_amount=maximum)


def test_without_a_contract_the_price_is_the_nza_maximum():
    assert price(found("CO0432"), ON, PROVIDER, INSURER, []) == Price(15970, "nza_max", 15970)


def test_the_insurers_contract_comes_before_the_providers_own_list():
    own = contract("EIGEN", insurer=None, percentage_bp=9500)
    insurers = contract(percentage_bp=9000)
    for contracts in ([own, insurers], [insurers, own]):
        assert price(found("CO0432"), ON, PROVIDER, INSURER, contracts).basis == "contract:K-3311-2024"


def test_another_insurer_is_priced_from_the_providers_own_list():
    own = contract("EIGEN", insurer=None, percentage_bp=9500)
    priced = price(found("CO0432"), ON, PROVIDER, "9999", [contract(percentage_bp=9000), own])
    assert priced == Price(amount=15172, basis="contract:EIGEN", max_amount=15970)  # 15171.5 half up


def test_a_contract_of_another_provider_or_period_does_not_apply():
    other_provider = contract(provider="87654321", percentage_bp=9000)
    last_year = contract("K-2023", start="2023-01-01", end="2023-12-31", percentage_bp=9000)
    assert price(found("CO0432"), ON, PROVIDER, INSURER, [other_provider, last_year]).basis == "nza_max"


def test_a_code_amount_comes_before_the_percentage():
    terms = contract(percentage_bp=9000, code_amounts={"CO0432": 15000})
    assert price(found("CO0432"), ON, PROVIDER, INSURER, [terms]) == Price(15000, "contract:K-3311-2024", 15970)
    assert price(found("CO0497"), ON, PROVIDER, INSURER, [terms]).amount == 12230


def test_a_contract_silent_on_the_code_leaves_the_nza_maximum():
    terms = contract(code_amounts={"CO0497": 12000})
    assert price(found("CO0432"), ON, PROVIDER, INSURER, [terms]) == Price(15970, "nza_max", 15970)


def test_a_fixed_tariff_ignores_contracts():
    tariffs = special_tables()
    terms = contract(percentage_bp=9000)
    assert price(found("AC0001", tariffs=tariffs), ON, PROVIDER, INSURER, [terms]) == Price(20000, "vast", 20000)


def test_a_free_tariff_takes_the_contracts_amount_and_has_no_maximum():
    tariffs = special_tables()
    terms = contract(code_amounts={"XX0001": 4200})
    priced = price(found("XX0001", tariffs=tariffs), ON, PROVIDER, INSURER, [terms])
    assert priced == Price(amount=4200, basis="contract:K-3311-2024", max_amount=None)


@pytest.mark.parametrize("contracts", [[], [contract(percentage_bp=9000)]])
def test_a_free_tariff_without_a_contract_price_is_refused(contracts):
    with pytest.raises(NoPrice) as refused:
        price(found("XX0001", tariffs=special_tables()), ON, PROVIDER, INSURER, contracts)
    assert str(refused.value) == "code XX0001 has a free tariff and no contract price"


def test_a_max_max_contract_may_price_up_to_110_percent():
    terms = contract(percentage_bp=11000, max_max=True)
    assert price(found("CO0432"), ON, PROVIDER, INSURER, [terms]) == Price(17567, "contract:K-3311-2024", 15970)


def test_a_later_table_lowering_the_maximum_caps_the_contract_price():
    # The contract agreed 15900 under the maximum of 15970; a correction table then lowers it to 15000.
    terms = contract(code_amounts={"CO0432": 15900})
    lower = HEADER + (
        "CO0432,Diagnostiek vanaf 45 min GZ-psycholoog setting 1,consult,15000,2024-01-01,2024-12-31,maximum,"
        "consult,diagnostiek,1,gz_psycholoog,45,,,,,\n"
    )
    tariffs = load_tariffs().with_table(TariffTable.from_csv("correctie", lower))
    row = tariffs.find(
        "consult", ON, consult_type="diagnostiek", setting=1, beroep_category="gz_psycholoog", minutes=45
    )
    assert price(row, ON, PROVIDER, INSURER, [terms]) == Price(15000, "contract:K-3311-2024:capped", 15000)
    max_max = contract(code_amounts={"CO0432": 17000}, max_max=True)
    assert price(row, ON, PROVIDER, INSURER, [max_max]) == Price(16500, "contract:K-3311-2024:capped", 15000)


def test_december_and_january_are_priced_from_their_own_years_tables():
    tariffs = load_tariffs()
    key = {"consult_type": "behandeling", "setting": 1, "beroep_category": "gz_psycholoog", "minutes": 60}
    december, january = date(2024, 12, 30), date(2025, 1, 6)
    k2024 = contract(percentage_bp=9000)
    k2025 = contract("K-3311-2025", start="2025-01-01", end="2025-12-31", percentage_bp=9000)
    both = [k2024, k2025]
    assert price(tariffs.find("consult", december, **key), december, PROVIDER, INSURER, both) == Price(
        14531, "contract:K-3311-2024", 16146
    )
    assert price(tariffs.find("consult", january, **key), january, PROVIDER, INSURER, both) == Price(
        15205, "contract:K-3311-2025", 16894
    )  # 16894 × 0.9 = 15204.6


# --- check_contract -----------------------------------------------------------------------------


def refused(new, existing=(), tariffs=None):
    with pytest.raises(ContractRefused) as refusal:
        check_contract(new, list(existing), tariffs or load_tariffs())
    return str(refusal.value)


def test_a_well_formed_contract_passes():
    check_contract(contract(percentage_bp=9000), [], load_tariffs())
    check_contract(contract(code_amounts={"CO0432": 15970, "OV0007": 2505}), [], load_tariffs())
    check_contract(contract(percentage_bp=11000, max_max=True), [], load_tariffs())


def test_valid_to_before_valid_from_is_refused():
    message = refused(contract(start="2024-06-01", end="2024-05-31", percentage_bp=9000))
    assert message == "contract K-3311-2024: valid_to 2024-05-31 is before valid_from 2024-06-01"


def test_a_contract_over_a_year_boundary_is_refused():
    message = refused(contract(start="2024-07-01", end="2025-06-30", percentage_bp=9000))
    assert "a contract stays within one calendar year" in message


def test_an_overlapping_contract_of_the_same_provider_and_insurer_is_refused():
    first = contract(percentage_bp=9000)
    second = contract("K-NEW", start="2024-12-01", end="2024-12-31", percentage_bp=8500)
    assert refused(second, [first]).startswith("contract K-NEW: overlaps contract K-3311-2024 (2024-01-01..2024-12-31)")
    # Another insurer, the own list, another provider, or a later period do not clash.
    check_contract(contract("K2", insurer="4444", percentage_bp=9000), [first], load_tariffs())
    check_contract(contract("K3", insurer=None, percentage_bp=9000), [first], load_tariffs())
    check_contract(contract("K4", provider="87654321", percentage_bp=9000), [first], load_tariffs())
    check_contract(contract("K5", start="2025-01-01", end="2025-12-31", percentage_bp=9000), [first], load_tariffs())


def test_two_own_price_lists_of_one_provider_overlapping_are_refused():
    first = contract("EIGEN-1", insurer=None, percentage_bp=9000)
    assert refused(contract("EIGEN-2", insurer=None, percentage_bp=9500), [first]).startswith(
        "contract EIGEN-2: overlaps contract EIGEN-1"
    )


def test_the_same_contract_again_is_no_overlap():
    first = contract(percentage_bp=9000)
    check_contract(first, [first], load_tariffs())


@pytest.mark.parametrize(
    ("terms", "why"),
    [
        ({"percentage_bp": 0}, "percentage_bp must be 1 to 11000, got 0"),
        ({"percentage_bp": 11001, "max_max": True}, "percentage_bp must be 1 to 11000, got 11001"),
        ({"percentage_bp": 10001}, "percentage_bp 10001 is above 10000"),
        ({}, "needs percentage_bp or code_amounts"),
        ({"code_amounts": {"ZZ9999": 100}}, "code ZZ9999 has no tariff row in force on 2024-01-01"),
        ({"code_amounts": {"CO0432": 15971}}, "amount 15971 for code CO0432 is above its cap 15970"),
        ({"code_amounts": {"CO0432": 17568}, "max_max": True}, "amount 17568 for code CO0432 is above its cap 17567"),
    ],
)
def test_contract_terms_are_refused(terms, why):
    assert refused(contract(**terms)).startswith(f"contract K-3311-2024: {why}")


def test_the_first_rule_broken_is_named():
    # Over a year boundary and without terms: the dates come first in Z5.3.
    assert "calendar year" in refused(contract(start="2024-07-01", end="2025-06-30"))


def test_a_code_amount_for_a_fixed_code_is_refused_and_for_a_free_code_has_no_cap():
    tariffs = special_tables()
    message = refused(contract(code_amounts={"AC0001": 100}), tariffs=tariffs)
    assert message == "contract K-3311-2024: code AC0001 has a fixed (vast) tariff, which no contract changes"
    check_contract(contract(code_amounts={"XX0001": 10**7}), [], tariffs)


def test_a_max_max_code_amount_up_to_the_cap_passes():
    check_contract(contract(code_amounts={"CO0432": 17567}, max_max=True), [], load_tariffs())


def test_the_contract_index_finds_what_reading_every_contract_finds() -> None:
    # The batch prices with an index of the contracts; it must choose exactly as Z5.4 step 2 does.
    contracts = [
        Contract(f"K-{p}-{i}-{y}-{h}", p, i, date(y, 1 if h == 1 else 7, 1), date(y, 6 if h == 1 else 12, 30), 9000)
        for p in ("12345678", "87654321")
        for i in ("3311", "7029", None)
        for y in (2024, 2025)
        for h in (1, 2)
        if not (i == "7029" and y == 2025) and not (i is None and h == 2)
    ]
    index = ContractIndex(contracts)
    day = date(2023, 12, 25)
    while day < date(2026, 1, 5):
        for provider in ("12345678", "87654321", "99999999"):
            for insurer in ("3311", "7029", "0101"):
                assert index.contract_for(day, provider, insurer) == contract_for(contracts, day, provider, insurer)
        day += timedelta(days=3)
    # Spot checks by hand: the insurer's own contract, the provider's list where there is none.
    assert contract_for(index, date(2024, 3, 1), "12345678", "3311") == contracts[0]
    assert contract_for(index, date(2025, 3, 1), "12345678", "7029").contract == "K-12345678-None-2025-1"
    assert contract_for(index, date(2025, 8, 1), "12345678", "7029") is None


# --- the remembered price (pricing._priced) -------------------------------------------------------


def test_a_remembered_price_is_what_pricing_afresh_gives_and_never_another_contracts():
    from ggzledger.reference.pricing import _priced

    tariffs = special_tables()
    terms = [contract(percentage_bp=9000), contract(code_amounts={"CO0432": 15000, "XX0001": 4200}), None]
    for code in ("CO0432", "CO0497", "XX0001"):
        row = found(code, tariffs=tariffs).row
        for _ in range(2):  # the second round is answered from the memo
            for each in terms:
                try:
                    fresh = _priced.__wrapped__(row, each)
                except NoPrice as error:
                    with pytest.raises(NoPrice, match=str(error)):
                        _priced(row, each)
                    continue
                assert _priced(row, each) == fresh
                assert (
                    price(found(code, tariffs=tariffs), ON, PROVIDER, INSURER, [] if each is None else [each]) == fresh
                )
    # A contract of equal name but other terms is another key: its own price, not the first one's.
    assert _priced(found("CO0432").row, contract(percentage_bp=8000)).amount == (15970 * 8000 + 5000) // 10000
