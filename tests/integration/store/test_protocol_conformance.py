"""Both adapters are LedgerRecorders as mypy sees them (test_recorder_contract.py holds them at run time)."""

from __future__ import annotations

from pathlib import Path

import pytest

from ggzledger.store import LedgerRecorder, SQLiteLedgerRecorder
from ggzledger.store.postgres_store import PostgresLedgerRecorder


def _adapters_as_the_rest_of_the_code_types_them(
    sqlite: SQLiteLedgerRecorder, postgres: PostgresLedgerRecorder
) -> list[LedgerRecorder]:
    """Never called: mypy rejects this module when an adapter no longer satisfies the protocol."""
    return [sqlite, postgres]


def test_mypy_finds_that_both_adapters_satisfy_the_protocol(request: pytest.FixtureRequest, tmp_path: Path) -> None:
    api = pytest.importorskip("mypy.api", reason="mypy is installed with the lint extra")
    # pytest's cache keeps mypy's between runs: a cold check of the library's modules takes seconds.
    store = getattr(request.config, "cache", None)  # absent under -p no:cacheprovider
    cache = store.mkdir("mypy") if store is not None else tmp_path

    report, errors, status = api.run(["--strict", "--no-error-summary", "--cache-dir", str(cache), __file__])

    assert status == 0, report + errors
