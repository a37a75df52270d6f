"""The zorgnota as a patient reads it: in Dutch only, whether issued or a draft."""

from __future__ import annotations

import json

import pytest

from builders import HENK_EXPECTED
from ggzledger.interfaces.text.declaration import render_declaration

# English words that once stood beside the Dutch on the nota's status line.
_ENGLISH = ("issued", "draft", "month not closed")


@pytest.mark.parametrize(("status", "shown"), [("issued", "verzonden"), ("draft", "concept")])
def test_the_status_line_speaks_dutch_only(status: str, shown: str) -> None:
    declaration = {**json.loads(HENK_EXPECTED.read_text("utf-8"))[-1], "status": status}
    heading = render_declaration(declaration).splitlines()[1]
    assert shown in heading
    assert not any(word in heading for word in _ENGLISH)
