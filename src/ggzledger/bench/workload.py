"""A seeded synthetic workload: one provider's year (2024) of GGZ trajectories as contract input lines."""

from __future__ import annotations

import heapq
import itertools
import math
import random
from collections.abc import Generator, Iterator
from datetime import date, timedelta
from typing import Any

import orjson

from ggzledger.bench.zpm_care import ZPM_SHARE, contracts, practice, referral
from ggzledger.reference import Catalogue, load_catalogue

__all__ = ["YEAR", "PROVIDER", "workload", "trajectories_for"]

YEAR = 2024
"""The year simulated: zpm-2024b prices its consults, demo-2017 (no end date) its stay days."""

PROVIDER = "22240001"
"""The one provider (AGB code) whose year this is."""

_FIRST = date(YEAR, 1, 1)
_LAST = date(YEAR, 12, 31)

# Average lines one trajectory produces by the end of the year, measured on this generator
# (seeds 1..3, 2k..1M lines). The caseload is sized from it with a surplus that covers the
# spread of small workloads, and the stream is cut at exactly the number of lines asked for,
# in the last days of December.
_LINES_PER_TRAJECTORY = 23.0

# How often each cluster is the first typing of a new trajectory: common mental-health problems
# and non-psychotic disorders most, then psychosis, then cognitive impairment (weights, not %).
# No cluster 0: from 2022 the zorgvraagtypering has no type 0 (rules.md 3.13).
_CLUSTER_WEIGHTS = {
    1: 10, 2: 10, 3: 12, 4: 12, 5: 3, 6: 3, 7: 4, 8: 4, 10: 3, 11: 8,
    12: 6, 13: 3, 14: 2, 15: 2, 16: 3, 17: 3, 18: 3, 19: 2, 20: 2, 21: 1,
}  # fmt: skip
_INSURERS = (("3311", 30), ("3343", 22), ("7029", 18), ("3358", 12), ("0101", 10), ("8971", 8))
_REGIONS = ("Utrecht", "Amersfoort", "Zeist", "Nieuwegein", "Houten", None)
_REFERRERS = ("huisarts", "huisarts", "huisarts", "bedrijfsarts", "medisch specialist", None)
_PROFESSIONALS = ("psychiater", "gz-psycholoog", "klinisch psycholoog", "verpleegkundig specialist", "psychotherapeut")
_ASSESSORS = ("psychiater", "gz-psycholoog", "verpleegkundig specialist")
_VOID_REASONS = ("dubbel geregistreerd", "patient niet verschenen", "verkeerde prestatiecode", None)
_END_REASONS = ("behandeling afgerond", "doelen bereikt", "verhuisd", "op eigen verzoek", None)
_ENDED_TO = (("huisarts", 70), ("other_provider", 20), ("none", 10))
# Registrations (aanmeldingen, docs/analyses.md): the share of trajectories that have one, the
# patients' regions (zorgkantoorregio codes: Utrecht and the regions around it) and the care forms
# they were registered for (none for most). Drawn from a generator of their own, so that every
# other line is what it was without them.
REGISTERED_SHARE = 0.6
_REGISTERED_REGIONS = (("ZK11", 60), ("ZK12", 10), ("ZK10", 8), ("ZK24", 8), ("ZK07", 6), ("ZK08", 4), ("ZK18", 4))
_REGISTERED_FORMS = (
    ("", 70), ("outreach", 10), ("acute", 6), ("clinical", 6), ("highly_specialised_institution", 5), ("secure", 3),
)  # fmt: skip


def trajectories_for(events: int) -> int:
    """How many trajectories the year opens when about ``events`` lines are wanted."""
    expected = max(1.0, events / _LINES_PER_TRAJECTORY)
    return math.ceil(expected * (1 + 2.5 / math.sqrt(expected)))


