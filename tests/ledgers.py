"""Small ledgers for property tests, as Hypothesis strategies: input records the rules accept, closes between.

A failing property shrinks to the fewest, plainest records that still fail: fewer trajectories and
activities, no voids or closes, earliest dates, first choices.
"""

from __future__ import annotations

import random
from datetime import date
from typing import Any

from hypothesis import HealthCheck, Phase, find, settings
from hypothesis import strategies as st

from builders import Record, assessed, clustered, delivered, month_closed, opened, referred_back, reviewed, voided

MONTHS = ("2016-11", "2016-12", "2017-01", "2017-02", "2017-03")
CLUSTERS = (0, 1, 2, 3, 4, 5, 6, 8, 10, 13, 14, 18, 21)
FIRST = date(2016, 11, 1)
LAST = date(2017, 3, 31)

honos_ratings = st.fixed_dictionaries({str(item): st.sampled_from((0, 1, 2, 3, 4, 9)) for item in range(1, 13)})


def days(after: date = FIRST) -> st.SearchStrategy[str]:
    """Days from ``after`` to the end of March 2017, as input dates."""
    return st.dates(min_value=after, max_value=LAST).map(date.isoformat)


@st.composite
def trajectories(draw: st.DrawFn, number: str) -> list[Record]:
    """One trajectory's records in an order the rules accept.

    Opened and assessed on one of the first days of November 2016; maybe never
    clustered (its lines are then unclustered); reviews that move between
    clusters, activities voided after their delivery, and maybe a referral
    back on the last day.
    """
    start = date(2016, 11, draw(st.integers(1, 5)))
    extra: dict[str, Any] = {"region": draw(st.sampled_from(("Utrecht", "Zwolle")))} if draw(st.booleans()) else {}
    stream = [opened(number, start.isoformat(), **extra), assessed(start.isoformat(), number, draw(honos_ratings))]
    clustered_on = draw(st.none() | st.just(start.isoformat()) | days(start))
    if clustered_on is not None:
        stream.append(clustered(clustered_on, draw(st.sampled_from(CLUSTERS)), number))
    activities = []
    for k in range(draw(st.integers(0, 8))):
        if clustered_on is not None and draw(st.booleans()):
            scores = {"honos": draw(honos_ratings)} if draw(st.booleans()) else {}
            on = draw(days(date.fromisoformat(clustered_on)))
            stream.append(reviewed(on, draw(st.sampled_from(CLUSTERS)), number, **scores))
        activity = f"{number}-A{k}"
        form = {"care_form": draw(st.sampled_from(("clinical", "acute")))} if draw(st.booleans()) else {}
        stream.append(
            delivered(activity, draw(days(start)), draw(st.sampled_from(("CONSULT", "VERBLIJF"))), number, **form)
        )
        activities.append(activity)
    for activity in activities:
        if draw(st.booleans()):
            # A void goes somewhere after its delivery.
            at = next(i for i, record in enumerate(stream) if record.get("activity") == activity)
            stream.insert(draw(st.integers(at + 1, len(stream))), voided(activity, draw(days(start)), number))
    if draw(st.booleans()):
        stream.append(referred_back(LAST.isoformat(), number=number))
    return stream


@st.composite
def ledgers(draw: st.DrawFn, most: int = 4) -> list[Record]:
    """Records of one to ``most`` trajectories over November 2016 – March 2017, with month closes in between.

    The trajectories are interleaved, each keeping its own order. Closes come at
    drawn places, their months in order; records after the close of their month
    come late.
    """
    streams = [draw(trajectories(f"T{n}")) for n in range(draw(st.integers(1, most)))]
    records: list[Record] = []
    while any(streams):
        records.append(draw(st.sampled_from([stream for stream in streams if stream])).pop(0))
    months = sorted(draw(st.lists(st.sampled_from(MONTHS), unique=True, max_size=min(4, len(records) + 1))))
    places = sorted(
        draw(st.lists(st.integers(0, len(records)), min_size=len(months), max_size=len(months), unique=True))
    )
    for at, month in reversed(list(zip(places, months, strict=True))):
        records.insert(at, month_closed(month))
    return records


def a_busy_ledger(seed: int, most: int) -> list[Record]:
    """One fixed ledger of ``ledgers(most)``, the same for a seed: most trajectories, voids, a referral, closes.

    For tests that want a rich ledger rather than a property over many: the
    first drawn example busy enough, not shrunk (it would shrink to the least
    busy one).
    """

    def busy(records: list[Record]) -> bool:
        kinds = {record["type"] for record in records}
        numbers = {record.get("trajectory") for record in records} - {None}
        return len(numbers) >= most - 1 and {"activity_voided", "reviewed", "referred_back", "month_closed"} <= kinds

    return find(
        ledgers(most),
        busy,
        settings=settings(
            database=None, phases=[Phase.generate], max_examples=1000, suppress_health_check=list(HealthCheck)
        ),
        random=random.Random(seed),
    )
