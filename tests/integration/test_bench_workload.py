"""The bench's synthetic year is accepted whole by the ledger that holds the bench's own table, on each store."""

from __future__ import annotations

import pytest

from ggzledger import Ledger, ingest
from ggzledger.bench.workload import workload
from ggzledger.bench.zpm_care import BENCH_TABLE, bench_table


@pytest.fixture(autouse=True)
def _bench_table(ledger: Ledger) -> None:
    ledger.load_tariff_table(bench_table(), BENCH_TABLE)


def test_ingesting_a_small_year_refuses_nothing(ledger: Ledger) -> None:
    refused: list[tuple[int, str]] = []

    summary = ingest(ledger, workload(3000, seed=5), lambda n, m: refused.append((n, m)), batch_size=250)

    assert refused == []
    assert (summary.recorded, summary.unchanged) == (3000, 0)
    # One event per line, and the contract book's creation.
    assert ledger.projector.head() == 3001


def test_sending_the_year_again_records_nothing_new(ledger: Ledger) -> None:
    lines = list(workload(1500, seed=6))
    ingest(ledger, lines, lambda n, m: None)

    summary = ingest(ledger, lines, lambda n, m: None)

    assert (summary.recorded, summary.unchanged, summary.refused) == (0, 1500, 0)
