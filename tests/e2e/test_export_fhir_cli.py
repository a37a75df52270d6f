"""ggzledger export fhir as a user runs it: a real process on the ZPM demo ledger."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from cli import no_traceback, one_line
from fhir_bundles import problems, resources, validated
from processes import cli_environment, run_cli


def export(db: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return run_cli("--db", str(db), "export", "fhir", *args)


def test_a_month_is_written_to_a_new_file_readable_by_its_owner_only(zpm_demo: Path, tmp_path: Path) -> None:
    out = tmp_path / "oktober.json"
    result = export(zpm_demo, "--month", "2024-10", "--out", str(out))
    no_traceback(result)
    assert result.returncode == 0, result.stderr
    assert result.stdout == ""
    assert result.stderr.strip() == (
        f"bundle 2024-10: 1 invoice, 6 charge items, 1 claim, total 737.30 EUR, written to {out}"
    )
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    assert problems(out.read_bytes()) == []
    [invoice] = resources(validated(out.read_bytes()), "Invoice")
    assert str(invoice["totalNet"]["value"]) == "737.30"
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".oktober")] == []


def test_to_standard_output_it_is_the_same_bundle_and_can_be_written_again(zpm_demo: Path, tmp_path: Path) -> None:
    out = tmp_path / "november.json"
    assert export(zpm_demo, "--month", "2024-11", "--out", str(out)).returncode == 0
    first, second = export(zpm_demo, "--month", "2024-11"), export(zpm_demo, "--month", "2024-11")
    assert first.returncode == second.returncode == 0, first.stderr
    assert first.stdout == second.stdout == out.read_text()
    assert first.stderr.strip() == "bundle 2024-11: 1 invoice, 6 charge items, 1 claim, total 219.97 EUR"
    assert problems(first.stdout.encode(), ["A-06"]) == []


def test_an_existing_file_is_never_overwritten(zpm_demo: Path, tmp_path: Path) -> None:
    out = tmp_path / "sent.json"
    out.write_text("a bundle handed over last week")
    line = one_line(export(zpm_demo, "--month", "2024-10", "--out", str(out)), 2)
    assert line == f"ggzledger: --out {out} exists: a written export is not overwritten; choose another name"
    assert out.read_text() == "a bundle handed over last week"


def test_each_export_is_in_the_access_log_as_a_read_of_the_patient(zpm_demo: Path) -> None:
    assert export(zpm_demo, "--month", "2024-10").returncode == 0
    assert export(zpm_demo, "--month", "2024-11").returncode == 0
    log = run_cli("--db", str(zpm_demo), "access-log", "--trajectory", "T-ZPM1")
    assert log.returncode == 0, log.stderr
    rows = [line for line in log.stdout.splitlines() if "export fhir" in line]
    assert [row.split()[-1] for row in rows] == ["2024-10", "2024-11"]
    assert all("allowed" in row and "T-ZPM1" in row for row in rows)


def test_an_erased_patient_is_one_line_and_nothing_is_written(zpm_demo: Path, tmp_path: Path) -> None:
    erased = run_cli("--db", str(zpm_demo), "erase", "P-ZPM1", "--basis", "AVG17")
    assert erased.returncode == 0, erased.stderr
    out = tmp_path / "oktober.json"
    line = one_line(export(zpm_demo, "--month", "2024-10", "--out", str(out)), 1)
    assert line == (
        "ggzledger: month 2024-10 was not exported, a patient cannot be named:"
        " trajectory T-ZPM1: the patient's personal data was erased (AVG17)"
    )
    assert list(tmp_path.glob("*oktober*")) == []


@pytest.mark.parametrize(
    ("args", "status", "said"),
    [
        (["--month", "2024-13"], 2, "--month: '2024-13' is not a month YYYY-MM"),
        (["--month", "24-10"], 2, "--month: '24-10' is not a month YYYY-MM"),
        (["--month", "2024-12"], 1, "month 2024-12 is not closed"),
        (["--month", "2024-10", "--insurer", "3311"], 2, "export fhir takes no --insurer"),
        (["--month", "2024-10", "--again", "--test"], 2, "export fhir takes no --again, --test"),
    ],
)
def test_mistakes_are_one_line(zpm_demo: Path, args: list[str], status: int, said: str) -> None:
    result = export(zpm_demo, *args)
    no_traceback(result)
    assert result.returncode == status, result.stderr
    assert result.stdout == ""
    assert said in result.stderr.splitlines()[-1]


def test_without_month_the_command_says_so(zpm_demo: Path) -> None:
    result = export(zpm_demo)
    no_traceback(result)
    assert result.returncode == 2
    assert "--month" in result.stderr


def test_piped_into_head_it_stops_quietly(zpm_demo: Path) -> None:
    command = f'"{sys.executable}" -m ggzledger --db "{zpm_demo}" export fhir --month 2024-10 | head -n 2'
    result = subprocess.run(["sh", "-c", command], capture_output=True, text=True, timeout=120, env=cli_environment())
    assert result.returncode == 0
    assert result.stdout.splitlines() == ["{", '  "resourceType": "Bundle",']
    assert "Traceback" not in result.stderr


def test_a_reader_gone_before_the_bundle_is_written_is_not_an_error(zpm_demo: Path) -> None:
    reader, writer = os.pipe()
    os.close(reader)
    try:
        result = run_cli("--db", str(zpm_demo), "export", "fhir", "--month", "2024-10", stdout=writer)
    finally:
        os.close(writer)
    no_traceback(result)
    assert result.returncode == 0, result.stderr
