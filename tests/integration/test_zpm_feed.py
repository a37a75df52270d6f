"""The public feed under the zorgprestatiemodel (zpm.md Z9): new types at version 1, additive fields, the same schemas.

The worked example (Z12) is recorded with a few more records so that every new type appears;
every line is checked against its shipped schema, and the schema names exactly the fields written.
"""

from __future__ import annotations

from typing import Any

import jsonschema
import orjson

from builders import ZPM_EXAMPLE, as_line, meneer_henk
from ggzledger import Ledger, ingest
from ggzledger.feed.public import TYPES, VERSION, Feed, schema

NEW_TYPES = {
    "regiebehandelaar_assigned",
    "privacy_statement",
    "privacy_withdrawn",
    "admitted",
    "discharged",
    "contract_agreed",
}

# After the example: an admission, a discharge, a withdrawal of the privacy statement and an own price list.
MORE = [
    {"type": "admitted", "trajectory": "T-ZPM1", "date": "2024-11-20", "after_20h": True},
    {"type": "discharged", "trajectory": "T-ZPM1", "date": "2024-11-22"},
    {"type": "privacy_withdrawn", "trajectory": "T-ZPM1", "date": "2024-11-25", "id": "pw-1"},
    {
        "type": "contract_agreed",
        "contract": "EIGEN-2024",
        "provider": "12345678",
        "valid_from": "2024-01-01",
        "valid_to": "2024-12-31",
        "code_amounts": {"CO0497": 13000},
        "max_max": False,
    },
]


def zpm_feed(ledger: Ledger) -> list[dict[str, Any]]:
    lines = ZPM_EXAMPLE.read_bytes().splitlines() + [as_line(record).encode() for record in MORE]
    ingest(ledger, lines, lambda number, message: None)
    return list(Feed(ledger.recorder, ledger.mapper).lines())


def validate(line: dict[str, Any]) -> None:
    jsonschema.Draft202012Validator(schema(line["type"]), format_checker=jsonschema.FormatChecker()).validate(line)


def test_every_zpm_line_is_valid_against_its_schema_and_the_schema_names_every_field(ledger: Ledger) -> None:
    lines = zpm_feed(ledger)

    assert {line["type"] for line in lines} >= NEW_TYPES
    assert set(TYPES) >= NEW_TYPES
    for line in lines:
        validate(line)
        assert line["version"] == VERSION == 1
        assert set(line["data"]) == set(schema(line["type"])["properties"]["data"]["properties"])
        assert orjson.loads(orjson.dumps(line)) == line


def test_a_zpm_activity_is_an_activity_delivered_line_with_its_zpm_fields(ledger: Ledger) -> None:
    lines = zpm_feed(ledger)

    a02 = next(line for line in lines if line["type"] == "activity_delivered" and line["data"]["activity"] == "A-02")
    data = a02["data"]
    assert a02["trajectory"] == "T-ZPM1"
    # zpm.md Z12: planned 45, held 44, so m = 45: CO0432 at 90% of 15970 under the contract.
    assert {key: data[key] for key in ("code", "amount", "max_amount", "price_basis", "tariff_type")} == {
        "code": "CO0432",
        "amount": 14373,
        "max_amount": 15970,
        "price_basis": "contract:K-3311-2024",
        "tariff_type": "maximum",
    }
    assert {key: data[key] for key in ("prestatie", "consult_type", "beroep", "practitioner", "start")} == {
        "prestatie": "consult",
        "consult_type": "diagnostiek",
        "beroep": "gz_psycholoog",
        "practitioner": "11111111",
        "start": "10:00",
    }
    assert (data["minutes"], data["planned_minutes"], data["effective_minutes"], data["band"]) == (44, 45, 45, 45)
    assert data["beroep_category"] == "gz_psycholoog"


def test_the_new_types_carry_their_input_fields_and_a_contract_has_no_trajectory(ledger: Ledger) -> None:
    lines = zpm_feed(ledger)
    by_type = {line["type"]: line for line in lines}

    assert by_type["regiebehandelaar_assigned"]["data"] == {
        "id": None,
        "date": "2024-10-01",
        "practitioner": "11111111",
        "beroep": "gz_psycholoog",
    }
    assert by_type["privacy_statement"]["data"] == {"id": None, "date": "2024-11-05"}
    assert by_type["privacy_withdrawn"]["data"] == {"id": "pw-1", "date": "2024-11-25"}
    assert by_type["admitted"]["data"] == {"id": None, "date": "2024-11-20", "after_20h": True}
    assert by_type["discharged"]["data"] == {"id": None, "date": "2024-11-22"}
    contracts = [line for line in lines if line["type"] == "contract_agreed"]
    assert all("trajectory" not in line for line in contracts)
    assert contracts[0]["data"] == {
        "id": None,
        "contract": "K-3311-2024",
        "provider": "12345678",
        "insurer": "3311",
        "valid_from": "2024-01-01",
        "valid_to": "2024-12-31",
        "percentage_bp": 9000,
        "code_amounts": None,
        "max_max": False,
    }
    assert contracts[1]["data"]["insurer"] is None
    assert contracts[1]["data"]["code_amounts"] == {"CO0497": 13000}


def test_the_extended_types_carry_the_referral_route_and_hoofdgroep(ledger: Ledger) -> None:
    lines = zpm_feed(ledger)
    by_type = {line["type"]: line["data"] for line in lines}

    opened = by_type["trajectory_opened"]
    assert (opened["referral_type"], opened["referrer_agb"], opened["referral_date"]) == (
        "01",
        "01234567",
        "2024-09-20",
    )
    assert by_type["clustered"]["hoofdgroep"] == "X"
    assert by_type["assessed"]["route"] in (None, "full")


def test_v1_lines_carry_every_new_field_as_null(ledger: Ledger) -> None:
    meneer_henk(ledger)
    lines = list(Feed(ledger.recorder, ledger.mapper).lines())

    activity = next(line for line in lines if line["type"] == "activity_delivered")
    assert activity["data"]["prestatie"] is None and activity["data"]["price_basis"] is None
    opened = next(line for line in lines if line["type"] == "trajectory_opened")
    assert opened["data"]["referral_type"] is None and opened["data"]["referral_date"] is None
    for line in lines:
        validate(line)
        assert set(line["data"]) == set(schema(line["type"])["properties"]["data"]["properties"])


def test_a_dynamic_route_assessment_needs_only_one_item_a_full_one_all_twelve() -> None:
    line = {
        "position": 3,
        "type": "assessed",
        "version": 1,
        "trajectory": "T1",
        "recorded_at": "2024-10-08T10:00:00.000000Z",
        "data": {"id": None, "date": "2024-10-08", "honos": {"7": 3, "Q": 2}, "total": 3, "assessor": None},
    }
    validate({**line, "data": {**line["data"], "route": "dynamic"}})
    for route in ("full", None):
        try:
            validate({**line, "data": {**line["data"], "route": route}})
        except jsonschema.ValidationError:
            continue
        raise AssertionError(f"route {route} took two items")
