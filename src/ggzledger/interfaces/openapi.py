"""The OpenAPI 3.1 document of the HTTP interface, with the feed's shipped JSON Schemas inside."""

from __future__ import annotations

from functools import cache
from typing import Any

from ggzledger import __version__
from ggzledger.audit.findings import FINDINGS
from ggzledger.audit.reports import DIMENSIONS
from ggzledger.feed.public import TYPES, schema

__all__ = ["document"]

_DATE = {"type": "string", "format": "date"}
_ERROR = {"$ref": "#/components/schemas/Error"}

_DECLARATION: dict[str, Any] = {
    "description": "A declaration (zorgnota), as `ggzledger invoice --json` prints it (rules.md §5).",
    "type": "object",
    "required": [
        "trajectory",
        "month",
        "status",
        "sequence",
        "cluster",
        "start_date",
        "end_date",
        "review_due",
        "previously_declared",
        "total",
        "lines",
    ],
    "properties": {
        "trajectory": {"type": "string"},
        "month": {"type": "string", "pattern": "^[0-9]{4}-[0-9]{2}$"},
        "status": {"enum": ["issued", "draft"]},
        "sequence": {"type": "integer", "minimum": 1},
        "cluster": {
            "oneOf": [
                {"type": "null"},
                {
                    "type": "object",
                    "required": ["code", "name"],
                    "properties": {"code": {"type": "integer"}, "name": {"type": "string"}},
                },
            ]
        },
        "start_date": _DATE,
        "end_date": {"type": ["string", "null"], "format": "date"},
        "review_due": {"type": ["string", "null"], "format": "date"},
        "previously_declared": {"type": "integer", "description": "euro cents"},
        "total": {"type": "integer", "description": "euro cents; debits minus credits, may be negative"},
        "lines": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["date", "code", "description", "amount", "kind", "activity", "late"],
                "properties": {
                    "date": _DATE,
                    "code": {"type": "string"},
                    "description": {"type": "string"},
                    "amount": {"type": "integer", "description": "euro cents, negative on a credit line"},
                    "kind": {"enum": ["debit", "credit"]},
                    "activity": {"type": "string"},
                    "late": {"type": "boolean"},
                },
            },
        },
        "digest": {"type": "string", "pattern": "^[0-9a-f]{64}$", "description": "only when issued"},
    },
}


_CLUSTER_OR_NULL = {"type": ["integer", "null"]}
_HISTORY: dict[str, Any] = {
    "description": "As `ggzledger history --json` prints it.",
    "type": "object",
    "required": ["trajectory", "entries"],
    "properties": {
        "trajectory": {"type": "string"},
        "entries": {
            "type": "array",
            "items": {
                "type": "object",
                "required": [
                    "on",
                    "event",
                    "from",
                    "to",
                    "change",
                    "likelihood",
                    "honos_total",
                    "honos_delta",
                    "findings",
                ],
                "properties": {
                    "on": _DATE,
                    "event": {"enum": ["clustered", "reviewed", "referred_back"]},
                    "from": _CLUSTER_OR_NULL,
                    "to": _CLUSTER_OR_NULL,
                    "change": {"enum": ["initial", "unchanged", "step_up", "step_down", "lateral", "ended"]},
                    "likelihood": {"enum": ["likely", "less_likely", "unlikely", None]},
                    "honos_total": {"type": ["integer", "null"]},
                    "honos_delta": {"type": ["integer", "null"]},
                    "findings": {"type": "array", "items": {"type": "string"}},
                },
            },
        },
    },
}
_ROWS = {
    "type": "array",
    "items": {
        "type": "object",
        "required": ["key", "total"],
        "properties": {"key": {"type": "string"}, "total": {"type": "integer", "description": "euro cents"}},
    },
}
_TOTALS: dict[str, Any] = {
    "description": "As `ggzledger totals --by DIM --json` prints it.",
    "type": "object",
    "required": ["by", "total", "rows"],
    "properties": {
        "by": {"enum": list(DIMENSIONS)},
        "total": {"type": "integer", "description": "euro cents; every dimension sums to the same"},
        "rows": _ROWS,
        "drafts": {
            "type": "object",
            "description": "Only with drafts=true: the drafts of the open months, never added to the issued rows.",
            "required": ["status", "months", "total", "rows"],
            "properties": {
                "status": {"const": "draft"},
                "months": {"type": "array", "items": {"type": "string"}},
                "total": {"type": "integer"},
                "rows": _ROWS,
            },
        },
    },
}


