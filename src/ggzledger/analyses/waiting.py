"""Waiting times per trajectory: aanmeldwachttijd, behandelwachttijd and the Treeknormen (docs/analyses.md).

The aanmeldwachttijd runs from the registration to the first assessment (the intake), the
behandelwachttijd from the first assessment to the first treatment activity, in days. A
treatment activity is a non-voided activity that is a ZPM consult of type ``behandeling``, a
group consult or a stay dated on or after the first assessment, or an activity billed by code
(no prestatie) dated after it: such a record carries no type, and the one on the assessment's
day is taken to be the intake itself. Read from the waiting and billing views; nothing is written.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from datetime import date
from typing import Any

import attrs

from ggzledger.domain.errors import UnknownTrajectory
from ggzledger.projections.store import Cursor
from ggzledger.reference.treeknormen import Treeknormen, load_treeknormen

__all__ = [
    "KINDS",
    "Wait",
    "exceeded",
    "first_treatments",
    "is_treatment",
    "percentile",
    "read_waits",
    "waiting",
    "waits_from_states",
]

KINDS = ("aanmeld", "behandel", "total")
"""The three waits: registration -> assessment, assessment -> treatment, registration -> treatment."""

_TREATING_PRESTATIES = ("group", "stay")


def is_treatment(prestatie: str | None, consult_type: str | None, on: date, first_assessed: date | None) -> bool:
    """Whether an activity (not voided) on ``on`` is a treatment activity, as the module says."""
    if first_assessed is None or on < first_assessed:
        return False
    if prestatie is None:
        return on > first_assessed
    return prestatie in _TREATING_PRESTATIES or (prestatie == "consult" and consult_type == "behandeling")


def percentile(values: Sequence[int], p: float) -> int | None:
    """The nearest-rank percentile: the smallest value with at least ``p`` percent of the values at or below it.

    ``percentile([1, 2, 3, 4], 50)`` is 2, ``percentile([1, 2, 3, 4], 90)`` is 4; None for no values.
    """
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[rank - 1]


@attrs.frozen
class Wait:
    """One trajectory's dates and the waits between them; a wait not (yet) ended is None."""

    trajectory: str
    region: str
    care_form: str | None
    opened_on: date
    registered_on: date | None
    first_assessed_on: date | None
    first_treated_on: date | None
    ended_on: date | None

    def days(self, kind: str) -> int | None:
        """The wait of ``kind`` in days, None when one of its ends is missing."""
        start, end = {
            "aanmeld": (self.registered_on, self.first_assessed_on),
            "behandel": (self.first_assessed_on, self.first_treated_on),
            "total": (self.registered_on, self.first_treated_on),
        }[kind]
        return None if start is None or end is None else (end - start).days

    def ended(self, kind: str) -> date | None:
        """The day the wait of ``kind`` ended (its later end), None when it has not."""
        return self.first_assessed_on if kind == "aanmeld" else self.first_treated_on

    def waiting_on(self, day: date) -> bool:
        """Registered by ``day``, not treated by it, and not referred back before it: on the waiting list."""
        return (
            self.registered_on is not None
            and self.registered_on <= day
            and (self.first_treated_on is None or self.first_treated_on > day)
            and (self.ended_on is None or self.ended_on >= day)
        )

    def to_json(self, norms: Treeknormen | None = None) -> dict[str, Any]:
        norms = norms or load_treeknormen()
        out: dict[str, Any] = {"trajectory": self.trajectory, "region": self.region, "care_form": self.care_form}
        for name in ("registered_on", "opened_on", "first_assessed_on", "first_treated_on"):
            value = getattr(self, name)
            out[name] = None if value is None else value.isoformat()
        for kind in KINDS:
            out[f"{kind}_days"] = self.days(kind)
        out["exceeded"] = [kind for kind, _days, _limit in exceeded(self, norms)]
        return out


def exceeded(wait: Wait, norms: Treeknormen) -> list[tuple[str, int, int]]:
    """(kind, days, norm) of each ended wait longer than its Treeknorm (the norm in force on the day it ended)."""
    found = []
    for kind in KINDS:
        days, end = wait.days(kind), wait.ended(kind)
        if days is not None and end is not None:
            limit = norms.lookup(end).limit(kind)
            if days > limit:
                found.append((kind, days, limit))
    return found


# The pure path: from stored events, as the findings read them.

_P = "ggzledger.Trajectory."


