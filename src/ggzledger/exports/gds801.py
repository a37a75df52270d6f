"""The Vektis declaration message GDS801 (berichtcode 573, version 2.0) of one provider's month to one insurer."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Sequence
from datetime import date

import attrs

from ggzledger.domain.months import first_day, last_day
from ggzledger.exports.claims import ClaimDeclaration, ClaimLine, ClaimMonth

__all__ = [
    "NAMESPACE",
    "CODELIST",
    "Practitioner",
    "Debit",
    "Credit",
    "Insured",
    "Message",
    "message_of",
    "invoice_number",
    "message_reference",
    "to_xml",
]

NAMESPACE = "http://ei.vektis.nl/declaratiebericht573"
CODELIST = "071"  # the ggz/fz prestatie codelist (VC069, VC081)
DIAGNOSIS_CODELIST = "031"  # zorgvraagtype ggz (CL0007-NZA)
# Roles of the message's two parties, as in the research sample: the sender a care provider, the receiver
# an insurer (not 2, so UzoviNummer must equal Ontvanger, VC019).
SENDER_ROLE, RECEIVER_ROLE = "1", "3"
# ZorgaanbiederSoort of an AGB code (the declarant's and each practitioner's); inferred, docs/exports.md.
AGB_KIND = "1"
VERSION, SUBVERSION = 2, 0


@attrs.frozen
class Practitioner:
    """Who delivered a line: AGB code, the ledger's beroep, role 01 (uitvoerend) or 02 (regiebehandelaar)."""

    agb: str
    beroep: str | None
    role: str | None


@attrs.frozen
class Debit:
    """A DebetPrestatie; ``amount`` in cents, at least 0."""

    reference: str
    trajectory: str
    code: str
    on: date
    start: str | None
    amount: int
    privacy: bool
    diagnosis: int | None
    link: str | None
    referral: dict[str, str | None] | None
    practitioner: Practitioner | None
    trajectory_start: date


@attrs.frozen
class Credit:
    """A CreditPrestatie: takes back ``related``, a debit sent in an earlier message; ``amount`` positive cents."""

    reference: str
    trajectory: str
    related: str
    related_month: str | None
    on: date
    amount: int


@attrs.frozen
class Insured:
    """A Verzekerde and its prestaties."""

    bsn: str | None
    member_number: str | None
    birth_date: date | None
    lines: tuple[Debit | Credit, ...]


@attrs.frozen
class Message:
    """One GDS801 message, before it is written."""

    reference: str
    provider: str
    insurer: str
    sent_on: date
    invoice_number: str
    invoice_date: date
    period_start: date
    period_end: date
    insureds: tuple[Insured, ...]
    test: bool

    @property
    def debits(self) -> list[Debit]:
        return [line for insured in self.insureds for line in insured.lines if isinstance(line, Debit)]

    @property
    def credits(self) -> list[Credit]:
        return [line for insured in self.insureds for line in insured.lines if isinstance(line, Credit)]

    @property
    def total(self) -> int:
        """Σ debit − Σ credit, in cents (VC016)."""
        return sum(d.amount for d in self.debits) - sum(c.amount for c in self.credits)


def invoice_number(provider: str, insurer: str, month: str) -> str:
    """The invoice number of a provider's month to an insurer: the same in every export (SEPA characters only)."""
    return f"{provider}-{month.replace('-', '')}-{insurer}"


def message_reference(provider: str, insurer: str, month: str, ordinal: int) -> str:
    """The message's Referentienummer: the invoice number and which export of it this is (1 the first)."""
    return f"{invoice_number(provider, insurer, month)}-{ordinal}"


