"""A ledger written by ggzledger 0.1.0 (before the zorgprestatiemodel) opens, verifies and grows under this version.

``tests/data/ledger-0.1.0.db`` was written by the commit before this round's work (42e1b45): Meneer
Henk and 400 lines of the bench's cluster-model year, closed through January 2024. Its views are of
the old versions, so opening it rebuilds them; its closes must still give the digests they recorded.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from builders import HENK_EXPECTED, ZPM_EXAMPLE
from cli import no_traceback
from processes import run_cli

OLD_LEDGER = Path(__file__).parents[1] / "data" / "ledger-0.1.0.db"


@pytest.fixture
def old(tmp_path: Path) -> str:
    copy = tmp_path / "ledger.db"
    shutil.copyfile(OLD_LEDGER, copy)
    return str(copy)


def test_every_close_of_the_old_ledger_verifies_and_henk_reads_as_issued(old: str) -> None:
    verified = run_cli("--db", old, "verify")

    assert verified.returncode == 0, verified.stdout + verified.stderr
    no_traceback(verified)
    assert "87 closes" in verified.stdout and "every digest matches" in verified.stdout
    for want in json.loads(HENK_EXPECTED.read_text()):
        shown = run_cli("--db", old, "invoice", "T-HENK", want["month"], "--json")
        got = json.loads(shown.stdout)
        got.pop("digest")
        assert got == want


def test_the_old_ledger_takes_zpm_records_and_still_verifies(old: str) -> None:
    ingested = run_cli("--db", old, "ingest", str(ZPM_EXAMPLE))
    # The worked example's own two refusals (zpm.md Z12), nothing else.
    assert [line.split(":")[0] for line in ingested.stderr.splitlines()] == ["line 20", "line 21"]

    verified = run_cli("--db", old, "verify")
    assert verified.returncode == 0, verified.stdout + verified.stderr
    november = json.loads(run_cli("--db", old, "invoice", "T-ZPM1", "2024-11", "--json").stdout)
    assert (november["total"], november["privacy"]) == (21997, True)
