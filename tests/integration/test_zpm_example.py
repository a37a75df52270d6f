"""The zorgprestatiemodel's worked example (zpm.md Z12), end to end on each store: exactly the expected result.

The expected file was worked out by hand from the spec (prices at 90% of the NZa maximum, half up);
each declaration is compared on every field the expected file names, line by line.
"""

from __future__ import annotations

import json
from typing import Any

from builders import ZPM_EXAMPLE, ZPM_EXPECTED
from ggzledger import Ledger, ingest
from ggzledger.audit.findings import findings


def _record(ledger: Ledger) -> tuple[Any, list[tuple[int, str]]]:
    refused: list[tuple[int, str]] = []
    summary = ingest(ledger, ZPM_EXAMPLE.read_bytes().splitlines(), lambda n, m: refused.append((n, m)))
    return summary, refused


def _shown(got: dict[str, Any], expected: dict[str, Any]) -> dict[str, Any]:
    """``got`` cut to the fields ``expected`` names, nested objects and lines included."""
    shown: dict[str, Any] = {}
    for key, value in expected.items():
        assert key in got, f"{key!r} is missing from {sorted(got)}"
        if key == "lines":
            assert len(got[key]) == len(value), [line["activity"] for line in got[key]]
            shown[key] = [_shown(line, want) for line, want in zip(got[key], value, strict=True)]
        elif isinstance(value, dict) and isinstance(got[key], dict):
            shown[key] = _shown(got[key], value)
        else:
            shown[key] = got[key]
    return shown


def test_the_worked_example_gives_exactly_the_expected_ingest_declarations_and_findings(ledger: Ledger) -> None:
    expected = json.loads(ZPM_EXPECTED.read_text())

    summary, refused = _record(ledger)

    ingested = expected["ingest"]
    assert (summary.recorded, summary.unchanged, summary.refused) == (
        ingested["recorded"],
        ingested["unchanged"],
        ingested["refused"],
    )
    assert [number for number, _ in refused] == ingested["refused_lines"]
    for want in expected["declarations"]:
        got = ledger.declaration(want["trajectory"], want["month"])
        assert got is not None, want["month"]
        assert _shown(got, want) == want
    assert findings(ledger) == expected["findings"]


def test_the_refusals_say_what_zpm_md_z12_says(ledger: Ledger) -> None:
    _, refused = _record(ledger)

    assert refused == [
        (20, "activity A-09: a consult of 3 minutes is under 5 minutes and cannot be declared"),
        (21, "activity A-10: code CO0432 is consult diagnostiek vanaf 45 min; 30 minutes give CO0302"),
    ]


def test_prices_follow_the_contract_and_the_maxima_are_kept(ledger: Ledger) -> None:
    # At NZa maxima the same care costs 81921 in October and 24441 in November (zpm.md Z12);
    # the declarations keep each line's maximum beside its contract price.
    _record(ledger)

    october = ledger.declaration("T-ZPM1", "2024-10")
    november = ledger.declaration("T-ZPM1", "2024-11")
    assert october is not None and november is not None
    assert sum(line["max_amount"] for line in october["lines"]) == 81921
    assert sum(line["max_amount"] * (1 if line["kind"] == "debit" else -1) for line in november["lines"]) == 24441
    assert {line["price_basis"] for line in october["lines"] + november["lines"]} == {"contract:K-3311-2024"}
    assert november["previously_declared"] + november["total"] == 95727
