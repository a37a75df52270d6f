"""Fixtures of the end-to-end tests: ledgers made as a user makes them, by the command line."""

from __future__ import annotations

from pathlib import Path

import pytest

from processes import run_cli


@pytest.fixture
def zpm_demo(tmp_path: Path) -> Path:
    """The ZPM demo ledger (`ggzledger demo zpm`: its patient has a test BSN and birth date), closed through 2024-11."""
    db = tmp_path / "demo.db"
    result = run_cli("--db", str(db), "demo", "zpm")
    assert result.returncode == 0, result.stderr
    return db
