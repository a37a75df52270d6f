"""The arithmetic of the care-need history and the review worklist (rules.md §8), as pure functions."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, timedelta
from typing import Any

import attrs

from ggzledger.domain import Trajectory
from ggzledger.domain.values import ScoreItems, total_of
from ggzledger.reference import Catalogue

__all__ = [
    "CHANGES",
    "FINDINGS",
    "Assessment",
    "Mark",
    "Entry",
    "CareNeed",
    "care_need_of",
    "entries",
    "history_of",
    "due_for_review",
]

CHANGES = ("initial", "unchanged", "step_up", "step_down", "lateral", "ended", "erased")
"""The values of Entry.change."""

FINDINGS = (
    "unlikely_transition",
    "step_up_without_worsening",
    "review_overdue",
    "no_recent_assessment",
    "discharge_criteria_not_met",
)
"""The findings an entry can carry, in the order they are listed."""

CLUSTERED, REVIEWED, REFERRED_BACK = "clustered", "reviewed", "referred_back"
# How far back an assessment still counts as recent for a change of cluster (both ends included).
RECENT = timedelta(days=90)
_CHANGES_NEEDING_ASSESSMENT = frozenset({"initial", "step_up", "step_down", "lateral"})


@attrs.frozen
class Assessment:
    """A HoNOS+ rating on a date: an Assessed event, or a Reviewed event that carried scores.

    ``total`` is the sum of items 1..12 not counting items scored 9; it is
    computed from the scores unless given (a view that stored it).
    """

    on: date
    position: int
    scores: ScoreItems
    total: int = attrs.field(default=attrs.Factory(lambda self: total_of(self.scores), takes_self=True))


@attrs.frozen
class Mark:
    """A Clustered, Reviewed or ReferredBack event: one entry of the history each."""

    on: date
    position: int
    event: str
    cluster: int | None  # None for a referral back, and once erased with the patient's data

    def order(self) -> tuple[date, bool, int]:
        """The order of "in force": date, then recording order; a referral back ends its date."""
        # A review recorded after the referral back but dated on the same day happened
        # before the end: the trajectory's last entry is always the referral back.
        return (self.on, self.event == REFERRED_BACK, self.position)


@attrs.frozen
class Entry:
    """One line of the care-need history (rules.md §8)."""

    on: date
    event: str
    from_cluster: int | None
    to_cluster: int | None
    change: str
    likelihood: str | None
    honos_total: int | None
    honos_delta: int | None
    findings: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        """The contract's JSON shape, cluster codes as integers."""
        return {
            "on": self.on.isoformat(),
            "event": self.event,
            "from": self.from_cluster,
            "to": self.to_cluster,
            "change": self.change,
            "likelihood": self.likelihood,
            "honos_total": self.honos_total,
            "honos_delta": self.honos_delta,
            "findings": list(self.findings),
        }


@attrs.frozen
class CareNeed:
    """What the history of one trajectory is computed from."""

    trajectory: str
    opened_on: date | None
    marks: tuple[Mark, ...]
    assessments: tuple[Assessment, ...]

    @property
    def ended_on(self) -> date | None:
        """The referral back date, if any."""
        return next((m.on for m in self.marks if m.event == REFERRED_BACK), None)


def care_need_of(events: Iterable[Any], trajectory: str | None = None) -> CareNeed:
    """The care-need facts of one trajectory from its domain events, in recording order.

    Each event's place in ``events`` stands for its position. Events of other
    trajectories, and events that do not bear on the care need, are skipped.
    """
    opened_on: date | None = None
    marks: list[Mark] = []
    assessments: list[Assessment] = []
    for position, event in enumerate(events, start=1):
        number = getattr(event, "trajectory", None)
        if trajectory is None:
            trajectory = number
        if number is None or number != trajectory:
            continue
        if isinstance(event, Trajectory.Opened):
            opened_on = event.opened_on
        elif isinstance(event, Trajectory.Assessed):
            if event.scores is not None:  # None: erased
                assessments.append(Assessment(event.on, position, event.scores))
        elif isinstance(event, Trajectory.Clustered):
            marks.append(Mark(event.on, position, CLUSTERED, event.cluster))
        elif isinstance(event, Trajectory.Reviewed):
            marks.append(Mark(event.on, position, REVIEWED, event.cluster))
            if event.scores is not None:
                assessments.append(Assessment(event.on, position, event.scores))
        elif isinstance(event, Trajectory.ReferredBack):
            marks.append(Mark(event.on, position, REFERRED_BACK, None))
    return CareNeed(trajectory or "", opened_on, tuple(marks), tuple(assessments))