_FINDINGS: dict[str, Any] = {
    "description": "As `ggzledger findings --json` prints its rows (zpm.md Z8), with the filters asked for.",
    "type": "object",
    "required": ["trajectory", "month", "findings"],
    "properties": {
        "trajectory": {"type": ["string", "null"]},
        "month": {"type": ["string", "null"]},
        "findings": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["trajectory", "activity", "date", "code", "finding", "detail"],
                "properties": {
                    "trajectory": {"type": "string"},
                    "activity": {"type": "string"},
                    "date": _DATE,
                    "code": {"type": "string"},
                    "finding": {"enum": list(FINDINGS)},
                    "detail": {"type": "string"},
                },
            },
        },
    },
}


_MONEY_OR_NULL = {"type": ["integer", "null"], "description": "euro cents; null when the DBC tables have no price"}
_DBC_COMPARISON: dict[str, Any] = {
    "description": "As `ggzledger dbc TRAJECTORY --json` prints it: docs/analyses.md, DBC comparison.",
    "type": "object",
    "required": [
        "trajectory", "start_date", "end_date", "dbcs", "claims", "declarations", "months", "complete",
        "dbc_total", "declared_total", "draft_total", "difference",
    ],
    "properties": {
        "trajectory": {"type": "string"},
        "start_date": _DATE,
        "end_date": {"type": ["string", "null"], "format": "date"},
        "dbcs": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "number": {"type": "integer"},
                    "start": _DATE,
                    "end": _DATE,
                    "closed_by": {"enum": ["referred_back", "365_days", "open"]},
                    "claimed_on": {"type": ["string", "null"], "format": "date"},
                    "minutes": {"type": "integer"},
                    "diagnosis_group": {"type": ["string", "null"]},
                    "product": {"type": ["string", "null"]},
                    "amount": _MONEY_OR_NULL,
                    "table": {"type": ["string", "null"]},
                    "problem": {"type": ["string", "null"]},
                    "closing_claim": _MONEY_OR_NULL,
                },
            },
        },
        "claims": {"type": "array", "items": {"type": "object"}},
        "declarations": {"type": "array", "items": {"type": "object"}},
        "months": {"type": "array", "items": {"type": "object"}},
        "complete": {"type": "boolean"},
        "dbc_total": {"type": "integer"},
        "declared_total": {"type": "integer"},
        "draft_total": {"type": "integer"},
        "difference": {"type": ["integer", "null"]},
    },
}  # fmt: skip


def _param(name: str, description: str, schema: dict[str, Any], required: bool = False) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": required, "description": description, "schema": schema}


_WHATIF_ROW = {
    "type": "object",
    "properties": {
        k: {"type": "string" if k == "key" else "integer"} for k in ("key", "declared", "alternative", "difference")
    },
}
_WHATIF: dict[str, Any] = {
    "type": "object",
    "description": "docs/analyses.md, What-if tariffs: the shape, the rounding, what counts as unpriced.",
    "required": [
        "month_from",
        "month_to",
        "months",
        "alternative",
        "lines",
        "declared",
        "alternative_total",
        "difference",
        "by",
        "unpriced",
    ],
    "properties": {
        "month_from": {"type": "string"},
        "month_to": {"type": "string"},
        "months": {"type": "array", "items": {"type": "string"}},
        "alternative": {"type": "object"},
        "lines": {"type": "integer"},
        "declared": {"type": "integer"},
        "alternative_total": {"type": "integer"},
        "difference": {"type": "integer"},
        "by": {"type": "object", "additionalProperties": {"type": "array", "items": _WHATIF_ROW}},
        "unpriced": {"type": "object"},
    },
}


