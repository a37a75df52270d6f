"""ggzledger whatif as a user runs it: on the demo ledgers, as text and JSON, and every mistake one line."""

from __future__ import annotations

import json
import shlex
from pathlib import Path

import pytest

from cli import no_traceback, one_line
from doc_examples import DOCS, commands, same_output, sessions
from processes import run_cli

TABLES = Path(__file__).parents[2] / "src" / "ggzledger" / "reference" / "data"


@pytest.fixture(scope="module")
def demos(tmp_path_factory: pytest.TempPathFactory) -> Path:
    where = tmp_path_factory.mktemp("demos")
    for scenario in ("henk", "zpm"):
        assert run_cli("demo", scenario, cwd=where).returncode == 0
    return where


def test_the_tables_in_force_give_back_meneer_henks_declarations(demos: Path) -> None:
    table = str(TABLES / "demo-2017.csv")
    result = run_cli("--db", "ggzledger-demo.db", "whatif", "--month-from", "2016-11", "--month-to", "2017-02",
                     "--tariffs", table, "--by", "insurer,month", cwd=demos)  # fmt: skip

    no_traceback(result)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "What-if 2016-11 through 2017-02: tariff tables demo-2017 instead of those in force"
    assert "  3311           € 8.700,00      € 8.700,00          € 0,00" in lines
    assert "  2016-11        € 3.800,00      € 3.800,00          € 0,00" in lines
    assert lines[-1] == "Every line has a price under the alternative."


def test_an_uplift_of_10_as_json_in_cents(demos: Path) -> None:
    result = run_cli("--db", "ggzledger-demo-zpm.db", "whatif", "--month-from", "2024-10", "--month-to", "2024-11",
                     "--uplift", "10", "--json", cwd=demos)  # fmt: skip

    assert result.returncode == 0, result.stderr
    body = json.loads(result.stdout)
    assert body["alternative"] == {"kind": "uplift", "percent": "10", "basis_points": 1000}
    assert (body["declared"], body["alternative_total"], body["difference"]) == (95727, 105300, 9573)
    assert list(body["by"]) == ["month", "insurer", "provider", "group", "cluster", "care_form"]
    assert body["unpriced"] == {"lines": 0, "activities": 0, "declared": 0, "items": []}


def test_unpriced_lines_are_listed_and_the_read_is_access_logged(demos: Path) -> None:
    result = run_cli("--db", "ggzledger-demo-zpm.db", "whatif", "--month-from", "2024-10", "--month-to", "2024-11",
                     "--tariffs", str(TABLES / "zpm-2025.csv"), "--by", "month", cwd=demos)  # fmt: skip

    assert result.returncode == 0, result.stderr
    assert (
        "12 lines (11 activities) have no price under the alternative: they count as € 0,00 in the what-if total"
        " (declared € 957,27)." in result.stdout
    )
    log = run_cli("--db", "ggzledger-demo-zpm.db", "access-log", "--json", cwd=demos)
    rows = [row for row in json.loads(log.stdout) if row["what"].startswith("whatif")]
    assert [(row["what"], row["trajectory"]) for row in rows] == [("whatif 2024-10 2024-11", "T-ZPM1")]


def test_a_contract_file_replaces_the_insurers_contract(demos: Path) -> None:
    contract = demos / "k80.jsonl"
    contract.write_text(
        '{"type":"contract_agreed","contract":"K-80","provider":"12345678","insurer":"3311",'
        '"valid_from":"2024-01-01","valid_to":"2024-12-31","percentage_bp":8000}\n'
    )
    result = run_cli("--db", "ggzledger-demo-zpm.db", "whatif", "--month-from", "2024-10", "--month-to", "2024-10",
                     "--contract", str(contract), "--json", cwd=demos)  # fmt: skip

    body = json.loads(result.stdout)
    assert body["alternative"] == {"kind": "contracts", "contracts": ["K-80"], "source": str(contract)}
    # October at 80% instead of 90% of the maximum, each line half up.
    assert body["alternative_total"] == sum((m * 8000 + 5000) // 10000 for m in (18344, 15970, 17924, 13589, 2505,
                                                                                    13589))  # fmt: skip


@pytest.mark.parametrize(
    ("words", "message"),
    [
        (["--month-from", "2024-10", "--month-to", "2024-11"], "one of the arguments --tariffs --uplift --contract"),
        (["--month-from", "2024-10", "--month-to", "2024-11", "--uplift", "5", "--tariffs", "x.csv"], "not allowed"),
        (["--month-from", "2024-11", "--month-to", "2024-10", "--uplift", "5"], "the period runs backwards"),
        (["--month-from", "2021-01", "--month-to", "2024-10", "--uplift", "5"], "at most 36"),
        (["--month-from", "2024-10", "--month-to", "2024-11", "--uplift", "2.555"], "uplift must be a percentage"),
        (["--month-from", "2024-10", "--month-to", "2024-11", "--uplift", "-101"], "uplift must be -100 to 1000"),
        (["--month-from", "2024-10", "--month-to", "2024-11", "--tariffs", "nope.csv"], "cannot read nope.csv"),
        (["--month-from", "2024-10", "--month-to", "2024-11", "--uplift", "5", "--shift-years", "1"], "--shift-years"),
        (["--month-from", "2024-10", "--month-to", "2024-11", "--uplift", "5", "--by", "patient"], "--by must be"),
        (["--month-from", "2024-10", "--month-to", "2024-11", "--contract", "ggzledger-demo.db"], "ggzledger-demo.db"),
    ],
)
def test_every_mistake_is_one_line_and_exit_2(demos: Path, words: list[str], message: str) -> None:
    line = one_line(run_cli("--db", "ggzledger-demo-zpm.db", "whatif", *words, cwd=demos), 2)
    assert message in line


def test_the_what_if_section_of_the_analyses_page_gives_the_output_shown(tmp_path: Path) -> None:
    # Only this section: the page's other sections are other analyses' (and their own tests').
    text = (DOCS / "analyses.md").read_text()
    start = text.index("## What-if tariffs")
    end = text.find("\n## ", start + 1)
    section = tmp_path / "section.md"
    section.write_text(text[start : end if end != -1 else len(text)])
    assert run_cli("demo", "zpm", cwd=tmp_path).returncode == 0
    ran = 0
    for kind, name, body in sessions(section):
        if kind == "file":
            (tmp_path / name).write_text(body)
            continue
        for command, expected in commands(body):
            words = shlex.split(command)
            result = run_cli(*words[1:], cwd=tmp_path)
            got = result.stderr + result.stdout
            assert same_output(got, expected), f"$ {command}\n--- shown ---\n{expected}\n--- got ---\n{got}"
            ran += 1
    assert ran == 3
