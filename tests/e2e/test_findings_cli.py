"""`ggzledger findings` as users run it: a real SQLite ledger, the real command line in a subprocess."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from builders import ZPM_EXAMPLE, as_line
from cli import no_traceback, one_line
from processes import run_cli

OPENED = {
    "type": "trajectory_opened",
    "trajectory": "T-CARA",
    "patient": "P-CARA",
    "provider": "12345678",
    "insurer": "3311",
    "date": "2024-03-01",
    "referral_type": "01",
    "referral_date": "2024-02-20",
}
REGIE = {"practitioner": "11111111", "beroep": "gz_psycholoog"}


def consult(activity: str, on: str, start: str, kind: str = "behandeling", **extra: Any) -> dict[str, Any]:
    return {
        "type": "activity_delivered",
        "trajectory": "T-CARA",
        "activity": activity,
        "date": on,
        "prestatie": "consult",
        "consult_type": kind,
        "setting": 1,
        "minutes": 45,
        "start": start,
        **REGIE,
        **extra,
    }


# A referral of type 01 without the referrer's AGB, no typing, and two consults 30 minutes apart.
CARA = [
    OPENED,
    {"type": "regiebehandelaar_assigned", "trajectory": "T-CARA", "date": "2024-03-01", **REGIE},
    consult("C-01", "2024-03-04", "10:00", "diagnostiek", minutes=60),
    consult("C-02", "2024-03-11", "10:00"),
    consult("C-03", "2024-03-11", "11:15"),
]


def ok(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 0, (result.stdout, result.stderr)
    no_traceback(result)
    return result.stdout


@pytest.fixture
def db(tmp_path: Path) -> str:
    source = tmp_path / "care.jsonl"
    source.write_text("".join(as_line(record) + "\n" for record in CARA) + ZPM_EXAMPLE.read_text())
    path = str(tmp_path / "ledger.db")
    result = run_cli("--db", path, "ingest", str(source))
    no_traceback(result)
    # The worked example's two refusals on standard error (zpm.md Z12), the summary on standard output.
    assert [line.split(":")[0] for line in result.stderr.splitlines()] == ["line 25", "line 26"], result.stderr
    assert result.stdout.splitlines()[-1] == "recorded 25, unchanged 0, refused 2", result.stdout
    return path


def test_findings_lists_each_finding_on_its_line_with_a_count_and_exits_0(db: str) -> None:
    shown = ok(run_cli("--db", db, "findings")).splitlines()

    assert shown[-1] == "7 findings"
    found = [[*line.split("  ")[:4], line.split("  ")[4].split(":")[0]] for line in shown[:-1]]
    assert found == [
        ["T-CARA", "2024-03-04", "C-01", "CO0562", "referrer_agb_missing"],
        ["T-CARA", "2024-03-11", "C-02", "CO0497", "consecutive_consults"],
        ["T-CARA", "2024-03-11", "C-02", "CO0497", "referrer_agb_missing"],
        ["T-CARA", "2024-03-11", "C-02", "CO0497", "zorgvraagtype_missing"],
        ["T-CARA", "2024-03-11", "C-03", "CO0497", "consecutive_consults"],
        ["T-CARA", "2024-03-11", "C-03", "CO0497", "referrer_agb_missing"],
        ["T-CARA", "2024-03-11", "C-03", "CO0497", "zorgvraagtype_missing"],
    ]


def test_the_worked_example_has_no_findings_and_the_filters_keep_a_trajectorys_lines_of_a_month(db: str) -> None:
    assert ok(run_cli("--db", db, "findings", "--trajectory", "T-ZPM1")) == "0 findings\n"
    rows = json.loads(ok(run_cli("--db", db, "findings", "--trajectory", "T-CARA", "--month", "2024-03", "--json")))
    assert len(rows) == 7
    assert set(rows[0]) == {"trajectory", "activity", "date", "code", "finding", "detail"}
    assert json.loads(ok(run_cli("--db", db, "findings", "--month", "2024-10", "--json"))) == []


def test_an_unknown_trajectory_or_a_bad_month_is_one_line(db: str) -> None:
    assert one_line(run_cli("--db", db, "findings", "--trajectory", "T-NONE"), 1) == (
        "ggzledger: trajectory T-NONE was never opened"
    )
    line = one_line(run_cli("--db", db, "findings", "--month", "2024-13"), 2)
    assert "'2024-13' is not a month YYYY-MM" in line
