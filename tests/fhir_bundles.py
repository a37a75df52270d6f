"""A FHIR bundle as its reader checks it: fhir.resources' R4B models, then what those models let through."""

from __future__ import annotations

import json
from collections.abc import Collection, Iterator
from decimal import Decimal
from typing import Any

from fhir.resources.R4B import get_fhir_model_class
from fhir.resources.R4B.bundle import Bundle
from pydantic import BaseModel

from ggzledger.exports.fhir_json import CREDIT_EXTENSION, LINE

Resource = dict[str, Any]
# The elements that hold Money in what the export writes.
MONEY = {"priceOverride", "amount", "totalNet", "totalGross", "net", "total"}


def parsed(text: bytes) -> Resource:
    """The bundle's JSON with every number as a Decimal, exactly as written (never through a float)."""
    value: Resource = json.loads(text, parse_float=Decimal, parse_int=Decimal)
    return value


def validated(text: bytes) -> Resource:
    """The bundle, after fhir.resources parsed it and each entry as its own R4B resource model; fails otherwise."""
    bundle = Bundle.model_validate_json(text)
    raw = parsed(text)
    for entry in raw.get("entry", ()):
        resource = entry["resource"]
        get_fhir_model_class(resource["resourceType"]).model_validate(resource)
    assert [e.resource.get_resource_type() for e in bundle.entry or ()] == [
        e["resource"]["resourceType"] for e in raw.get("entry", ())
    ]
    return raw


def resources(bundle: Resource, kind: str) -> list[Resource]:
    """The bundle's resources of one type, in bundle order."""
    return [e["resource"] for e in bundle.get("entry", ()) if e["resource"]["resourceType"] == kind]


def line_references(bundle: Resource) -> dict[str, Resource]:
    """Each ChargeItem by its line reference (Referentienummer)."""
    found = {}
    for item in resources(bundle, "ChargeItem"):
        [identifier] = [i for i in item["identifier"] if i["system"] == LINE]
        found[identifier["value"]] = item
    return found


def credited(item: Resource) -> str | None:
    """The line reference a credit ChargeItem takes back, None for a debit."""
    refs = [e["valueReference"] for e in item.get("extension", ()) if e["url"] == CREDIT_EXTENSION]
    return refs[0]["identifier"]["value"] if refs else None


def problems(text: bytes, earlier_lines: Collection[str] = ()) -> list[str]:
    """What fhir.resources does not check (docs/fhir.md "What is checked"), each problem one sentence.

    ``earlier_lines``: the line references exported with earlier months, which a credit may take back.
    """
    bundle = parsed(text)
    found = list(_enums(Bundle.model_validate_json(text), "Bundle"))
    urls = {e["fullUrl"]: e["resource"] for e in bundle.get("entry", ())}
    for entry in bundle.get("entry", ()):
        resource = entry["resource"]
        where = f"{resource['resourceType']} {resource.get('id')}"
        if entry["fullUrl"] != f"urn:uuid:{resource['id']}":
            found.append(f"{where}: fullUrl {entry['fullUrl']} is not its id")
        for path, reference in _references(resource, ""):
            if "reference" in reference:
                target = urls.get(reference["reference"])
                if target is None:
                    found.append(f"{where}{path}: {reference['reference']} is not in the bundle")
                elif reference.get("type") not in (None, target["resourceType"]):
                    found.append(f"{where}{path}: says {reference['type']}, points at {target['resourceType']}")
            elif "identifier" not in reference and "display" not in reference:
                found.append(f"{where}{path}: a reference to nothing")
        for path, money in _money(resource, ""):
            if money.get("currency") != "EUR":
                found.append(f"{where}{path}: currency {money.get('currency')!r}, not EUR")
            if money["value"].as_tuple().exponent != -2:
                found.append(f"{where}{path}: {money['value']} is not written with two decimals")
    lines = line_references(bundle)
    for invoice in resources(bundle, "Invoice"):
        parts = sum(
            (c["amount"]["value"] for li in invoice.get("lineItem", ()) for c in li["priceComponent"]), Decimal(0)
        )
        if parts != invoice["totalNet"]["value"] or invoice["totalGross"] != invoice["totalNet"]:
            found.append(f"Invoice {invoice['id']}: totalNet {invoice['totalNet']['value']} is not Σ lines {parts}")
        for li in invoice.get("lineItem", ()):
            target = urls.get(li["chargeItemReference"]["reference"], {})
            if li["priceComponent"][0]["amount"] != target.get("priceOverride"):
                found.append(f"Invoice {invoice['id']} line {li['sequence']}: its amount is not its ChargeItem's")
    for claim in resources(bundle, "Claim"):
        items = sum((i["net"]["value"] for i in claim.get("item", ())), Decimal(0))
        if items != claim["total"]["value"]:
            found.append(f"Claim {claim['id']}: total {claim['total']['value']} is not Σ items {items}")
    for reference, item in lines.items():
        related = credited(item)
        if related is None:
            continue
        if item["priceOverride"]["value"] >= 0:
            found.append(f"ChargeItem {reference}: a credit of {item['priceOverride']['value']}, not negative")
        if related in lines:
            found.append(f"ChargeItem {reference}: takes back {related}, a line of this same bundle")
        elif related not in earlier_lines:
            found.append(f"ChargeItem {reference}: takes back {related}, which no earlier export holds")
    return found


def _enums(model: BaseModel, path: str) -> Iterator[str]:
    # The required bindings fhir.resources knows (json_schema_extra["enum_values"]) but does not enforce.
    for name, field in type(model).model_fields.items():
        value = getattr(model, name, None)
        if value is None:
            continue
        extra = field.json_schema_extra if isinstance(field.json_schema_extra, dict) else {}
        allowed = extra.get("enum_values")
        for one in value if isinstance(value, list) else [value]:
            if allowed and one not in allowed:
                yield f"{path}.{name}: {one!r} is not one of {allowed}"
            if isinstance(one, BaseModel):
                yield from _enums(one, f"{path}.{name}")


def _walk(value: Any, path: str) -> Iterator[tuple[str, str, Any]]:
    if isinstance(value, dict):
        for key, inner in value.items():
            yield f"{path}.{key}", key, inner
            yield from _walk(inner, f"{path}.{key}")
    elif isinstance(value, list):
        for n, inner in enumerate(value):
            yield from _walk(inner, f"{path}[{n}]")


def _references(resource: Resource, path: str) -> Iterator[tuple[str, Resource]]:
    for where, key, value in _walk(resource, path):
        if (isinstance(value, dict) and ({"reference", "identifier", "display"} & set(value)) and "type" in value) or (
            key.endswith("Reference") and isinstance(value, dict)
        ):
            yield where, value


def _money(resource: Resource, path: str) -> Iterator[tuple[str, Resource]]:
    for where, key, value in _walk(resource, path):
        if key in MONEY and isinstance(value, dict) and "value" in value:
            yield where, value