def history_of(events: Iterable[Any], catalogue: Catalogue) -> list[Entry]:
    """The care-need history of one trajectory from its domain events (see :func:`care_need_of`)."""
    facts = care_need_of(events)
    return entries(facts.marks, facts.assessments, catalogue)


def latest_assessment(assessments: Sequence[Assessment], day: date) -> Assessment | None:
    """The assessment in force on ``day``: the latest dated on or before it; of one date, the last recorded."""
    best: Assessment | None = None
    for assessment in assessments:
        if assessment.on <= day and (best is None or (assessment.on, assessment.position) > (best.on, best.position)):
            best = assessment
    return best


def _change(catalogue: Catalogue, source: int | None, target: int) -> str:
    if source is None:
        return "initial"
    if source == target:
        return "unchanged"
    before, after = catalogue.lookup(source).need_level, catalogue.lookup(target).need_level
    # Cluster 0 has no need level: a change from or to it is lateral.
    if before is None or after is None or before == after:
        return "lateral"
    return "step_up" if after > before else "step_down"


def entries(marks: Iterable[Mark], assessments: Iterable[Assessment], catalogue: Catalogue) -> list[Entry]:
    """The care-need history: one entry per mark, in the order of "in force", with its findings.

    Every entry is computed from everything given, whatever order it was
    recorded in: a review recorded late but dated early takes its place by date.
    Raises UnknownCluster for a cluster code outside the catalogue.
    """
    rated = sorted(assessments, key=lambda a: (a.on, a.position))
    result: list[Entry] = []
    in_force: Mark | None = None
    previous_total: int | None = None
    for mark in sorted(marks, key=Mark.order):
        latest = latest_assessment(rated, mark.on)
        total = None if latest is None else latest.total
        delta = None if total is None or previous_total is None else total - previous_total
        source = None if in_force is None else in_force.cluster
        findings: list[str] = []
        if mark.event == REFERRED_BACK:
            target, change, likelihood = None, "ended", None
        elif mark.cluster is None:
            # Erased with the patient's data: the date and the event stay, nothing derived from the care need.
            result.append(Entry(mark.on, mark.event, None, None, "erased", None, None, None))
            in_force, previous_total = mark, None
            continue
        else:
            assert mark.cluster is not None
            target = mark.cluster
            change = _change(catalogue, source, target)
            likelihood = catalogue.likelihood(source, target) if source is not None and source != target else None
        if likelihood == "unlikely":
            findings.append("unlikely_transition")
        if change == "step_up" and delta is not None and delta <= 0:
            findings.append("step_up_without_worsening")
        if in_force is not None and in_force.cluster is not None:
            due = catalogue.lookup(in_force.cluster).review_term.add_to(in_force.on)
            if mark.on > due:
                findings.append("review_overdue")
        if change in _CHANGES_NEEDING_ASSESSMENT and not any(mark.on - RECENT <= a.on <= mark.on for a in rated):
            findings.append("no_recent_assessment")
        if change == "ended" and source is not None:
            scores = {} if latest is None else dict(latest.scores)
            if catalogue.meets_discharge_criteria(source, scores) is False:
                findings.append("discharge_criteria_not_met")
        result.append(Entry(mark.on, mark.event, source, target, change, likelihood, total, delta, tuple(findings)))
        if mark.event != REFERRED_BACK:
            in_force = mark
        previous_total = total
    return result


def due_for_review(facts: CareNeed, as_of: date, catalogue: Catalogue) -> tuple[int, date] | None:
    """(cluster in force, review due date) when the trajectory is on the worklist as of a date, else None.

    Judged on the events dated on or before ``as_of`` only: the trajectory must
    be opened by then and not referred back by then, and the review of the
    cluster in force on ``as_of`` must be due on or before it (rules.md §8).
    """
    if facts.opened_on is None or facts.opened_on > as_of:
        return None
    ended = facts.ended_on
    if ended is not None and ended <= as_of:
        return None
    typings = [m for m in facts.marks if m.event != REFERRED_BACK and m.on <= as_of]
    if not typings:
        return None
    shown = max(typings, key=Mark.order)
    if shown.cluster is None:  # erased: no cluster, no review
        return None
    due = catalogue.lookup(shown.cluster).review_term.add_to(shown.on)
    return (shown.cluster, due) if due <= as_of else None
