"""Shared fixtures: a fresh ledger on each store (a SQLite file, a throw-away PostgreSQL database)."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from ggzledger import Ledger

# Where the PostgreSQL tests create their throw-away databases.
POSTGRES_ADMIN = os.environ.get("GGZLEDGER_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres")
HENK = Path(__file__).parent / "data" / "meneer-henk.jsonl"
HENK_EXPECTED = Path(__file__).parent / "data" / "meneer-henk.expected.json"


def _postgres_or_skip() -> None:
    try:
        psycopg.connect(POSTGRES_ADMIN, connect_timeout=3).close()
    except psycopg.OperationalError as error:
        message = (
            f"PostgreSQL is not reachable at {POSTGRES_ADMIN} ({str(error).strip().splitlines()[0]}); "
            "start it (pg_ctlcluster 15 main start) or point GGZLEDGER_TEST_POSTGRES at a server"
        )
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)


@pytest.fixture
def postgres_db() -> Iterator[str]:
    """The URL of a fresh, empty PostgreSQL database, dropped afterwards."""
    _postgres_or_skip()
    name = f"ggzledger_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(POSTGRES_ADMIN, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    base = POSTGRES_ADMIN.rsplit("/", 1)[0]
    yield f"{base}/{name}"
    with psycopg.connect(POSTGRES_ADMIN, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", "postgresql"])
def db(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh store, once as a SQLite file and once as a PostgreSQL database."""
    if request.param == "sqlite":
        return str(tmp_path / "ledger.db")
    return request.getfixturevalue("postgres_db")


@pytest.fixture
def ledger(db: str) -> Iterator[Ledger]:
    """A Ledger on a fresh store of each kind."""
    instance = Ledger(db)
    yield instance
    instance.close()


def start_cli(*args: str) -> subprocess.Popen[bytes]:
    """Start ``python -m ggzledger ARGS`` as a real subprocess that runs beside the test; output as bytes."""
    env = {key: value for key, value in os.environ.items() if key != "GGZLEDGER_DB"}
    return subprocess.Popen(
        [sys.executable, "-m", "ggzledger", *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env
    )


def run_cli(*args: str, input: bytes | None = None, cwd: Path | None = None, env: dict[str, str] | None = None
            ) -> subprocess.CompletedProcess[str]:
    """Run ``python -m ggzledger ARGS`` as a real subprocess; output as text."""
    # The developer's own GGZLEDGER_DB must not leak into a test.
    full_env = {key: value for key, value in os.environ.items() if key != "GGZLEDGER_DB"}
    full_env.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "ggzledger", *args],
        input=input.decode() if input is not None else None,
        capture_output=True,
        text=True,
        cwd=cwd,
        env=full_env,
        timeout=300,
    )