_DATE = {"type": "string", "pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{2}$"}
_NULLABLE_DATE = {"type": ["string", "null"], "format": "date"}
_NULLABLE_DAYS = {"type": ["integer", "null"]}
_WAITING = {
    "type": "object",
    "required": ["as_of", "trajectory", "trajectories"],
    "properties": {
        "as_of": {"type": "string", "format": "date"},
        "trajectory": {"type": ["string", "null"]},
        "trajectories": {
            "type": "array",
            "items": {
                "type": "object",
                "required": [
                    "trajectory", "region", "care_form", "registered_on", "opened_on", "first_assessed_on",
                    "first_treated_on", "aanmeld_days", "behandel_days", "total_days", "exceeded", "waiting",
                ],
                "properties": {
                    "trajectory": {"type": "string"},
                    "region": {"type": "string", "description": "ZK01..ZK31, or uncoded"},
                    "care_form": {"type": ["string", "null"]},
                    "registered_on": _NULLABLE_DATE,
                    "opened_on": {"type": "string", "format": "date"},
                    "first_assessed_on": _NULLABLE_DATE,
                    "first_treated_on": _NULLABLE_DATE,
                    "aanmeld_days": _NULLABLE_DAYS,
                    "behandel_days": _NULLABLE_DAYS,
                    "total_days": _NULLABLE_DAYS,
                    "exceeded": {"type": "array", "items": {"enum": ["aanmeld", "behandel", "total"]}},
                    "waiting": {"type": "boolean", "description": "registered, not treated, not referred back"},
                },
            },
        },
    },
}  # fmt: skip
_WAIT_SUMMARY = {
    "type": "object",
    "required": ["count", "median_days", "p90_days", "above_norm", "share_above_norm"],
    "properties": {
        "count": {"type": "integer"},
        "median_days": _NULLABLE_DAYS,
        "p90_days": _NULLABLE_DAYS,
        "above_norm": {"type": "integer"},
        "share_above_norm": {"type": ["number", "null"]},
    },
}
_FIGURES = {
    "type": "object",
    "required": ["waiting", "in_care", "complex", "waits", "volume"],
    "properties": {
        "waiting": {"type": "integer"},
        "in_care": {"type": "integer"},
        "complex": {"type": "integer"},
        "waits": {"type": "object", "properties": dict.fromkeys(("aanmeld", "behandel", "total"), _WAIT_SUMMARY)},
        "volume": {
            "type": "object",
            "additionalProperties": {
                "type": "object",
                "properties": {"activities": {"type": "integer"}, "amount": {"type": "integer"}},
            },
        },
    },
}
_REGIOBEELD = {
    "type": "object",
    "required": ["as_of", "by", "quarter", "months", "treeknormen_days", "rows", "total"],
    "properties": {
        "as_of": {"type": "string", "format": "date"},
        "by": {"type": "array", "items": {"enum": ["region", "care_form", "group"]}},
        "quarter": {"type": "object", "properties": {"from": {"type": "string"}, "to": {"type": "string"}}},
        "months": {"type": "array", "items": {"type": "string"}},
        "treeknormen_days": {"type": "object", "additionalProperties": {"type": "integer"}},
        "rows": {"type": "array", "items": _FIGURES},
        "total": _FIGURES,
    },
}


def _json(schema_ref: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema_ref}}}


def _errors(*codes: int) -> dict[str, Any]:
    words = {
        400: "A parameter is malformed or out of range.",
        401: "No valid token: `Authorization: Bearer <token>` of `ggzledger token add` is missing, unknown or"
        " revoked (with `WWW-Authenticate: Bearer`).",
        403: "The token's role may not use this endpoint (docs/operations.md, Tokens and roles).",
        404: "There is no such declaration, trajectory or path.",
        503: "The database is not available; ask again later.",
    }
    return {str(code): _json(_ERROR, words[code]) for code in (*codes, 401, 403, 503)}


def _query(name: str, description: str, minimum: int, default: int, maximum: int | None = None) -> dict[str, Any]:
    bounds: dict[str, Any] = {"type": "integer", "minimum": minimum, "default": default}
    if maximum is not None:
        bounds["maximum"] = maximum
    return {"name": name, "in": "query", "required": False, "description": description, "schema": bounds}


