"""How the FHIR bundle is written: its naming systems, references by identifier, exact money, and the JSON."""

from __future__ import annotations

import uuid
from typing import Any

import orjson

__all__ = [
    "BSN",
    "AGB",
    "UZOVI",
    "BASE",
    "TRAJECTORY",
    "LINE",
    "INVOICE",
    "CLAIM",
    "EXPORT",
    "PRESTATIE",
    "ACTIVITY",
    "ZORGVRAAGTYPE",
    "LINE_EXTENSION",
    "CREDIT_EXTENSION",
    "CLAIM_TYPE",
    "PRIORITY",
    "CURRENCY",
    "Resource",
    "member_system",
    "identifier",
    "by_identifier",
    "entry_id",
    "full_url",
    "decimal",
    "amount",
    "money",
    "dumps",
]

# The Dutch national naming systems (Nictiz; docs/fhir.md "Systems").
BSN = "http://fhir.nl/fhir/NamingSystem/bsn"
AGB = "http://fhir.nl/fhir/NamingSystem/agb-z"
UZOVI = "http://fhir.nl/fhir/NamingSystem/uzovi"
# The project's own, where no national system names the thing; a .invalid host never resolves.
BASE = "https://ggzledger.invalid/fhir"
TRAJECTORY = f"{BASE}/NamingSystem/zorgtrajectnummer"
LINE = f"{BASE}/NamingSystem/prestatie-referentienummer"
INVOICE = f"{BASE}/NamingSystem/factuurnummer"
CLAIM = f"{BASE}/NamingSystem/claimnummer"
EXPORT = f"{BASE}/NamingSystem/fhir-export"
PRESTATIE = f"{BASE}/CodeSystem/nza-zpm-prestatiecode"
ACTIVITY = f"{BASE}/CodeSystem/cluster-model-activiteit"  # the ledger's own codes before the zorgprestatiemodel
ZORGVRAAGTYPE = f"{BASE}/CodeSystem/nza-cl0007-zorgvraagtype"
LINE_EXTENSION = f"{BASE}/StructureDefinition/line-referentienummer"
CREDIT_EXTENSION = f"{BASE}/StructureDefinition/credit-of"
CLAIM_TYPE = "http://terminology.hl7.org/CodeSystem/claim-type"
PRIORITY = "http://terminology.hl7.org/CodeSystem/processpriority"
CURRENCY = "EUR"
# Entry ids follow from identifiers: the same month exported twice is the same bundle.
_IDS = uuid.uuid5(uuid.NAMESPACE_URL, BASE)

Resource = dict[str, Any]


def member_system(insurer: str) -> str:
    """The naming system of an insurer's member numbers (verzekerdennummer): unique only within that insurer."""
    return f"{BASE}/NamingSystem/uzovi/{insurer}/verzekerdennummer"


def identifier(system: str, value: str) -> Resource:
    """A FHIR Identifier."""
    return {"system": system, "value": value}


def by_identifier(kind: str, system: str, value: str) -> Resource:
    """A Reference to a ``kind`` resource by its identifier (a logical reference: it need not be in the bundle)."""
    return {"type": kind, "identifier": identifier(system, value)}


def entry_id(kind: str, key: str) -> str:
    """The id of the ``kind`` resource identified by ``key``: a name-based UUID, the same in every export."""
    return str(uuid.uuid5(_IDS, f"{kind}/{key}"))


def full_url(resource: Resource) -> str:
    """The bundle entry's fullUrl, and what a reference inside the bundle says: ``urn:uuid:`` and the id."""
    return f"urn:uuid:{resource['id']}"


def decimal(cents: int) -> str:
    """``cents`` in euros with exactly two decimals: 12050 → ``120.50``, -12230 → ``-122.30``."""
    sign = "-" if cents < 0 else ""
    whole, part = divmod(abs(cents), 100)
    return f"{sign}{whole}.{part:02d}"


def amount(cents: int) -> orjson.Fragment:
    """``cents`` as a JSON number written as ``decimal`` writes it.

    A Fragment is written by orjson as it is: FHIR's decimal keeps its precision (fhir.resources and a
    float would write 120.5), and no float ever holds the amount.
    """
    return orjson.Fragment(decimal(cents).encode())


def money(cents: int) -> Resource:
    """A FHIR Money of ``cents`` euro cents."""
    return {"value": amount(cents), "currency": CURRENCY}


def dumps(resource: Resource) -> bytes:
    """The resource as UTF-8 JSON, indented by two spaces, keys in the order built, with a final newline."""
    return orjson.dumps(resource, option=orjson.OPT_INDENT_2 | orjson.OPT_APPEND_NEWLINE)
