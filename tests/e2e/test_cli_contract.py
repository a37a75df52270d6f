"""Every command, run as people mistype it: --help, no arguments, a closed stdout, a --db that is no ledger.

Each run is a real ``python -m ggzledger`` process; none may show a traceback, and each exits with the
status docs/operations.md documents (0 done, 1 refused or differs, 2 a usage or store mistake).
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from builders import HENK
from cli import no_traceback, one_line
from processes import run_cli

# Each command with arguments that make it do its work on Henk's ledger (bench and serve: see below).
WORK = {
    "demo": (),
    "ingest": (str(HENK),),
    "close": ("2017-02",),
    "invoice": ("T-HENK", "2017-02"),
    "invoices": ("2017-02",),
    "tariffs": (),
    "history": ("T-HENK",),
    "reviews": ("--as-of", "2017-02-20"),
    "totals": (),
    "audit": ("T-HENK", "2017-02"),
    "verify": (),
    "rebuild": (),
    "feed": (),
    "project": (),
    "token": ("list",),
    "access-log": (),
}
# Without arguments: a command that needs one says so (2); a read finds no ledger in an empty directory (2);
# demo makes its own. bench would run its full workload and serve would listen: they are left out here.
NO_ARGUMENTS = {
    "demo": 0, "ingest": 2, "close": 2, "invoice": 2, "invoices": 2, "tariffs": 2, "history": 2,
    "reviews": 2, "totals": 2, "audit": 2, "verify": 2, "rebuild": 2, "feed": 2, "project": 2, "token": 2,
    "access-log": 2,
}  # fmt: skip
COMMANDS = [*WORK, "bench", "serve"]


@pytest.fixture(scope="module")
def henk_db(tmp_path_factory: pytest.TempPathFactory) -> str:
    db = str(tmp_path_factory.mktemp("henk") / "henk.db")
    assert run_cli("--db", db, "ingest", str(HENK)).returncode == 0
    return db


def test_ggzledger_alone_prints_the_help_and_version_prints_the_version() -> None:
    alone = run_cli()
    assert (alone.returncode, alone.stderr) == (0, "")
    assert alone.stdout.startswith("usage: ggzledger") and "examples:" in alone.stdout
    version = run_cli("--version")
    assert version.returncode == 0 and version.stdout.startswith("ggzledger ")


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_help_with_examples_and_formats(command: str) -> None:
    result = run_cli(command, "--help")
    no_traceback(result)
    assert (result.returncode, result.stderr) == (0, "")
    assert "examples:\n  ggzledger" in result.stdout or "examples:\n  " in result.stdout
    if " MONTH" in result.stdout.splitlines()[0]:
        assert "YYYY-MM" in result.stdout


@pytest.mark.parametrize(("command", "status"), NO_ARGUMENTS.items())
def test_every_command_without_arguments_exits_as_documented(command: str, status: int, tmp_path: Path) -> None:
    result = run_cli(command, cwd=tmp_path)
    no_traceback(result)
    assert result.returncode == status, result.stderr
    if status == 2:
        one_line(result, 2)
    # A read never leaves a ledger behind: only demo (its own file) made one.
    assert not (tmp_path / "ggzledger.db").exists()


def closed_stdout(*args: str) -> subprocess.CompletedProcess[str]:
    """Run ggzledger with a standard output whose reader has gone (``| head`` after its lines)."""
    reader, writer = os.pipe()
    os.close(reader)
    try:
        return run_cli(*args, stdout=writer)
    finally:
        os.close(writer)


@pytest.mark.parametrize("command", [c for c in WORK if c not in ("demo", "ingest", "close")])
def test_a_reader_that_went_away_is_no_error(command: str, henk_db: str) -> None:
    result = closed_stdout("--db", henk_db, command, *WORK[command])
    assert (result.returncode, result.stderr) == (0, "")


def test_a_close_into_a_closed_pipe_closes_and_exits_0(tmp_path: Path) -> None:
    db = str(tmp_path / "open.db")
    without_closes = "\n".join(line for line in HENK.read_text().splitlines() if "month_closed" not in line)
    assert run_cli("--db", db, "ingest", "-", input=without_closes.encode()).returncode == 0

    result = closed_stdout("--db", db, "close", "2017-02")

    assert (result.returncode, result.stderr) == (0, "")
    assert run_cli("--db", db, "invoice", "T-HENK", "2017-02", "--json").stdout.count('"issued"') == 1


@pytest.mark.parametrize("command", [*WORK, "bench", "serve"])
def test_a_db_that_is_not_sqlite_is_one_line_naming_it(command: str, tmp_path: Path) -> None:
    not_a_ledger = tmp_path / "events.jsonl"
    not_a_ledger.write_bytes(HENK.read_bytes())

    result = run_cli("--db", str(not_a_ledger), command, *WORK.get(command, ()), cwd=tmp_path)

    assert one_line(result, 2) == f"ggzledger: {not_a_ledger} is not a SQLite database: is --db naming the right file?"
    assert not_a_ledger.read_bytes() == HENK.read_bytes()
