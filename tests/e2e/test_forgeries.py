"""Forgeries of the stored events, done in the database behind the ledger's back, each named by ``ggzledger verify``.

Each test alters Meneer Henk's ledger as someone who can write the database would (issue 13):
the insurer of the opened event, an amount with every digest copied after it and the whole chain
recomputed, an event inserted, an event deleted. The chain is recomputed here with hashlib alone,
as an attacker (or an auditor) would, never with the code under test.
"""

from __future__ import annotations

import hashlib
import re
import sqlite3
import struct
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from uuid import UUID

import orjson
import psycopg
import pytest

from builders import HENK, opened
from cli import no_traceback
from doc_examples import DOCS, sessions
from processes import run_cli

Row = tuple[int, UUID, int, str, bytes]


def table_and_position(db: str) -> tuple[str, str]:
    """The events table of the ledger's store, and its position column."""
    if db.startswith("postgresql://"):
        return "ggzledger_events", "notification_id"
    return "stored_events", "rowid"


@contextmanager
def database(db: str) -> Iterator[tuple[Any, str]]:
    """A connection to the ledger's own database (autocommit), and its parameter mark."""
    if db.startswith("postgresql://"):
        with psycopg.connect(db, autocommit=True) as connection:
            yield connection, "%s"
    else:
        connection = sqlite3.connect(db, isolation_level=None)
        try:
            yield connection, "?"
        finally:
            connection.close()


def events(db: str) -> list[Row]:
    """Every stored event, in position order, as the chain covers it."""
    table, position = table_and_position(db)
    with database(db) as (c, _):
        rows = c.execute(
            f"SELECT {position}, originator_id, originator_version, topic, state FROM {table} ORDER BY {position}"
        ).fetchall()
    return [(r[0], r[1] if isinstance(r[1], UUID) else UUID(r[1]), r[2], r[3], bytes(r[4])) for r in rows]


def position_of(db: str, text: str) -> int:
    """The position of the one event whose state holds ``text``."""
    [position] = [row[0] for row in events(db) if text.encode() in row[4]]
    return position


def set_state(db: str, position: int, change: Any) -> None:
    """Rewrite one event's stored JSON."""
    [row] = [row for row in events(db) if row[0] == position]
    state = orjson.loads(row[4])
    change(state)
    table, column = table_and_position(db)
    with database(db) as (c, mark):
        c.execute(f"UPDATE {table} SET state = {mark} WHERE {column} = {mark}", (orjson.dumps(state), position))


def rechain(db: str) -> None:
    """What an attacker who read docs/audit.md does: the whole chain table recomputed from the events."""
    previous, links = bytes(32), []
    for position, stream, version, topic, state in events(db):
        fields = [str(position).encode(), str(stream).encode(), str(version).encode(), topic.encode(), state]
        previous = hashlib.sha256(previous + b"".join(struct.pack(">I", len(f)) + f for f in fields)).digest()
        links.append((position, previous))
    with database(db) as (c, mark):
        c.execute("DELETE FROM ledger_chain")
        for link in links:
            c.execute(f"INSERT INTO ledger_chain (position, hash) VALUES ({mark}, {mark})", link)


def verify(db: str, *args: str) -> subprocess.CompletedProcess[str]:
    result = run_cli("--db", db, "verify", *args)
    no_traceback(result)
    return result


@pytest.fixture
def henk(db: str) -> str:
    """Meneer Henk's ledger (42 events, four closes), on each store; it verifies."""
    assert run_cli("--db", db, "ingest", str(HENK)).returncode == 0
    assert verify(db).returncode == 0
    return db


def kept_anchor(db: str) -> str:
    """The ``anchor P H`` line verify prints for the head: what an auditor keeps outside the database."""
    [line] = [line for line in verify(db).stdout.splitlines() if line.startswith("anchor ")]
    return line


def test_the_insurer_edited_in_the_opened_event_is_named_by_its_position(henk: str) -> None:
    opened = position_of(henk, '"insurer"')
    set_state(henk, opened, lambda state: state.update(insurer="9999"))

    result = verify(henk)

    # Before the chain no digest covered the insurer: verify passed.
    assert result.returncode == 1
    assert (
        f"  chain at position {opened}: an event was altered, inserted or deleted here: its chain hash differs"
        in result.stdout.splitlines()
    )
    assert "anchor " not in result.stdout


def test_a_consistent_rewrite_passes_verify_alone_but_not_the_anchor_an_auditor_kept(henk: str, tmp_path: Path) -> None:
    anchor = kept_anchor(henk)
    consult = position_of(henk, '"activity":"H-1103-C"')
    set_state(henk, consult, lambda state: state.update(amount=state["amount"] + 5000))
    # The forger's rounds: rebuild, copy each close's recomputed digest and total into its
    # MonthClosed event, until the log reproduces every close; then the whole chain recomputed.
    for _ in range(10):
        run_cli("--db", henk, "rebuild")
        with database(henk) as (c, _):
            differing = c.execute(
                "SELECT position, computed_digest, (SELECT SUM(total) FROM billing_declarations d"
                " WHERE d.month = billing_closes.month) FROM billing_closes WHERE digest <> computed_digest"
            ).fetchall()
        if not differing:
            break
        for position, digest, total in differing:
            set_state(henk, position, lambda state, d=digest, t=total: state.update(digest=d, total=int(t or 0)))
    rechain(henk)
    anchors = tmp_path / "anchors.txt"
    anchors.write_text(f"# kept by the auditor before the rewrite\n\n{anchor}\n")

    alone = verify(henk)
    with_anchor = verify(henk, "--anchor", anchor.removeprefix("anchor ").replace(" ", ":"))
    with_file = verify(henk, "--anchors", str(anchors))

    # The rewrite is consistent: verify alone cannot tell it from the truth.
    assert alone.returncode == 0, alone.stdout
    assert "the chain holds and every digest matches" in alone.stdout
    position = anchor.split()[1]
    for result in (with_anchor, with_file):
        assert result.returncode == 1
        assert re.search(
            rf"^  anchor {position}: the chain no longer passes through [0-9a-f]{{12}}…: an event at or before"
            rf" position {position} was altered, inserted or deleted$",
            result.stdout,
            re.MULTILINE,
        ), result.stdout


