"""A declaration's form-2 digest recomputed as an auditor would: from its JSON with hashlib and orjson alone."""

from __future__ import annotations

import hashlib
from typing import Any

import orjson


def form_2(declaration: dict[str, Any], provider: str, insurer: str) -> str:
    """The form-2 digest as docs/rules.md ("Digests and the event chain") spells it out, not by the code under test."""
    content = {
        "trajectory": declaration["trajectory"],
        "month": declaration["month"],
        "sequence": declaration["sequence"],
        "provider": provider,
        "insurer": insurer,
        "total": declaration["total"],
        "previously_declared": declaration["previously_declared"],
        "lines": [
            {k: line[k] for k in ("activity", "kind", "code", "date", "amount")} for line in declaration["lines"]
        ],
    }
    return hashlib.sha256(orjson.dumps(content, option=orjson.OPT_SORT_KEYS)).hexdigest()
