"""The care-need history view: each trajectory's entries with findings, and the review worklist."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

import attrs
import orjson

from ggzledger.domain import Trajectory
from ggzledger.projections.bulk import Put
from ggzledger.projections.care_need import (
    CLUSTERED,
    REFERRED_BACK,
    REVIEWED,
    Assessment,
    Entry,
    Mark,
    entries,
    latest_assessment,
)
from ggzledger.projections.store import Cursor
from ggzledger.projections.view import Recorded, TableView
from ggzledger.reference import Catalogue
from ggzledger.store.sql import chunked, placeholders

__all__ = ["HistoryView"]

_SCHEMA = (
    """CREATE TABLE IF NOT EXISTS history_trajectories (
        trajectory TEXT PRIMARY KEY, opened_on TEXT NOT NULL, ended_on TEXT)""",
    # Clustered, Reviewed and ReferredBack; review_due is the typing's date plus its cluster's term.
    """CREATE TABLE IF NOT EXISTS history_marks (
        trajectory TEXT NOT NULL, position BIGINT NOT NULL, on_date TEXT NOT NULL, event TEXT NOT NULL,
        cluster INTEGER, review_due TEXT, PRIMARY KEY (trajectory, position))""",
    # The HoNOS total is kept beside the scores: only a referral back needs the scores themselves.
    """CREATE TABLE IF NOT EXISTS history_assessments (
        trajectory TEXT NOT NULL, position BIGINT NOT NULL, on_date TEXT NOT NULL, total INTEGER NOT NULL,
        scores TEXT NOT NULL, PRIMARY KEY (trajectory, position))""",
    """CREATE TABLE IF NOT EXISTS history_entries (
        trajectory TEXT NOT NULL, seq INTEGER NOT NULL, on_date TEXT NOT NULL, event TEXT NOT NULL,
        from_cluster INTEGER, to_cluster INTEGER, change TEXT NOT NULL, likelihood TEXT,
        honos_total INTEGER, honos_delta INTEGER, findings TEXT NOT NULL, PRIMARY KEY (trajectory, seq))""",
)
_INDEXES = ("CREATE INDEX IF NOT EXISTS history_marks_in_force ON history_marks (trajectory, on_date, position)",)
_TABLES = ("history_trajectories", "history_marks", "history_assessments", "history_entries")

# The worklist as of a date: the typing in force on that date (no later typing dated by then),
# of a trajectory open on that date, whose review is due by then.
_WORKLIST = """
    SELECT m.trajectory, m.cluster, m.review_due FROM history_marks m
    JOIN history_trajectories t ON t.trajectory = m.trajectory
    WHERE m.event <> 'referred_back' AND m.on_date <= ? AND m.review_due <= ?
      AND t.opened_on <= ? AND (t.ended_on IS NULL OR t.ended_on > ?)
      AND NOT EXISTS (
        SELECT 1 FROM history_marks n
        WHERE n.trajectory = m.trajectory AND n.event <> 'referred_back' AND n.on_date <= ?
          AND (n.on_date > m.on_date OR (n.on_date = m.on_date AND n.position > m.position)))
    ORDER BY m.review_due, m.trajectory"""

_INSERT_ENTRY = (
    "INSERT INTO history_entries (trajectory, seq, on_date, event, from_cluster, to_cluster, change,"
    " likelihood, honos_total, honos_delta, findings) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)

_OPENED, _ASSESSED, _CLUSTERED, _REVIEWED, _REFERRED_BACK, _ERASED = (
    Trajectory.Opened.TOPIC,
    Trajectory.Assessed.TOPIC,
    Trajectory.Clustered.TOPIC,
    Trajectory.Reviewed.TOPIC,
    Trajectory.ReferredBack.TOPIC,
    Trajectory.PersonalDataErased.TOPIC,
)


# What a page of events adds to the view: rows of history_trajectories, history_marks,
# history_assessments, the ends (ended_on, trajectory), the trajectories whose entries
# change, and those erased. Plain lists and tuples: a page prepared in another process is sent by marshal.
Facts = tuple[
    list[tuple[Any, ...]], list[tuple[Any, ...]], list[tuple[Any, ...]], list[tuple[Any, ...]], list[str], list[str]
]


class HistoryView(TableView):
    """Keeps each trajectory's care-need entries (rules.md §8), recomputed whenever its facts change.

    The view stores the facts the history is computed from (marks and
    assessments with their positions) beside the entries. A page of events
    marks the trajectories it touches; at the end of the page their entries are
    recomputed from all their facts with :func:`care_need.entries`, so a review
    recorded late but dated early, or a late assessment, takes its place by date.
    A rebuild computes every trajectory's entries once, at its end, from the
    facts it prepared since position 0 (a :class:`~ggzledger.projections.bulk.FinishedFromPages`).
    """

    name = "history"
    # 2: the catalogue's clusters-v2 (clusters 6 and 7 at need level 5) changes stored entries'
    # step up / lateral; a ledger with version 1 entries rebuilds this view on its next catch-up.
    # 3: an erased trajectory's marks keep no cluster and its assessments no row.
    version = 3
    topics = frozenset({_OPENED, _ASSESSED, _CLUSTERED, _REVIEWED, _REFERRED_BACK, _ERASED})
    schema = _SCHEMA
    indexes = _INDEXES
    tables = _TABLES

    def __init__(self, catalogue: Catalogue) -> None:
        self.catalogue = catalogue
        self._due: dict[tuple[int, str], str] = {}

    def prepare(self, events: Sequence[Recorded]) -> Facts:
        """The rows of the facts the events record, and the trajectories they touch (no database needed)."""
        opened: list[tuple[Any, ...]] = []
        marks: list[tuple[Any, ...]] = []
        assessments: list[tuple[Any, ...]] = []
        ended: list[tuple[Any, ...]] = []
        touched: set[str] = set()
        erased: list[str] = []
        for position, topic, s in events:
            if topic == _OPENED:
                opened.append((s["trajectory"], s["opened_on"]))
            elif topic == _ASSESSED:
                if s["scores"] is not None:  # None: erased with the patient's data
                    assessments.append(_assessment_row(position, s))
                touched.add(s["trajectory"])
            elif topic in (_CLUSTERED, _REVIEWED):
                on, cluster = s["on"], s["cluster"]
                due = self._review_due(cluster, on)
                event = CLUSTERED if topic == _CLUSTERED else REVIEWED
                marks.append((s["trajectory"], position, on, event, cluster, due))
                if topic == _REVIEWED and s["scores"] is not None:
                    assessments.append(_assessment_row(position, s))
                touched.add(s["trajectory"])
            elif topic == _REFERRED_BACK:
                marks.append((s["trajectory"], position, s["on"], REFERRED_BACK, None, None))
                ended.append((s["on"], s["trajectory"]))
                touched.add(s["trajectory"])
            elif topic == _ERASED:
                erased.append(s["trajectory"])
                touched.add(s["trajectory"])
        return (opened, marks, assessments, ended, sorted(touched), erased)

    def write(self, c: Cursor, facts: Facts) -> None:
        """Store prepared facts inside the caller's transaction, and the entries of the trajectories touched."""
        self.write_bulk(c, facts)
        if facts[4]:
            self._recompute(c, facts[4])

    def write_bulk(self, c: Cursor, facts: Facts) -> None:
        """Store prepared facts only, while rebuilding: every trajectory's entries are computed
        once, by :meth:`finish_rebuild`, instead of after every page that touches it."""
        opened, marks, assessments, ended, _touched, erased = facts
        c.executemany("INSERT INTO history_trajectories (trajectory, opened_on) VALUES (?, ?)", opened)
        c.executemany(
            "INSERT INTO history_marks (trajectory, position, on_date, event, cluster, review_due)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            marks,
        )
        c.executemany(
            "INSERT INTO history_assessments (trajectory, position, on_date, total, scores) VALUES (?, ?, ?, ?, ?)",
            assessments,
        )
        c.executemany("UPDATE history_trajectories SET ended_on = ? WHERE trajectory = ?", ended)
        # An erasure: the scores and clusters go (the connection deletes securely); dates and events stay.
        c.executemany("DELETE FROM history_assessments WHERE trajectory = ?", [(t,) for t in erased])
        c.executemany(
            "UPDATE history_marks SET cluster = NULL, review_due = NULL WHERE trajectory = ?", [(t,) for t in erased]
        )

    def spill(self, facts: Facts, put: Put) -> Facts:
        """Nothing is spilled: a rebuild keeps this view's prepared pages for :meth:`prepare_finish`."""
        return facts

    def finish_rebuild(self, c: Cursor, prepared: Any = None) -> None:
        """Index the facts and store every trajectory's entries.

        ``prepared``: the entry rows :meth:`prepare_finish` computed from every
        page since position 0; otherwise they are computed from the stored facts.
        """
        self.create_indexes(c)
        c.execute("DELETE FROM history_entries")
        if prepared is None:
            # Every trajectory's facts in two reads in key order, rather than by chunks of trajectories.
            c.execute("SELECT trajectory, position, on_date, event, cluster FROM history_marks")
            marks = c.fetchall()
            c.execute("SELECT trajectory, position, on_date, total, scores FROM history_assessments")
            prepared = self._entry_rows(marks, c.fetchall())
        c.executemany(_INSERT_ENTRY, prepared)

    def prepare_finish(self, pages: Sequence[Facts]) -> list[tuple[Any, ...]]:
        """The entry rows of every trajectory, from the facts prepared from every page since position 0."""
        erased = {number for page in pages for number in page[5]}
        marks = [(*row[:4], None) if row[0] in erased else row[:5] for page in pages for row in page[1]]
        assessments = [row for page in pages for row in page[2] if row[0] not in erased]
        return self._entry_rows(marks, assessments)

    def _entry_rows(
        self, marks: Sequence[Sequence[Any]], assessments: Sequence[Sequence[Any]]
    ) -> list[tuple[Any, ...]]:
        """Entry rows from rows of history_marks (trajectory, position, on_date, event, cluster) and
        history_assessments (trajectory, position, on_date, total, scores), in any order."""
        days: dict[str, date] = {}  # a few hundred distinct dates among a ledger's facts

        def day(text: str) -> date:
            return days.get(text) or days.setdefault(text, date.fromisoformat(text))

        found: dict[str, list[Mark]] = {}
        ended: dict[str, list[date]] = {}  # the dates of each trajectory's referrals back
        for number, position, on_date, event, cluster in marks:
            on = day(on_date)
            found.setdefault(number, []).append(Mark(on, position, event, cluster))
            if event == REFERRED_BACK:
                ended.setdefault(number, []).append(on)
        rated: dict[str, list[Assessment]] = {}
        scored: dict[tuple[str, int], str] = {}  # the stored scores, of ended trajectories only
        for number, position, on_date, total, items in assessments:
            rated.setdefault(number, []).append(Assessment(day(on_date), position, (), total))
            if number in ended:
                scored[number, position] = items
        rows: list[tuple[Any, ...]] = []
        for number in sorted(found):
            assessed = rated.get(number, [])
            if number in ended:
                assessed = _with_discharge_scores(assessed, ended[number], scored, number)
            for seq, entry in enumerate(entries(found[number], assessed, self.catalogue), start=1):
                rows.append(_entry_row(number, seq, entry))
        return rows

    def _review_due(self, cluster: int | None, on: str) -> str | None:
        """The typing's date plus its cluster's review term, as ISO text (memoised: few distinct pairs)."""
        if cluster is None:  # erased
            return None
        due = self._due.get((cluster, on))
        if due is None:
            term = self.catalogue.lookup(cluster).review_term
            due = self._due[cluster, on] = term.add_to(date.fromisoformat(on)).isoformat()
        return due

    def _recompute(self, c: Cursor, trajectories: Sequence[str]) -> None:
        """Compute the entries of the given trajectories again from their stored facts."""
        c.executemany("DELETE FROM history_entries WHERE trajectory = ?", [(t,) for t in trajectories])
        for chunk in chunked(trajectories):
            places = placeholders(len(chunk))
            c.execute(
                "SELECT trajectory, position, on_date, event, cluster FROM history_marks"
                f" WHERE trajectory IN ({places})",
                chunk,
            )
            marks = c.fetchall()
            c.execute(
                "SELECT trajectory, position, on_date, total, scores FROM history_assessments"
                f" WHERE trajectory IN ({places})",
                chunk,
            )
            c.executemany(_INSERT_ENTRY, self._entry_rows(marks, c.fetchall()))

    # Reading.

    def has_trajectory(self, c: Cursor, trajectory: str) -> bool:
        """True when the trajectory was opened."""
        c.execute("SELECT 1 FROM history_trajectories WHERE trajectory = ?", (trajectory,))
        return c.fetchone() is not None

    def entries(self, c: Cursor, trajectory: str) -> list[Entry]:
        """The stored care-need history of a trajectory, in order."""
        c.execute(
            "SELECT on_date, event, from_cluster, to_cluster, change, likelihood, honos_total, honos_delta, findings"
            " FROM history_entries WHERE trajectory = ? ORDER BY seq",
            (trajectory,),
        )
        return [
            Entry(
                date.fromisoformat(on), event, was, now, change, likelihood, total, delta, tuple(orjson.loads(findings))
            )
            for on, event, was, now, change, likelihood, total, delta, findings in c.fetchall()
        ]

    def worklist(self, c: Cursor, as_of: date) -> list[tuple[str, int, date]]:
        """(trajectory, cluster in force, review due) of every trajectory due for review as of a date.

        Ordered by due date, the longest overdue first, then trajectory number.
        Mirrors :func:`care_need.due_for_review`, in SQL so that it reads only
        the rows that are due.
        """
        day = as_of.isoformat()
        c.execute(_WORKLIST, (day, day, day, day, day))
        return [(number, cluster, date.fromisoformat(due)) for number, cluster, due in c.fetchall()]


def _with_discharge_scores(
    rated: list[Assessment], ended_on: list[date], scored: dict[tuple[str, int], str], number: str
) -> list[Assessment]:
    """``rated`` with the scores of the assessment each referral back reads (the one in force on
    its date, as :func:`care_need.entries` picks it): only the discharge criteria read scores, and
    decoding every stored score list was a third of computing a ledger's entries."""
    wanted = {latest.position for day in ended_on if (latest := latest_assessment(rated, day)) is not None}
    return [
        attrs.evolve(a, scores=tuple(map(tuple, orjson.loads(scored[number, a.position]))))
        if a.position in wanted
        else a
        for a in rated
    ]


def _assessment_row(position: int, s: dict[str, Any]) -> tuple[Any, ...]:
    return (s["trajectory"], position, s["on"], s["total"], orjson.dumps(s["scores"]).decode())


def _entry_row(trajectory: str, seq: int, entry: Entry) -> tuple[Any, ...]:
    return (
        trajectory,
        seq,
        entry.on.isoformat(),
        entry.event,
        entry.from_cluster,
        entry.to_cluster,
        entry.change,
        entry.likelihood,
        entry.honos_total,
        entry.honos_delta,
        orjson.dumps(list(entry.findings)).decode(),
    )