def test_an_inserted_event_is_named(henk: str) -> None:
    stored = events(henk)
    # A second assessment of Henk's, as the next version of his stream, after the head.
    review = next(row for row in stored if row[3].endswith(".Assessed"))
    version = max(row[2] for row in stored if row[1] == review[1]) + 1
    head = stored[-1]
    table, position = table_and_position(henk)
    stream = review[1] if henk.startswith("postgresql://") else review[1].hex
    with database(henk) as (c, mark):
        c.execute(
            f"INSERT INTO {table} ({position}, originator_id, originator_version, topic, state)"
            f" VALUES ({mark}, {mark}, {mark}, {mark}, {mark})",
            (head[0] + 1, stream, version, review[3], review[4]),
        )

    result = verify(henk)

    assert result.returncode == 1
    assert (
        f"  chain at position {head[0] + 1}: an event without a chain row (inserted after its chain was written)"
        in result.stdout.splitlines()
    )


def test_a_deleted_event_is_named_and_so_is_one_deleted_with_its_chain_row(henk: str) -> None:
    anchor = kept_anchor(henk)
    first = position_of(henk, '"activity":"H-1103-C"')
    table, column = table_and_position(henk)
    with database(henk) as (c, mark):
        c.execute(f"DELETE FROM {table} WHERE {column} = {mark}", (first,))

    alone = verify(henk)
    assert alone.returncode == 1
    assert (
        f"  chain at position {first}: a chain row without an event (an event was deleted)" in alone.stdout.splitlines()
    )

    # Deleting its chain row too leaves the next event's hash chained onto a hash that is gone.
    with database(henk) as (c, mark):
        c.execute(f"DELETE FROM ledger_chain WHERE position = {mark}", (first,))
    both = verify(henk, "--anchor", anchor.removeprefix("anchor ").replace(" ", ":"))
    assert both.returncode == 1
    lines = both.stdout.splitlines()
    assert (
        f"  chain at position {first + 1}: an event was altered, inserted or deleted here: its chain hash differs"
        in lines
    )
    assert any(line.startswith(f"  anchor {anchor.split()[1]}: the chain no longer passes") for line in lines)


def test_a_write_after_the_last_event_was_deleted_is_refused_in_one_line_on_sqlite(henk: str, tmp_path: Path) -> None:
    if henk.startswith("postgresql"):
        pytest.skip("PostgreSQL never gives a position twice (a sequence): the next write chains after the gap")
    table, column = table_and_position(henk)
    with database(henk) as (c, _mark):
        c.execute(f"DELETE FROM {table} WHERE {column} = (SELECT MAX({column}) FROM {table})")
    line = tmp_path / "one.jsonl"
    line.write_text(orjson.dumps(opened("T-AFTER", "2017-03-01")).decode() + "\n")

    result = run_cli("--db", henk, "ingest", str(line))

    no_traceback(result)
    assert result.returncode == 2
    assert "the event chain already holds position" in result.stderr and "nothing was recorded" in result.stderr
    assert verify(henk).returncode == 1


def test_anchors_beyond_the_head_or_malformed_are_named(henk: str, tmp_path: Path) -> None:
    anchor = kept_anchor(henk)
    beyond = verify(henk, "--anchor", f"100:{'ab' * 32}")
    kept = verify(henk, "--anchor", anchor.removeprefix("anchor ").replace(" ", ":"))
    anchors = tmp_path / "anchors.txt"
    anchors.write_text(f"{anchor}\n# fine\nanchor 12 nothex\n")
    malformed = verify(henk, "--anchors", str(anchors))

    assert beyond.returncode == 1
    assert "  anchor 100: lies beyond the head, position 42" in beyond.stdout.splitlines()
    assert kept.returncode == 0 and "1 anchor checked" in kept.stdout
    assert (malformed.returncode, malformed.stdout) == (2, "")
    assert malformed.stderr == f"ggzledger: {anchors} line 3: the hash 'nothex' is not 64 hexadecimal digits\n"


def test_the_auditors_script_in_the_docs_gives_the_anchor_verify_prints(tmp_path: Path) -> None:
    db = str(tmp_path / "ledger.db")
    assert run_cli("--db", db, "ingest", str(HENK)).returncode == 0
    [script] = [content for kind, name, content in sessions(DOCS / "audit.md") if name == "recompute-chain.py"]
    (tmp_path / "recompute-chain.py").write_text(script)

    recomputed = subprocess.run(
        [sys.executable, str(tmp_path / "recompute-chain.py"), db], capture_output=True, text=True, check=True
    )

    assert recomputed.stdout == kept_anchor(db) + "\n"
