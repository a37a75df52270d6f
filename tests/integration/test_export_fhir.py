"""The FHIR bundle of a closed month: the worked example month by month, its own checks, identity and privacy."""

from __future__ import annotations

import json
import re
from decimal import Decimal
from typing import Any

import pytest

from builders import INSURED, Clerk, henk_lines, month_closed, opened, zpm_example
from fhir_bundles import credited, line_references, problems, resources, validated
from ggzledger import Ledger, ingest
from ggzledger.domain.errors import NotAllowed
from ggzledger.exports.claiming import claim_book
from ggzledger.exports.fhir import export
from ggzledger.exports.fhir_json import ACTIVITY, BSN, PRESTATIE, ZORGVRAAGTYPE, member_system
from ggzledger.service.erasure import erase
from ggzledger.store.protocol import head_of

MONTHS = ("2024-10", "2024-11")


def cents(money: dict[str, Any]) -> int:
    value = money["value"]
    assert isinstance(value, Decimal)
    return int(value * 100)


def declared(ledger: Ledger, month: str) -> int:
    """The month's declared total, as the ledger's declarations say it (not as the bundle does)."""
    return sum(body["total"] for body in ledger.declarations(month))


def test_each_month_of_the_worked_example_is_a_valid_bundle_with_the_declared_total(ledger: Ledger) -> None:
    zpm_example(ledger, **INSURED)
    earlier: list[str] = []
    for month in MONTHS:
        text = export(ledger, month).json

        bundle = validated(text)
        assert bundle["type"] == "collection"
        assert problems(text, earlier) == []
        invoices = resources(bundle, "Invoice")
        assert sum(cents(i["totalNet"]) for i in invoices) == declared(ledger, month)
        assert sum(cents(c["total"]) for c in resources(bundle, "Claim")) == declared(ledger, month)
        assert [len(resources(bundle, kind)) for kind in ("EpisodeOfCare", "ChargeItem", "Invoice", "Claim")] == [
            1,
            6,
            1,
            1,
        ]
        earlier += line_references(bundle)


def test_the_november_credit_takes_back_the_line_october_exported(ledger: Ledger) -> None:
    zpm_example(ledger, **INSURED)
    october, november = (validated(export(ledger, month).json) for month in MONTHS)

    credit = line_references(november)["A-06-C"]
    assert credited(credit) == "A-06"
    assert "A-06" in line_references(october) and "A-06" not in line_references(november)
    assert cents(credit["priceOverride"]) == -cents(line_references(october)["A-06"]["priceOverride"]) == -12230
    [invoice] = resources(november, "Invoice")
    assert invoice["lineItem"][0]["chargeItemReference"]["identifier"]["value"] == "A-06-C"
    assert cents(invoice["lineItem"][0]["priceComponent"][0]["amount"]) == -12230
    [claim] = resources(november, "Claim")
    assert [e["valueIdentifier"]["value"] for e in claim["item"][0]["extension"][:1]] == ["A-06-C"]
    assert claim["item"][0]["extension"][1]["valueReference"]["identifier"]["value"] == "A-06"


def test_every_amount_is_written_with_two_decimals_in_the_raw_text(ledger: Ledger) -> None:
    zpm_example(ledger, **INSURED)
    october = export(ledger, "2024-10").json.decode()

    amounts = re.findall(r'"value": (-?[0-9.]+),\s*"currency": "EUR"', october)
    assert len(amounts) == 6 + 6 + 2 + 6 + 1  # ChargeItems, invoice lines, invoice totals, claim items, claim total
    assert all(re.fullmatch(r"-?\d+\.\d\d", amount) for amount in amounts), amounts
    assert '"value": 737.30,' in october and '"value": 22.55,' in october
    assert len(re.findall(r'"quantity": \{\s*"value": 1\s*\}', october)) == 12  # a quantity stays an integer


