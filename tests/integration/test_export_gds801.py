"""The insurer's claim message (GDS801): the worked example month by month, the refusals, and the claim book."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import date
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import xmlschema

from builders import INSURED, Clerk, meneer_henk, month_closed, opened, zpm_example
from ggzledger import Ledger
from ggzledger.domain.errors import NotAllowed
from ggzledger.exports.claiming import Claim, ClaimRefused, claim_book, prepare, record
from ggzledger.feed.public import Feed, schema
from ggzledger.service.erasure import erase

SCHEMAS = Path(__file__).parents[2] / "src" / "ggzledger" / "exports" / "schemas"
RESEARCH = Path(__file__).parents[1] / "data" / "exports"
NS = {"g": "http://ei.vektis.nl/declaratiebericht573"}
TODAY = date(2026, 12, 3)


@pytest.fixture(scope="module")
def xsd() -> xmlschema.XMLSchema11:
    return xmlschema.XMLSchema11(str(SCHEMAS / "gds801_subset.xsd"))


def exported(ledger: Ledger, month: str, again: bool = False, **options: Any) -> Claim:
    """The month's message to insurer 3311, written and recorded as the command does."""
    claim = prepare(ledger, month, "3311", provider=options.get("provider"), again=again, today=TODAY)
    record(ledger, claim)
    return claim


def texts(xml: bytes, path: str) -> list[str]:
    return [element.text or "" for element in ET.fromstring(xml).iterfind(path, NS)]


def debits(xml: bytes) -> dict[str, ET.Element]:
    """Each DebetPrestatie by its Referentienummer."""
    found = ET.fromstring(xml).iterfind(".//g:DebetPrestatie", NS)
    return {d.findtext("g:Referentienummer", namespaces=NS) or "": d for d in found}


def signed_total(xml: bytes) -> int:
    """The Overzicht total in cents, negative when its DebetCreditCode is C."""
    [amount], [code] = texts(xml, "g:Overzicht//g:Bedrag"), texts(xml, "g:Overzicht//g:DebetCreditCode")
    cents = round(float(amount) * 100)
    return cents if code == "D" else -cents


def test_the_research_sample_validates_against_both_the_research_subset_and_ours(xsd: xmlschema.XMLSchema11) -> None:
    # Ours extends the research subset: what it accepted, ours accepts.
    research = xmlschema.XMLSchema11(str(RESEARCH / "gds801_subset.research.xsd"))
    assert research.is_valid(str(RESEARCH / "sample_ok.xml"))
    assert xsd.is_valid(str(RESEARCH / "sample_ok.xml"))


def test_each_month_of_the_worked_example_exports_a_valid_message_with_the_declared_total(
    ledger: Ledger, xsd: xmlschema.XMLSchema11
) -> None:
    zpm_example(ledger, **INSURED)
    for month in ("2024-10", "2024-11"):
        claim = exported(ledger, month)
        xsd.validate(claim.xml)
        declared = sum(d["total"] for d in ledger.declarations(month))
        assert signed_total(claim.xml) == declared == claim.export.total
        lines = sum(len(d["lines"]) for d in ledger.declarations(month))
        assert len(debits(claim.xml)) + len(texts(claim.xml, ".//g:CreditPrestatie")) == lines == claim.export.lines
        assert texts(claim.xml, ".//g:BSN") == [INSURED["bsn"]]
        assert texts(claim.xml, ".//g:Geboortedatum") == [INSURED["birth_date"]]
        assert texts(claim.xml, ".//g:Zorgtrajectnummer") == ["T-ZPM1"] * len(debits(claim.xml))


def test_the_credit_refers_to_the_reference_the_earlier_message_sent_with_its_line(ledger: Ledger) -> None:
    zpm_example(ledger, **INSURED)
    october, november = exported(ledger, "2024-10"), exported(ledger, "2024-11")
    [credit] = ET.fromstring(november.xml).iterfind(".//g:CreditPrestatie", NS)
    related = credit.findtext("g:GerelateerdReferentienummer", namespaces=NS)
    # The voided A-06 was declared in October: the credit names the Referentienummer sent for it then.
    october_a06 = [
        ref for ref, d in debits(october.xml).items() if d.findtext("g:Begindatum", namespaces=NS) == "2024-10-29"
    ]
    assert related == october_a06[0] == "A-06"
    assert credit.findtext("g:ToegekendBedragInclBtwFinancieel", namespaces=NS) == "122.30"
    assert related not in debits(november.xml)


