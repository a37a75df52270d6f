"""`ggzledger dbc` and `dbc-tables` as a user runs them: the seed's comparison on the demo, JSON, the month,
the access log, and every mistake as one line."""

from __future__ import annotations

import json
import shlex
from pathlib import Path

import pytest

from cli import no_traceback, one_line
from doc_examples import DOCS, commands, same_output, sessions
from processes import run_cli


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("demo")
    no_traceback(run_cli("demo", cwd=folder))
    return folder / "ggzledger-demo.db"


def test_dbc_on_the_demo_prints_the_seeds_comparison(demo: Path) -> None:
    result = run_cli("--db", str(demo), "dbc", "T-HENK")

    no_traceback(result)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert (
        "DBC model: € 9.050,00 claimed on 21 February 2017, at the close of DBC 1"
        " (Depressie (3000-5999) € 7.850,00 + 3 stay days € 1.200,00)"
    ) in lines
    assert "Declared:  € 8.700,00 in 4 notas, 2016-11 through 2017-02" in lines
    assert any(line.startswith("total") and "€ 15.050,00" in line and "€ 6.350,00" in line for line in lines)
    assert any("15 of them were claimed month by month" in line for line in lines)


def test_dbc_json_and_the_month_agree(demo: Path) -> None:
    one = run_cli("--db", str(demo), "dbc", "T-HENK", "--json")
    month = run_cli("--db", str(demo), "dbc", "--month", "2017-02", "--json")
    text = run_cli("--db", str(demo), "dbc", "--month", "2017-02")
    empty = run_cli("--db", str(demo), "dbc", "--month", "2016-12")

    found = json.loads(one.stdout)
    assert (found["dbcs"][0]["closing_claim"], found["dbcs"][0]["claimed_on"]) == (905000, "2017-02-21")
    assert (found["declared_total"], len(found["declarations"]), found["dbc_total"]) == (870000, 4, 1505000)
    assert json.loads(month.stdout)["trajectories"] == [found]
    assert text.stdout.rstrip().endswith(
        "1 trajectory referred back in 2017-02: DBC model € 15.050,00, declared € 8.700,00, difference € 6.350,00"
    )
    assert empty.stdout == "no trajectory was referred back in 2016-12\n"


def test_every_dbc_read_is_in_the_access_log(demo: Path) -> None:
    run_cli("--db", str(demo), "dbc", "T-HENK")

    rows = json.loads(run_cli("--db", str(demo), "access-log", "--trajectory", "T-HENK", "--json").stdout)

    assert {"what": "dbc T-HENK", "trajectory": "T-HENK", "outcome": "allowed"}.items() <= rows[-1].items()


def test_dbc_tables_lists_the_demo_table_and_loads_a_table_once(demo: Path, tmp_path: Path) -> None:
    table = tmp_path / "dbc-2022.csv"
    table.write_text(
        "product,diagnosis_group,min_minutes,max_minutes,description,amount,valid_from,valid_to\n"
        "dbc,depressie,3000,5999,Depressie (3000-5999),800000,2022-01-01,2022-12-31\n"
    )
    db = tmp_path / "tables.db"

    listed = run_cli("--db", str(demo), "dbc-tables")
    loaded = run_cli("--db", str(db), "dbc-tables", "load", str(table), "--version", "dbc-2022")
    again = run_cli("--db", str(db), "dbc-tables", "load", str(table), "--version", "dbc-2022")

    assert "dbc-demo  depressie 3000-5999" in listed.stdout and "Verblijf" in listed.stdout
    assert loaded.stdout == "loaded DBC table dbc-2022: 1 row\n"
    assert again.stdout == "already loaded: DBC table dbc-2022: 1 row\n"
    assert "dbc-2022  depressie 3000-5999" in run_cli("--db", str(db), "dbc-tables").stdout


@pytest.mark.parametrize(
    ("args", "status", "says"),
    [
        (["dbc"], 2, "dbc needs a TRAJECTORY or --month YYYY-MM"),
        (["dbc", "T-HENK", "--month", "2017-02"], 2, "dbc needs a TRAJECTORY or --month YYYY-MM"),
        (["dbc", "--month", "2017-13"], 2, "'2017-13' is not a month YYYY-MM"),
        (["dbc", "T-NONE"], 1, "trajectory T-NONE was never opened"),
        (["dbc-tables", "load"], 2, "dbc-tables load needs FILE and --version LABEL"),
        (["dbc-tables", "load", "missing.csv", "--version", "x"], 2, "cannot read missing.csv"),
    ],
)
def test_a_mistake_is_one_line(demo: Path, args: list[str], status: int, says: str) -> None:
    assert says in one_line(run_cli("--db", str(demo), *args, cwd=demo.parent), status)


def test_a_bad_dbc_table_is_one_line_naming_the_line(demo: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "product,diagnosis_group,min_minutes,max_minutes,description,amount,valid_from,valid_to\n"
        "dbc,somber,1,100,Somber,100,2016-01-01,\n"
    )

    line = one_line(run_cli("--db", str(tmp_path / "t.db"), "dbc-tables", "load", str(bad), "--version", "v"), 2)

    assert line.startswith(f"ggzledger: {bad} line 2: diagnosis_group 'somber' is not a DBC diagnosis group")


def test_the_dbc_section_of_the_analyses_page_gives_the_output_shown(tmp_path: Path) -> None:
    # Only this section: the page's other sections are other analyses' (and their own tests').
    text = (DOCS / "analyses.md").read_text()
    start = text.index("## DBC comparison")
    end = text.find("\n## ", start + 1)
    section = tmp_path / "section.md"
    section.write_text(text[start : end if end != -1 else len(text)])
    assert run_cli("demo", cwd=tmp_path).returncode == 0
    ran = 0
    for kind, _name, body in sessions(section):
        if kind != "console":
            continue
        for command, expected in commands(body):
            result = run_cli(*shlex.split(command)[1:], cwd=tmp_path)
            got = result.stderr + result.stdout
            assert same_output(got, expected), f"$ {command}\n--- shown ---\n{expected}\n--- got ---\n{got}"
            ran += 1
    assert ran == 1
