"""Deriving a ZPM record's prestatie and price, and the refusals 3.12d–k (zpm.md Z4, Z5.4)."""

from datetime import date
from types import SimpleNamespace

import pytest

from ggzledger.domain.contracts import Contract
from ggzledger.domain.errors import NotAllowed
from ggzledger.reference import TariffTable, load_tariffs
from ggzledger.service.prestatie import Derived, check_legacy, derive, effective_minutes

HEADER = (
    "code,description,unit,amount,valid_from,valid_to,tariff_type,kind,consult_type,setting,beroep_category,"
    "min_minutes,group_size,unit_minutes,care_level,security_level,surcharge_type\n"
)
PROVIDER, INSURER = "12345678", "3311"
K90 = Contract("K-3311-2024", PROVIDER, INSURER, date(2024, 1, 1), date(2024, 12, 31), percentage_bp=9000)
GZ = {"beroep": "gz_psycholoog", "practitioner": "11111111"}


def activity(on, prestatie="consult", *, voided=False, consult_type="diagnostiek", band=45, surcharges=()):
    # What the domain's DeliveredActivity carries for these checks.
    return SimpleNamespace(
        on=on,
        voided=voided,
        prestatie=prestatie,
        consult_type=consult_type,
        band=band,
        surcharges=frozenset(surcharges),
    )


def trajectory(**activities):
    return SimpleNamespace(number="T1", provider=PROVIDER, insurer=INSURER, activities=activities)


def record(activity_id="A1", on="2024-10-01", **fields):
    return {"activity": activity_id, "trajectory": "T1", "date": date.fromisoformat(on), **fields}


def consult(minutes, consult_type="diagnostiek", on="2024-10-01", **fields):
    given = {"prestatie": "consult", "consult_type": consult_type, "setting": 1, "minutes": minutes, **GZ, **fields}
    return record(on=on, **given)


def refusal(fields, tariffs=None, of=None, contracts=(K90,)):
    with pytest.raises(NotAllowed) as refused:
        derive(fields, of or trajectory(), tariffs or load_tariffs(), list(contracts))
    return str(refused.value)


def full_table():
    # Every consult band for diagnostiek, GZ-psycholoog, setting 1 (the shipped rows lack 5 and 15).
    extra = HEADER + "".join(
        f"CO90{band:02d},Diagnostiek vanaf {band} min,consult,{100 * band},2024-01-01,2024-12-31,maximum,consult,"
        f"diagnostiek,1,gz_psycholoog,{band},,,,,\n"
        for band in (5, 15)
    )
    return load_tariffs().with_table(TariffTable.from_csv("aanvulling", extra))


# --- the worked example (zpm.md Z12) -------------------------------------------------------------


def test_a_02_planned_45_held_44_is_diagnostiek_vanaf_45_at_90_percent():
    derived = derive(consult(44, planned_minutes=45, on="2024-10-08"), trajectory(), load_tariffs(), [K90])
    assert derived == Derived(
        code="CO0432",
        description="Diagnostiek vanaf 45 min GZ-psycholoog setting 1",
        unit="consult",
        amount=14373,
        tariff="zpm-2024b",
        tariff_type="maximum",
        max_amount=15970,
        price_basis="contract:K-3311-2024",
        beroep_category="gz_psycholoog",
        effective_minutes=45,
        band=45,
    )


@pytest.mark.parametrize(
    ("fields", "code", "maximum", "amount"),
    [
        (consult(60), "CO0562", 18344, 16510),
        (consult(50, "behandeling", beroep="klinisch_psycholoog", practitioner="22222222"), "CO0473", 17924, 16132),
        (consult(45, "behandeling"), "CO0497", 13589, 12230),
        (record(prestatie="overleg", setting=1, minutes=10, **GZ), "OV0007", 2505, 2255),  # A-05, half up
        (record(prestatie="group", minutes=30, group_size=5, **GZ), "GC0102", 1320, 1188),  # G-01
        (consult(60, "behandeling"), "CO0627", 16146, 14531),
    ],
)
def test_the_worked_examples_lines_are_derived_and_priced(fields, code, maximum, amount):
    derived = derive(fields, trajectory(), load_tariffs(), [K90])
    assert (derived.code, derived.max_amount, derived.amount) == (code, maximum, amount)


