"""Reading the zorgprestatiemodel's records (zpm.md Z3): its fields, its record types, and what a record alone breaks."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from ggzledger.domain.errors import Malformed, NotAllowed, OutOfOrder, Refused
from ggzledger.service.records import parse_object

TODAY = date(2025, 6, 30)


def consult(**extra: Any) -> dict[str, Any]:
    """A complete 2024 consult of zpm.md Z12 (A-01)."""
    record = {
        "type": "activity_delivered", "trajectory": "T1", "activity": "A1", "date": "2024-10-01",
        "prestatie": "consult", "consult_type": "diagnostiek", "beroep": "gz_psycholoog",
        "practitioner": "11111111", "setting": 1, "minutes": 60, "start": "10:00",
    }  # fmt: skip
    return {**record, **extra}


def without(record: dict[str, Any], *names: str) -> dict[str, Any]:
    return {k: v for k, v in record.items() if k not in names}


def refusal(record: dict[str, Any]) -> Refused:
    with pytest.raises(Refused) as caught:
        parse_object(record, TODAY)
    return caught.value


# --- activity_delivered with prestatie (Z3.2) -------------------------------------------------------------

KINDS: dict[str, dict[str, Any]] = {
    "consult": consult(),
    "group": {
        "type": "activity_delivered", "trajectory": "T1", "activity": "A1", "date": "2024-11-12",
        "prestatie": "group", "beroep": "gz_psycholoog", "practitioner": "11111111", "minutes": 30,
        "group_size": 5, "start": "14:00",
    },
    "overleg": {
        "type": "activity_delivered", "trajectory": "T1", "activity": "A1", "date": "2024-10-22",
        "prestatie": "overleg", "beroep": "gz_psycholoog", "practitioner": "11111111", "setting": 1,
        "minutes": 10, "start": "16:00",
    },
    "stay": {
        "type": "activity_delivered", "trajectory": "T1", "activity": "A1", "date": "2024-10-22",
        "prestatie": "stay", "setting": 5, "care_level": "C", "security_level": 2,
    },
    "surcharge": {
        "type": "activity_delivered", "trajectory": "T1", "activity": "A2", "date": "2024-10-01",
        "prestatie": "surcharge", "surcharge_type": "reistijd", "linked_activity": "A1", "minutes": 30,
    },
    "other": {
        "type": "activity_delivered", "trajectory": "T1", "activity": "A1", "date": "2024-10-01",
        "prestatie": "other", "code": "OV0012",
    },
}  # fmt: skip


@pytest.mark.parametrize("kind", KINDS)
def test_a_record_of_each_prestatie_with_its_required_fields_is_read_with_them(kind: str) -> None:
    record = parse_object(KINDS[kind], TODAY)

    assert record.type == "activity_delivered"
    assert record.fields["prestatie"] == kind
    assert set(record.fields) == set(KINDS[kind]) - {"type"}
    assert record.fields["date"] == date.fromisoformat(KINDS[kind]["date"])


def test_a_consult_needs_no_code_a_legacy_record_does() -> None:
    assert "code" not in parse_object(consult(), TODAY).fields
    legacy = without(consult(code="CO0432"), "prestatie", "consult_type", "beroep", "practitioner", "start")

    assert str(refusal(without(legacy, "code"))) == "activity_delivered: missing field 'code'"


def test_3_12a_a_prestatie_before_2022_is_refused() -> None:
    refused = refusal(consult(date="2021-12-30"))

    assert isinstance(refused, Malformed)
    assert str(refused) == "activity A1: the zorgprestatiemodel applies from 2022-01-01, not on 2021-12-30"
    assert parse_object(consult(date="2022-01-01"), TODAY).fields["date"] == date(2022, 1, 1)


@pytest.mark.parametrize(
    ("kind", "field"),
    [
        ("consult", "consult_type"), ("consult", "beroep"), ("consult", "practitioner"), ("consult", "setting"),
        ("consult", "minutes"), ("group", "beroep"), ("group", "practitioner"), ("group", "minutes"),
        ("group", "group_size"), ("overleg", "setting"), ("overleg", "minutes"), ("stay", "setting"),
        ("stay", "care_level"), ("surcharge", "surcharge_type"), ("surcharge", "linked_activity"), ("other", "code"),
    ],
)  # fmt: skip
def test_3_12b_a_required_field_missing_is_refused(kind: str, field: str) -> None:
    record = without(KINDS[kind], field)

    assert str(refusal(record)) == f"activity {record['activity']}: prestatie {kind} requires {field!r}"


@pytest.mark.parametrize(
    ("kind", "field", "value"),
    [
        ("consult", "group_size", 4), ("consult", "care_level", "A"), ("consult", "surcharge_type", "reistijd"),
        ("group", "setting", 1), ("group", "consult_type", "behandeling"), ("group", "planned_minutes", 30),
        ("overleg", "consult_type", "diagnostiek"), ("overleg", "group_size", 3), ("stay", "minutes", 60),
        ("stay", "start", "10:00"), ("surcharge", "setting", 1), ("surcharge", "start", "10:00"),
        ("other", "linked_activity", "A0"), ("other", "planned_minutes", 45),
    ],
)  # fmt: skip
def test_3_12b_a_field_the_prestatie_does_not_take_is_refused(kind: str, field: str, value: Any) -> None:
    record = {**KINDS[kind], field: value}

    assert str(refusal(record)) == f"activity {record['activity']}: prestatie {kind} does not take {field!r}"


def test_3_12b_the_message_of_zpm_md() -> None:
    assert str(refusal(without(consult(), "consult_type"))) == "activity A1: prestatie consult requires 'consult_type'"
    assert str(refusal(consult(group_size=5))) == "activity A1: prestatie consult does not take 'group_size'"


def test_3_12b_a_travel_surcharge_without_its_minutes_is_refused_the_band_needs_them() -> None:
    record = without(KINDS["surcharge"], "minutes")

    assert str(refusal(record)) == "activity A2: prestatie surcharge reistijd requires 'minutes'"
    psychodiagnostiek = {**record, "surcharge_type": "psychodiagnostiek"}
    assert "minutes" not in parse_object(psychodiagnostiek, TODAY).fields


def test_3_12c_a_beroep_outside_the_list_is_refused_naming_field_the_closest_options_and_value() -> None:
    # 35 beroepen do not fit a one-line message: it names where the list is, and the closest codes.
    message = str(refusal(consult(beroep="psycholoog")))

    assert message.startswith("field 'beroep' must be one of the 35 codes of docs/input.md's beroepen table")
    assert "(closest: wo_psycholoog, gz_psycholoog, klinisch_psycholoog)" in message
    assert message.endswith('; got "psycholoog"')
    assert str(refusal(consult(beroep="xyz"))).endswith('beroepen table; got "xyz"')


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("prestatie", "verblijf", 'field \'prestatie\' must be one of consult, group, overleg, stay, surcharge, other; got "verblijf"'),
        ("consult_type", "intake", 'field \'consult_type\' must be one of diagnostiek, behandeling; got "intake"'),
        ("practitioner", "1111111", 'field \'practitioner\' must be a string of 8 digits, got "1111111"'),
        ("practitioner", 11111111, "field 'practitioner' must be a string of 8 digits, got 11111111"),
        ("setting", 9, "field 'setting' must be an integer 1..8, got 9"),
        ("start", "24:00", 'field \'start\' must be a time HH:MM, 00:00 to 23:59, got "24:00"'),
        ("start", "9:30", 'field \'start\' must be a time HH:MM, 00:00 to 23:59, got "9:30"'),
        ("planned_minutes", 0, "field 'planned_minutes' must be a positive integer, got 0"),
        ("planned_minutes", 45.0, "field 'planned_minutes' must be a JSON integer, got 45.0"),
    ],
)  # fmt: skip
def test_3_12c_and_3_11_a_value_outside_its_list_or_type_is_refused(field: str, value: Any, message: str) -> None:
    refused = refusal(consult(**{field: value}))

    assert isinstance(refused, Malformed)
    assert str(refused) == message


@pytest.mark.parametrize(
    ("kind", "field", "value", "message"),
    [
        ("group", "group_size", 1, "field 'group_size' must be an integer of at least 2, got 1"),
        ("stay", "care_level", "I", 'field \'care_level\' must be one of A, B, C, D, E, F, G, H, VMR; got "I"'),
        ("stay", "security_level", 5, "field 'security_level' must be an integer 1..4, got 5"),
    ],
)  # fmt: skip
def test_3_12c_the_stay_and_group_fields_have_their_lists(kind: str, field: str, value: Any, message: str) -> None:
    assert str(refusal({**KINDS[kind], field: value})) == message


def test_the_judging_order_is_malformed_then_a_then_b_then_c() -> None:
    # A record breaking a, b and c at once is refused under a; without a, under b; then c.
    record = consult(date="2021-12-30", beroep="psycholoog", group_size=3)

    assert "applies from 2022-01-01" in str(refusal(record))
    assert "does not take 'group_size'" in str(refusal({**record, "date": "2024-10-01"}))
    assert 'got "psycholoog"' in str(refusal(without({**record, "date": "2024-10-01"}, "group_size")))
    assert str(refusal({**record, "colour": "red"})) == "activity_delivered: unknown field 'colour'"


def test_a_legacy_record_takes_planned_minutes_and_no_other_zpm_field() -> None:
    legacy = {
        "type": "activity_delivered",
        "trajectory": "T1",
        "activity": "A1",
        "date": "2024-10-01",
        "code": "CO0432",
    }

    assert parse_object({**legacy, "minutes": 44, "planned_minutes": 45}, TODAY).fields["planned_minutes"] == 45
    assert str(refusal({**legacy, "beroep": "gz_psycholoog"})) == "activity A1: field 'beroep' needs 'prestatie'"
    assert str(refusal({**legacy, "start": "10:00"})) == "activity A1: field 'start' needs 'prestatie'"


# --- the changed record types (Z3.1) and 3.13, 3.14, 3.19 ------------------------------------------------


def opened(**extra: Any) -> dict[str, Any]:
    record = {
        "type": "trajectory_opened", "trajectory": "T1", "patient": "P1", "provider": "12345678",
        "insurer": "3311", "date": "2024-10-01",
    }  # fmt: skip
    return {**record, **extra}


def test_an_opening_carries_its_referral() -> None:
    record = parse_object(opened(referral_type="01", referrer_agb="01234567", referral_date="2024-09-20"), TODAY)

    assert record.fields["referral_type"] == "01"
    assert record.fields["referrer_agb"] == "01234567"
    assert record.fields["referral_date"] == date(2024, 9, 20)


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"referral_type": "08"}, "field 'referral_type' must be one of 01, 02, 03, 04, 05, 06, 07; got \"08\""),
        ({"referral_type": 1}, "field 'referral_type' must be one of 01, 02, 03, 04, 05, 06, 07; got 1"),
        ({"referrer_agb": "0123456"}, "field 'referrer_agb' must be a string of 8 digits, got \"0123456\""),
    ],
)
def test_a_referral_field_outside_its_list_is_refused(extra: dict[str, Any], message: str) -> None:
    assert str(refusal(opened(**extra))) == message


def test_3_19_a_referral_dated_after_the_opening_is_refused() -> None:
    refused = refusal(opened(referral_type="01", referral_date="2024-10-02"))

    assert isinstance(refused, OutOfOrder)
    assert str(refused) == "trajectory T1: the referral date 2024-10-02 lies after the opening date 2024-10-01"
    assert parse_object(opened(referral_type="01", referral_date="2024-10-01"), TODAY).fields["referral_type"] == "01"


@pytest.mark.parametrize("referral_type", ["04", "05", "06"])
@pytest.mark.parametrize(("field", "value"), [("referrer_agb", "01234567"), ("referral_date", "2024-09-20")])
def test_3_19_a_referral_type_without_referrer_takes_no_referrer(referral_type: str, field: str, value: str) -> None:
    refused = refusal(opened(referral_type=referral_type, **{field: value}))

    assert isinstance(refused, NotAllowed)
    assert str(refused) == f"trajectory T1: referral type {referral_type} has no referrer, so no {field!r}"


def typing(kind: str = "clustered", on: str = "2024-10-08", cluster: int = 3, **extra: Any) -> dict[str, Any]:
    return {"type": kind, "trajectory": "T1", "date": on, "cluster": cluster, **extra}


@pytest.mark.parametrize("kind", ["clustered", "reviewed"])
def test_3_13_cluster_0_is_refused_from_2022(kind: str) -> None:
    refused = refusal(typing(kind, "2022-01-01", 0))

    assert isinstance(refused, NotAllowed)
    assert str(refused) == (
        f"{kind} on 2022-01-01: cluster 0 is not a zorgvraagtype; from 2022-01-01 the typing is one of 1..8, 10..21"
    )
    assert parse_object(typing(kind, "2021-12-31", 0), TODAY).fields["cluster"] == 0


@pytest.mark.parametrize(("cluster", "hoofdgroep"), [(1, "X"), (8, "X"), (10, "Y"), (17, "Y"), (18, "Z"), (21, "Z")])
def test_3_13_a_hoofdgroep_matching_its_type_is_accepted(cluster: int, hoofdgroep: str) -> None:
    assert parse_object(typing(cluster=cluster, hoofdgroep=hoofdgroep), TODAY).fields["hoofdgroep"] == hoofdgroep


@pytest.mark.parametrize(("cluster", "hoofdgroep"), [(3, "Y"), (8, "Z"), (10, "X"), (18, "Y"), (21, "X")])
@pytest.mark.parametrize("kind", ["clustered", "reviewed"])
def test_3_13_a_hoofdgroep_that_does_not_match_its_type_is_refused(kind: str, cluster: int, hoofdgroep: str) -> None:
    refused = refusal(typing(kind, cluster=cluster, hoofdgroep=hoofdgroep))

    assert str(refused) == (
        f"{kind} on 2024-10-08: hoofdgroep {hoofdgroep} does not match zorgvraagtype {cluster}"
        " (X is 1..8, Y 10..17, Z 18..21)"
    )


HONOS = {str(item): 1 for item in range(1, 13)}


def assessed(on: str = "2024-10-08", honos: dict[str, Any] | None = None, **extra: Any) -> dict[str, Any]:
    return {"type": "assessed", "trajectory": "T1", "date": on, "honos": HONOS if honos is None else honos, **extra}


def test_3_14_item_q_is_accepted_from_2022_only() -> None:
    assert dict(parse_object(assessed(honos={**HONOS, "Q": 9}), TODAY).fields["honos"])["Q"] == 9
    assert str(refusal(assessed("2021-12-31", {**HONOS, "Q": 2}))) == (
        "honos: unknown item 'Q' (items are 1..13 and A..E)"
    )
    assert str(refusal(assessed(honos={**HONOS, "Q": 5}))) == (
        "honos: item 'Q' has score 5; a score is an integer 0..4, or 9 for not known"
    )


def test_3_14_the_dynamic_route_needs_one_item_not_twelve() -> None:
    record = parse_object(assessed(honos={"1": 2, "Q": 0}, route="dynamic"), TODAY)

    assert record.fields["honos"] == (("1", 2), ("Q", 0))
    assert record.fields["route"] == "dynamic"
    assert str(refusal(assessed(honos={}, route="dynamic"))) == "honos: the dynamic route needs at least one item"
    assert str(refusal(assessed(honos={"1": 2}, route="full"))) == "honos: required item '2' is missing"
    assert str(refusal(assessed(honos={"1": 2}))) == "honos: required item '2' is missing"


def test_3_14_a_review_reads_its_scores_by_its_route_too() -> None:
    record = parse_object(typing("reviewed", honos={"4": 3}, route="dynamic", hoofdgroep="X"), TODAY)

    assert (record.fields["honos"], record.fields["route"], record.fields["hoofdgroep"]) == (
        (("4", 3),),
        "dynamic",
        "X",
    )
    assert (
        str(refusal(typing("reviewed", route="quick"))) == "field 'route' must be one of full, dynamic; got \"quick\""
    )


# --- the new record types (Z3.3) --------------------------------------------------------------------------


def test_the_new_trajectory_records_are_read() -> None:
    regie = parse_object(
        {"type": "regiebehandelaar_assigned", "trajectory": "T1", "date": "2024-10-01", "practitioner": "11111111",
         "beroep": "gz_psycholoog", "id": "R1"},
        TODAY,
    )  # fmt: skip
    admitted = parse_object({"type": "admitted", "trajectory": "T1", "date": "2024-10-01", "after_20h": True}, TODAY)

    assert (regie.record_id, regie.fields["beroep"], regie.fields["practitioner"]) == (
        "R1",
        "gz_psycholoog",
        "11111111",
    )
    assert admitted.fields["after_20h"] is True
    for kind in ("privacy_statement", "privacy_withdrawn", "discharged", "admitted"):
        assert parse_object({"type": kind, "trajectory": "T1", "date": "2024-10-01"}, TODAY).trajectory == "T1"


@pytest.mark.parametrize("value", [1, 0, "true", None])
def test_after_20h_is_a_json_boolean_only(value: Any) -> None:
    record = {"type": "admitted", "trajectory": "T1", "date": "2024-10-01", "after_20h": value}

    assert str(refusal(record)).startswith("field 'after_20h' must be true or false, got ")


def contract(**extra: Any) -> dict[str, Any]:
    record = {
        "type": "contract_agreed", "contract": "K-3311-2024", "provider": "12345678", "insurer": "3311",
        "valid_from": "2024-01-01", "valid_to": "2024-12-31", "percentage_bp": 9000,
    }  # fmt: skip
    return {**record, **extra}


def test_a_contract_is_read_and_may_lie_after_today() -> None:
    record = parse_object(contract(valid_from="2026-01-01", valid_to="2026-12-31", max_max=True), TODAY)

    assert record.trajectory is None
    assert (record.fields["valid_from"], record.fields["valid_to"]) == (date(2026, 1, 1), date(2026, 12, 31))
    assert record.fields["max_max"] is True
    amounts = parse_object(contract(code_amounts={"CO0497": 12000, "OV0012": 1}), TODAY).fields["code_amounts"]
    assert amounts == {"CO0497": 12000, "OV0012": 1}


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"code_amounts": {"CO0497": 0}}, "field 'code_amounts': code CO0497 must have a positive JSON integer of cents, got 0"),
        ({"code_amounts": {"CO0497": 120.5}}, "field 'code_amounts': code CO0497 must have a positive JSON integer of cents, got 120.5"),
        ({"code_amounts": {"CO0497": True}}, "field 'code_amounts': code CO0497 must have a positive JSON integer of cents, got true"),
        ({"code_amounts": [["CO0497", 100]]}, 'field \'code_amounts\' must be an object of code -> cents, got [["CO0497",100]]'),
        ({"code_amounts": {}}, "field 'code_amounts' must be an object of code -> cents, got {}"),
        ({"max_max": "yes"}, 'field \'max_max\' must be true or false, got "yes"'),
        ({"percentage_bp": 90.0}, "field 'percentage_bp' must be a JSON integer, got 90.0"),
        ({"insurer": "33110"}, 'field \'insurer\' must be a string of 4 digits, got "33110"'),
        ({"valid_to": "2024-02-30"}, "field 'valid_to' is not a real date: 2024-02-30"),
        ({"trajectory": "T1"}, "contract_agreed: unknown field 'trajectory'"),
    ],
)  # fmt: skip
def test_a_malformed_contract_is_refused(extra: dict[str, Any], message: str) -> None:
    assert str(refusal(contract(**extra))) == message


def test_a_contract_record_without_its_period_is_refused() -> None:
    assert str(refusal(without(contract(), "valid_to"))) == "contract_agreed: missing field 'valid_to'"
