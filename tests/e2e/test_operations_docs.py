"""The console examples of docs/operations.md give the output shown (the PostgreSQL one needs the server)."""

from __future__ import annotations

import shlex
from pathlib import Path

from databases import postgres_or_skip
from doc_examples import DOCS, commands, same_output, sessions
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