def test_without_a_contract_the_nza_maximum_is_charged():
    derived = derive(consult(60), trajectory(), load_tariffs(), [])
    assert (derived.amount, derived.price_basis) == (18344, "nza_max")


def test_a_50_minute_consult_of_a_klinisch_psycholoog_is_band_45_of_his_category():
    fields = consult(50, "behandeling", beroep="klinisch_psycholoog")
    derived = derive(fields, trajectory(), load_tariffs(), [K90])
    assert (derived.code, derived.beroep_category, derived.effective_minutes, derived.band) == (
        "CO0473", "klinisch_psycholoog", 50, 45,
    )  # fmt: skip


def test_december_and_january_consults_are_priced_from_the_2024_and_2025_tables():
    december = derive(consult(120, on="2024-12-30"), trajectory(), load_tariffs(), [])
    january = derive(consult(120, on="2025-01-06"), trajectory(), load_tariffs(), [])
    assert (december.code, december.amount, december.tariff) == ("CO0952", 38013, "zpm-2024b")
    assert (january.code, january.amount, january.tariff) == ("CO0952", 39559, "zpm-2025")


# --- planning = realisatie (Z4.2) --------------------------------------------------------------


@pytest.mark.parametrize(
    ("minutes", "planned", "m"),
    [(31, 45, 45), (30, 45, 45), (29, 45, 29), (59, 45, 45), (60, 45, 45), (61, 45, 61), (44, None, 44)],
)
def test_the_planned_minutes_count_while_the_real_ones_are_within_15(minutes, planned, m):
    assert effective_minutes(minutes, planned) == m


@pytest.mark.parametrize(("minutes", "code"), [(31, "CO0432"), (30, "CO0432"), (29, "CO9015")])
def test_planned_45_held_14_15_16_minutes_shorter(minutes, code):
    derived = derive(consult(minutes, planned_minutes=45), trajectory(), full_table(), [])
    assert derived.code == code
    assert derived.effective_minutes == (45 if code == "CO0432" else 29)


# --- refusals, with their messages (Z4.8) ------------------------------------------------------


def test_d_a_consult_under_5_minutes():
    assert refusal(consult(3)) == "activity A1: a consult of 3 minutes is under 5 minutes and cannot be declared"


def test_d_is_judged_on_the_effective_minutes():
    assert derive(consult(4, planned_minutes=5), trajectory(), full_table(), []).code == "CO9005"


def test_e_an_overleg_under_5_minutes():
    fields = record(prestatie="overleg", setting=1, minutes=4, **GZ)
    assert refusal(fields) == "activity A1: an intercollegiaal overleg of 4 minutes is under 5 minutes"


def test_g_no_row_for_the_key():
    fields = record(prestatie="consult", consult_type="diagnostiek", setting=3, minutes=130, beroep="wo_psycholoog",
                    practitioner="33333333")  # fmt: skip
    assert refusal(fields) == (
        "activity A1: no prestatie in force on 2024-10-01 for consult diagnostiek, setting 3, "
        "beroepscategorie overig, 130 minutes"
    )


def test_g_no_row_for_the_band_the_minutes_select():
    # Z12: with the illustrative rows a 5-minute diagnostiek finds no band-5 row.
    assert refusal(consult(5)).startswith("activity A1: no prestatie in force on 2024-10-01 for consult diagnostiek")


def test_g_a_code_for_other_must_have_kind_other():
    assert refusal(record(prestatie="other", code="CO0432")) == (
        "activity A1: no prestatie in force on 2024-10-01 for other, code CO0432"
    )
    assert refusal(record(prestatie="other", code="ZZ0001")).endswith("for other, code ZZ0001")


