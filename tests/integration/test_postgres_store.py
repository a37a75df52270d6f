"""PostgreSQL as the production store: clear errors at once, the table lock kept, processes starting together."""

from __future__ import annotations

import socket
import time

import pytest

from ggzledger import Ledger
from processes import run_cli, start_cli


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])  # nothing listens there once the probe is closed


def test_an_unreachable_server_is_one_clear_line_within_seconds() -> None:
    port = closed_port()
    started = time.monotonic()

    result = run_cli("--db", f"postgresql://postgres@127.0.0.1:{port}/ledger", "invoice", "T-1", "2017-01")

    assert time.monotonic() - started < 10
    assert result.returncode == 2
    assert (
        result.stderr
        == f"ggzledger: cannot connect to PostgreSQL database 'ledger' at 127.0.0.1:{port}: Connection refused\n"
    )


def test_a_missing_database_is_named_in_one_line(postgres_db: str) -> None:
    missing = postgres_db.rsplit("/", 1)[0] + "/ggzledger_no_such_database"

    result = run_cli("--db", missing, "invoice", "T-1", "2017-01")

    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        "ggzledger: cannot connect to PostgreSQL database 'ggzledger_no_such_database' at 127.0.0.1:5432: "
        'database "ggzledger_no_such_database" does not exist'
    ]


def test_the_database_functions_that_drop_the_table_lock_are_refused(postgres_db: str) -> None:
    result = run_cli("--db", postgres_db, "invoices", "2017-01", env={"GGZLEDGER_POSTGRES_ENABLE_DB_FUNCTIONS": "y"})

    assert result.returncode == 2
    assert "POSTGRES_ENABLE_DB_FUNCTIONS" in result.stderr and "table lock" in result.stderr


def test_pool_and_timeouts_have_defaults_an_operator_can_override(
    postgres_db: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    ledger = Ledger(postgres_db)
    defaults = ledger.factory.datastore  # type: ignore[attr-defined]
    assert (defaults.pool.min_size, defaults.pool.max_size, defaults.lock_timeout, defaults.pool.timeout) == (
        1,
        8,
        5,
        5,
    )
    assert defaults.enable_db_functions is False
    ledger.close()

    monkeypatch.setenv("GGZLEDGER_POSTGRES_POOL_SIZE", "3")
    monkeypatch.setenv("GGZLEDGER_POSTGRES_LOCK_TIMEOUT", "9")
    ledger = Ledger(postgres_db)
    tuned = ledger.factory.datastore  # type: ignore[attr-defined]
    assert (tuned.pool.min_size, tuned.pool.max_size, tuned.lock_timeout) == (3, 10, 9)
    ledger.close()


def test_processes_starting_together_on_a_fresh_database_all_start(postgres_db: str) -> None:
    # Each creates the tables it needs; concurrent DDL must not fail any of them.
    processes = [start_cli("--db", postgres_db, "invoices", "2017-01") for _ in range(6)]

    results = [(process.wait(timeout=120), process.communicate()[1].decode()) for process in processes]

    assert results == [(0, "")] * 6
