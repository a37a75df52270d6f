"""The PostgreSQL server the tests make their throw-away databases on."""

from __future__ import annotations

import os

import psycopg
import pytest

# Where the PostgreSQL tests create their throw-away databases.
POSTGRES_ADMIN = os.environ.get("GGZLEDGER_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres")


def postgres_or_skip() -> None:
    """Skip the test when the server is not reachable; in CI, fail it instead (the server must be there)."""
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
