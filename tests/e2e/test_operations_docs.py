"""docs/operations.md holds: its console examples give the output shown (the PostgreSQL one needs the server),
its role and access-log tables are the server's rules."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

from databases import postgres_or_skip
from doc_examples import DOCS, commands, same_output, sessions
from ggzledger.interfaces.http_access import RULES
from ggzledger.service.tokens import ROLES
from processes import run_cli


def test_every_console_example_of_the_operations_page_gives_the_output_shown(tmp_path: Path) -> None:
    ran = 0
    for kind, _name, body in sessions(DOCS / "operations.md"):
        assert kind == "console"
        for command, expected in commands(body):
            words = shlex.split(command)
            if any(word.startswith("postgresql://") for word in words):
                postgres_or_skip()
            result = run_cli(*words[1:], cwd=tmp_path, env={"GGZLEDGER_TOKEN": ""})
            got = result.stderr + result.stdout
            assert same_output(got, expected), f"$ {command}\n--- shown ---\n{expected}\n--- got ---\n{got}"
            ran += 1
    assert ran == 4


def _table_after(heading: str) -> list[list[str]]:
    """The cells of the first table after ``heading`` in docs/operations.md, header and rule left out."""
    text = (DOCS / "operations.md").read_text()
    lines = text[text.index(heading) :].splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("|"))
    rows = []
    for line in lines[start + 2 :]:
        if not line.startswith("|"):
            break
        rows.append([cell.strip() for cell in line.strip("|").split("|")])
    return rows


def _paths(cell: str) -> set[str]:
    return set(re.findall(r"`(?:GET )?(/[^`?\[]*)", cell))


def test_the_role_table_of_the_docs_is_the_servers_rules() -> None:
    shown = {role.strip("`"): cell for role, cell in _table_after("### Tokens and roles")}

    assert set(shown) == set(ROLES)
    for role, cell in shown.items():
        allowed = {path for path, rule in RULES.items() if role in rule.roles}
        assert (allowed == set(RULES)) if cell.startswith("every endpoint") else (_paths(cell) == allowed), role


def test_the_access_log_table_of_the_docs_names_every_endpoint_that_reads_a_patients_data() -> None:
    logged = set().union(*(_paths(read) for read, _ in _table_after("### The access log")))
    as_rules = {
        path.replace("{trajectory}", "T").replace("{month}", "M") for path, rule in RULES.items() if rule.patient
    }

    assert logged == as_rules
