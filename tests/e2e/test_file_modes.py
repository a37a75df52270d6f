"""The files a ledger is made of are its owner's only (0600), whatever the umask of the process that made them."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from builders import HENK

# Opens the ledger, writes (the read models catch up), and reports the three files' modes while it is open.
OPEN_AND_LOOK = """
import os, stat, sys
from ggzledger.service.ledger import Ledger
path = sys.argv[1]
ledger = Ledger(path)
ledger.projector.catch_up()
print(" ".join(oct(stat.S_IMODE(os.stat(path + suffix).st_mode)) for suffix in ("", "-wal", "-shm")))
ledger.close()
"""


def under_umask(umask: int, *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """``python ARGS`` as a real subprocess whose umask is ``umask``."""
    env = {key: value for key, value in os.environ.items() if key != "GGZLEDGER_DB"}
    return subprocess.run(
        [sys.executable, *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd,
        timeout=300,
        preexec_fn=lambda: os.umask(umask),
    )


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.mark.parametrize("umask", [0o022, 0o000, 0o277], ids=["022", "000", "277"])
def test_a_new_ledger_and_its_wal_and_shm_files_are_0600(tmp_path: Path, umask: int) -> None:
    db = tmp_path / "ledger.db"
    ingested = under_umask(umask, "-m", "ggzledger", "--db", str(db), "ingest", str(HENK))
    assert ingested.returncode == 0, ingested.stderr
    assert mode(db) == 0o600
    assert mode(tmp_path / "ledger.db.keys") == 0o600

    looked = under_umask(umask, "-c", OPEN_AND_LOOK, str(db))

    assert looked.returncode == 0, looked.stderr
    assert looked.stdout.split() == ["0o600", "0o600", "0o600"]


@pytest.mark.parametrize("umask", [0o022, 0o000], ids=["022", "000"])
def test_the_demo_ledger_is_0600(tmp_path: Path, umask: int) -> None:
    demo = under_umask(umask, "-m", "ggzledger", "demo", cwd=tmp_path)

    assert demo.returncode == 0, demo.stderr
    assert mode(tmp_path / "ggzledger-demo.db") == 0o600


def test_an_existing_ledgers_mode_is_left_as_its_owner_set_it(tmp_path: Path) -> None:
    db = tmp_path / "ledger.db"
    db.touch()
    db.chmod(0o640)  # e.g. a group of readers the owner chose

    ingested = under_umask(0o022, "-m", "ggzledger", "--db", str(db), "ingest", str(HENK))

    assert ingested.returncode == 0, ingested.stderr
    assert mode(db) == 0o640


def test_a_rebuilds_scratch_database_is_0600(tmp_path: Path) -> None:
    script = (
        "import os, stat, sys\n"
        "from ggzledger.projections.pages import Scratch\n"
        "scratch = Scratch(sys.argv[1])\n"
        "scratch.put('rows', [(1, 'T-HENK')])\n"
        "print(oct(stat.S_IMODE(os.stat(sys.argv[1]).st_mode)))\n"
    )
    made = under_umask(0o000, "-c", script, str(tmp_path / "page-1.db"))

    assert made.returncode == 0, made.stderr
    assert made.stdout.split() == ["0o600"]


@pytest.mark.parametrize("umask", [0o022, 0o000], ids=["022", "000"])
def test_the_key_store_and_the_kek_generated_beside_it_are_0600(tmp_path: Path, umask: int) -> None:
    db = tmp_path / "ledger.db"
    env = {k: v for k, v in os.environ.items() if k not in ("GGZLEDGER_DB", "GGZLEDGER_KEK", "GGZLEDGER_KEK_FILE")}
    ingested = subprocess.run(
        [sys.executable, "-m", "ggzledger", "--db", str(db), "ingest", str(HENK)],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        preexec_fn=lambda: os.umask(umask),
    )

    assert ingested.returncode == 0, ingested.stderr
    assert "key-encryption key" in ingested.stderr
    assert mode(tmp_path / "ledger.db.keys") == 0o600
    assert mode(tmp_path / "ledger.db.keys.kek") == 0o600