def test_the_type_travels_as_a_diagnosis_except_under_the_privacy_statement(ledger: Ledger) -> None:
    zpm_example(ledger, **INSURED)
    october, november = exported(ledger, "2024-10"), exported(ledger, "2024-11")
    body = {line["activity"]: line for line in ledger.declarations("2024-10")[0]["lines"]}
    for reference, debit in debits(october.xml).items():
        code = debit.findtext(".//g:Diagnosecode", namespaces=NS)
        assert code == (None if body[reference]["zorgvraagtype"] is None else str(body[reference]["zorgvraagtype"]))
        assert debit.findtext("g:PrivacyCode", namespaces=NS) == "N"
    assert debits(october.xml)["A-02"].findtext(".//g:DiagnoseCodelijstCode", namespaces=NS) == "031"
    for debit in debits(november.xml).values():
        assert debit.find(".//g:Diagnose", NS) is None
        assert debit.findtext("g:PrivacyCode", namespaces=NS) == "J"


def test_the_practitioner_the_referral_and_the_trajectory_travel_with_each_line(ledger: Ledger) -> None:
    zpm_example(ledger, **INSURED)
    line = debits(exported(ledger, "2024-10").xml)["A-03"]
    assert line.findtext("g:Zorgaanbieder/g:Zorgaanbiedercode", namespaces=NS) == "22222222"
    assert line.findtext("g:Zorgaanbieder/g:BeroepZorgverlener", namespaces=NS) == "klinisch_psycholoog"
    assert line.findtext("g:Zorgaanbieder/g:ZorgaanbiederRol", namespaces=NS) == "01"
    assert line.findtext("g:Verwijzing/g:Verwijzer", namespaces=NS) == "01234567"
    assert line.findtext(".//g:ZorgtrajectStartdatum", namespaces=NS) == "2024-10-01"
    assert [line.findtext(f"g:{n}", namespaces=NS) for n in ("Prestatiecode", "Begindatum", "Begintijd", "Aantal")] == [
        "CO0473", "2024-10-15", "14:00", "1",
    ]  # fmt: skip
    assert {line.findtext(f"g:{n}", namespaces=NS) for n in ("TariefInclBtw", "DeclaratieBedragInclBtw")} == {"161.32"}


def test_a_cluster_model_month_is_refused_by_vc098_and_nothing_is_recorded(ledger: Ledger) -> None:
    meneer_henk(ledger, opened("T-BSN", "2016-11-01", **INSURED))
    with pytest.raises(ClaimRefused) as refused:
        prepare(ledger, "2017-02", "3311", provider=None, again=False, today=TODAY)
    assert refused.value.violations[0].rule == "VC098"
    assert "2017-02-01, before 2022-01-01" in str(refused.value.violations[0])
    assert claim_book(ledger).exports == ()


def test_a_month_is_claimed_once_and_again_only_deliberately_with_the_same_line_references(ledger: Ledger) -> None:
    zpm_example(ledger, **INSURED)
    first = exported(ledger, "2024-10")
    with pytest.raises(NotAllowed, match=r"claimed from 12345678 to insurer 3311 before.*--again"):
        prepare(ledger, "2024-10", "3311", provider=None, again=False, today=TODAY)
    with pytest.raises(NotAllowed, match="never claimed"):
        prepare(ledger, "2024-11", "3311", provider=None, again=True, today=TODAY)
    second = exported(ledger, "2024-10", again=True)
    assert sorted(debits(second.xml)) == sorted(debits(first.xml))
    assert second.message.invoice_number == first.message.invoice_number
    assert (first.export.message, second.export.message) == ("12345678-202410-3311-1", "12345678-202410-3311-2")
    assert [(e.month, e.again) for e in claim_book(ledger).exports] == [("2024-10", False), ("2024-10", True)]


def test_a_credit_for_a_month_not_claimed_yet_is_refused_naming_the_line(ledger: Ledger) -> None:
    zpm_example(ledger, **INSURED)
    with pytest.raises(ClaimRefused) as refused:
        prepare(ledger, "2024-11", "3311", provider=None, again=False, today=TODAY)
    [violation] = refused.value.violations
    assert (violation.rule, violation.trajectory, violation.line) == ("VC102", "T-ZPM1", "A-06-C")
    assert "export 2024-10 first" in str(violation)


@pytest.mark.parametrize(
    ("identity", "rules"),
    [({}, ["VC020", "VC023"]), ({"bsn": "999999990"}, ["VC023"]), ({"birth_date": "1984-03-12"}, ["VC020"])],
)
def test_a_patient_without_bsn_or_birth_date_is_refused_naming_the_trajectory(
    ledger: Ledger, identity: dict[str, str], rules: list[str]
) -> None:
    zpm_example(ledger, **identity)
    with pytest.raises(ClaimRefused) as refused:
        prepare(ledger, "2024-10", "3311", provider=None, again=False, today=TODAY)
    assert [(v.rule, v.trajectory) for v in refused.value.violations] == [(rule, "T-ZPM1") for rule in rules]


