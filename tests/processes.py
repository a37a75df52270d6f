"""The CLI as a real subprocess: run to the end, or started to run beside the test."""

from __future__ import annotations

import atexit
import base64
import fcntl
import os
import pty
import shutil
import struct
import subprocess
import sys
import tempfile
import termios
from pathlib import Path


def _test_kek_file() -> str:
    """A KEK file for the whole run, as production gives one (docs/operations.md, "Keys"); removed at exit."""
    folder = tempfile.mkdtemp(prefix="ggzledger-test-kek-")
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    path = os.path.join(folder, "kek")
    with open(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600), "w") as file:
        file.write(base64.b64encode(os.urandom(32)).decode() + "\n")
    return path


KEK_FILE = _test_kek_file()
"""The KEK file of the test run: every ledger a test makes, in its process or a CLI's, is opened with it."""


def cli_environment(extra: dict[str, str] | None = None) -> dict[str, str]:
    # The developer's own GGZLEDGER_DB must not leak into a test. A configured KEK, as in production:
    # a ledger's first write then prints nothing about generating one (tests/e2e/test_erase_cli.py
    # sets GGZLEDGER_KEK_FILE empty to see that).
    env = {key: value for key, value in os.environ.items() if key != "GGZLEDGER_DB"}
    env.setdefault("GGZLEDGER_KEK_FILE", KEK_FILE)
    env.update(extra or {})
    return env


def start_cli(*args: str) -> subprocess.Popen[bytes]:
    """Start ``python -m ggzledger ARGS`` as a real subprocess that runs beside the test; output as bytes."""
    return subprocess.Popen(
        [sys.executable, "-m", "ggzledger", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=cli_environment(),
    )


def run_cli(
    *args: str,
    input: bytes | None = None,
    cwd: Path | None = None,
    env: dict[str, str] | None = None,
    stdout: int | None = None,
    stderr: int | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run ``python -m ggzledger ARGS`` as a real subprocess; output as text.

    Standard output and error are captured, unless STDOUT or STDERR names a file descriptor to write
    that stream to instead (a pipe whose reader has gone, a terminal); that stream is then None.
    """
    return subprocess.run(
        [sys.executable, "-m", "ggzledger", *args],
        input=input.decode() if input is not None else None,
        stdout=subprocess.PIPE if stdout is None else stdout,
        stderr=subprocess.PIPE if stderr is None else stderr,
        text=True,
        cwd=cwd,
        env=cli_environment(env),
        timeout=300,
    )


def run_cli_on_a_terminal(*args: str) -> tuple[subprocess.CompletedProcess[str], bytes]:
    """Run the CLI with standard error on a terminal (a pty of 24 x 100); also what the terminal showed."""
    leader, follower = pty.openpty()
    # A pty starts at 0 columns, where a progress bar has no room.
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))
    try:
        result = run_cli(*args, stderr=follower)
        os.close(follower)
        shown = b""
        while True:
            try:
                chunk = os.read(leader, 4096)
            except OSError:  # the terminal closed: everything was read
                break
            if not chunk:
                break
            shown += chunk
    finally:
        os.close(leader)
    return result, shown
