"""The examples in docs/ run: every `$ ggzledger …` in a console block gives the output shown under it.

A fenced block right after a ``<!-- file: NAME -->`` comment is written to NAME first, in a fresh
directory per page, so a page reads top to bottom like a session. Output that is JSON is compared as
JSON (key order and layout are free); anything else line by line, standard error before standard
output (the order a terminal shows for ingest).
"""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path

import pytest

from builders import HENK
from doc_examples import DOCS, commands, same_output, sessions
from ggzledger import Ledger, ingest
from ggzledger.domain import BillingCalendar, trajectory_id
from ggzledger.store import TypedMapper
from processes import run_cli

# The pages whose console examples are sessions that start from an empty directory.
PAGES = ["overview.md", "input.md", "rules.md", "audit.md", "zpm.md"]


@pytest.mark.parametrize("page", PAGES)
def test_every_console_example_gives_the_output_shown(page: str, tmp_path: Path) -> None:
    ran = 0
    for kind, name, body in sessions(DOCS / page):
        if kind == "file":
            (tmp_path / name).write_text(body)
            continue
        for command, expected in commands(body):
            words = shlex.split(command)
            assert words[0] == "ggzledger", command
            result = run_cli(*words[1:], cwd=tmp_path)
            got = result.stderr + result.stdout
            assert same_output(got, expected), f"{page}: $ {command}\n--- shown ---\n{expected}\n--- got ---\n{got}"
            ran += 1
    assert ran > 0


def test_the_stored_event_example_in_events_md_is_what_the_ledger_stores(tmp_path: Path) -> None:
    page = (DOCS / "events.md").read_text()
    assert str(trajectory_id("T-HENK")) in page
    assert str(BillingCalendar.ID) in page
    shown = json.loads(re.search(r"```json\n(.*?)```", page, re.DOTALL)[1])  # type: ignore[index]

    ledger = Ledger(str(tmp_path / "henk.db"))
    try:
        ingest(ledger, HENK.read_bytes().splitlines(), lambda n, message: None)
        [event] = [e for e in ledger.events.get(trajectory_id("T-HENK")) if getattr(e, "activity", None) == "H-0215-C"]
    finally:
        ledger.close()
    stored = TypedMapper().to_stored_event(event)
    state = json.loads(stored.state)
    assert stored.topic == "ggzledger.Trajectory.ActivityDelivered"
    # The timestamp is the moment of recording; a sealed ledger keys the fingerprint with the patient's data key.
    varying = ("timestamp", "fingerprint")
    assert {k: v for k, v in state.items() if k not in varying} == {k: v for k, v in shown.items() if k not in varying}
    assert re.fullmatch(r"[0-9a-f]{32}", state["fingerprint"]) and state["fingerprint"] != shown["fingerprint"]