def test_an_erased_patient_is_refused_as_erased(ledger: Ledger) -> None:
    zpm_example(ledger, **INSURED)
    erase(ledger, "P-ZPM1", "AVG17")
    with pytest.raises(ClaimRefused) as refused:
        prepare(ledger, "2024-10", "3311", provider=None, again=False, today=TODAY)
    [violation] = refused.value.violations
    assert (violation.rule, violation.trajectory) == ("VC020", "T-ZPM1")
    assert "erased (AVG17)" in violation.text


def test_a_member_number_travels_only_without_a_bsn(ledger: Ledger, xsd: xmlschema.XMLSchema11) -> None:
    zpm_example(ledger, member_number="M-77", birth_date="1984-03-12")
    claim = exported(ledger, "2024-10")
    xsd.validate(claim.xml)
    assert (texts(claim.xml, ".//g:BSN"), texts(claim.xml, ".//g:Verzekerdennummer")) == ([], ["M-77"])


def test_with_both_the_bsn_travels_and_the_member_number_stays(ledger: Ledger) -> None:
    zpm_example(ledger, member_number="M-77", **INSURED)
    claim = exported(ledger, "2024-10")
    assert (texts(claim.xml, ".//g:BSN"), texts(claim.xml, ".//g:Verzekerdennummer")) == (["999999990"], [])


def consult(activity: str, on: str, number: str) -> dict[str, Any]:
    return {
        "type": "activity_delivered", "trajectory": number, "activity": activity, "date": on, "prestatie": "consult",
        "consult_type": "behandeling", "beroep": "gz_psycholoog", "practitioner": "11111111", "setting": 1,
        "minutes": 45, "start": "09:00",
    }  # fmt: skip


def test_a_month_with_two_providers_needs_the_declarant_chosen(ledger: Ledger, clerk: Clerk) -> None:
    zpm_example(ledger, **INSURED)
    clerk.given(
        opened("T-OTHER", "2024-12-01", provider="87654321", **INSURED),
        consult("X-1", "2024-12-02", "T-OTHER"),
        consult("X-2", "2024-12-03", "T-ZPM1"),
        month_closed("2024-12"),
    )
    with pytest.raises(NotAllowed, match=r"from 2 providers \(12345678, 87654321\).*--provider"):
        prepare(ledger, "2024-12", "3311", provider=None, again=False, today=TODAY)
    claim = prepare(ledger, "2024-12", "3311", provider="87654321", again=False, today=TODAY)
    assert sorted(debits(claim.xml)) == ["X-1"]
    assert texts(claim.xml, "g:Header/g:Verzender") == texts(claim.xml, ".//g:Declarant/g:Zorgaanbiedercode")
    assert texts(claim.xml, "g:Header/g:Verzender") == ["87654321"]


def test_an_open_month_is_not_claimed(ledger: Ledger) -> None:
    zpm_example(ledger, **INSURED)
    with pytest.raises(NotAllowed, match="month 2024-12 is not closed"):
        prepare(ledger, "2024-12", "3311", provider=None, again=False, today=TODAY)


def test_no_declaration_to_the_insurer_is_refused(ledger: Ledger) -> None:
    zpm_example(ledger, **INSURED)
    with pytest.raises(NotAllowed, match="no declaration to insurer 9999"):
        prepare(ledger, "2024-10", "9999", provider=None, again=False, today=TODAY)


def test_the_claim_exported_line_is_valid_against_its_schema_and_says_what_was_written(ledger: Ledger) -> None:
    zpm_example(ledger, **INSURED)
    claim = exported(ledger, "2024-10")
    [line] = [line for line in Feed(ledger.recorder, ledger.mapper).lines() if line["type"] == "claim_exported"]
    jsonschema.validate(line, schema("claim_exported"))
    assert "trajectory" not in line
    assert line["data"] == {
        "insurer": "3311", "provider": "12345678", "month": "2024-10", "message": claim.message.reference,
        "lines": 6, "total": 73730, "again": False,
    }  # fmt: skip


def test_month_closed_after_the_send_date_would_break_vc008(ledger: Ledger) -> None:
    zpm_example(ledger, **INSURED)
    with pytest.raises(ClaimRefused) as refused:
        prepare(ledger, "2024-10", "3311", provider=None, again=False, today=date(2024, 12, 1))
    assert "VC008" in [v.rule for v in refused.value.violations]
