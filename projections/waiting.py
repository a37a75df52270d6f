"""The waiting view: per trajectory its registration, opening, first assessment and end (docs/analyses.md).

What the waiting times and the regiobeeld read beside the billing view's activities: the
first treatment activity is found at read time over ``billing_activities`` (a void can undo
it), with the ZPM consults typed ``diagnostiek`` kept here, since the billing view does not
keep a consult's type.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ggzledger.domain import Trajectory
from ggzledger.projections.store import Cursor
from ggzledger.projections.view import Recorded, TableView
from ggzledger.reference.regions import Regions, load_regions

__all__ = ["WaitingView"]

_SCHEMA = (
    # region: the registration's code, else the opening's free text read as a code (or 'uncoded').
    """CREATE TABLE IF NOT EXISTS waiting_trajectories (
        trajectory TEXT PRIMARY KEY, provider TEXT NOT NULL, opened_on TEXT NOT NULL, opened_region TEXT NOT NULL,
        registered_on TEXT, region TEXT, care_form TEXT, first_assessed_on TEXT, ended_on TEXT)""",
    "CREATE TABLE IF NOT EXISTS waiting_diagnostiek (position BIGINT PRIMARY KEY, trajectory TEXT NOT NULL)",
)
_OPENED = Trajectory.Opened.TOPIC
_REGISTERED = Trajectory.Registered.TOPIC
_ASSESSED = Trajectory.Assessed.TOPIC
_REFERRED = Trajectory.ReferredBack.TOPIC
_PRESTATIE = Trajectory.PrestatieDelivered.TOPIC


class WaitingView(TableView):
    """Keeps one row per trajectory with the dates its waits are measured between, and its region.

    An assessment is always dated on or after the opening, and a review with scores only after
    a clustering that needs an assessment: the first ``Assessed`` is the first assessment.
    """

    name = "waiting"
    version = 1
    topics = frozenset({_OPENED, _REGISTERED, _ASSESSED, _REFERRED, _PRESTATIE})
    schema = _SCHEMA
    tables = ("waiting_trajectories", "waiting_diagnostiek")

    def __init__(self, regions: Regions | None = None) -> None:
        self.regions = regions or load_regions()

    def prepare(self, events: Sequence[Recorded]) -> dict[str, list[Any]]:
        """Rows by kind; a page's assessments of one trajectory reduced to the earliest."""
        opened: list[tuple[Any, ...]] = []
        registered: list[tuple[Any, ...]] = []
        assessed: dict[str, str] = {}
        ended: list[tuple[Any, ...]] = []
        diagnostiek: list[tuple[Any, ...]] = []
        code_of = self.regions.code_of
        for position, topic, s in events:
            if topic == _PRESTATIE:
                if s.get("prestatie") == "consult" and s.get("consult_type") == "diagnostiek":
                    diagnostiek.append((position, s["trajectory"]))
            elif topic == _ASSESSED:
                number, on = s["trajectory"], s["on"]
                if number not in assessed or on < assessed[number]:
                    assessed[number] = on
            elif topic == _OPENED:
                opened.append((s["trajectory"], s["provider"], s["opened_on"], code_of(s.get("region"))))
            elif topic == _REGISTERED:
                registered.append((s["on"], s["region"], s.get("care_form"), s["trajectory"]))
            elif topic == _REFERRED:
                ended.append((s["on"], s["trajectory"]))
        return {
            "opened": opened,
            "registered": registered,
            "assessed": [(on, number, on) for number, on in assessed.items()],
            "ended": ended,
            "diagnostiek": diagnostiek,
        }

    def write(self, c: Cursor, rows: dict[str, list[Any]]) -> None:
        """Store the rows; an opening precedes every other event of its trajectory, so it is inserted first."""
        if rows["opened"]:
            c.executemany(
                "INSERT INTO waiting_trajectories (trajectory, provider, opened_on, opened_region) VALUES (?, ?, ?, ?)",
                rows["opened"],
            )
        if rows["registered"]:
            c.executemany(
                "UPDATE waiting_trajectories SET registered_on = ?, region = ?, care_form = ? WHERE trajectory = ?",
                rows["registered"],
            )
        if rows["assessed"]:
            c.executemany(
                "UPDATE waiting_trajectories SET first_assessed_on = ? WHERE trajectory = ?"
                " AND (first_assessed_on IS NULL OR first_assessed_on > ?)",
                rows["assessed"],
            )
        if rows["ended"]:
            c.executemany("UPDATE waiting_trajectories SET ended_on = ? WHERE trajectory = ?", rows["ended"])
        if rows["diagnostiek"]:
            c.executemany("INSERT INTO waiting_diagnostiek (position, trajectory) VALUES (?, ?)", rows["diagnostiek"])