def message_of(
    claims: ClaimMonth,
    declarations: Sequence[ClaimDeclaration],
    *,
    provider: str,
    insurer: str,
    sent_on: date,
    ordinal: int,
    test: bool = False,
) -> Message:
    """The message of these declarations (one provider's, to one insurer), grouped per insured person."""
    grouped: dict[tuple[str | None, str | None, date | None], list[Debit | Credit]] = {}
    for declaration in declarations:
        insured = declaration.insured
        # BSN first: the member number travels only for a patient without one (exactly one of them, VC020).
        key = (insured.bsn, None if insured.bsn else insured.member_number, insured.birth_date)
        grouped.setdefault(key, []).extend(_prestatie(declaration, line) for line in declaration.lines)
    first, last = first_day(claims.month), last_day(claims.month)
    return Message(
        reference=message_reference(provider, insurer, claims.month, ordinal),
        provider=provider,
        insurer=insurer,
        sent_on=sent_on,
        invoice_number=invoice_number(provider, insurer, claims.month),
        invoice_date=claims.issued_on,
        period_start=first,
        period_end=last,
        insureds=tuple(Insured(bsn, member, born, tuple(lines)) for (bsn, member, born), lines in grouped.items()),
        test=test,
    )


def _prestatie(declaration: ClaimDeclaration, line: ClaimLine) -> Debit | Credit:
    if line.kind == "credit":
        assert line.related is not None
        return Credit(line.reference, declaration.trajectory, line.related, line.related_month, line.on, -line.amount)
    referral = declaration.referral
    return Debit(
        reference=line.reference,
        trajectory=declaration.trajectory,
        code=line.code,
        on=line.on,
        start=line.start,
        amount=line.amount,
        privacy=line.privacy,
        # The type travels only without a privacy statement (zpm.md Z6.4, Z6.5).
        diagnosis=None if line.privacy else line.zorgvraagtype,
        # A surcharge and the consult it belongs to share one number: the consult's activity id.
        link=line.linked_activity,
        referral=None if referral is None else {k: referral.get(k) for k in ("type", "referrer_agb", "date")},
        practitioner=None if line.practitioner is None else Practitioner(line.practitioner, line.beroep, line.role),
        trajectory_start=declaration.start_date,
    )


def _euros(cents: int) -> str:
    sign = "-" if cents < 0 else ""
    whole, part = divmod(abs(cents), 100)
    return f"{sign}{whole}.{part:02d}"


class _Writer:
    def __init__(self) -> None:
        ET.register_namespace("", NAMESPACE)

    @staticmethod
    def add(parent: ET.Element, name: str, text: object | None = None) -> ET.Element:
        element = ET.SubElement(parent, f"{{{NAMESPACE}}}{name}")
        if text is not None:
            element.text = text.isoformat() if isinstance(text, date) else str(text)
        return element


def to_xml(message: Message) -> bytes:
    """The message as UTF-8 XML, elements in the order of docs/exports.md; amounts with two decimals."""
    w = _Writer()
    root = ET.Element(f"{{{NAMESPACE}}}Bericht")
    header = w.add(root, "Header")
    for name, value in (
        ("Berichtcode", "573"), ("Berichtversie", VERSION), ("Berichtsubversie", SUBVERSION),
        ("Berichtsoort", "T" if message.test else "P"), ("Verzender", message.provider),
        ("VerzenderRol", SENDER_ROLE), ("Ontvanger", message.insurer), ("OntvangerRol", RECEIVER_ROLE),
        ("Verzenddatum", message.sent_on), ("Referentienummer", message.reference),
    ):  # fmt: skip
        w.add(header, name, value)
    context = w.add(root, "DeclaratieContext")
    declarant = w.add(context, "Declarant")
    w.add(declarant, "Zorgaanbiedercode", message.provider)
    w.add(declarant, "ZorgaanbiederSoort", AGB_KIND)
    w.add(context, "Factuurnummer", message.invoice_number)
    w.add(context, "Factuurdatum", message.invoice_date)
    w.add(context, "Valutacode", "EUR")
    w.add(context, "BegindatumDeclaratieperiode", message.period_start)
    w.add(context, "EinddatumDeclaratieperiode", message.period_end)
    total = w.add(w.add(root, "Overzicht"), "TotaalDeclaratiebedragInclBtw")
    w.add(total, "Bedrag", _euros(abs(message.total)))
    w.add(total, "DebetCreditCode", "D" if message.total >= 0 else "C")
    for insured in message.insureds:
        person = w.add(root, "Verzekerde")
        if insured.bsn is not None:
            w.add(person, "BSN", insured.bsn)
        w.add(person, "UzoviNummer", message.insurer)
        if insured.bsn is None and insured.member_number is not None:
            w.add(person, "Verzekerdennummer", insured.member_number)
        if insured.birth_date is not None:
            w.add(person, "Geboortedatum", insured.birth_date)
        for line in insured.lines:
            prestatie = w.add(person, "Prestatie")
            if isinstance(line, Debit):
                _debit(w, w.add(prestatie, "DebetPrestatie"), line)
            else:
                _credit(w, w.add(prestatie, "CreditPrestatie"), line)
    ET.indent(root)
    written: bytes = ET.tostring(root, encoding="UTF-8", xml_declaration=True)
    return written + b"\n"