def workload(
    events: int, seed: int = 1, catalogue: Catalogue | None = None, zpm_share: float = ZPM_SHARE
) -> Iterator[bytes]:
    """``events`` JSON lines (each ending in a newline) of one provider's 2024, the same for the same seed.

    The year starts with the provider's insurer contracts. Trajectories open through the year (a
    quarter of them as January's intake), are assessed (HoNOS+ items 1..12), clustered across the
    catalogue and seen weekly: a ``zpm_share`` of them (two in five by default) as ZPM prestaties
    (consults by several professions and settings, group units, overleg, travel surcharges:
    :mod:`~ggzledger.bench.zpm_care`), the others by code (zpm-2024b consult codes, some demo-2017
    ``CONSULT``). Some have clinical stays (``VERBLIJF`` per day), reviews come on their cluster's
    term (some overdue) with step-ups and step-downs, a few activities are registered late or
    voided, and trajectories that end within the year are referred back. Lines come in the order a
    source system would send them (by registration date). Every line is accepted by an empty
    ledger that holds the bench's own table (``zpm_care.BENCH_TABLE``); with ``zpm_share`` 0 the
    lines are the cluster model's only (no contracts), which an empty ledger of any version takes.
    Stops early only if the year runs out of lines first.
    """
    catalogue = catalogue or load_catalogue()
    return itertools.islice(_Year(events, seed, catalogue, zpm_share).lines(), events)


class _Year:
    """The simulation: a queue of dated steps, each trajectory scheduling its own next step."""

    def __init__(self, events: int, seed: int, catalogue: Catalogue, zpm_share: float = ZPM_SHARE) -> None:
        self.zpm_share = zpm_share
        self.rng = random.Random(seed)
        self.seed = seed
        self.catalogue = catalogue
        self.count = trajectories_for(events)
        self.clusters = [c for c in catalogue if c.code in _CLUSTER_WEIGHTS]
        self.weights = [_CLUSTER_WEIGHTS[c.code] for c in self.clusters]
        # (day ordinal, sequence, a trajectory to step or a ready line)
        self.queue: list[tuple[int, int, Any]] = []
        self.sequence = itertools.count()
        # Source systems number records and activities from sequences as they register them.
        self.record_ids = itertools.count(1)
        self.activity_ids = itertools.count(1)
        self.registrations = random.Random(seed * 7919 + 4)

    def lines(self) -> Iterator[bytes]:
        rng = self.rng
        if self.zpm_share:
            for record in contracts(PROVIDER, YEAR, self.record_id):
                yield self.line(record)
        intake = self.count // 4
        for index in range(self.count):
            if index < intake:
                opened = _FIRST + timedelta(days=rng.randrange(1, 19))
            else:
                opened = _FIRST + timedelta(days=rng.randrange(0, 355))
            self.schedule(opened, _Trajectory(self, index, opened))
        queue = self.queue
        while queue:
            ordinal, _, item = heapq.heappop(queue)
            if isinstance(item, bytes):
                yield item
            else:
                yield from item.step(date.fromordinal(ordinal))

    def schedule(self, day: date, item: Any) -> None:
        heapq.heappush(self.queue, (day.toordinal(), next(self.sequence), item))

    def line(self, record: dict[str, Any]) -> bytes:
        return orjson.dumps(record) + b"\n"

    def record_id(self) -> str:
        return f"R{self.seed}-{next(self.record_ids):08d}"

    def honos(self, severity: int) -> dict[str, int]:
        """HoNOS+ items 1..12 around a severity (0..4); a few unknown (9), sometimes item 13."""
        rng = self.rng
        scores = {}
        for item in range(1, 13):
            score = min(4, max(0, severity + rng.choice((-2, -1, -1, 0, 0, 0, 1))))
            scores[str(item)] = 9 if rng.random() < 0.03 else score
        if rng.random() < 0.2:
            scores["13"] = rng.randrange(0, 5)
        return scores

    def first_cluster(self) -> int:
        return self.rng.choices(self.clusters, self.weights)[0].code

    def next_cluster(self, code: int) -> int:
        """The cluster after a review: mostly the same, else a step up, a step down, or a jump."""
        rng = self.rng
        draw = rng.random()
        if draw < 0.62:
            return code
        current = self.catalogue.lookup(code)
        level = current.need_level or 0
        same = [c for c in self.clusters if c.supercluster == current.supercluster and c.code != code]
        if draw < 0.78:
            options = [c for c in same if (c.need_level or 0) > level]
        elif draw < 0.95:
            options = [c for c in same if (c.need_level or 0) < level]
        else:
            options = [c for c in self.clusters if c.code != code]
        return rng.choice(options).code if options else code


