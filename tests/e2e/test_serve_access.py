"""`ggzledger serve` and who may read: token commands, a revoked token, --read-only on a role of the docs' grants,
and a PostgreSQL outage answered 503 within seconds. Real processes, real databases."""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from builders import HENK
from cli import one_line
from databases import POSTGRES_ADMIN
from doc_examples import DOCS
from e2e.test_serve import free_port, get, served, serving, stop
from forwarder import forwarding
from processes import run_cli


def token(db: str, name: str, role: str) -> str:
    added = run_cli("--db", db, "token", "add", name, "--role", role)
    assert added.returncode == 0, added.stderr
    return added.stdout.strip()


def test_token_add_prints_a_long_url_safe_token_once_and_list_never_shows_it(tmp_path: Path) -> None:
    db = str(tmp_path / "ledger.db")
    first, second = token(db, "export", "integrator"), token(db, "auditor-1", "auditor")

    assert re.fullmatch(r"[A-Za-z0-9_-]{43}", first) and first != second
    listed = run_cli("--db", db, "token", "list")
    assert listed.stdout.splitlines()[-1] == "2 tokens"
    assert "export  integrator  created " in listed.stdout and first not in listed.stdout
    assert first not in Path(db).read_bytes().decode("latin-1")  # stored hashed


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("add", "export", "--role", "auditor"), "a token named export exists already: choose another name"),
        (("add", "a b", "--role", "auditor"), "token name 'a b' is not 1-64 letters, digits, '.', '_' or '-'"),
        (("add", "x", "--role", "root"), "argument --role: invalid choice: 'root'"),
        (("add", "x"), "token add needs --role integrator, auditor or backoffice"),
        (("revoke", "nobody"), "there is no token named 'nobody' (ggzledger token list shows them)"),
    ],
)
def test_a_token_mistake_is_one_line(tmp_path: Path, args: tuple[str, ...], message: str) -> None:
    db = str(tmp_path / "ledger.db")
    token(db, "export", "integrator")

    assert message in one_line(run_cli("--db", db, "token", *args), 2)


def test_a_revoked_name_is_never_given_again(tmp_path: Path) -> None:
    db = str(tmp_path / "ledger.db")
    token(db, "export", "integrator")
    assert run_cli("--db", db, "token", "revoke", "export").returncode == 0

    line = one_line(run_cli("--db", db, "token", "add", "export", "--role", "integrator"), 2)
    assert line == "ggzledger: a token named export was revoked; a name is never reused: choose another name"


def test_serve_refuses_the_old_shared_token_variable_and_read_only_on_sqlite(tmp_path: Path) -> None:
    db = str(tmp_path / "ledger.db")
    old = run_cli("--db", db, "serve", "--port", str(free_port()), env={"GGZLEDGER_TOKEN": "secret"})
    assert one_line(old, 2).startswith("ggzledger: GGZLEDGER_TOKEN is no longer used: unset it and create named")
    sqlite = run_cli("--db", db, "serve", "--read-only", "--port", str(free_port()))
    assert one_line(sqlite, 2).startswith("ggzledger: --read-only needs a PostgreSQL ledger")


def test_a_real_server_wants_a_token_on_loopback_says_how_to_make_one_and_drops_a_revoked_one(tmp_path: Path) -> None:
    db = str(tmp_path / "ledger.db")
    assert run_cli("--db", db, "ingest", str(HENK)).returncode == 0
    port = free_port()
    server = serving(db, port)
    try:
        assert get(f"http://127.0.0.1:{port}/status")[0] == 401
        secret = token(db, "reader", "auditor")
        assert get(f"http://127.0.0.1:{port}/status", secret)[0] == 200
        assert get(f"http://127.0.0.1:{port}/feed", secret)[0] == 403
        assert get(f"http://127.0.0.1:{port}/trajectories/T-HENK/history", secret)[0] == 200
        assert run_cli("--db", db, "token", "revoke", "reader").returncode == 0
        time.sleep(1.5)
        assert get(f"http://127.0.0.1:{port}/trajectories/T-HENK/history", secret)[0] == 401
    finally:
        err = stop(server).decode()
    assert "no token exists, so every request is refused: create one with ggzledger token add NAME" in err
    logged = run_cli("--db", db, "access-log", "--trajectory", "T-HENK", "--json")
    assert '"outcome": "allowed"' in logged.stdout and '"outcome": "refused 401"' in logged.stdout
    assert run_cli("--db", db, "access-log", "--verify").returncode == 0


