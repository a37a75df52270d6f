"""ggzledger export gds801 as a user runs it: a real process on the ZPM demo ledger."""

from __future__ import annotations

import stat
import subprocess
import sys
from pathlib import Path

import pytest

from cli import no_traceback, one_line
from processes import cli_environment, run_cli


def export(db: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return run_cli("--db", str(db), "export", "gds801", "--insurer", "3311", *args)


def test_a_month_is_written_to_a_new_file_readable_by_its_owner_only(zpm_demo: Path, tmp_path: Path) -> None:
    out = tmp_path / "oktober.xml"
    result = export(zpm_demo, "--month", "2024-10", "--out", str(out))
    no_traceback(result)
    assert result.returncode == 0, result.stderr
    assert result.stdout == ""
    assert result.stderr.strip() == (
        f"message 12345678-202410-3311-1: 6 lines, total 737.30 EUR to insurer 3311, written to {out}"
    )
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    assert b"<Bedrag>737.30</Bedrag>" in out.read_bytes()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".oktober")] == []


def test_an_existing_file_is_never_overwritten(zpm_demo: Path, tmp_path: Path) -> None:
    out = tmp_path / "sent.xml"
    out.write_text("a message sent last week")
    line = one_line(export(zpm_demo, "--month", "2024-10", "--out", str(out)), 2)
    assert line == f"ggzledger: --out {out} exists: a written export is not overwritten; choose another name"
    assert out.read_text() == "a message sent last week"


def test_a_second_export_is_refused_and_again_writes_it_with_a_new_message_reference(zpm_demo: Path) -> None:
    assert export(zpm_demo, "--month", "2024-10").returncode == 0
    line = one_line(export(zpm_demo, "--month", "2024-10"), 1)
    assert "claimed from 12345678 to insurer 3311 before, as message 12345678-202410-3311-1" in line
    again = export(zpm_demo, "--month", "2024-10", "--again")
    assert again.returncode == 0, again.stderr
    assert "<Referentienummer>12345678-202410-3311-2</Referentienummer>" in again.stdout


def test_a_refused_message_names_each_rule_and_writes_nothing(zpm_demo: Path, tmp_path: Path) -> None:
    out = tmp_path / "nov.xml"
    result = export(zpm_demo, "--month", "2024-11", "--out", str(out))
    no_traceback(result)
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        "ggzledger: VC102: trajectory T-ZPM1, line A-06-C: takes back A-06 of 2024-10, a month not claimed to"
        " insurer 3311 yet: export 2024-10 first",
        "ggzledger: the message was not written: VECOZO would refuse it (1 rule broken)",
    ]
    assert not out.exists()


def test_the_export_is_in_the_access_log_as_a_read_of_the_patient(zpm_demo: Path) -> None:
    assert export(zpm_demo, "--month", "2024-10").returncode == 0
    log = run_cli("--db", str(zpm_demo), "access-log", "--trajectory", "T-ZPM1")
    assert "export gds801 2024-10 3311" in log.stdout


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["--month", "2024-13"], "--month"),
        (["--month", "2024-10", "--provider", "123"], "an AGB code must be 8 digits"),
        (["--month", "2024-12"], "month 2024-12 is not closed"),
    ],
)
def test_mistakes_are_one_line(zpm_demo: Path, args: list[str], said: str) -> None:
    result = export(zpm_demo, *args)
    no_traceback(result)
    assert result.returncode in (1, 2)
    assert said in result.stderr


def test_without_insurer_the_command_says_so(zpm_demo: Path) -> None:
    line = one_line(run_cli("--db", str(zpm_demo), "export", "gds801", "--month", "2024-10"), 2)
    assert "--insurer UZOVI" in line


def test_piped_into_head_it_stops_quietly_and_the_export_is_recorded(zpm_demo: Path) -> None:
    command = (
        f'"{sys.executable}" -m ggzledger --db "{zpm_demo}" export gds801 --insurer 3311 --month 2024-10 | head -n 2'
    )
    result = subprocess.run(["sh", "-c", command], capture_output=True, text=True, timeout=120, env=cli_environment())
    assert result.stdout.splitlines() == [
        "<?xml version='1.0' encoding='UTF-8'?>",
        '<Bericht xmlns="http://ei.vektis.nl/declaratiebericht573">',
    ]
    assert "Traceback" not in result.stderr
    assert "claimed from 12345678 to insurer 3311 before" in export(zpm_demo, "--month", "2024-10").stderr


def test_an_out_file_where_nothing_can_be_written_is_one_line_and_nothing_is_recorded(zpm_demo: Path) -> None:
    line = one_line(export(zpm_demo, "--month", "2024-10", "--out", "/proc/self/oktober.xml"), 2)
    assert line.startswith("ggzledger: --out /proc/self/oktober.xml: cannot write there: ")
    assert line.endswith("nothing was recorded")
    # Not recorded: the first real export is the first, not a second one needing --again.
    assert export(zpm_demo, "--month", "2024-10").returncode == 0