def _weighted(rng: random.Random, pairs: tuple[tuple[str, int], ...]) -> str:
    return rng.choices([p[0] for p in pairs], [p[1] for p in pairs])[0]


def _weekday(day: date) -> date:
    """The day itself, or the Monday after a weekend."""
    weekday = day.weekday()
    return day + timedelta(days=7 - weekday) if weekday >= 5 else day


class _Trajectory:
    """One patient's trajectory in the simulation: what it does next and when."""

    __slots__ = (
        "year", "number", "index", "opened_on", "ends_on", "cluster", "severity", "next_consult",
        "next_review", "stays", "consults", "demo", "started", "practice",
    )  # fmt: skip

    def __init__(self, year: _Year, index: int, opened_on: date) -> None:
        rng = year.rng
        self.year = year
        self.index = index
        self.number = f"T{year.seed}-{index:06d}"
        self.opened_on = opened_on
        weeks = max(3, int(rng.lognormvariate(math.log(18), 0.7)))
        ends_on = opened_on + timedelta(days=weeks * 7 + rng.randrange(0, 5))
        self.ends_on: date | None = ends_on if ends_on <= _LAST else None
        self.cluster = year.first_cluster()
        level = year.catalogue.lookup(self.cluster).need_level or 2
        self.severity = min(4, max(1, level - 1))
        self.next_consult = _weekday(opened_on)
        self.next_review: date | None = None
        self.stays: list[tuple[date, date]] = []
        if rng.random() < (0.16 if level >= 4 else 0.04):
            self.stays.append(self._stay(rng))
            if rng.random() < 0.2:
                self.stays.append(self._stay(rng))
            self.stays.sort()
        self.consults = 0
        # Some contracts still bill the demo-2017 codes (CONSULT) instead of the zpm-2024 ones.
        self.demo = rng.random() < 0.08
        self.started = False
        # How a ZPM trajectory is treated; None: its activities are recorded by code.
        self.practice = practice(rng, index) if not self.demo and rng.random() < year.zpm_share else None

    def _stay(self, rng: random.Random) -> tuple[date, date]:
        latest = (self.ends_on or _LAST) - self.opened_on
        start = self.opened_on + timedelta(days=rng.randrange(0, max(1, latest.days - 2)))
        length = max(2, int(rng.lognormvariate(math.log(12), 0.6)))
        end = min(start + timedelta(days=length), self.ends_on or _LAST)
        return start, end

    def step(self, day: date) -> Iterator[bytes]:
        """The lines this trajectory registers on ``day``; schedules its next step."""
        year, rng = self.year, self.year.rng
        if not self.started:
            self.started = True
            yield from self._open(day)
        if self.next_review is not None and self.next_review == day:
            yield from self._review(day)
        if any(start <= day <= end for start, end in self.stays):
            yield from self._activity(day, "VERBLIJF", stay=True)
        if day == self.next_consult:
            self.consults += 1
            if self.practice is not None:
                yield from self._prestaties(day)
            else:
                if rng.random() < 0.88:  # otherwise a missed appointment
                    yield from self._activity(day, self._consult_code(), stay=False)
                if rng.random() < 0.05:
                    yield from self._activity(day, rng.choice(("OV0007", "OV0008", "OV0012")), stay=False)
            if self.consults == 6 and rng.random() < 0.3:
                # An interim re-assessment after the first weeks of treatment.
                yield year.line(self._assessed(day))
            self.next_consult = _weekday(day + timedelta(days=rng.choice((6, 7, 7, 7, 7, 8))))
        if day == self.ends_on:
            reason = rng.choice(_END_REASONS)
            record = self._record("referred_back", day, to=_weighted(rng, _ENDED_TO))
            if reason:
                record["reason"] = reason
            yield year.line(record)
            return
        upcoming = [self.next_consult]
        if self.next_review is not None:
            upcoming.append(self.next_review)
        upcoming += [max(start, day + timedelta(days=1)) for start, end in self.stays if end > day]
        if self.ends_on is not None:
            upcoming.append(self.ends_on)
        following = min(upcoming)
        if self.ends_on is not None and following > self.ends_on:
            following = self.ends_on
        if following <= _LAST:
            year.schedule(following, self)

    def _open(self, day: date) -> Iterator[bytes]:
        year, rng = self.year, self.year.rng
        record = self._record(
            "trajectory_opened",
            day,
            patient=f"P{year.seed}-{self.index:06d}",
            provider=PROVIDER,
            insurer=_weighted(rng, _INSURERS),
        )
        region, referrer = rng.choice(_REGIONS), rng.choice(_REFERRERS)
        if region:
            record["region"] = region
        if referrer:
            record["referrer"] = referrer
        if self.practice is not None:
            record.update(referral(rng, day))
        yield year.line(record)
        yield from self._registered(day)
        yield year.line(self._assessed(day))
        clustered = self._record("clustered", day, cluster=self.cluster)
        if self.practice is not None:
            clustered["hoofdgroep"] = _hoofdgroep(self.cluster)
            practitioner, beroep = self.practice.regie
            yield year.line(clustered)
            yield year.line(self._record("regiebehandelaar_assigned", day, practitioner=practitioner, beroep=beroep))
        else:
            yield year.line(clustered)
        self._plan_review(day)

    def _registered(self, opened_on: date) -> Iterator[bytes]:
        """The registration before the opening, for a share of trajectories: weeks before it, some beyond 4."""
        year = self.year
        rng = year.registrations
        if rng.random() >= REGISTERED_SHARE:
            return
        wait = int(rng.lognormvariate(math.log(20), 0.6))
        record = {
            "type": "registered",
            "id": f"G{year.seed}-{self.index:06d}",
            "trajectory": self.number,
            "date": (opened_on - timedelta(days=wait)).isoformat(),
            "region": _weighted(rng, _REGISTERED_REGIONS),
        }
        form = _weighted(rng, _REGISTERED_FORMS)
        if form:
            record["care_form"] = form
        yield year.line(record)

    def _plan_review(self, clustered_on: date) -> None:
        rng = self.year.rng
        due = self.year.catalogue.lookup(self.cluster).review_term.add_to(clustered_on)
        # Most reviews come in the fortnight before they are due; some are late.
        if rng.random() < 0.12:
            review = due + timedelta(days=rng.randrange(3, 40))
        else:
            review = due - timedelta(days=rng.randrange(0, 14))
        review = max(review, clustered_on + timedelta(days=7))
        self.next_review = review if self.ends_on is None or review < self.ends_on else None

    def _review(self, day: date) -> Iterator[bytes]:
        year = self.year
        before = year.catalogue.lookup(self.cluster).need_level or 0
        self.cluster = year.next_cluster(self.cluster)
        after = year.catalogue.lookup(self.cluster).need_level or 0
        self.severity = min(4, max(0, self.severity + (after > before) - (after < before)))
        record = self._record("reviewed", day, cluster=self.cluster)
        if year.rng.random() < 0.9:
            record["honos"] = year.honos(self.severity)
        yield year.line(record)
        self._plan_review(day)

    def _consult_code(self) -> str:
        rng = self.year.rng
        if self.demo:
            return "CONSULT"
        if self.consults <= 2:
            return rng.choice(("CO0432", "CO0562"))
        return rng.choice(("CO0497", "CO0497", "CO0627"))

    def _prestaties(self, day: date) -> Generator[bytes, None, None]:
        """A ZPM consult day: the consult, and now and then a group session, an overleg or travel time."""
        rng, practice = self.year.rng, self.practice
        assert practice is not None
        if rng.random() < 0.88:  # otherwise a missed appointment
            consult = practice.consult(rng, day, self.consults)
            activity, registered = yield from self._activity_of(day, consult)
            if practice.setting == 4 and rng.random() < 0.5:
                # Outreach: the practitioner's travel time, linked to the consult it was for.
                travel = {"prestatie": "surcharge", "surcharge_type": "reistijd", "minutes": rng.randrange(10, 41),
                          "linked_activity": activity}  # fmt: skip
                yield from self._activity_of(day, travel, registered=registered)
        if practice.groups and rng.random() < 0.08:
            size = rng.choice((5, 6, 10))
            for start in ("14:00", "14:30"):
                unit = {"prestatie": "group", "beroep": practice.beroep, "practitioner": practice.practitioner,
                        "minutes": 30, "group_size": size, "start": start}  # fmt: skip
                yield from self._activity_of(day, unit)
        if rng.random() < 0.05:
            if practice.overleg:
                overleg = {"prestatie": "overleg", "beroep": practice.beroep, "practitioner": practice.practitioner,
                           "setting": 1, "minutes": rng.choice((10, 20))}  # fmt: skip
                yield from self._activity_of(day, overleg)
            else:
                yield from self._activity_of(day, {"prestatie": "other", "code": "OV0012"})

    def _activity(self, day: date, code: str, *, stay: bool) -> Iterator[bytes]:
        yield from self._activity_of(day, {"code": code}, stay=stay)

    def _activity_of(
        self, day: date, fields: dict[str, Any], *, stay: bool = False, registered: date | None = None
    ) -> Generator[bytes, None, tuple[str, date]]:
        """The lines of one activity (``fields`` beside the common ones); returns its id and the day it
        is registered. ``registered`` pins that day (a surcharge comes with its consult)."""
        year, rng = self.year, self.year.rng
        activity = f"A{year.seed}-{next(year.activity_ids):09d}"
        record: dict[str, Any] = {
            "type": "activity_delivered",
            "trajectory": self.number,
            "activity": activity,
            "date": day.isoformat(),
            **fields,
        }
        code = fields.get("code", "")
        if stay:
            record["care_form"] = rng.choice(("clinical",) * 8 + ("acute", "secure"))
        elif "prestatie" not in fields:
            if code.startswith("CO"):
                record["minutes"] = 60 if code in ("CO0562", "CO0627") else 45
            elif code == "CONSULT":
                record["minutes"] = 45
            record["professional"] = rng.choice(_PROFESSIONALS)
            if rng.random() < 0.3:
                record["setting"] = rng.randrange(1, 9)
            if rng.random() < 0.04:
                record["care_form"] = rng.choice(("outreach", "acute"))
        line = year.line(record)
        if registered is None:
            registered = day
            if rng.random() < 0.02:
                # Registered late: it arrives days or weeks later, possibly after its month closed.
                registered = min(_LAST, day + timedelta(days=rng.randrange(3, 40)))
        if registered != day:
            year.schedule(registered, line)
        else:
            yield line
        if rng.random() < 0.015:
            voided_on = registered + timedelta(days=rng.randrange(1, 21))
            if voided_on <= _LAST:
                void = self._record("activity_voided", voided_on, activity=activity)
                reason = rng.choice(_VOID_REASONS)
                if reason:
                    void["reason"] = reason
                year.schedule(voided_on, year.line(void))
        return activity, registered

    def _assessed(self, day: date) -> dict[str, Any]:
        year = self.year
        return self._record("assessed", day, honos=year.honos(self.severity), assessor=year.rng.choice(_ASSESSORS))

    def _record(self, kind: str, day: date, **fields: Any) -> dict[str, Any]:
        """A non-activity record: these carry the source system's record id."""
        return {"type": kind, "id": self.year.record_id(), "trajectory": self.number, "date": day.isoformat(), **fields}


def _hoofdgroep(cluster: int) -> str:
    """The ZPM hoofdgroep of a zorgvraagtype: X non-psychotic (1-8), Y psychotic (10-17), Z organic (18-21)."""
    return "X" if cluster <= 8 else "Y" if cluster <= 17 else "Z"