def test_other_is_priced_by_its_code():
    derived = derive(record(prestatie="other", code="OV0012"), trajectory(), load_tariffs(), [K90])
    assert (derived.code, derived.amount, derived.max_amount, derived.band) == ("OV0012", 11864, 13182, None)


@pytest.mark.parametrize(("minutes", "allowed"), [(15, False), (16, True), (30, True), (31, False), (45, False)])
def test_f_a_group_unit_lasts_more_than_half_of_unit_minutes_and_at_most_all_of_it(minutes, allowed):
    fields = record(prestatie="group", minutes=minutes, group_size=5, **GZ)
    if allowed:
        assert derive(fields, trajectory(), load_tariffs(), []).code == "GC0102"
    else:
        assert refusal(fields) == (
            f"activity A1: a group unit lasts 16 to 30 minutes, got {minutes}; send one record per unit"
        )


def test_g_is_judged_before_f():
    fields = record(prestatie="group", minutes=45, group_size=7, **GZ)
    assert "no prestatie in force" in refusal(fields)


def test_h_a_given_code_other_than_the_derived_one():
    # Z12 A-10.
    assert refusal(consult(30, code="CO0432", on="2024-11-26")) == (
        "activity A1: code CO0432 is consult diagnostiek vanaf 45 min; 30 minutes give CO0302"
    )


def test_h_a_given_code_equal_to_the_derived_one_is_fine():
    assert derive(consult(45, code="CO0432"), trajectory(), load_tariffs(), []).code == "CO0432"


def test_f_is_judged_before_h():
    fields = record(prestatie="group", minutes=45, group_size=5, code="GC0110", **GZ)
    assert "a group unit lasts" in refusal(fields)


def surcharge(kind="reistijd", linked="A1", minutes=30, **fields):
    return record("S1", prestatie="surcharge", surcharge_type=kind, linked_activity=linked, minutes=minutes, **fields)


def test_reistijd_is_linked_to_a_consult_of_the_same_day_and_banded_on_travel_minutes():
    of = trajectory(A1=activity(date(2024, 10, 1)))
    assert [derive(surcharge(minutes=m), of, load_tariffs(), []).code for m in (1, 24, 25)] == [
        "TC0009", "TC0009", "TC0010",
    ]  # fmt: skip


def test_reistijd_without_minutes_is_refused_as_missing_a_required_field():
    of = trajectory(A1=activity(date(2024, 10, 1)))
    assert refusal(surcharge(minutes=None), of=of) == "activity S1: prestatie surcharge requires 'minutes'"


@pytest.mark.parametrize(
    ("linked", "why"),
    [
        (activity(date(2024, 10, 1), "group", consult_type=None, band=None), "A1 is a group unit"),
        (activity(date(2024, 10, 1), voided=True), "A1 is voided"),
        (activity(date(2024, 9, 30)), "A1 is on 2024-09-30"),
        (activity(date(2024, 10, 1), "overleg", consult_type=None, band=5), "A1 is prestatie overleg"),
        (activity(date(2024, 10, 1), None, consult_type=None, band=None), "A1 is not a ZPM consult"),
        (None, "A1 is not an activity of this trajectory"),
    ],
)
def test_j_a_surcharge_needs_a_consult_of_the_trajectory_on_its_date(linked, why):
    of = trajectory() if linked is None else trajectory(A1=linked)
    assert refusal(surcharge(), of=of) == (
        f"activity S1: surcharge needs a consult of trajectory T1 on 2024-10-01; {why}"
    )


def test_j_at_most_one_surcharge_of_a_type_per_consult():
    of = trajectory(A1=activity(date(2024, 10, 1), surcharges={"reistijd"}))
    assert refusal(surcharge(), of=of) == "activity S1: consult A1 has a reistijd surcharge already"