def test_the_cli_patient_reads_are_logged_as_the_os_user(tmp_path: Path) -> None:
    db = str(tmp_path / "ledger.db")
    assert run_cli("--db", db, "ingest", str(HENK)).returncode == 0
    run_cli("--db", db, "invoice", "T-HENK", "2017-02")
    run_cli("--db", db, "history", "T-NOBODY")
    run_cli("--db", db, "invoices", "2017-01")
    run_cli("--db", db, "findings", "--trajectory", "T-HENK", "--month", "2017-02")
    run_cli("--db", db, "findings", "--trajectory", "T-NOBODY")
    run_cli("--db", db, "findings")  # Henk's lines give no finding: no trajectory read, nothing logged
    run_cli("--db", db, "audit", "T-HENK", "2017-02")
    run_cli("--db", db, "feed", "--after", "40")  # every patient's opened fields: one row, no trajectory

    rows = run_cli("--db", db, "access-log").stdout.splitlines()

    assert [row.split("  ")[2:] for row in rows[:-1]] == [
        [f"os:{_user()}", "allowed", "T-HENK", "invoice T-HENK 2017-02"],
        [f"os:{_user()}", "not found", "T-NOBODY", "history T-NOBODY"],
        [f"os:{_user()}", "allowed", "T-HENK", "invoices 2017-01"],
        [f"os:{_user()}", "allowed", "T-HENK", "findings --trajectory T-HENK --month 2017-02"],
        [f"os:{_user()}", "not found", "T-NOBODY", "findings --trajectory T-NOBODY"],
        [f"os:{_user()}", "allowed", "T-HENK", "audit T-HENK 2017-02"],
        [f"os:{_user()}", "allowed", "-", "feed --after 40"],
    ]
    assert rows[-1] == "7 accesses"


def _user() -> str:
    import getpass

    return getpass.getuser()


def test_access_log_verify_names_the_first_altered_row_and_exits_1(tmp_path: Path) -> None:
    import sqlite3

    db = str(tmp_path / "ledger.db")
    assert run_cli("--db", db, "ingest", str(HENK)).returncode == 0
    for _ in range(3):
        run_cli("--db", db, "history", "T-HENK")
    with sqlite3.connect(db) as connection:
        connection.execute("UPDATE access_log SET who = 'os:nobody' WHERE id = 2")

    result = run_cli("--db", db, "access-log", "--verify")

    assert one_line(result, 1).startswith("ggzledger: the access log is broken at row 2:")


def test_an_access_log_anchor_shows_rows_removed_from_the_end(tmp_path: Path) -> None:
    import sqlite3

    db = str(tmp_path / "ledger.db")
    assert run_cli("--db", db, "ingest", str(HENK)).returncode == 0
    for _ in range(3):
        run_cli("--db", db, "history", "T-HENK")
    verified = run_cli("--db", db, "access-log", "--verify")
    [anchor] = [line for line in verified.stdout.splitlines() if line.startswith("access-log anchor ")]
    rows, digest = anchor.split()[2:]
    assert rows == "3" and len(digest) == 64
    with sqlite3.connect(db) as connection:
        connection.execute("DELETE FROM access_log WHERE id = 3")

    alone = run_cli("--db", db, "access-log", "--verify")
    kept = run_cli("--db", db, "access-log", "--anchor", f"{rows}:{digest}")

    assert alone.returncode == 0  # the log's own chain cannot tell a row cut from its end
    assert kept.returncode == 1
    assert f"the access log no longer passes through anchor {rows} {digest}" in kept.stderr
    assert run_cli("--db", db, "access-log", "--anchor", "3:xyz").returncode == 2


# --- PostgreSQL: the read-only role of the docs, and an outage.


@pytest.fixture
def reader_role(postgres_db: str) -> Iterator[str]:
    """A role name of this test's own (roles belong to the whole server), dropped afterwards."""
    name = f"ggzledger_reader_{uuid.uuid4().hex[:8]}"
    yield name
    # Its grants live in the throw-away database, which is dropped after this: drop them first.
    for database in (postgres_db, f"{postgres_db}_keys"):
        try:
            with psycopg.connect(database, autocommit=True) as owner:
                owner.execute(f'DROP OWNED BY "{name}"')  # type: ignore[call-overload]
        except psycopg.OperationalError:  # no key store was made
            pass
    with psycopg.connect(POSTGRES_ADMIN, autocommit=True) as admin:
        admin.execute(f'DROP ROLE IF EXISTS "{name}"')  # type: ignore[call-overload]


