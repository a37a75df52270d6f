"""ZPM declarations through a real ledger (zpm.md Z6, Z12): verified, reconstructed, rebuilt and totalled alike.

The worked example of zpm.md Z12 is ingested; its two declarations must be what the expected file
says, and every other way of computing them (verification's replay of the log, an audit's
reconstruction of one trajectory, a rebuild of the views, in this process or by child processes)
must give the same bodies and digests.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from builders import ZPM_EXAMPLE, ZPM_EXPECTED
from digests import form_2
from ggzledger import Ledger, ingest
from ggzledger.audit.reconstruction import audit
from ggzledger.audit.reports import totals
from ggzledger.audit.verification import verify
from ggzledger.interfaces.text.declaration import render_declaration
from rows import view_rows

MONTHS = ("2024-10", "2024-11")


def example(ledger: Ledger) -> None:
    refused: list[tuple[int, str]] = []
    ingest(ledger, ZPM_EXAMPLE.read_bytes().splitlines(), lambda n, m: refused.append((n, m)))
    assert [n for n, _ in refused] == [20, 21]


def declarations(ledger: Ledger) -> list[dict[str, Any]]:
    found = [ledger.declaration("T-ZPM1", month) for month in MONTHS]
    assert all(d is not None for d in found)
    return found  # type: ignore[return-value]


def cut(got: Any, want: Any) -> Any:
    """``got`` cut to what ``want`` names, into nested objects and lines."""
    if isinstance(want, dict) and isinstance(got, dict):
        return {key: cut(got.get(key), value) for key, value in want.items()}
    if isinstance(want, list) and isinstance(got, list) and len(want) == len(got):
        return [cut(g, w) for g, w in zip(got, want, strict=True)]
    return got


def test_the_worked_examples_declarations_are_the_expected_ones(ledger: Ledger) -> None:
    example(ledger)
    expected = json.loads(ZPM_EXPECTED.read_text())["declarations"]

    got = declarations(ledger)

    assert [cut(d, want) for d, want in zip(got, expected, strict=True)] == expected
    # Each digest is form 2 of the declaration's JSON (its credit line too), recomputed without the code under test.
    assert [d["digest"] for d in got] == [form_2(d, "12345678", "3311") for d in got]


def test_verification_and_reconstruction_recompute_the_zpm_declarations_and_digests(ledger: Ledger) -> None:
    example(ledger)

    checked = verify(ledger)

    assert checked.ok, checked.differences
    assert (checked.closes, checked.declarations) == (2, 2)
    for month in MONTHS:
        found = audit(ledger, "T-ZPM1", month)
        assert found.equal, found.differences
        assert found.reconstructed is not None and found.reconstructed.digest == found.recorded_digest


def test_a_rebuild_gives_the_same_declarations_and_views(ledger: Ledger) -> None:
    example(ledger)
    before, rows = declarations(ledger), view_rows(ledger)

    ledger.projector.rebuild()

    assert declarations(ledger) == before
    assert view_rows(ledger) == rows


def test_a_rebuild_by_child_processes_carries_the_zpm_facts(tmp_path: Path) -> None:
    ledger = Ledger(str(tmp_path / "ledger.db"))  # children prepare pages of SQLite ledgers only
    example(ledger)
    before, rows = declarations(ledger), view_rows(ledger)

    # Pages of 4 events: closes and ZPM facts fall in pages of both children.
    ledger.projector.rebuilder.second_process_from, ledger.projector.rebuilder.page_size = 1, 4
    ledger.projector.rebuild()

    assert declarations(ledger) == before
    assert view_rows(ledger) == rows
    ledger.close()


def test_totals_count_privacy_lines_under_privacy_and_break_down_by_setting_beroep_prestatie(ledger: Ledger) -> None:
    example(ledger)

    def rows(by: str) -> dict[str, int]:
        return dict(totals(ledger, by).rows)

    # October: type 3 in force from 8 October, so A-01 (1 October) is unclustered; November under privacy.
    assert rows("cluster") == {"3": 73730 - 16510, "unclustered": 16510, "privacy": 21997}
    assert rows("supercluster") == {"I": 73730 - 16510, "unclustered": 16510, "privacy": 21997}
    # Group units have no setting; the credit counts (negative) where its line does.
    assert rows("setting") == {"1": 73730 - 12230 + 16132 + 14531, "none": 3 * 1188}
    assert rows("prestatie") == {"consult": 73730 - 2255 - 12230 + 16132 + 14531, "overleg": 2255, "group": 3564}
    assert rows("beroep") == {
        "gz_psycholoog": 73730 - 16132 - 12230 + 3 * 1188 + 14531,
        "klinisch_psycholoog": 16132 + 16132,
    }
    assert sum(rows("month").values()) == 95727


def test_the_patients_nota_of_november_says_privacy_and_who_delivered_each_line(ledger: Ledger) -> None:
    example(ledger)
    november = ledger.declaration("T-ZPM1", "2024-11")
    assert november is not None

    rows = render_declaration(november).splitlines()

    assert "Privacyverklaring: ja" in rows
    assert max(len(row) for row in rows) <= 80
    assert sum("door 11111111 (gz_psycholoog)" in row for row in rows) == 5