def _path(name: str, description: str, pattern: str | None = None) -> dict[str, Any]:
    value: dict[str, Any] = {"type": "string"}
    if pattern:
        value["pattern"] = pattern
    return {"name": name, "in": "path", "required": True, "description": description, "schema": value}


def _line_schema(kind: str) -> dict[str, Any]:
    # Embedded as they ship, less the keywords that identify a standalone file.
    return {key: value for key, value in schema(kind).items() if key not in ("$schema", "$id")}


@cache
def document() -> dict[str, Any]:
    """The OpenAPI 3.1 document served at ``/openapi.json``."""
    from ggzledger.interfaces.http import PAGE_DEFAULT, PAGE_MAX, WAIT_MAX

    month = _path("month", "A month, YYYY-MM.", "^[0-9]{4}-[0-9]{2}$")
    line_names = {kind: "".join(part.title() for part in kind.split("_")) for kind in TYPES}
    schemas: dict[str, Any] = {name: _line_schema(kind) for kind, name in line_names.items()}
    schemas["FeedLine"] = {
        "description": "One public event; `type` says which. docs/feed.md is the contract.",
        "oneOf": [{"$ref": f"#/components/schemas/{name}"} for name in line_names.values()],
    }
    schemas["FeedPage"] = {
        "type": "object",
        "required": ["after", "events", "last_position"],
        "properties": {
            "after": {"type": "integer", "description": "The `after` that was asked for."},
            "events": {"type": "array", "items": {"$ref": "#/components/schemas/FeedLine"}},
            "last_position": {
                "type": "integer",
                "description": "The position of the last event in the page (`after` when empty): pass it as "
                "`after` for the next page.",
            },
        },
    }
    schemas["Declaration"] = _DECLARATION
    schemas["History"] = _HISTORY
    schemas["Totals"] = _TOTALS
    schemas["Findings"] = _FINDINGS
    schemas["WhatIf"] = _WHATIF
    schemas["DbcComparison"] = _DBC_COMPARISON
    schemas["Waiting"] = _WAITING
    schemas["Regiobeeld"] = _REGIOBEELD
    schemas["Error"] = {"type": "object", "required": ["error"], "properties": {"error": {"type": "string"}}}
    schemas["Status"] = {
        "type": "object",
        "required": ["head", "projections", "lag"],
        "properties": {
            "head": {"type": "integer", "description": "The latest position in the ledger."},
            "projections": {
                "type": "object",
                "additionalProperties": {"type": "integer"},
                "description": "Each read model's position: the last event it has applied.",
            },
            "lag": {"type": "integer", "description": "head minus the lowest read-model position."},
        },
    }
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "ggzledger",
            "version": __version__,
            "description": "The ledger's public event feed and its declarations (zorgnota's). "
            "Served by `ggzledger serve`; docs/feed.md and docs/operations.md describe it.",
        },
        "security": [{"bearer": []}],
        "paths": {
            "/feed": {
                "get": {
                    "summary": "A page of the public feed: the events after a position, in position order.",
                    "description": "Resume by passing the last position handled as `after`: every later public "
                    "event comes exactly once, in order. With `wait`, an empty page is held back until an event "
                    "arrives or `wait` seconds pass (long-poll).",
                    "parameters": [
                        _query("after", "The last position already handled (0: from the start).", 0, 0),
                        _query("limit", "The most events to return.", 1, PAGE_DEFAULT, PAGE_MAX),
                        _query("wait", "Seconds to wait for events when there are none yet.", 0, 0, int(WAIT_MAX)),
                    ],
                    "responses": {"200": _json({"$ref": "#/components/schemas/FeedPage"}, "A page."), **_errors(400)},
                }
            },
            "/trajectories/{trajectory}/declarations/{month}": {
                "get": {
                    "summary": "The declaration of a trajectory for a month: issued when closed, else the draft.",
                    "parameters": [_path("trajectory", "The trajectory number."), month],
                    "responses": {
                        "200": _json({"$ref": "#/components/schemas/Declaration"}, "The declaration."),
                        **_errors(400, 404),
                    },
                }
            },
            "/months/{month}/declarations": {
                "get": {
                    "summary": "Every declaration of a month: issued when closed, else the drafts.",
                    "parameters": [month],
                    "responses": {
                        "200": _json(
                            {
                                "type": "object",
                                "required": ["month", "declarations"],
                                "properties": {
                                    "month": {"type": "string"},
                                    "declarations": {
                                        "type": "array",
                                        "items": {"$ref": "#/components/schemas/Declaration"},
                                    },
                                },
                            },
                            "The declarations, in trajectory order.",
                        ),
                        **_errors(400),
                    },
                }
            },
            "/trajectories/{trajectory}/history": {
                "get": {
                    "summary": "The care-need history of a trajectory, with findings (rules.md §8).",
                    "parameters": [_path("trajectory", "The trajectory number.")],
                    "responses": {
                        "200": _json({"$ref": "#/components/schemas/History"}, "The entries, in order of force."),
                        **_errors(404),
                    },
                }
            },
            "/totals": {
                "get": {
                    "summary": "Cumulative totals of issued declarations by one dimension (rules.md §6).",
                    "parameters": [
                        {
                            "name": "by",
                            "in": "query",
                            "required": False,
                            "description": "The dimension.",
                            "schema": {"enum": list(DIMENSIONS), "default": "month"},
                        },
                        {
                            "name": "drafts",
                            "in": "query",
                            "required": False,
                            "description": "Also the drafts of the open months, kept apart under `drafts`.",
                            "schema": {"enum": ["true", "false"], "default": "false"},
                        },
                    ],
                    "responses": {
                        "200": _json({"$ref": "#/components/schemas/Totals"}, "The rows and their sum."),
                        **_errors(400),
                    },
                }
            },
            "/findings": {
                "get": {
                    "summary": "Findings for the insurer's material check, computed from every event so far (zpm.md Z8).",
                    "description": "Sorted by trajectory, date, activity and finding. Nothing is stored; an auditor's "
                    "question (docs/audit.md).",
                    "parameters": [
                        {
                            "name": "trajectory",
                            "in": "query",
                            "required": False,
                            "description": "Only the findings on this trajectory's lines (404 when never opened).",
                            "schema": {"type": "string"},
                        },
                        {
                            "name": "month",
                            "in": "query",
                            "required": False,
                            "description": "Only the findings on lines dated in this month, YYYY-MM.",
                            "schema": {"type": "string", "pattern": "^[0-9]{4}-[0-9]{2}$"},
                        },
                    ],
                    "responses": {
                        "200": _json({"$ref": "#/components/schemas/Findings"}, "The findings, possibly none."),
                        **_errors(400, 404),
                    },
                }
            },
            "/analyses/waiting": {
                "get": {
                    "summary": "Waiting times per trajectory: registration -> first assessment -> first treatment, in days.",
                    "description": "Nothing is written. The auditor's role only; access-logged per trajectory listed "
                    "(docs/analyses.md, Waiting times).",
                    "parameters": [
                        _param("trajectory", "Only this trajectory (404 when never opened).", {"type": "string"}),
                        _param("as_of", "As the dates up to this day give it, YYYY-MM-DD (default today).", _DATE),
                    ],
                    "responses": {
                        "200": _json({"$ref": "#/components/schemas/Waiting"}, "The waits, possibly none."),
                        **_errors(400, 404),
                    },
                }
            },
            "/analyses/regiobeeld": {
                "get": {
                    "summary": "Per region and care form: waiting, waits of the quarter, in care, complex need, volume.",
                    "description": "Nothing is written; counts only, naming no trajectory, so not access-logged. The "
                    "auditor's role only (docs/analyses.md, Regiobeeld).",
                    "parameters": [
                        _param("as_of", "The day the picture is of, YYYY-MM-DD.", _DATE, required=True),
                        _param(
                            "by",
                            "Comma-separated, any of region, care_form, group (default region,care_form).",
                            {"type": "string"},
                        ),
                    ],
                    "responses": {
                        "200": _json({"$ref": "#/components/schemas/Regiobeeld"}, "The regiobeeld."),
                        **_errors(400),
                    },
                }
            },
            "/analyses/whatif": {
                "get": {
                    "summary": "A period's issued declarations re-priced under an uplift or other loaded tariff tables.",
                    "description": "Nothing is written. Each line is priced again from its activity's recorded facts; "
                    "a line with no price under the alternative counts 0 and is listed. The auditor's role only; "
                    "access-logged per trajectory named among the unpriced lines (docs/analyses.md).",
                    "parameters": [
                        _param("month_from", "The first month, YYYY-MM.", {"type": "string"}, required=True),
                        _param(
                            "month_to",
                            "The last month, YYYY-MM; at most 36 months in all.",
                            {"type": "string"},
                            required=True,
                        ),
                        _param(
                            "uplift",
                            "A percentage -100..1000 with at most two decimals, e.g. 10 or 2.5: every "
                            "line's amount raised, per line half up to the cent. Exactly one of uplift and tariffs.",
                            {"type": "string", "pattern": "^[+-]?[0-9]{1,4}(\\.[0-9]{1,2})?$"},
                        ),
                        _param(
                            "tariffs",
                            "The label of a tariff table loaded in the ledger (repeatable, the last "
                            "winning), used instead of the tables in force.",
                            {"type": "string"},
                        ),
                        _param(
                            "shift_years",
                            "With tariffs: look rows up this many years (-10..10) from each date.",
                            {"type": "integer"},
                        ),
                        _param(
                            "by",
                            "month, insurer, provider, group, cluster, care_form (repeatable or "
                            "comma-separated; default all).",
                            {"type": "string"},
                        ),
                    ],
                    "responses": {
                        "200": _json({"$ref": "#/components/schemas/WhatIf"}, "The what-if (amounts in cents)."),
                        **_errors(400),
                    },
                }
            },
            "/analyses/dbc/{trajectory}": {
                "get": {
                    "summary": "What the DBC model (until 2021) would have billed for the trajectory's facts, "
                    "beside what the ledger declared, month by month.",
                    "description": "Nothing is written. The auditor's role only; access-logged naming the trajectory.",
                    "parameters": [_path("trajectory", "The trajectory number.")],
                    "responses": {
                        "200": _json({"$ref": "#/components/schemas/DbcComparison"}, "The comparison (cents)."),
                        **_errors(404),
                    },
                }
            },
            "/analyses/dbc": {
                "get": {
                    "summary": "The DBC comparison of every trajectory referred back in a month, and their sums.",
                    "description": "Nothing is written. The auditor's role only; one access-log row per trajectory.",
                    "parameters": [_param("month", "The month, YYYY-MM.", {"type": "string"}, required=True)],
                    "responses": {
                        "200": _json(
                            {
                                "type": "object",
                                "required": [
                                    "month",
                                    "trajectories",
                                    "complete",
                                    "dbc_total",
                                    "declared_total",
                                    "draft_total",
                                    "difference",
                                ],
                                "properties": {
                                    "month": {"type": "string"},
                                    "trajectories": {
                                        "type": "array",
                                        "items": {"$ref": "#/components/schemas/DbcComparison"},
                                    },
                                    "complete": {"type": "boolean"},
                                    "dbc_total": {"type": "integer"},
                                    "declared_total": {"type": "integer"},
                                    "draft_total": {"type": "integer"},
                                    "difference": {"type": ["integer", "null"]},
                                },
                            },
                            "The comparisons, in trajectory order.",
                        ),
                        **_errors(400),
                    },
                }
            },
            "/status": {
                "get": {
                    "summary": "The ledger's head and how far each read model has applied it (monitor the lag).",
                    "responses": {"200": _json({"$ref": "#/components/schemas/Status"}, "The positions."), **_errors()},
                }
            },
            "/openapi.json": {
                "get": {
                    "summary": "This document.",
                    "responses": {"200": _json({"type": "object"}, "OpenAPI 3.1."), **_errors()},
                }
            },
        },
        "components": {
            "schemas": schemas,
            "securitySchemes": {
                "bearer": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "Required on every request, loopback included: a named token of "
                    "`ggzledger token add NAME --role integrator|auditor|backoffice`. The integrator may read the "
                    "feed (personal fields null), the auditor everything but the feed, the back office everything but "
                    "the analyses (/analyses/…, the auditor's alone).",
                }
            },
        },
    }