def psychodiagnostiek_tables():
    extra = (
        HEADER
        + "TP0001,Toeslag psychodiagnostiek,item,5000,2024-01-01,2024-12-31,maximum,surcharge,,,,,,,,,psychodiagnostiek\n"
    )
    return load_tariffs().with_table(TariffTable.from_csv("toeslagen", extra))


def test_psychodiagnostiek_needs_a_diagnostiek_consult_vanaf_120():
    tariffs = psychodiagnostiek_tables()
    good = trajectory(A1=activity(date(2024, 10, 1), band=120, surcharges={"reistijd"}))
    assert derive(surcharge("psychodiagnostiek", minutes=None), good, tariffs, []).code == "TP0001"
    for consult_type, band in (("diagnostiek", 90), ("behandeling", 120)):
        of = trajectory(A1=activity(date(2024, 10, 1), consult_type=consult_type, band=band))
        message = refusal(surcharge("psychodiagnostiek", minutes=None), tariffs=tariffs, of=of)
        assert message == (
            "activity S1: a psychodiagnostiek surcharge needs a diagnostiek consult vanaf 120 min; "
            f"A1 is {consult_type} vanaf {band} min"
        )


def test_k_a_free_tariff_without_a_contract_price():
    extra = HEADER + "XX0001,Facultatief,item,,2024-01-01,2024-12-31,vrij,other,,,,,,,,,\n"
    tariffs = load_tariffs().with_table(TariffTable.from_csv("vrij", extra))
    assert refusal(record(prestatie="other", code="XX0001"), tariffs=tariffs) == (
        "activity A1: code XX0001 has a free tariff and no contract price"
    )
    agreed = Contract("K-V", PROVIDER, INSURER, date(2024, 1, 1), date(2024, 12, 31), code_amounts={"XX0001": 4200})
    derived = derive(record(prestatie="other", code="XX0001"), trajectory(), tariffs, [agreed])
    assert (derived.amount, derived.max_amount, derived.tariff_type, derived.price_basis) == (
        4200, None, "vrij", "contract:K-V",
    )  # fmt: skip


# --- legacy records with a code and minutes (Z4.6, 3.12i) ---------------------------------------


def legacy(code, minutes=None, **fields):
    return record(code=code, minutes=minutes, **fields)


def check(fields, tariffs=None):
    check_legacy(fields, fields["date"], tariffs or full_table())


def test_i_a_diagnostiek_45_code_with_5_minutes_is_refused():
    with pytest.raises(NotAllowed) as refused:
        check(legacy("CO0432", 5))
    assert str(refused.value) == "activity A1: code CO0432 is consult diagnostiek vanaf 45 min; 5 minutes give CO9005"


def test_i_uses_the_planned_minutes_like_a_zpm_record():
    check(legacy("CO0432", 44, planned_minutes=45))
    check(legacy("CO0432", 31, planned_minutes=45))
    with pytest.raises(NotAllowed, match="29 minutes give CO9015"):
        check(legacy("CO0432", 29, planned_minutes=45))


def test_a_legacy_code_whose_band_fits_passes():
    check(legacy("CO0432", 50))
    check(legacy("OV0008", 20))


def test_a_legacy_record_under_5_minutes_or_with_no_row_for_its_band():
    with pytest.raises(NotAllowed, match=r"^activity A1: a consult of 3 minutes is under 5 minutes"):
        check(legacy("CO0432", 3))
    with pytest.raises(NotAllowed, match=r"^activity A1: no prestatie in force on 2024-10-01 for consult"):
        check(legacy("CO0432", 5), tariffs=load_tariffs())


def test_legacy_codes_without_a_band_or_without_minutes_are_not_checked():
    check(legacy("CONSULT", 3))  # demo-2017: no kind
    check(legacy("CO0432"))  # no minutes: a finding later, not a refusal
    check(legacy("OV0012", 3))  # other: no band
    check(legacy("NOSUCHCODE", 30))  # the v1 tariff rule refuses it, not this one