def test_the_type_travels_as_a_reason_and_a_diagnosis_but_never_under_the_privacy_statement(ledger: Ledger) -> None:
    zpm_example(ledger, **INSURED)
    october, november = (validated(export(ledger, month).json) for month in MONTHS)

    reasons = {ref: item.get("reason") for ref, item in line_references(october).items()}
    assert reasons["A-01"] is None  # before the type was known
    assert reasons["A-02"] == [{"coding": [{"system": ZORGVRAAGTYPE, "code": "3"}]}]
    [claim] = resources(october, "Claim")
    assert [d["diagnosisCodeableConcept"]["coding"][0]["code"] for d in claim["diagnosis"]] == ["3"]
    assert [item.get("diagnosisSequence") for item in claim["item"]] == [None, [1], [1], [1], [1], [1]]
    # November's lines are all under the statement: no type, no diagnosis, anywhere in the bundle.
    text = json.dumps(november, default=str)
    assert ZORGVRAAGTYPE not in text and "diagnosis" not in text and "reason" not in text


def test_the_bundle_names_the_patient_by_bsn_and_each_party_by_its_national_code(ledger: Ledger) -> None:
    zpm_example(ledger, member_number="M-77", **INSURED)
    bundle = validated(export(ledger, "2024-10").json)

    [episode], [invoice], [claim] = (resources(bundle, kind) for kind in ("EpisodeOfCare", "Invoice", "Claim"))
    assert episode["identifier"][0]["value"] == "T-ZPM1"
    assert episode["patient"]["identifier"] == {"system": BSN, "value": "999999990"}
    assert episode["managingOrganization"]["identifier"]["value"] == "12345678"
    assert (episode["status"], episode["period"]) == ("active", {"start": "2024-10-01"})
    assert invoice["identifier"][0]["value"] == "T-ZPM1-202410"
    assert invoice["recipient"]["identifier"]["value"] == "3311"
    assert invoice["subject"] == claim["patient"] == episode["patient"]
    # The member number is the coverage's, not the patient's name, when a BSN is there.
    assert claim["insurance"][0]["coverage"]["identifier"] == {"system": member_system("3311"), "value": "M-77"}
    items = line_references(bundle)
    assert items["A-03"]["code"]["coding"][0] == {
        "system": PRESTATIE,
        "code": "CO0473",
        "display": "Behandeling vanaf 45 min klinisch (neuro)psycholoog setting 1",
    }
    assert items["A-03"]["performer"][0]["actor"]["identifier"]["value"] == "22222222"
    assert items["A-03"]["occurrenceDateTime"] == "2024-10-15"


def test_without_a_bsn_the_member_number_names_the_patient_in_the_insurers_system(ledger: Ledger) -> None:
    zpm_example(ledger, member_number="M-77", birth_date="1984-03-12")
    text = export(ledger, "2024-10").json
    bundle = validated(text)

    assert problems(text) == []
    [invoice] = resources(bundle, "Invoice")
    assert invoice["subject"]["identifier"] == {"system": member_system("3311"), "value": "M-77"}
    assert BSN not in text.decode()


def test_a_patient_with_neither_bsn_nor_member_number_is_refused_naming_the_trajectory(ledger: Ledger) -> None:
    zpm_example(ledger, birth_date="1984-03-12")
    with pytest.raises(NotAllowed) as refused:
        export(ledger, "2024-10")
    assert str(refused.value) == (
        "month 2024-10 was not exported, a patient cannot be named:"
        " trajectory T-ZPM1: the patient has neither a BSN nor a member number recorded"
    )


def test_an_erased_patient_is_refused_as_erased(ledger: Ledger) -> None:
    zpm_example(ledger, **INSURED)
    erase(ledger, "P-ZPM1", "AVG17")
    with pytest.raises(NotAllowed, match=r"trajectory T-ZPM1: the patient's personal data was erased \(AVG17\)"):
        export(ledger, "2024-11")


def test_an_open_month_is_refused(ledger: Ledger) -> None:
    zpm_example(ledger, **INSURED)
    with pytest.raises(NotAllowed, match="month 2024-12 is not closed"):
        export(ledger, "2024-12")


