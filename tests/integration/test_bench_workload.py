"""The bench's synthetic year is accepted whole by the ledger, on each store."""

from __future__ import annotations

from ggzledger import Ledger, ingest
from ggzledger.bench.workload import workload


def test_ingesting_a_small_year_refuses_nothing(ledger: Ledger) -> None:
    refused: list[tuple[int, str]] = []

    summary = ingest(ledger, workload(3000, seed=5), lambda n, m: refused.append((n, m)), batch_size=250)

    assert refused == []
    assert (summary.recorded, summary.unchanged) == (3000, 0)
    assert ledger.projector.head() == 3000


def test_sending_the_year_again_records_nothing_new(ledger: Ledger) -> None:
    lines = list(workload(1500, seed=6))
    ingest(ledger, lines, lambda n, m: None)

    summary = ingest(ledger, lines, lambda n, m: None)

    assert (summary.recorded, summary.unchanged, summary.refused) == (0, 1500, 0)
