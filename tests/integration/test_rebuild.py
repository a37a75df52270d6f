"""Rebuilding the views in bulk (docs/performance.md): the same read models however the work is done.

A rebuild leaves secondary indexes out until its end, computes the care-need
entries once, may read and prepare its pages in child processes (SQLite), and
is recorded in the database so that a rebuild cut off half-way is finished by
whoever catches up next. Each of those must end with exactly the rows a plain
rebuild in this process gives.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from builders import Clerk, care_need, delivered, meneer_henk, month_closed, opened, voided
from ggzledger import Ledger
from ggzledger.projections import pages
from ggzledger.service.erasure import erase
from ledgers import a_busy_ledger
from rows import view_rows


def busy_ledger(ledger: Ledger) -> None:
    """Meneer Henk, drawn trajectories, a void of a declared line and closes between the records."""
    meneer_henk(ledger)
    clerk = Clerk(ledger)
    records = a_busy_ledger(5, most=8)
    half = len(records) // 2
    for batch in (
        records[:half],
        [month_closed("2017-03")],
        [*records[half:], voided("H-0122-C", "2017-03-02", "T-HENK")],
        [month_closed("2017-05")],
    ):
        clerk.accepts(*batch)


def plain_rebuild(ledger: Ledger) -> dict[str, list[tuple[Any, ...]]]:
    """The views after a rebuild in this process, in one page."""
    rebuilder = ledger.projector.rebuilder
    saved = rebuilder.second_process_from, rebuilder.page_size
    rebuilder.second_process_from, rebuilder.page_size = 10**12, 10**6
    try:
        rebuilder.rebuild()
    finally:
        rebuilder.second_process_from, rebuilder.page_size = saved
    return view_rows(ledger)


def indexes(ledger: Ledger) -> set[str]:
    with ledger.store.transaction(write=False) as c:
        if ledger.store.dialect == "sqlite":
            c.execute("SELECT name FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL")
        else:
            c.execute("SELECT indexname FROM pg_indexes WHERE schemaname = current_schema()")
        return {row[0] for row in c.fetchall()}


def rebuilding(ledger: Ledger) -> set[str]:
    with ledger.store.transaction(write=False) as c:
        return ledger.projector.rebuilder.rebuilding(c)


@pytest.fixture
def children_started(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[int]]:
    """How many child processes each rebuild started (the real ones run: this only counts them)."""
    started: list[int] = []
    real = pages.subprocess.Popen

    def counting(*args: Any, **kwargs: Any) -> Any:
        started.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(pages.subprocess, "Popen", counting)
    yield started


def test_pages_prepared_by_child_processes_give_the_views_a_rebuild_here_gives(
    tmp_path: Path, children_started: list[int]
) -> None:
    # A folder name that means something in a URI: the children open the file read-only by URI.
    folder = tmp_path / "ledgers #1?"
    folder.mkdir()
    ledger = Ledger(str(folder / "ledger.db"))
    busy_ledger(ledger)
    expected = plain_rebuild(ledger)
    assert not children_started

    # Pages of 7 events: both children take many pages in turn, closes fall inside pages.
    ledger.projector.rebuilder.second_process_from, ledger.projector.rebuilder.page_size = 1, 7
    ledger.projector.rebuild()

    assert len(children_started) == 2
    assert view_rows(ledger) == expected
    assert expected["history_entries"] and expected["billing_declarations"] and expected["totals_by"]
    assert rebuilding(ledger) == set()
    ledger.close()
    # The pages' scratch databases went with the rebuild.
    assert not [path.name for path in folder.iterdir() if not path.name.startswith("ledger.db")]


def test_scratch_folders_of_processes_that_no_longer_run_are_removed_and_no_others(tmp_path: Path) -> None:
    ledger = Ledger(str(tmp_path / "ledger.db"))
    busy_ledger(ledger)
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    abandoned = tmp_path / f".ggzledger-rebuild-{gone.pid}-x1"  # a rebuild killed outright
    in_use = tmp_path / f".ggzledger-rebuild-{os.getppid()}-x2"  # a running process's
    for folder in (abandoned, in_use):
        folder.mkdir()
        (folder / "page-1.db").write_bytes(b"")

    ledger.projector.rebuilder.second_process_from, ledger.projector.rebuilder.page_size = 1, 25
    ledger.projector.rebuild()
    ledger.close()

    assert not abandoned.exists()
    assert (in_use / "page-1.db").exists()
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".ggzledger")) == [in_use.name]


def test_a_childs_delivered_rows_come_through_the_pages_scratch_database_in_order(tmp_path: Path) -> None:
    db = str(tmp_path / "ledger.db")  # children prepare pages of SQLite ledgers only
    ledger = Ledger(db)
    busy_ledger(ledger)
    projector = ledger.projector
    head = projector.head()
    with ledger.store.transaction(write=False) as c:
        c.execute(
            "SELECT position, activity, trajectory, on_date, code, description, amount, care_form"
            " FROM billing_activities ORDER BY position"
        )
        expected = c.fetchall()
    billing = projector.views.index(next(v for v in projector.views if v.name == "billing"))

    delivered, pages_with_scratch = [], 0
    table = ledger.recorder.events_table_name
    with pages.prepared_pages(db, table, projector.views, 0, head, 25, 4, mapper=ledger.mapper) as prepared:
        folder = Path(db).parent
        for _first, _last, chunks, scratch in prepared:
            spilled = [
                rows for chunk in chunks for gathered, _ in chunk[billing] for rows in [gathered["delivered"]] if rows
            ]
            # Every delivery is put aside: what comes through the pipe only says where it is.
            assert all(isinstance(where, tuple) for where in spilled)
            if scratch is None:
                assert not spilled
                continue
            pages_with_scratch += 1
            with sqlite3.connect(scratch) as page:
                for table, low, high in spilled:
                    found = page.execute(f"SELECT * FROM {table} WHERE seq BETWEEN ? AND ? ORDER BY seq", (low, high))
                    delivered.extend(row[1:] for row in found)
    ledger.close()
    assert pages_with_scratch > 1
    assert delivered == expected
    assert not [path for path in folder.iterdir() if path.name.startswith(".ggzledger-rebuild-")]


def test_a_rebuild_keeps_secondary_indexes_out_until_its_end_and_then_has_them_all(ledger: Ledger) -> None:
    busy_ledger(ledger)
    everything = indexes(ledger)
    assert {"billing_activities_by_id", "billing_pending_debits", "history_marks_in_force"} <= everything
    seen: list[set[str]] = []
    ledger.projector.rebuilder.page_size = 10
    ledger.projector.rebuilder.second_process_from = 10**12

    ledger.projector.rebuild(lambda reached, head: seen.append(indexes(ledger)))

    # Before the first close among the events the billing indexes are not there yet.
    assert "billing_activities_by_id" not in seen[0]
    assert indexes(ledger) == everything


def test_a_rebuild_cut_off_half_way_is_finished_by_the_next_catch_up_of_another_process(
    ledger: Ledger, db: str
) -> None:
    busy_ledger(ledger)
    expected = plain_rebuild(ledger)
    ledger.projector.rebuilder.page_size = 10

    class CutOff(Exception):
        pass

    def cut_off(reached: int, head: int) -> None:
        raise CutOff

    with pytest.raises(CutOff):
        ledger.projector.rebuild(cut_off)
    assert rebuilding(ledger) == {"billing", "history", "totals", "waiting"}

    other = Ledger(db)
    try:
        other.projector.catch_up()
        assert view_rows(other) == expected
        assert rebuilding(other) == set()
    finally:
        other.close()


def test_empty_views_catching_up_a_long_ledger_are_filled_as_a_rebuild_fills_them(ledger: Ledger, db: str) -> None:
    busy_ledger(ledger)
    expected = plain_rebuild(ledger)
    # The views as a fresh install sees them: nothing applied yet.
    with ledger.store.transaction(write=True) as c:
        for view in ledger.projector.views:
            view.drop(c)
            view.create(c)
        c.execute("UPDATE projection_positions SET position = 0")

    fresh = Ledger(db)
    try:
        fresh.projector.page_size = 5
        fresh.projector.catch_up()
        assert view_rows(fresh) == expected
        assert rebuilding(fresh) == set()
    finally:
        fresh.close()


def test_a_finish_prepared_up_to_a_position_is_not_used_once_another_process_went_past_it(
    ledger: Ledger, db: str
) -> None:
    busy_ledger(ledger)
    projector = ledger.projector
    projector.rebuilder.start()
    head = projector.head()
    # This process applies every page and keeps what it prepared, as the rebuild's children do...
    kept: dict[int, list[Any]] = {i: [] for i, view in enumerate(projector.views) if view.name == "history"}
    projector.apply_rows(projector.select(0, head, head), projector.rebuilder.chunk_size, kept)
    # ...but before it finishes, a new trajectory is recorded and another process applies it.
    Clerk(ledger).given(*care_need("T-NEW", "2017-06-05"))
    other = Ledger(db)
    try:
        other.projector.apply_rows(other.projector.select(head, other.projector.head(), 100), 100)
    finally:
        other.close()

    views = projector.views
    projector.rebuilder.finish(lambda i: views[i].prepare_finish(kept[i]), {v.name for v in views}, covered=head)
    finished = view_rows(ledger)

    assert any(row[0] == "T-NEW" for row in finished["history_entries"])
    assert finished == plain_rebuild(ledger)


def erasable(ledger: Ledger) -> None:
    """Two patients' trajectories typed in cluster 4, each with a line in November and December, November closed."""
    clerk = Clerk(ledger)
    for number, patient in (("T-Q", "PAT-Q"), ("T-O", "PAT-O")):
        clerk.given(
            opened(number, "2016-11-01", patient=patient, referrer="dr. Vlasblom"),
            *care_need(number)[1:],
            delivered(f"{number}-A1", "2016-11-03", number=number),
            delivered(f"{number}-A2", "2016-12-05", number=number),
        )
    clerk.given(month_closed("2016-11"))


def test_views_that_applied_an_erasure_are_what_a_rebuild_after_it_gives(ledger: Ledger) -> None:
    erasable(ledger)
    ledger.close_month("2016-12")
    erase(ledger, "PAT-Q", "AVG17")

    assert view_rows(ledger) == plain_rebuild(ledger)


def test_an_erasure_applied_in_the_same_page_as_the_close_before_it_moves_that_close_once(ledger: Ledger) -> None:
    erasable(ledger)
    # The close's process stops before its own catch-up: the erase's catch-up applies both in one page.
    catch_up = ledger.projector.catch_up
    ledger.projector.catch_up = lambda *_, **__: ledger.projector.head()  # type: ignore[method-assign]
    ledger.close_month("2016-12")
    ledger.projector.catch_up = catch_up  # type: ignore[method-assign]
    erase(ledger, "PAT-Q", "AVG17")
    caught_up = view_rows(ledger)

    assert ("cluster", "erased", 20000) in caught_up["totals_by"]  # T-Q's two lines, each once
    assert caught_up == plain_rebuild(ledger)
