"""Shared fixtures: a fresh ledger on each store (a SQLite file, a throw-away PostgreSQL database), and its clerk."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from builders import Clerk
from databases import POSTGRES_ADMIN, postgres_or_skip
from ggzledger import Ledger
from processes import KEK_FILE

# One KEK for the whole run, in the tests' own processes and the CLI's alike (as production configures
# one, docs/operations.md "Keys"): a ledger written in one and read in the other opens with the same key.
os.environ.setdefault("GGZLEDGER_KEK_FILE", KEK_FILE)

# Fixtures only: test modules import their helpers from builders, processes and databases.


@pytest.fixture
def postgres_db() -> Iterator[str]:
    """The URL of a fresh, empty PostgreSQL database, dropped afterwards (with the key store a sealed
    ledger makes beside it, ``<name>_keys``)."""
    postgres_or_skip()
    name = f"ggzledger_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(POSTGRES_ADMIN, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    base = POSTGRES_ADMIN.rsplit("/", 1)[0]
    yield f"{base}/{name}"
    with psycopg.connect(POSTGRES_ADMIN, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.execute(f'DROP DATABASE IF EXISTS "{name}_keys" WITH (FORCE)')


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


@pytest.fixture
def clerk(ledger: Ledger) -> Clerk:
    """Sends records to the test's ledger as ``ggzledger ingest`` does (see builders.Clerk)."""
    return Clerk(ledger)