def waits_from_states(
    states: Iterable[tuple[int, str, dict[str, Any]]], code_of: Any = None
) -> dict[str, tuple[Wait, tuple[str, str] | None]]:
    """Each trajectory's Wait from its stored events (position, topic, decoded state), and the first treatment
    activity's (activity, code); ``code_of`` reads an opening's free-text region (default: the shipped list)."""
    if code_of is None:
        from ggzledger.reference.regions import load_regions

        code_of = load_regions().code_of
    opened: dict[str, dict[str, Any]] = {}
    activities: list[tuple[str, date, str, str, str | None, str | None]] = []
    voided: set[str] = set()
    for _position, topic, s in sorted(states, key=lambda state: state[0]):
        name = topic.removeprefix(_P)
        if name == "Opened":
            opened[s["trajectory"]] = {
                "region": code_of(s.get("region")),
                "opened_on": date.fromisoformat(s["opened_on"]),
            }
            continue
        facts = opened.get(s.get("trajectory", ""))
        if facts is None:
            continue
        if name == "Registered":
            facts.update(registered_on=date.fromisoformat(s["on"]), region=s["region"], care_form=s.get("care_form"))
        elif name == "Assessed":
            on = date.fromisoformat(s["on"])
            if facts.get("first_assessed_on") is None or on < facts["first_assessed_on"]:
                facts["first_assessed_on"] = on
        elif name == "ReferredBack":
            facts["ended_on"] = date.fromisoformat(s["on"])
        elif name in ("ActivityDelivered", "PrestatieDelivered"):
            on = date.fromisoformat(s["on"])
            activities.append(
                (s["trajectory"], on, s["activity"], s["code"], s.get("prestatie"), s.get("consult_type"))
            )
        elif name == "ActivityVoided":
            voided.add(s["activity"])
    first: dict[str, tuple[date, str, str]] = {}
    for number, on, activity, code, prestatie, consult_type in activities:
        if activity in voided or not is_treatment(prestatie, consult_type, on, opened[number].get("first_assessed_on")):
            continue
        if number not in first or (on, activity) < first[number][:2]:
            first[number] = (on, activity, code)
    out = {}
    for number, facts in opened.items():
        treated = first.get(number)
        wait = Wait(
            trajectory=number,
            region=facts["region"],
            care_form=facts.get("care_form"),
            opened_on=facts["opened_on"],
            registered_on=facts.get("registered_on"),
            first_assessed_on=facts.get("first_assessed_on"),
            first_treated_on=None if treated is None else treated[0],
            ended_on=facts.get("ended_on"),
        )
        out[number] = (wait, None if treated is None else (treated[1], treated[2]))
    return out


# The ledger path: SQL over the waiting and billing views.

_FIRST_TREATMENTS = """
SELECT a.trajectory, MIN(a.on_date) FROM billing_activities a
JOIN waiting_trajectories w ON w.trajectory = a.trajectory
LEFT JOIN billing_prestaties p ON p.position = a.position
WHERE a.voided_position IS NULL AND w.first_assessed_on IS NOT NULL AND a.on_date >= w.first_assessed_on
AND a.on_date <= ? {only}
AND ((p.prestatie IS NULL AND a.on_date > w.first_assessed_on) OR p.prestatie IN ('group', 'stay')
     OR (p.prestatie = 'consult' AND NOT EXISTS (SELECT 1 FROM waiting_diagnostiek d WHERE d.position = a.position)))
GROUP BY a.trajectory
"""

_TRAJECTORIES = (
    "SELECT trajectory, COALESCE(region, opened_region), care_form, opened_on, registered_on, first_assessed_on,"
    " ended_on FROM waiting_trajectories"
)


def first_treatments(c: Cursor, as_of: date, trajectory: str | None = None) -> dict[str, date]:
    """Each trajectory's first treatment activity dated on or before ``as_of`` (of one, when named)."""
    only = "" if trajectory is None else "AND a.trajectory = ?"
    params: tuple[Any, ...] = (as_of.isoformat(),) if trajectory is None else (as_of.isoformat(), trajectory)
    c.execute(_FIRST_TREATMENTS.format(only=only), params)
    return {number: date.fromisoformat(on) for number, on in c.fetchall()}


def _day(text: str | None) -> date | None:
    return None if text is None else date.fromisoformat(text)


def read_waits(c: Cursor, as_of: date, trajectory: str | None = None) -> list[Wait]:
    """Every trajectory opened or registered by ``as_of`` with its waits as the dates up to ``as_of`` give them.

    A date after ``as_of`` (an assessment, a treatment, an end) is not yet known as of then.
    """
    if trajectory is None:
        c.execute(_TRAJECTORIES)
    else:
        c.execute(_TRAJECTORIES + " WHERE trajectory = ?", (trajectory,))
    rows = c.fetchall()
    treated = first_treatments(c, as_of, trajectory)
    waits = []
    for number, region, care_form, opened, registered, assessed, ended in rows:
        opened_on, registered_on = date.fromisoformat(opened), _day(registered)
        if (registered_on or opened_on) > as_of:
            continue
        first_assessed = _day(assessed)
        ended_on = _day(ended)
        waits.append(
            Wait(
                trajectory=number,
                region=region,
                care_form=care_form,
                opened_on=opened_on,
                registered_on=registered_on,
                first_assessed_on=first_assessed if first_assessed is not None and first_assessed <= as_of else None,
                first_treated_on=treated.get(number),
                ended_on=ended_on if ended_on is not None and ended_on <= as_of else None,
            )
        )
    return sorted(waits, key=lambda w: w.trajectory)


def waiting(ledger: Any, as_of: date, trajectory: str | None = None) -> list[Wait]:
    """The waits of every trajectory as of ``as_of`` (or of one); raises UnknownTrajectory for one never opened.

    ``ledger`` is a caught-up :class:`~ggzledger.service.ledger.Ledger`.
    """
    ledger.projector.catch_up()
    with ledger.store.transaction(write=False) as c:
        waits = read_waits(c, as_of, trajectory)
        if trajectory is not None and not waits:
            c.execute("SELECT opened_on FROM waiting_trajectories WHERE trajectory = ?", (trajectory,))
            if c.fetchone() is None:
                raise UnknownTrajectory(f"trajectory {trajectory} was never opened")
    return waits
