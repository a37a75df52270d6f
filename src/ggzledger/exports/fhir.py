"""A closed month's declarations as a FHIR R4 collection Bundle: EpisodeOfCare, ChargeItem, Invoice and Claim."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import attrs

from ggzledger.domain.errors import NotAllowed
from ggzledger.domain.months import first_day, last_day
from ggzledger.domain.values import ZPM_START
from ggzledger.exports.claims import ClaimDeclaration, ClaimLine, ClaimMonth, Insured, claim_month
from ggzledger.exports.fhir_json import (
    ACTIVITY,
    AGB,
    BSN,
    CLAIM,
    CLAIM_TYPE,
    CREDIT_EXTENSION,
    EXPORT,
    INVOICE,
    LINE,
    LINE_EXTENSION,
    PRESTATIE,
    PRIORITY,
    TRAJECTORY,
    UZOVI,
    ZORGVRAAGTYPE,
    Resource,
    by_identifier,
    dumps,
    entry_id,
    full_url,
    identifier,
    member_system,
    money,
)
from ggzledger.service.ledger import Ledger

__all__ = ["FhirExport", "export", "bundle_of", "invoice_number", "claim_number"]


@attrs.frozen
class FhirExport:
    """A month's bundle as written, the trajectories whose patients it names, and what it holds."""

    month: str
    json: bytes
    trajectories: tuple[str, ...]
    invoices: int
    charge_items: int
    claims: int
    total: int


def invoice_number(trajectory: str, month: str) -> str:
    """A declaration's invoice number: its trajectory and month, the same in every export."""
    return f"{trajectory}-{month.replace('-', '')}"


def claim_number(provider: str, insurer: str, month: str, trajectory: str) -> str:
    """A claim's number: provider, month, insurer and the first trajectory (in number order) of its patient."""
    return f"{provider}-{month.replace('-', '')}-{insurer}-{trajectory}"


def export(ledger: Ledger, month: str) -> FhirExport:
    """The closed month's declarations as a FHIR bundle.

    Raises NotAllowed for an open month, and for a patient the bundle cannot name: personal data
    erased, or neither a BSN nor a member number recorded (one line naming every such trajectory).
    """
    claims = claim_month(ledger, month)
    _refuse_unnamed(claims)
    ended = {body["trajectory"]: body.get("end_date") for body in ledger.declarations(month)}
    bundle = bundle_of(claims, ended)
    resources = [entry["resource"]["resourceType"] for entry in bundle.get("entry", ())]
    return FhirExport(
        month=month,
        json=dumps(bundle),
        trajectories=tuple(d.trajectory for d in claims.declarations),
        invoices=resources.count("Invoice"),
        charge_items=resources.count("ChargeItem"),
        claims=resources.count("Claim"),
        total=sum(d.total for d in claims.declarations),
    )


def _refuse_unnamed(claims: ClaimMonth) -> None:
    unnamed = []
    for d in claims.declarations:
        if d.erased:
            unnamed.append(f"trajectory {d.trajectory}: the patient's personal data was erased ({d.erased})")
        elif d.insured.bsn is None and d.insured.member_number is None:
            unnamed.append(f"trajectory {d.trajectory}: the patient has neither a BSN nor a member number recorded")
    if unnamed:
        raise NotAllowed(f"month {claims.month} was not exported, a patient cannot be named: {'; '.join(unnamed)}")