def test_an_export_records_nothing_and_the_same_month_gives_the_same_bundle(ledger: Ledger) -> None:
    zpm_example(ledger, **INSURED)
    head = head_of(ledger.recorder)

    first, second = export(ledger, "2024-10"), export(ledger, "2024-10")

    assert first.json == second.json
    assert head_of(ledger.recorder) == head
    assert claim_book(ledger).exports == ()


def henk_with(ledger: Ledger, **opening: str) -> None:
    """Meneer Henk's file (the cluster model, 2016–2017), his opening given ``opening`` too."""
    lines = []
    for line in henk_lines():
        record = json.loads(line)
        if record["type"] == "trajectory_opened":
            record.update(opening)
        lines.append(json.dumps(record).encode())
    refused: list[str] = []
    ingest(ledger, lines, lambda n, message: refused.append(message))
    assert refused == []


def test_a_cluster_model_month_is_exported_with_the_ledgers_own_codes(ledger: Ledger) -> None:
    # FHIR has no VC098: 2017 care is exported (GDS801 refuses it); its codes are no NZa prestatiecodes.
    henk_with(ledger, **INSURED)
    text = export(ledger, "2017-02").json
    bundle = validated(text)

    assert problems(text) == []
    [invoice] = resources(bundle, "Invoice")
    assert cents(invoice["totalNet"]) == declared(ledger, "2017-02") == 130000
    assert {item["code"]["coding"][0]["system"] for item in resources(bundle, "ChargeItem")} == {ACTIVITY}
    [episode] = resources(bundle, "EpisodeOfCare")
    assert (episode["status"], episode["period"]) == ("finished", {"start": "2016-11-01", "end": "2017-02-21"})


def test_a_cluster_model_month_without_identity_is_refused_like_any_other(ledger: Ledger) -> None:
    henk_with(ledger)
    with pytest.raises(NotAllowed, match="trajectory T-HENK: the patient has neither a BSN nor a member number"):
        export(ledger, "2017-01")


def consult(activity: str, on: str, number: str) -> dict[str, Any]:
    return {
        "type": "activity_delivered", "trajectory": number, "activity": activity, "date": on, "prestatie": "consult",
        "consult_type": "behandeling", "beroep": "gz_psycholoog", "practitioner": "11111111", "setting": 1,
        "minutes": 45, "start": "09:00",
    }  # fmt: skip


def test_a_claim_goes_per_insurer_provider_and_patient(ledger: Ledger, clerk: Clerk) -> None:
    zpm_example(ledger, **INSURED)
    clerk.given(
        opened("T-SAME", "2024-12-01", provider="12345678", **INSURED),
        opened("T-OTHER", "2024-12-01", provider="87654321", **INSURED),
        opened("T-ELSE", "2024-12-01", provider="12345678", bsn="111222333"),
        consult("X-1", "2024-12-02", "T-ZPM1"),
        consult("X-2", "2024-12-03", "T-SAME"),
        consult("X-3", "2024-12-04", "T-OTHER"),
        consult("X-4", "2024-12-05", "T-ELSE"),
        month_closed("2024-12"),
    )
    text = export(ledger, "2024-12").json
    bundle = validated(text)

    assert problems(text, ["A-06"]) == []
    claims = {
        (c["provider"]["identifier"]["value"], c["patient"]["identifier"]["value"]): c
        for c in resources(bundle, "Claim")
    }
    assert sorted(claims) == [("12345678", "111222333"), ("12345678", "999999990"), ("87654321", "999999990")]
    one_patient = claims["12345678", "999999990"]
    assert one_patient["identifier"][0]["value"] == "12345678-202412-3311-T-SAME"
    assert [i["extension"][0]["valueIdentifier"]["value"] for i in one_patient["item"]] == ["X-2", "X-1"]
    assert cents(one_patient["total"]) == sum(
        b["total"] for b in ledger.declarations("2024-12") if b["trajectory"] in ("T-ZPM1", "T-SAME")
    )
    assert len(resources(bundle, "Invoice")) == len(resources(bundle, "EpisodeOfCare")) == 4
