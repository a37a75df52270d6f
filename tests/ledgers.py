"""Random small ledgers for property tests: input records that the rules accept, with month closes between."""

from __future__ import annotations

import random
from datetime import date, timedelta
from typing import Any

from builders import Record, assessed, clustered, delivered, month_closed, opened, referred_back, reviewed, voided

MONTHS = ("2016-11", "2016-12", "2017-01", "2017-02", "2017-03")
CLUSTERS = (0, 1, 2, 3, 4, 5, 6, 8, 10, 13, 14, 18, 21)
FIRST = date(2016, 11, 1)
LAST = date(2017, 3, 31)


def _day(rng: random.Random, after: date = FIRST) -> str:
    return (after + timedelta(days=rng.randrange((LAST - after).days + 1))).isoformat()


def _honos(rng: random.Random) -> dict[str, int]:
    return {str(item): rng.choice((0, 1, 2, 3, 4, 9)) for item in range(1, 13)}


def random_ledger(rng: random.Random, trajectories: int = 4) -> list[Record]:
    """Records of a few trajectories over November 2016 – March 2017, with month closes in between.

    Every record is one the rules accept when sent in this order: some
    trajectories are never clustered (their lines are unclustered), reviews
    move between clusters, activities are voided before or after they were
    declared, some trajectories end, and closes come at random places.
    """
    streams: list[list[Record]] = []
    for n in range(rng.randint(1, trajectories)):
        number = f"T{n}"
        start = date(2016, 11, rng.randint(1, 5))
        extra: dict[str, Any] = {"region": rng.choice(("Utrecht", "Zwolle"))} if rng.random() < 0.7 else {}
        first = [opened(number, start.isoformat(), **extra), assessed(start.isoformat(), number, _honos(rng))]
        clustered_on = None
        if rng.random() < 0.8:
            clustered_on = date.fromisoformat(_day(rng, start)) if rng.random() < 0.4 else start
            first.append(clustered(clustered_on.isoformat(), rng.choice(CLUSTERS), number))
        actions: list[Record] = []
        activities: list[str] = []
        for k in range(rng.randint(0, 8)):
            if clustered_on is not None and rng.random() < 0.2:
                honos = {"honos": _honos(rng)} if rng.random() < 0.5 else {}
                actions.append(reviewed(_day(rng, clustered_on), rng.choice(CLUSTERS), number, **honos))
            activity = f"{number}-A{k}"
            form = {"care_form": rng.choice(("clinical", "acute"))} if rng.random() < 0.3 else {}
            actions.append(delivered(activity, _day(rng, start), rng.choice(("CONSULT", "VERBLIJF")), number, **form))
            activities.append(activity)
        stream = first + actions
        for activity in rng.sample(activities, k=len(activities) // 3):
            # A void goes somewhere after its delivery.
            at = next(i for i, r in enumerate(stream) if r.get("activity") == activity)
            stream.insert(rng.randint(at + 1, len(stream)), voided(activity, _day(rng, start), number))
        if rng.random() < 0.3:
            stream.append(referred_back(LAST.isoformat(), number=number))
        streams.append(stream)
    # Interleave the trajectories, each keeping its own order.
    records: list[Record] = []
    while any(streams):
        stream = rng.choice([s for s in streams if s])
        records.append(stream.pop(0))
    # Closes at random places, months in order; records after a close of their month come late.
    closes = sorted(rng.sample(range(len(records) + 1), k=min(len(MONTHS), rng.randint(0, 4), len(records) + 1)), reverse=True)
    months = sorted(rng.sample(MONTHS, k=len(closes)), reverse=True)
    for at, month in zip(closes, months, strict=True):
        records.insert(at, month_closed(month))
    return records
