"""Months and trajectory numbers at the edge on the command line: one clear line and exit 2, never a traceback or a hang."""

from __future__ import annotations

from pathlib import Path

import pytest

from builders import HENK
from processes import run_cli


@pytest.fixture(scope="module")
def henk_db(tmp_path_factory: pytest.TempPathFactory) -> str:
    db = str(tmp_path_factory.mktemp("bounds") / "henk.db")
    assert run_cli("--db", db, "ingest", str(HENK)).returncode == 0
    return db


@pytest.mark.parametrize(
    "command",
    [
        ("invoices", "9999-12"),  # a draft would close 95,793 months first
        ("invoice", "T-HENK", "9999-12"),
        ("invoices", "2017-13"),
        ("invoices", "0000-01"),
    ],
)
def test_a_month_out_of_reach_is_one_line_and_exit_2(henk_db: str, command: tuple[str, ...], tmp_path: Path) -> None:
    done = run_cli("--db", henk_db, *command, cwd=tmp_path)
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
    assert done.stderr.startswith("ggzledger: ")


@pytest.mark.parametrize("trajectory", ["T\x01X", "T-\u202eKNEH", "T\u200bHENK", "", "T" * 65])
def test_a_trajectory_argument_follows_the_input_rule_for_ids(henk_db: str, trajectory: str, tmp_path: Path) -> None:
    # Before, a control character went to the terminal as it was, in "trajectory T\x01X was never opened".
    done = run_cli("--db", henk_db, "history", trajectory, cwd=tmp_path)
    assert done.returncode == 2, done.stderr
    assert done.stderr.startswith("ggzledger: argument TRAJECTORY: ")
    assert len(done.stderr.strip().splitlines()) == 1
    assert trajectory not in done.stderr or trajectory == ""
