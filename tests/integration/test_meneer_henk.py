"""The seed's worked example, end to end on each store: four declarations exactly as expected."""

from __future__ import annotations

import json

from builders import HENK_EXPECTED, henk_lines, meneer_henk
from ggzledger import Ledger, ingest


def test_meneer_henk_gives_the_four_expected_declarations(ledger: Ledger) -> None:
    summary = meneer_henk(ledger)

    assert (summary.recorded, summary.unchanged, summary.refused) == (38, 0, 0)
    expected = json.loads(HENK_EXPECTED.read_text())
    for declaration in expected:
        got = ledger.declaration(declaration["trajectory"], declaration["month"])
        assert got is not None
        digest = got.pop("digest")
        assert len(digest) == 64
        assert got == declaration


def test_sending_the_whole_file_again_changes_nothing(ledger: Ledger) -> None:
    meneer_henk(ledger)
    before = [ledger.declaration("T-HENK", m) for m in ("2016-11", "2016-12", "2017-01", "2017-02")]
    head = ledger.projector.head()

    summary = ingest(ledger, henk_lines(), lambda n, m: None)

    assert (summary.recorded, summary.unchanged, summary.refused) == (0, 38, 0)
    assert ledger.projector.head() == head
    assert [ledger.declaration("T-HENK", m) for m in ("2016-11", "2016-12", "2017-01", "2017-02")] == before
