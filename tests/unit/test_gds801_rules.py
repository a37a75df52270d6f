"""The VECOZO rules checked before a GDS801 message is written, each on a message that breaks it, and the elfproef."""

from __future__ import annotations

from datetime import date

import attrs
import pytest

from ggzledger.domain.values import passes_elfproef
from ggzledger.exports.gds801 import Credit, Debit, Insured, Message, Practitioner, to_xml
from ggzledger.exports.vecozo import check

DEBIT = Debit(
    reference="A-1", trajectory="T-1", code="CO0497", on=date(2024, 10, 22), start="09:00", amount=12230,
    privacy=False, diagnosis=3, link=None, referral={"type": "01", "referrer_agb": "01234567", "date": "2024-09-20"},
    practitioner=Practitioner("11111111", "gz_psycholoog", "02"), trajectory_start=date(2024, 10, 1),
)  # fmt: skip
CREDIT = Credit("A-0-C", "T-1", "A-0", "2024-09", date(2024, 9, 30), 5000)


def message(*lines: Debit | Credit, **changes: object) -> Message:
    base = Message(
        reference="12345678-202410-3311-1", provider="12345678", insurer="3311", sent_on=date(2024, 11, 5),
        invoice_number="12345678-202410-3311", invoice_date=date(2024, 11, 1), period_start=date(2024, 10, 1),
        period_end=date(2024, 10, 31), insureds=(Insured("999999990", None, date(1984, 3, 12), lines),), test=False,
    )  # fmt: skip
    return attrs.evolve(base, **changes)  # type: ignore[arg-type]


def rules(msg: Message, claimed: tuple[str, ...] = ("2024-09",)) -> list[str]:
    return [v.rule for v in check(msg, claimed)]


def test_a_message_of_a_debit_and_a_credit_for_a_month_claimed_before_breaks_nothing() -> None:
    assert rules(message(DEBIT, CREDIT)) == []


def test_vc102_a_credit_for_a_debit_of_the_same_message() -> None:
    assert rules(message(DEBIT, attrs.evolve(CREDIT, related="A-1"))) == ["VC102"]


def test_vc102_a_credit_for_a_month_not_claimed() -> None:
    assert rules(message(DEBIT, CREDIT), claimed=()) == ["VC102"]


def test_vc098_a_period_before_2022() -> None:
    msg = message(DEBIT, period_start=date(2021, 12, 1), period_end=date(2021, 12, 31))
    assert rules(msg) == ["VC098"]


def test_vc008_an_invoice_dated_after_sending() -> None:
    assert rules(message(DEBIT, invoice_date=date(2024, 11, 6))) == ["VC008"]


def test_vc032_a_line_dated_after_sending() -> None:
    assert rules(message(attrs.evolve(DEBIT, on=date(2024, 11, 6)))) == ["VC032"]


def test_vc049_a_line_before_its_trajectory_started() -> None:
    assert rules(message(attrs.evolve(DEBIT, trajectory_start=date(2024, 10, 23)))) == ["VC049"]


def test_vc020_and_vc023_a_patient_without_bsn_member_number_or_birth_date() -> None:
    msg = message(insureds=(Insured(None, None, None, (DEBIT,)),))
    assert rules(msg) == ["VC020", "VC023"]


def test_vc030_and_vc031_amounts_of_the_wrong_sign() -> None:
    assert rules(message(attrs.evolve(DEBIT, amount=-1), attrs.evolve(CREDIT, amount=0))) == ["VC030", "VC031"]


def test_vc160_a_diagnosis_under_a_privacy_statement_from_2024() -> None:
    assert rules(message(attrs.evolve(DEBIT, privacy=True))) == ["VC160"]


def test_vc068_a_practitioner_code_that_is_no_agb_code() -> None:
    assert rules(message(attrs.evolve(DEBIT, practitioner=Practitioner("1234", None, "01")))) == ["VC068"]


def test_vc171_an_invoice_number_outside_the_sepa_characters_from_2026() -> None:
    msg = message(DEBIT, invoice_number="F#1", invoice_date=date(2026, 1, 2), sent_on=date(2026, 1, 3))
    assert rules(msg) == ["VC171"]


def test_a_violation_names_the_rule_the_trajectory_and_the_line() -> None:
    [violation] = check(message(DEBIT, attrs.evolve(CREDIT, related="A-1")), ("2024-09",))
    assert str(violation).startswith("VC102: trajectory T-1, line A-0-C: takes back A-1")


def test_a_credit_total_is_written_with_code_c_and_amounts_with_two_decimals() -> None:
    xml = to_xml(message(attrs.evolve(CREDIT, amount=130005))).decode()
    assert "<Bedrag>1300.05</Bedrag>" in xml
    assert "<DebetCreditCode>C</DebetCreditCode>" in xml


@pytest.mark.parametrize("bsn", ["999999990", "111222333", "123456782"])
def test_numbers_that_pass_the_elfproef(bsn: str) -> None:
    assert passes_elfproef(bsn)


@pytest.mark.parametrize("bsn", ["123456789", "999999991", "000000000", "12345678", "1234567890", "12345678a"])
def test_numbers_that_fail_the_elfproef(bsn: str) -> None:
    assert not passes_elfproef(bsn)


def test_the_export_benchmark_gives_every_opening_a_bsn_that_passes_the_elfproef() -> None:
    from ggzledger.bench.export_check import test_bsn, with_identities
    from ggzledger.bench.workload import workload

    assert all(passes_elfproef(test_bsn(n)) for n in range(0, 2_000_000, 997))
    openings = [line for line in with_identities(iter(workload(500, 3))) if b'"trajectory_opened"' in line]
    assert openings and all(b'"bsn"' in line and b'"birth_date":"1980-01-01"' in line for line in openings)
