"""The Python examples of docs/feed.md run as written, on a real ledger, and do what the page says they do."""

from __future__ import annotations

import re
from collections.abc import Iterator
from importlib.resources import files
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from builders import meneer_henk
from ggzledger import Ledger
from ggzledger.feed.public import TYPES, Feed, schema

PAGE = Path(__file__).parents[2] / "docs" / "feed.md"
EXAMPLES = re.findall(r"```python\n(.*?)```", PAGE.read_text(), re.DOTALL)


def example(defining: str) -> str:
    """The one Python example of the page that assigns ``defining``."""
    [found] = [code for code in EXAMPLES if re.search(rf"^\s*(for )?{defining}\b", code, re.MULTILINE)]
    return found


@pytest.fixture
def henk_in_the_working_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A working folder whose ``ggzledger.db`` holds Meneer Henk, as the page's example opens it."""
    ledger = Ledger(str(tmp_path / "ggzledger.db"))
    try:
        meneer_henk(ledger)
    finally:
        ledger.close()
    monkeypatch.chdir(tmp_path)
    yield tmp_path


def run(code: str) -> dict[str, Any]:
    """The names an example leaves behind after running it as a script would."""
    names: dict[str, Any] = {"__name__": "__feed_example__"}
    exec(compile(code, f"{PAGE}:example", "exec"), names)
    return names


def test_the_page_has_its_two_python_examples() -> None:
    # Without this, a renamed variable would leave the tests below with nothing to find.
    assert len(EXAMPLES) == 2, EXAMPLES


def test_the_feed_example_reads_every_public_event_as_line_dicts(henk_in_the_working_folder: Path) -> None:
    names = run(example("page"))
    ledger: Ledger = names["ledger"]
    try:
        page, last = names["page"], names["line"]
        # "list of line dicts, as above": each line is a valid line of its public type, in position order.
        assert isinstance(page, list) and page
        for line in page:
            jsonschema.Draft202012Validator(schema(line["type"])).validate(line)
        assert [line["position"] for line in page] == sorted({line["position"] for line in page})
        assert {line["type"] for line in page} <= set(TYPES)
        # Henk's ledger is under a thousand events: the first page is all of it, and `lines` walked all of it.
        assert page == list(Feed(ledger.recorder, ledger.mapper).lines(after=0))
        assert last == page[-1]
        assert last["type"] == "month_closed"
    finally:
        ledger.close()


def test_the_schema_example_gives_the_shipped_schema_of_every_line_type() -> None:
    names = run(example("document"))
    assert names["document"] == schema(TYPES[-1])
    shipped = files("ggzledger.feed") / "schemas"
    for kind in names["TYPES"]:
        document = schema(kind)
        # "the parsed schema of that line type", as shipped in ggzledger/feed/schemas/<type>.v1.json.
        assert document["$schema"] == "https://json-schema.org/draft/2020-12/schema"
        assert (shipped / f"{kind}.v1.json").is_file()
        assert document["properties"]["type"]["const"] == kind