def bundle_of(claims: ClaimMonth, ended: Mapping[str, str | None]) -> Resource:
    """The bundle of every declaration of ``claims`` (each patient named); ``ended``: trajectory → end date.

    Per declaration its trajectory's EpisodeOfCare, a ChargeItem per line and the Invoice; then a Claim
    per insurer, provider and patient (Claim.patient is 1..1).
    """
    entries: list[Resource] = []
    for d in claims.declarations:
        episode = _episode(d, ended.get(d.trajectory))
        items = [_charge_item(d, line, claims.month, full_url(episode)) for line in d.lines]
        entries += [episode, *items, _invoice(d, claims, items)]
    patients: dict[tuple[str, str, str, str], list[ClaimDeclaration]] = {}
    for d in claims.declarations:
        identifier = _patient(d.insured, d.insurer)["identifier"]
        key = (d.insurer, d.provider, identifier["system"], identifier["value"])
        patients.setdefault(key, []).append(d)
    entries += [_claim(claims, group) for _, group in sorted(patients.items(), key=lambda kv: kv[0][:2])]
    bundle: Resource = {
        "resourceType": "Bundle",
        "identifier": {"system": EXPORT, "value": claims.month},
        "type": "collection",
    }
    if entries:
        bundle["entry"] = [{"fullUrl": full_url(resource), "resource": resource} for resource in entries]
    return bundle


def _patient(insured: Insured, insurer: str) -> Resource:
    # BSN first, as GDS801 does; the member number only for a patient without one (refused without either).
    if insured.bsn is not None:
        return by_identifier("Patient", BSN, insured.bsn)
    assert insured.member_number is not None
    return by_identifier("Patient", member_system(insurer), insured.member_number)


def _account(trajectory: str) -> Resource:
    return by_identifier("Account", TRAJECTORY, trajectory)


def _episode(d: ClaimDeclaration, end: str | None) -> Resource:
    period = {"start": d.start_date.isoformat()} | ({"end": end} if end else {})
    episode: Resource = {
        "resourceType": "EpisodeOfCare",
        "id": entry_id("EpisodeOfCare", d.trajectory),
        "identifier": [identifier(TRAJECTORY, d.trajectory)],
        "status": "finished" if end else "active",
        "patient": _patient(d.insured, d.insurer),
        "managingOrganization": by_identifier("Organization", AGB, d.provider),
        "period": period,
    }
    if d.regiebehandelaar and d.regiebehandelaar.get("practitioner"):
        episode["careManager"] = by_identifier("Practitioner", AGB, d.regiebehandelaar["practitioner"])
    episode["account"] = [_account(d.trajectory)]
    return episode


def _code(line: ClaimLine, month: str) -> Resource:
    system = PRESTATIE if first_day(month) >= ZPM_START else ACTIVITY
    coding = {"system": system, "code": line.code}
    if line.description:
        coding["display"] = line.description
    return {"coding": [coding]}


def _care_type(line: ClaimLine) -> Resource | None:
    # Under a privacy statement the zorgvraagtype does not travel, in no element (zpm.md Z6.4, Z6.5).
    if line.privacy or line.zorgvraagtype is None:
        return None
    return {"coding": [{"system": ZORGVRAAGTYPE, "code": str(line.zorgvraagtype)}]}


def _credit_of(line: ClaimLine) -> Resource:
    # The debit this credit takes back, by identifier: it was exported with an earlier month, not in this bundle.
    assert line.related is not None
    return {"url": CREDIT_EXTENSION, "valueReference": by_identifier("ChargeItem", LINE, line.related)}


def _charge_item(d: ClaimDeclaration, line: ClaimLine, month: str, episode: str) -> Resource:
    item: Resource = {"resourceType": "ChargeItem", "id": entry_id("ChargeItem", line.reference)}
    if line.kind == "credit":
        item["extension"] = [_credit_of(line)]
    item |= {
        "identifier": [identifier(LINE, line.reference)],
        "status": "billed",
        "code": _code(line, month),
        "subject": _patient(d.insured, d.insurer),
        "context": {"reference": episode} | by_identifier("EpisodeOfCare", TRAJECTORY, d.trajectory),
        "occurrenceDateTime": line.on.isoformat(),
    }
    if line.practitioner:
        item["performer"] = [{"actor": by_identifier("Practitioner", AGB, line.practitioner)}]
    item |= {
        "performingOrganization": by_identifier("Organization", AGB, d.provider),
        "quantity": {"value": 1},
        "priceOverride": money(line.amount),
    }
    care_type = _care_type(line)
    if care_type is not None:
        item["reason"] = [care_type]
    item["account"] = [_account(d.trajectory)]
    return item


