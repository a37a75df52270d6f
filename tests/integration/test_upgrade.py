"""A ledger written by ggzledger 0.1.0 (before the zorgprestatiemodel) opens, verifies and grows under this version.

``tests/data/ledger-0.1.0.db`` was written by the commit before this round's work (42e1b45): Meneer
Henk and 400 lines of the bench's cluster-model year, closed through January 2024. Its views are of
the old versions, so opening it rebuilds them; its closes must still give the digests they recorded.
"""

from __future__ import annotations

import json
import re
import shutil
import sqlite3
import subprocess
import sys
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


def test_the_old_ledger_is_chained_once_on_its_first_write_which_prints_the_anchor_verify_gave(old: str) -> None:
    before = run_cli("--db", old, "verify")
    anchor = before.stdout.splitlines()[-1]
    ingested = run_cli("--db", old, "ingest", str(ZPM_EXAMPLE))
    after = run_cli("--db", old, "verify", "--anchor", anchor.removeprefix("anchor ").replace(" ", ":"))
    again = run_cli("--db", old, "ingest", str(ZPM_EXAMPLE))

    # Before the write there is no chain to check, and verify says so; its anchor is the one the write stores.
    assert before.returncode == 0
    assert (
        "  note: the chain is not stored yet (a ledger recorded before it): the next write stores it" in before.stdout
    )
    assert re.fullmatch("anchor 525 [0-9a-f]{64}", anchor)
    assert f"the events recorded before the event chain existed are chained now: {anchor}" in ingested.stdout
    assert after.returncode == 0, after.stdout
    assert "1 anchor checked; the chain holds" in after.stdout and "note:" not in after.stdout
    assert "chained now" not in again.stdout


def test_two_writers_upgrading_the_old_ledger_at_once_make_one_chain(old: str, tmp_path: Path) -> None:
    inputs = []
    for name in ("a", "b"):
        lines = [line.replace('"T-ZPM1"', f'"T-ZPM1{name}"') for line in ZPM_EXAMPLE.read_text().splitlines()]
        lines = [line.replace('":"A-', f'":"{name}A-') for line in lines]  # activity ids are ledger-wide
        (tmp_path / f"{name}.jsonl").write_text("\n".join(lines) + "\n")
        inputs.append(str(tmp_path / f"{name}.jsonl"))
    writers = [
        subprocess.Popen(
            [sys.executable, "-m", "ggzledger", "--db", old, "ingest", path], stdout=subprocess.PIPE, text=True
        )
        for path in inputs
    ]
    told = [writer.communicate(timeout=120)[0] for writer in writers]

    verified = run_cli("--db", old, "verify")
    assert verified.returncode == 0, verified.stdout
    assert "note:" not in verified.stdout
    assert sum("chained now: anchor 525 " in out for out in told) == 1
    with sqlite3.connect(old) as connection:
        counts = connection.execute(
            "SELECT (SELECT COUNT(*) FROM stored_events), (SELECT COUNT(*) FROM ledger_chain),"
            " (SELECT MAX(rowid) FROM stored_events), (SELECT MAX(position) FROM ledger_chain)"
        ).fetchone()
    connection.close()
    assert counts[0] == counts[1] > 525 and counts[2] == counts[3]
