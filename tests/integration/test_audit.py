"""Reconstruction, verification and rebuild (rules.md §9) on each store, narrated with Meneer Henk.

An auditor reconstructs a declaration from the events recorded before its close and compares it with
what was issued; verify recomputes every close from the whole log; an event altered after the fact
in the database is found and the declarations it touches are named.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from typing import Any

import orjson
import psycopg
import pytest
from hypothesis import HealthCheck, given, settings

from builders import Clerk, Record, care_need, delivered, meneer_henk, month_closed, reviewed, voided
from ggzledger import Ledger, UnknownTrajectory
from ggzledger.audit.reconstruction import NotIssued, audit, reconstruct
from ggzledger.audit.verification import verify
from ggzledger.domain import BillingCalendar, trajectory_id
from ggzledger.service.rebuild import rebuild
from ledgers import a_busy_ledger, ledgers
from rows import view_rows

MONTHS = ("2016-11", "2016-12", "2017-01", "2017-02")


def issued(ledger: Ledger) -> list[tuple[str, str]]:
    with ledger.store.transaction(write=False) as c:
        c.execute("SELECT trajectory, month FROM billing_declarations ORDER BY month, trajectory")
        return [(row[0], row[1]) for row in c.fetchall()]


def position_of(ledger: Ledger, activity: str) -> int:
    stream = ledger.recorder.select_stream_with_positions(trajectory_id("T-HENK"))  # type: ignore[attr-defined]
    for position, stored in stream:
        if orjson.loads(stored.state).get("activity") == activity:
            return int(position)
    raise AssertionError(f"no event of activity {activity}")


def tamper(ledger: Ledger, db: str, position: int, change: Callable[[dict[str, Any]], None]) -> None:
    """Alter the stored JSON of the event at a position behind the ledger's back, in the database itself."""
    [stored] = ledger.recorder.select_notifications(start=position, limit=1)
    state = orjson.loads(stored.state)
    change(state)
    if db.startswith("postgresql"):
        recorder: Any = ledger.recorder
        table = f'"{recorder.datastore.schema}"."{recorder.events_table_name}"'
        with psycopg.connect(db, autocommit=True) as connection:
            update = f"UPDATE {table} SET state = %s WHERE notification_id = %s"
            connection.execute(update, (orjson.dumps(state), position))  # type: ignore[call-overload]
    else:
        with sqlite3.connect(db) as connection:
            connection.execute("UPDATE stored_events SET state = ? WHERE rowid = ?", (orjson.dumps(state), position))
        connection.close()


def test_every_issued_declaration_of_henk_is_reconstructed_exactly(ledger: Ledger) -> None:
    meneer_henk(ledger)

    for number, month in issued(ledger):
        result = audit(ledger, number, month)
        assert result.equal, result.differences
        assert result.reconstructed is not None
        assert result.reconstructed.digest == result.recorded_digest
    assert [month for _, month in issued(ledger)] == list(MONTHS)


