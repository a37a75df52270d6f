"""The VECOZO rules a GDS801 message's data can break, checked before it is written (docs/exports.md)."""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Iterator
from datetime import date

import attrs

from ggzledger.exports.gds801 import Credit, Debit, Message

__all__ = ["Violation", "check", "EARLIEST_PERIOD"]

EARLIEST_PERIOD = date(2022, 1, 1)  # VC098: a production message declares care from the zorgprestatiemodel on
_PRIVACY_WITHOUT_DIAGNOSIS = date(2024, 1, 1)  # VC160
# VC171: from 2026 an invoice number holds only the characters a SEPA reference may.
_SEPA = re.compile(r"[A-Za-z0-9/\-?:().,'+ ]{1,35}\Z")
_SEPA_FROM = date(2026, 1, 1)


@attrs.frozen
class Violation:
    """One rule the message would break: its VECOZO code, where (trajectory and line reference), and why."""

    rule: str
    trajectory: str | None
    line: str | None
    text: str

    def __str__(self) -> str:
        where = "".join(
            (f"trajectory {self.trajectory}" if self.trajectory else "", f", line {self.line}" if self.line else "")
        )
        return f"{self.rule}: {where + ': ' if where else ''}{self.text}"


Rule = Callable[[Message, Collection[str]], Iterator[Violation]]


def check(message: Message, claimed_months: Collection[str]) -> list[Violation]:
    """Every violation of the rules below, in message order; empty when VECOZO would take the message.

    ``claimed_months``: the months already claimed from this provider to this insurer, which a credit's
    debit must have been sent in (rule 8062: a credit takes back a line of an earlier message).
    """
    return [violation for rule in _RULES for violation in rule(message, claimed_months)]


def _period(message: Message, _: Collection[str]) -> Iterator[Violation]:
    if message.period_start < EARLIEST_PERIOD:
        yield Violation(
            "VC098",
            None,
            None,
            f"the declaration period starts {message.period_start}, before {EARLIEST_PERIOD}:"
            " care under the cluster model is not claimed with GDS801",
        )
    if message.period_start > message.period_end:
        yield Violation("VC015", None, None, "the declaration period ends before it starts")


def _dates(message: Message, _: Collection[str]) -> Iterator[Violation]:
    if message.invoice_date > message.sent_on:
        yield Violation(
            "VC008", None, None, f"the invoice date {message.invoice_date} lies after the send date {message.sent_on}"
        )
    for line in _lines(message):
        if line.on > message.sent_on:
            yield Violation("VC032", line.trajectory, line.reference, f"dated {line.on}, after the send date")
        if isinstance(line, Debit) and line.trajectory_start > line.on:
            yield Violation(
                "VC049",
                line.trajectory,
                line.reference,
                f"the trajectory starts {line.trajectory_start}, after the line's date {line.on}",
            )


def _insured(message: Message, _: Collection[str]) -> Iterator[Violation]:
    for insured in message.insureds:
        trajectories = sorted({line.trajectory for line in insured.lines})
        where = ", ".join(trajectories)
        if insured.bsn is None and insured.member_number is None:
            yield Violation(
                "VC020",
                where,
                None,
                "the patient has neither a BSN nor a member number (record bsn or member_number on the"
                " trajectory's opening, or they were erased)",
            )
        if insured.birth_date is None:
            yield Violation("VC023", where, None, "the patient's date of birth is missing (or was erased)")


def _amounts(message: Message, _: Collection[str]) -> Iterator[Violation]:
    for line in _lines(message):
        if isinstance(line, Debit) and line.amount < 0:
            yield Violation("VC030", line.trajectory, line.reference, "a debit's amounts are zero or all positive")
        if isinstance(line, Credit) and line.amount <= 0:
            yield Violation("VC031", line.trajectory, line.reference, "a credit takes back a positive amount")


def _credits(message: Message, claimed_months: Collection[str]) -> Iterator[Violation]:
    debits = {d.reference for d in message.debits}
    for credit in message.credits:
        if credit.related in debits:
            yield Violation(
                "VC102", credit.trajectory, credit.reference, f"takes back {credit.related}, a debit of this message"
            )
        elif credit.related_month is None:
            yield Violation(
                "VC102", credit.trajectory, credit.reference, f"takes back {credit.related}, which no declaration sent"
            )
        elif credit.related_month not in claimed_months:
            yield Violation(
                "VC102",
                credit.trajectory,
                credit.reference,
                f"takes back {credit.related} of {credit.related_month}, a month not claimed to insurer"
                f" {message.insurer} yet: export {credit.related_month} first",
            )


def _diagnosis(message: Message, _: Collection[str]) -> Iterator[Violation]:
    for debit in message.debits:
        if debit.privacy and debit.on >= _PRIVACY_WITHOUT_DIAGNOSIS and debit.diagnosis is not None:
            yield Violation("VC160", debit.trajectory, debit.reference, "a privacy statement forbids a diagnosis")


def _providers(message: Message, _: Collection[str]) -> Iterator[Violation]:
    for debit in message.debits:
        who = debit.practitioner
        if who is not None and not (who.agb.isdigit() and len(who.agb) == 8):
            yield Violation("VC068", debit.trajectory, debit.reference, "the practitioner's AGB code is not 8 digits")


def _invoice_number(message: Message, _: Collection[str]) -> Iterator[Violation]:
    if message.invoice_date >= _SEPA_FROM and not _SEPA.match(message.invoice_number):
        yield Violation(
            "VC171", None, None, f"invoice number {message.invoice_number!r} is not made of SEPA characters"
        )


def _lines(message: Message) -> Iterator[Debit | Credit]:
    for insured in message.insureds:
        yield from insured.lines


_RULES: tuple[Rule, ...] = (_period, _dates, _insured, _amounts, _credits, _diagnosis, _providers, _invoice_number)