def grants_of_the_docs(block: str = "read-only grants") -> str:
    text = (DOCS / "operations.md").read_text()
    match = re.search(rf"<!-- {block} -->\n```sql\n(.*?)```", text, re.DOTALL)
    assert match, f"docs/operations.md has the {block}"
    return match.group(1)


def test_serve_read_only_through_the_docs_grants_reads_logs_and_cannot_touch_events(
    postgres_db: str, reader_role: str
) -> None:
    assert run_cli("--db", postgres_db, "ingest", str(HENK)).returncode == 0
    secret = token(postgres_db, "auditor", "auditor")
    dbname = postgres_db.rsplit("/", 1)[1]
    sql = (
        grants_of_the_docs().replace("ggzledger_reader", reader_role).replace("DATABASE ledger", f'DATABASE "{dbname}"')
    )
    keys_sql = grants_of_the_docs("read-only key-store grants").replace("ggzledger_reader", reader_role)
    keys_sql = keys_sql.replace("DATABASE ledger_keys", f'DATABASE "{dbname}_keys"')
    with psycopg.connect(postgres_db, autocommit=True) as owner:
        owner.execute(sql)  # type: ignore[call-overload]
    with psycopg.connect(f"{postgres_db}_keys", autocommit=True) as owner:
        owner.execute(keys_sql)  # type: ignore[call-overload]
    backoffice = token(postgres_db, "kantoor", "backoffice")
    as_reader = postgres_db.replace("postgres@", f"{reader_role}@")
    with served(as_reader, "--read-only") as url:
        status, declaration = get(f"{url}/trajectories/T-HENK/declarations/2017-02", secret)
        assert (status, declaration["total"]) == (200, 130000)
        assert get(f"{url}/months/2017-01/declarations", secret)[0] == 200
        assert get(f"{url}/status", secret)[0] == 200
        status, page = get(f"{url}/feed?limit=1", backoffice)
        assert (status, page["events"][0]["data"]["patient"]) == (200, "P-HENK")
    logged = run_cli("--db", postgres_db, "access-log", "--json").stdout
    assert logged.count('"who": "auditor"') == 2
    assert run_cli("--db", postgres_db, "access-log", "--verify").returncode == 0
    with psycopg.connect(as_reader, autocommit=True) as reader:
        for statement in (
            "UPDATE ggzledger_events SET state = state",
            "DELETE FROM ggzledger_events",
            "INSERT INTO ggzledger_events SELECT * FROM ggzledger_events LIMIT 1",
            "DELETE FROM access_log",
            "UPDATE access_log SET who = 'x'",
        ):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                reader.execute(statement)  # type: ignore[call-overload]
    with psycopg.connect(f"{as_reader}_keys", autocommit=True) as reader:
        for statement in ("DELETE FROM subject_keys", "UPDATE secrets SET kek_id = 'x'", "DELETE FROM erasures"):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                reader.execute(statement)  # type: ignore[call-overload]


def test_with_postgresql_away_a_request_is_a_503_within_5_seconds_and_the_server_comes_back(postgres_db: str) -> None:
    assert run_cli("--db", postgres_db, "ingest", str(HENK)).returncode == 0
    secret = token(postgres_db, "office", "backoffice")
    with forwarding(("127.0.0.1", 5432)) as forwarder:
        through = postgres_db.replace("@127.0.0.1:5432/", f"@127.0.0.1:{forwarder.port}/")
        assert through != postgres_db
        with served(through) as served_url:
            url = f"{served_url}/months/2017-02/declarations"
            assert get(url, secret)[0] == 200
            forwarder.down()
            for _ in range(3):  # the first finds the database away, the next are answered at once
                started = time.monotonic()
                status, body = get(url, secret)
                assert (status, time.monotonic() - started < 5) == (503, True), body
                assert body["error"].startswith("the database is not available: ")
            forwarder.up()
            deadline = time.monotonic() + 10
            while get(url, secret)[0] != 200:
                assert time.monotonic() < deadline, "the server did not come back"
                time.sleep(0.2)