def test_a_reconstruction_reads_only_its_trajectory_and_the_closes_never_the_whole_log(ledger: Ledger) -> None:
    meneer_henk(ledger)
    Clerk(ledger).send(*care_need("T-OTHER", "2016-11-01"), delivered("O1", "2016-11-02", number="T-OTHER"))
    read: list[Any] = []
    recorder: Any = ledger.recorder
    original = recorder.select_stream_with_positions

    def tracked(stream: Any) -> Any:
        read.append(stream)
        return original(stream)

    def refused(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("a reconstruction must not read the log")

    recorder.select_stream_with_positions = tracked
    recorder.select_notifications = refused

    declaration = reconstruct(ledger, "T-HENK", "2017-02")

    assert declaration is not None and declaration.total == 130000 and declaration.sequence == 4
    assert sorted(map(str, read)) == sorted([str(BillingCalendar.ID), str(trajectory_id("T-HENK"))])


def test_the_events_of_a_stream_come_with_the_positions_the_log_gives_them(ledger: Ledger) -> None:
    meneer_henk(ledger)

    stream = ledger.recorder.select_stream_with_positions(trajectory_id("T-HENK"))  # type: ignore[attr-defined]
    log = ledger.recorder.select_notifications(start=1, limit=1000)

    henks = [n for n in log if n.originator_id == trajectory_id("T-HENK")]
    assert [(p, s.originator_version, s.topic, bytes(s.state)) for p, s in stream] == [
        (n.id, n.originator_version, n.topic, bytes(n.state)) for n in henks
    ]
    assert len(stream) == 37  # every line of the scenario but its month_closed


def test_a_reconstruction_ignores_what_was_recorded_after_the_close(ledger: Ledger) -> None:
    clerk = Clerk(ledger)
    clerk.send(*care_need("T1", "2016-11-01"), delivered("A1", "2016-11-02", number="T1"), month_closed("2016-11"))
    # After the close: a late activity of November, a void, and a review dated in November.
    clerk.send(
        delivered("A2", "2016-11-03", number="T1"), voided("A1", "2016-12-01", "T1"), reviewed("2016-11-20", 5, "T1")
    )

    result = audit(ledger, "T1", "2016-11")

    assert result.equal
    assert result.reconstructed is not None
    assert [line.activity for line in result.reconstructed.lines] == ["A1"]
    assert result.reconstructed.cluster == 4


def test_auditing_a_month_without_a_declaration_for_the_trajectory_finds_none_on_either_side(ledger: Ledger) -> None:
    clerk = Clerk(ledger)
    clerk.send(
        *care_need("T1", "2016-11-01"),
        delivered("A1", "2016-12-02", number="T1"),
        *care_need("T2", "2016-11-01"),
        delivered("B1", "2016-11-02", number="T2"),
        month_closed("2016-12"),
    )

    result = audit(ledger, "T1", "2016-11")

    assert result.equal and result.reconstructed is None and result.recorded is None


def test_an_open_month_or_an_unknown_trajectory_cannot_be_audited(ledger: Ledger) -> None:
    meneer_henk(ledger)

    with pytest.raises(NotIssued, match="month 2017-03 is not closed"):
        audit(ledger, "T-HENK", "2017-03")
    with pytest.raises(UnknownTrajectory, match="T-NOPE"):
        audit(ledger, "T-NOPE", "2017-02")


def test_verify_recomputes_every_close_of_an_untouched_ledger_and_finds_nothing(ledger: Ledger) -> None:
    meneer_henk(ledger)

    result = verify(ledger)

    assert result.ok, result.differences
    assert (result.closes, result.declarations) == (4, 4)
    assert result.events == ledger.projector.head()


def test_an_amount_altered_in_the_database_is_found_and_every_declaration_it_touches_is_named(
    ledger: Ledger, db: str
) -> None:
    meneer_henk(ledger)
    tamper(ledger, db, position_of(ledger, "H-1103-C"), lambda state: state.update(amount=20000))

    result = verify(ledger)

    assert not result.ok
    named = {(d.kind, d.where) for d in result.differences}
    # November's total changes; every later declaration's previously_declared with it.
    assert {("declaration", f"T-HENK {month}") for month in MONTHS} <= named
    assert any(kind == "close" and where.startswith("2016-11") for kind, where in named)
    [november] = [d for d in result.differences if d.where == "T-HENK 2016-11"]
    assert november.message == (
        "digest differs from the issued declaration: total: recorded € 3.800,00, log gives € 3.900,00;"
        " debit line of activity H-1103-C: amount recorded € 100,00, log gives € 200,00"
    )
    [december] = [d for d in result.differences if d.where == "T-HENK 2016-12"]
    assert december.message.endswith("previously_declared: recorded € 3.800,00, log gives € 3.900,00")
    # The audit of November shows the altered line.
    result_audit = audit(ledger, "T-HENK", "2016-11")
    assert not result_audit.equal
    assert "debit line of activity H-1103-C: amount recorded € 100,00, log gives € 200,00" in result_audit.differences


def test_an_event_that_can_no_longer_be_read_is_named_by_its_position(ledger: Ledger, db: str) -> None:
    meneer_henk(ledger)
    position = position_of(ledger, "H-0215-C")
    tamper(ledger, db, position, lambda state: state.update(on="not a date"))

    result = verify(ledger)

    assert any(d.kind == "event" and d.where == f"at position {position}" for d in result.differences)
    assert any(d.where == "T-HENK 2017-02" for d in result.differences)


def test_a_rebuild_after_an_alteration_reports_the_closes_the_log_no_longer_gives(ledger: Ledger, db: str) -> None:
    meneer_henk(ledger)
    tamper(ledger, db, position_of(ledger, "H-0122-C"), lambda state: state.update(amount=1))

    result = rebuild(ledger)

    assert result.position == ledger.projector.head()
    # January's total changed, and with it February's previously_declared.
    assert result.unreproduced == ("2017-01", "2017-02")


def test_build_rebuild_and_verify_agree_with_what_was_issued(ledger: Ledger) -> None:
    meneer_henk(ledger)
    Clerk(ledger).accepts(*a_busy_ledger(7, most=5))
    ledger.projector.catch_up()
    before = view_rows(ledger)

    result = rebuild(ledger)

    assert result.unreproduced == ()
    assert view_rows(ledger) == before
    assert verify(ledger).ok


def test_catching_up_page_by_page_and_rebuilding_from_zero_give_identical_read_models(ledger: Ledger) -> None:
    # Small pages, catch-ups between records, late and out-of-date-order events: the incremental path.
    ledger.projector.page_size = 3
    clerk = Clerk(ledger)
    records = [*care_need("T-LATE", "2016-11-01", 4), delivered("L1", "2016-11-25", number="T-LATE")]
    records += a_busy_ledger(11, most=6)
    records += [
        reviewed("2016-11-15", 6, "T-LATE"), delivered("L2", "2016-11-20", number="T-LATE"), month_closed("2017-03")
    ]  # fmt: skip
    for start in range(0, len(records), 4):
        clerk.accepts(*records[start : start + 4])
        ledger.projector.catch_up()
    incremental = view_rows(ledger)

    ledger.projector.page_size = 10_000
    rebuild(ledger)

    assert view_rows(ledger) == incremental
    assert {table.split("_")[0] for table in incremental} >= {"billing", "history", "totals"}
    assert incremental["history_entries"] and incremental["totals_by"]


def test_views_new_to_an_existing_ledger_catch_up_from_position_0_beside_the_billing_view(
    ledger: Ledger, db: str
) -> None:
    meneer_henk(ledger)
    expected = view_rows(ledger)
    # The ledger as it was before the history and totals views existed.
    with ledger.store.transaction(write=True) as c:
        for table in [t for t in expected if t.startswith(("history_", "totals_"))]:
            c.execute(f"DROP TABLE {table}")
        c.execute("DELETE FROM projection_positions WHERE name IN ('history', 'totals')")

    upgraded = Ledger(db)
    try:
        upgraded.projector.catch_up()
        assert view_rows(upgraded) == expected
    finally:
        upgraded.close()


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ledgers())
def test_over_generated_ledgers_verify_finds_nothing_and_every_declaration_reconstructs(
    tmp_path_factory: pytest.TempPathFactory, records: list[Record]
) -> None:
    ledger = Ledger(str(tmp_path_factory.mktemp("ledger") / "ledger.db"))
    try:
        Clerk(ledger).accepts(*records)
        assert verify(ledger).ok
        for number, month in issued(ledger):
            assert audit(ledger, number, month).equal, (number, month)
    finally:
        ledger.close()
