"""What every command-line test checks of a finished run: no traceback, and a mistake is one `ggzledger:` line."""

from __future__ import annotations

import subprocess


def no_traceback(result: subprocess.CompletedProcess[str]) -> None:
    """Neither output shows a Python traceback."""
    assert "Traceback" not in (result.stderr or "") + (result.stdout or ""), result.stderr


def one_line(result: subprocess.CompletedProcess[str], status: int) -> str:
    """The run exited with STATUS, printed nothing, and said why in one ``ggzledger:`` line; that line."""
    no_traceback(result)
    assert result.returncode == status, result.stderr
    assert result.stdout == ""
    [line] = result.stderr.splitlines()
    assert line.startswith("ggzledger: ")
    return line
