"""The command line as users run it: real `python -m ggzledger` processes on SQLite files (contract.md)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from builders import HENK, HENK_EXPECTED, as_line, opened
from cli import one_line
from processes import run_cli, run_cli_on_a_terminal

HENK_LINES = HENK.read_text().splitlines()
# Two records the ledger refuses; after the 38 good lines and a blank one they are lines 40 and 41.
BAD_LINES = [
    as_line(opened("T-HENK", patient="P-OTHER")),
    '{"type": ["assessed"]}',
]


@pytest.fixture
def henk_file(tmp_path: Path) -> Path:
    path = tmp_path / "henk-with-errors.jsonl"
    path.write_text("\n".join([*HENK_LINES, "", *BAD_LINES]) + "\n")
    return path


def test_ingest_reads_a_file_and_stdin_and_is_safe_to_repeat(tmp_path: Path, henk_file: Path) -> None:
    db = str(tmp_path / "ledger.db")

    # --db before the subcommand; a file with a blank line and two bad records.
    first = run_cli("--db", db, "ingest", str(henk_file))
    assert (first.returncode, first.stdout) == (1, "recorded 38, unchanged 0, refused 2\n")
    messages = first.stderr.splitlines()
    assert messages[0] == "line 40: trajectory T-HENK is already opened, with other content"
    assert messages[1].startswith('line 41: unknown type ["assessed"] (types: trajectory_opened, ')
    assert len(messages) == 2

    # --db after the subcommand, the same lines on standard input: every good line is a repeat.
    again = run_cli("ingest", "-", "--db", db, input=henk_file.read_bytes())
    assert (again.returncode, again.stdout) == (1, "recorded 0, unchanged 38, refused 2\n")
    assert again.stderr == first.stderr

    clean = run_cli("ingest", "-", "--db", db, input=HENK.read_bytes())
    assert (clean.returncode, clean.stdout, clean.stderr) == (0, "recorded 0, unchanged 38, refused 0\n", "")


def test_the_store_comes_from_ggzledger_db_or_the_default_file(tmp_path: Path) -> None:
    from_env = tmp_path / "from-env.db"
    result = run_cli("ingest", str(HENK), env={"GGZLEDGER_DB": str(from_env)}, cwd=tmp_path)
    assert (result.returncode, result.stdout) == (0, "recorded 38, unchanged 0, refused 0\n")
    assert from_env.exists() and not (tmp_path / "ggzledger.db").exists()

    workdir = tmp_path / "work"
    workdir.mkdir()
    result = run_cli("ingest", str(HENK), cwd=workdir)
    assert (result.returncode, result.stdout) == (0, "recorded 38, unchanged 0, refused 0\n")
    assert (workdir / "ggzledger.db").exists()

    # --db wins over GGZLEDGER_DB.
    result = run_cli(
        "invoices", "2016-11", "--json", "--db", str(from_env), env={"GGZLEDGER_DB": str(tmp_path / "other.db")}
    )
    assert [d["sequence"] for d in json.loads(result.stdout)] == [1]


def test_demo_prints_the_seeds_february_zorgnota(tmp_path: Path) -> None:
    result = run_cli("demo", cwd=tmp_path)

    assert result.returncode == 0, result.stderr
    for text in (
        "volgnummer 4",
        "Psychische aandoening ernstig",
        "1 november 2016",
        "21 februari 2017",
        "€ 7.400,00",
        "€ 1.300,00",
        "1 mei 2017",
    ):
        assert text in result.stdout
    assert (tmp_path / "ggzledger-demo.db").exists()
    assert result.stderr == ""


def test_demo_zpm_prints_the_zpm_examples_november_zorgnota_under_privacy(tmp_path: Path) -> None:
    result = run_cli("demo", "zpm", cwd=tmp_path)

    assert result.returncode == 0, result.stderr
    # zpm.md Z12: twenty records, two refused on purpose, November's nota of € 219,97 under privacy.
    assert "recorded 20, unchanged 0, refused 2" in result.stdout
    assert "  line 20: activity A-09: a consult of 3 minutes is under 5 minutes" in result.stdout
    assert "  line 21: activity A-10: code CO0432 is consult diagnostiek vanaf 45 min" in result.stdout
    assert result.stderr == ""
    for text in (
        "volgnummer 2",
        "Privacyverklaring: ja",
        "Regiebehandelaar      11111111 (gz_psycholoog)",
        "€ 219,97",
        "€ 737,30",
        "€ 957,27",
        "door 22222222 (klinisch_psycholoog), 45 minuten",
    ):
        assert text in result.stdout
    assert "Zorgvraagtype" not in result.stdout
    assert (tmp_path / "ggzledger-demo-zpm.db").exists()
    assert not (tmp_path / "ggzledger-demo.db").exists()


@pytest.fixture
def henk_db(tmp_path: Path) -> str:
    db = str(tmp_path / "henk.db")
    result = run_cli("--db", db, "ingest", str(HENK))
    assert result.returncode == 0, result.stderr
    return db


def test_invoice_json_is_the_expected_declaration(henk_db: str) -> None:
    expected = {d["month"]: d for d in json.loads(HENK_EXPECTED.read_text())}

    result = run_cli("invoice", "T-HENK", "2017-02", "--json", "--db", henk_db)
    assert result.returncode == 0, result.stderr
    got = json.loads(result.stdout)
    assert len(got.pop("digest")) == 64
    assert got == expected["2017-02"]

    every = json.loads(run_cli("--db", henk_db, "invoices", "2016-12", "--json").stdout)
    assert [{k: v for k, v in d.items() if k != "digest"} for d in every] == [expected["2016-12"]]


def test_invoice_without_a_declaration_or_trajectory_exits_with_one_clear_line(henk_db: str) -> None:
    missing = run_cli("--db", henk_db, "invoice", "T-HENK", "2016-10")
    assert (missing.returncode, missing.stdout) == (1, "")
    assert missing.stderr == "ggzledger: trajectory T-HENK has no declaration for 2016-10\n"

    unknown = run_cli("--db", henk_db, "invoice", "T-NOBODY", "2017-02")
    assert one_line(unknown, 1) == "ggzledger: trajectory T-NOBODY was never opened"


def test_close_prints_each_close_and_refuses_a_closed_month(tmp_path: Path) -> None:
    db = str(tmp_path / "ledger.db")
    without_close = "\n".join(line for line in HENK_LINES if '"month_closed"' not in line) + "\n"
    assert run_cli("--db", db, "ingest", "-", input=without_close.encode()).returncode == 0

    result = run_cli("--db", db, "close", "2017-01")
    # Henk's November: 6 consults and 8 stay days; December: 4 consults and 7 stay days; January: 4 consults.
    assert (result.returncode, result.stderr) == (0, "")
    assert result.stdout.splitlines()[:3] == [
        "2016-11: 1 declaration, total € 3.800,00",
        "2016-12: 1 declaration, total € 3.200,00",
        "2017-01: 1 declaration, total € 400,00",
    ]
    # Then the chain's head at each close's own event (three events, recorded together after 38).
    anchors = result.stdout.splitlines()[3:]
    assert [re.sub("[0-9a-f]{64}", "H", line) for line in anchors] == [
        f"anchor {position} H  # close of {month}"
        for position, month in ((39, "2016-11"), (40, "2016-12"), (41, "2017-01"))
    ]

    again = run_cli("close", "2016-12", "--db", db)
    assert one_line(again, 1) == "ggzledger: month 2016-12 is closed already"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("ingest", "/nonexistent/input.jsonl"), "ggzledger: cannot read /nonexistent/input.jsonl: No such file or directory"),
        (("--db", "mysql://user@host/db", "invoices", "2017-02"),
         "ggzledger: unsupported database 'mysql://user@host/db': give a SQLite file path or a postgresql:// URL"),
        (("--db", "postgresql://postgres@127.0.0.1:5432", "invoices", "2017-02"),
         "ggzledger: database URL 'postgresql://postgres@127.0.0.1:5432' names no database "
         "(postgresql://USER@HOST:PORT/DBNAME)"),
    ],
    ids=["missing input file", "unsupported URL", "URL without a database"],
)  # fmt: skip
def test_a_bad_file_or_database_gives_one_line_and_no_traceback(
    tmp_path: Path, args: tuple[str, ...], message: str
) -> None:
    assert one_line(run_cli(*args, cwd=tmp_path), 2) == message


def test_a_byte_order_mark_before_the_first_line_is_not_data(tmp_path: Path) -> None:
    source = tmp_path / "with-bom.jsonl"
    source.write_bytes(b"\xef\xbb\xbf" + HENK.read_bytes())
    result = run_cli("--db", str(tmp_path / "bom.db"), "ingest", str(source))
    assert (result.returncode, result.stdout, result.stderr) == (0, "recorded 38, unchanged 0, refused 0\n", "")


@pytest.mark.parametrize(
    ("command", "label"),
    [(("ingest", str(HENK)), b"ingest:"), (("verify",), b"verify:"), (("close", "2017-03"), b"catching up:")],
)
def test_long_work_shows_a_progress_bar_on_a_terminal_and_none_in_a_pipe(
    tmp_path: Path, command: tuple[str, ...], label: bytes
) -> None:
    # README: ingest, close (its catch-up) and verify show a bar when standard error is a terminal.
    on_terminal, piped = str(tmp_path / "terminal.db"), str(tmp_path / "piped.db")
    if command[0] != "ingest":
        for db in (on_terminal, piped):
            assert run_cli("--db", db, "ingest", str(HENK)).returncode == 0
    result, shown = run_cli_on_a_terminal("--db", on_terminal, *command)
    assert result.returncode == 0
    assert label in shown
    assert label.decode() not in run_cli("--db", piped, *command).stderr