def _invoice(d: ClaimDeclaration, claims: ClaimMonth, items: Sequence[Resource]) -> Resource:
    if sum(line.amount for line in d.lines) != d.total:
        # The lines are the declaration's; a difference is a defect here, never a user's mistake.
        raise AssertionError(f"declaration {d.trajectory} {claims.month}: lines do not add up to {d.total}")
    lines = [
        {
            "sequence": n,
            "chargeItemReference": {"reference": full_url(item)} | by_identifier("ChargeItem", LINE, line.reference),
            "priceComponent": [{"type": "base", "amount": money(line.amount)}],
        }
        for n, (line, item) in enumerate(zip(d.lines, items, strict=True), start=1)
    ]
    number = invoice_number(d.trajectory, claims.month)
    invoice: Resource = {
        "resourceType": "Invoice",
        "id": entry_id("Invoice", number),
        "identifier": [identifier(INVOICE, number)],
        "status": "issued",
        "subject": _patient(d.insured, d.insurer),
        "recipient": by_identifier("Organization", UZOVI, d.insurer),
        "date": claims.issued_on.isoformat(),
        "issuer": by_identifier("Organization", AGB, d.provider),
        "account": _account(d.trajectory),
    }
    if lines:
        invoice["lineItem"] = lines
    return invoice | {"totalNet": money(d.total), "totalGross": money(d.total)}


def _claim(claims: ClaimMonth, declarations: Sequence[ClaimDeclaration]) -> Resource:
    first = min(declarations, key=lambda d: d.trajectory)
    number = claim_number(first.provider, first.insurer, claims.month, first.trajectory)
    diagnoses: dict[str, int] = {}
    items: list[Resource] = []
    for d in sorted(declarations, key=lambda d: d.trajectory):
        for line in d.lines:
            item: Resource = {
                "extension": [{"url": LINE_EXTENSION, "valueIdentifier": identifier(LINE, line.reference)}]
            }
            if line.kind == "credit":
                item["extension"].append(_credit_of(line))
            item["sequence"] = len(items) + 1
            care_type = _care_type(line)
            if care_type is not None:
                code = care_type["coding"][0]["code"]
                item["diagnosisSequence"] = [diagnoses.setdefault(code, len(diagnoses) + 1)]
            item |= {
                "productOrService": _code(line, claims.month),
                "servicedDate": line.on.isoformat(),
                "quantity": {"value": 1},
                "net": money(line.amount),
            }
            items.append(item)
    member = first.insured.member_number
    claim: Resource = {
        "resourceType": "Claim",
        "id": entry_id("Claim", number),
        "identifier": [identifier(CLAIM, number)],
        "status": "active",
        "type": {"coding": [{"system": CLAIM_TYPE, "code": "professional"}]},
        "use": "claim",
        "patient": _patient(first.insured, first.insurer),
        "billablePeriod": {"start": first_day(claims.month).isoformat(), "end": last_day(claims.month).isoformat()},
        "created": claims.issued_on.isoformat(),
        "insurer": by_identifier("Organization", UZOVI, first.insurer),
        "provider": by_identifier("Organization", AGB, first.provider),
        "priority": {"coding": [{"system": PRIORITY, "code": "normal"}]},
    }
    if diagnoses:
        claim["diagnosis"] = [
            {"sequence": n, "diagnosisCodeableConcept": {"coding": [{"system": ZORGVRAAGTYPE, "code": code}]}}
            for code, n in diagnoses.items()
        ]
    coverage = (
        by_identifier("Coverage", member_system(first.insurer), member)
        if member is not None
        else {"type": "Coverage", "display": f"the patient's insurance at UZOVI {first.insurer}"}
    )
    claim["insurance"] = [{"sequence": 1, "focal": True, "coverage": coverage}]
    if items:
        claim["item"] = items
    claim["total"] = money(sum(d.total for d in declarations))
    return claim
