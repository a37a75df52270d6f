"""The console sessions of a page in docs/: its blocks, their commands, and output compared as a reader would."""

from __future__ import annotations

import json
import re
from pathlib import Path

DOCS = Path(__file__).parents[1] / "docs"
_BLOCK = re.compile(r"(?:<!-- file: (?P<file>\S+) -->\n)?```(?P<lang>\w*)\n(?P<body>.*?)```", re.DOTALL)


def sessions(page: Path) -> list[tuple[str, str, str]]:
    """The page's blocks in order: ("file", name, content) or ("console", "", content)."""
    found = []
    for match in _BLOCK.finditer(page.read_text()):
        if match["file"]:
            found.append(("file", match["file"], match["body"]))
        elif match["lang"] == "console":
            found.append(("console", "", match["body"]))
    return found


def commands(console: str) -> list[tuple[str, str]]:
    """(command, expected output) pairs of a console block."""
    pairs: list[tuple[str, list[str]]] = []
    for line in console.splitlines():
        if line.startswith("$ "):
            pairs.append((line[2:], []))
        else:
            pairs[-1][1].append(line)
    return [(command, "\n".join(output)) for command, output in pairs]


# In a page's shown output, ``<hash>`` stands for a chain hash: it covers the events' timestamps,
# so it differs on every run.
_HASH = "<hash>"


def same_output(got: str, expected: str) -> bool:
    """Whether GOT is the output shown: JSON compared as JSON (key order and layout are free), else line by line."""
    if expected.lstrip().startswith(("{", "[")):
        return json.loads(got) == json.loads(expected)
    got_lines, shown = got.rstrip("\n").splitlines(), expected.rstrip("\n").splitlines()
    if len(got_lines) != len(shown):
        return False
    return all(
        re.fullmatch("[0-9a-f]{64}".join(map(re.escape, want.split(_HASH))), line) if _HASH in want else line == want
        for line, want in zip(got_lines, shown, strict=True)
    )