def _debit(w: _Writer, debit: ET.Element, line: Debit) -> None:
    w.add(debit, "Referentienummer", line.reference)
    w.add(debit, "PrestatieCodelijstCode", CODELIST)
    w.add(debit, "Prestatiecode", line.code)
    w.add(debit, "Begindatum", line.on)
    if line.start is not None:
        w.add(debit, "Begintijd", line.start)
    w.add(debit, "Aantal", 1)
    # ggz is exempt from VAT: tariff, calculated and declared amount are the line's price (zpm.md Z6.5).
    for name in ("TariefInclBtw", "BerekendBedragInclBtw", "DeclaratieBedragInclBtw"):
        w.add(debit, name, _euros(line.amount))
    if line.link is not None:
        w.add(debit, "PrestatieKoppelnummer", line.link)
    w.add(debit, "PrivacyCode", "J" if line.privacy else "N")
    w.add(debit, "DoorsturenToegestaan", "J")
    if line.referral is not None and line.referral.get("type") is not None:
        referral = w.add(debit, "Verwijzing")
        w.add(referral, "TypeVerwijzingcode", line.referral["type"])
        if line.referral.get("referrer_agb") is not None:
            w.add(referral, "Verwijzer", line.referral["referrer_agb"])
        if line.referral.get("date") is not None:
            w.add(referral, "Verwijsdatum", line.referral["date"])
    if line.practitioner is not None:
        who = w.add(debit, "Zorgaanbieder")
        w.add(who, "Zorgaanbiedercode", line.practitioner.agb)
        w.add(who, "ZorgaanbiederSoort", AGB_KIND)
        if line.practitioner.beroep is not None:
            w.add(who, "BeroepZorgverlener", line.practitioner.beroep)
        if line.practitioner.role is not None:
            w.add(who, "ZorgaanbiederRol", line.practitioner.role)
    extra = w.add(debit, "AanvullendePrestatiegegevens")
    if line.diagnosis is not None:
        diagnosis = w.add(extra, "Diagnose")
        w.add(diagnosis, "DiagnoseCodelijstCode", DIAGNOSIS_CODELIST)
        w.add(diagnosis, "Diagnosecode", line.diagnosis)
    journey = w.add(extra, "Zorgtraject")
    w.add(journey, "Zorgtrajectnummer", line.trajectory)
    w.add(journey, "ZorgtrajectStartdatum", line.trajectory_start)


def _credit(w: _Writer, credit: ET.Element, line: Credit) -> None:
    w.add(credit, "Referentienummer", line.reference)
    w.add(credit, "GerelateerdReferentienummer", line.related)
    w.add(credit, "PrestatieCodelijstCode", CODELIST)
    w.add(credit, "Begindatum", line.on)
    w.add(credit, "ToegekendBedragInclBtwFinancieel", _euros(line.amount))
