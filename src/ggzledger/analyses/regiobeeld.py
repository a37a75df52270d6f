"""The regiobeeld: per region and cruciale-ggz care form, who waits, how long, who is in care, and the volume.

Built on the waiting and billing views (SQL and a pass over one row per trajectory), never by
replaying events; nothing is written. docs/analyses.md defines every figure.
"""

from __future__ import annotations

import calendar
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from typing import Any

import attrs

from ggzledger.analyses.waiting import KINDS, Wait, percentile, read_waits
from ggzledger.projections.store import Cursor
from ggzledger.reference import Catalogue
from ggzledger.reference.treeknormen import Treeknormen, load_treeknormen

__all__ = [
    "COMPLEX_LEVELS",
    "DIMENSIONS",
    "Figures",
    "Regiobeeld",
    "Volume",
    "compose",
    "parse_by",
    "quarter_before",
    "regiobeeld",
]

DIMENSIONS = ("region", "care_form", "group")
"""What the regiobeeld can be broken down by, in any order and combination."""

COMPLEX_LEVELS = frozenset({4, 5})
"""The need levels of the catalogue (rules.md §7) that make a complex care need."""

NONE, UNCLUSTERED, PRIVACY, ERASED = "none", "unclustered", "privacy", "erased"


def parse_by(text: str) -> tuple[str, ...]:
    """``region,care_form`` as a tuple of dimensions; raises ValueError naming what is wrong."""
    parts = tuple(part.strip() for part in text.split(","))
    for part in parts:
        if part not in DIMENSIONS:
            raise ValueError(f"--by: {part!r} is not one of {', '.join(DIMENSIONS)}")
    if len(set(parts)) != len(parts):
        raise ValueError(f"--by: {text!r} names a dimension twice")
    return parts


def quarter_before(day: date) -> date:
    """The first day of the three months that end on ``day``: the day after it, three calendar months back
    (2017-06-30 -> 2017-04-01, 2024-05-15 -> 2024-02-16; a day the month lacks becomes its last)."""
    after = date.fromordinal(day.toordinal() + 1)
    year, index = divmod(after.year * 12 + after.month - 1 - 3, 12)
    return date(year, index + 1, min(after.day, calendar.monthrange(year, index + 1)[1]))


def _months_up_to(day: date, count: int = 12) -> tuple[str, ...]:
    year, index = day.year, day.month - 1
    months = []
    for back in range(count - 1, -1, -1):
        y, i = divmod(year * 12 + index - back, 12)
        months.append(f"{y:04d}-{i + 1:02d}")
    return tuple(months)


@attrs.frozen
class Volume:
    """Activities (not voided) of one trajectory, one care form and one month: how many, and their amount."""

    trajectory: str
    care_form: str | None
    month: str
    activities: int
    amount: int


@attrs.define
class Figures:
    """The figures of one row of the regiobeeld (or of the whole)."""

    waiting: int = 0
    in_care: int = 0
    complex: int = 0
    waits: dict[str, list[int]] = attrs.Factory(lambda: {kind: [] for kind in KINDS})
    above: dict[str, int] = attrs.Factory(lambda: dict.fromkeys(KINDS, 0))
    volume: dict[str, list[int]] = attrs.Factory(dict)  # month -> [activities, amount]

    def to_json(self, months: Sequence[str]) -> dict[str, Any]:
        waits = {}
        for kind in KINDS:
            days = self.waits[kind]
            waits[kind] = {
                "count": len(days),
                "median_days": percentile(days, 50),
                "p90_days": percentile(days, 90),
                "above_norm": self.above[kind],
                "share_above_norm": None if not days else round(self.above[kind] / len(days), 4),
            }
        volume = {m: dict(zip(("activities", "amount"), self.volume.get(m, [0, 0]), strict=True)) for m in months}
        return {
            "waiting": self.waiting,
            "in_care": self.in_care,
            "complex": self.complex,
            "waits": waits,
            "volume": volume,
        }


@attrs.frozen
class Regiobeeld:
    """The answer: the rows by the chosen dimensions, and the whole."""

    as_of: date
    by: tuple[str, ...]
    quarter_from: date
    months: tuple[str, ...]
    norms: Mapping[str, int]
    rows: tuple[tuple[tuple[str, ...], Figures], ...]
    total: Figures

    def to_json(self) -> dict[str, Any]:
        return {
            "as_of": self.as_of.isoformat(),
            "by": list(self.by),
            "quarter": {"from": self.quarter_from.isoformat(), "to": self.as_of.isoformat()},
            "months": list(self.months),
            "treeknormen_days": dict(self.norms),
            "rows": [
                {**dict(zip(self.by, key, strict=True)), **figures.to_json(self.months)} for key, figures in self.rows
            ],
            "total": self.total.to_json(self.months),
        }


def compose(
    waits: Iterable[Wait],
    groups: Mapping[str, tuple[str, int | None]],
    volumes: Iterable[Volume],
    as_of: date,
    by: Sequence[str] = ("region", "care_form"),
    norms: Treeknormen | None = None,
) -> Regiobeeld:
    """The regiobeeld from each trajectory's waits, its (group, need level) on ``as_of`` and its volumes.

    - waiting: registered on or before ``as_of``, not treated by then, not referred back before it;
    - waits: those that ended in the quarter up to ``as_of`` (:func:`quarter_before`), median and
      90th percentile (nearest rank) in days, and how many took longer than the Treeknorm;
    - in care: opened and treated by ``as_of`` and not referred back before it;
    - complex: in care with a cluster in force on ``as_of`` of need level 4 or 5;
    - volume: per month of the 12 up to ``as_of``'s, the activities dated by ``as_of`` and their amount,
      under the activity's own care form, else its trajectory's registration's.

    A trajectory's care form is its registration's (``none`` without); its group the cluster group
    in force on ``as_of`` (``unclustered``, ``privacy`` under a privacy statement, ``erased``).
    """
    norms = norms or load_treeknormen()
    start = quarter_before(as_of)
    months = _months_up_to(as_of)
    rows: dict[tuple[str, ...], Figures] = defaultdict(Figures)
    total = Figures()
    trajectory_keys: dict[str, dict[str, str]] = {}
    for wait in waits:
        group, level = groups.get(wait.trajectory, (UNCLUSTERED, None))
        keys = {"region": wait.region, "care_form": wait.care_form or NONE, "group": group}
        trajectory_keys[wait.trajectory] = keys
        figures = rows[tuple(keys[d] for d in by)]
        for target in (figures, total):
            _count(target, wait, level, as_of, start, norms)
    in_months = set(months)
    for volume in volumes:
        of = trajectory_keys.get(volume.trajectory)
        if of is None or volume.month not in in_months:
            continue
        form = volume.care_form or of["care_form"]
        key = tuple(form if d == "care_form" else of[d] for d in by)
        for target in (rows[key], total):
            cell = target.volume.setdefault(volume.month, [0, 0])
            cell[0] += volume.activities
            cell[1] += volume.amount
    norm = norms.lookup(as_of)
    return Regiobeeld(
        as_of=as_of,
        by=tuple(by),
        quarter_from=start,
        months=months,
        norms={kind: norm.limit(kind) for kind in KINDS},
        rows=tuple(sorted(rows.items(), key=lambda item: _order(item[0]))),
        total=total,
    )


def _count(figures: Figures, wait: Wait, level: int | None, as_of: date, start: date, norms: Treeknormen) -> None:
    if wait.waiting_on(as_of):
        figures.waiting += 1
    treated = wait.first_treated_on is not None and wait.first_treated_on <= as_of
    if treated and (wait.ended_on is None or wait.ended_on >= as_of):
        figures.in_care += 1
        if level in COMPLEX_LEVELS:
            figures.complex += 1
    for kind in KINDS:
        days, ended = wait.days(kind), wait.ended(kind)
        if days is None or ended is None or not start <= ended <= as_of:
            continue
        figures.waits[kind].append(days)
        if days > norms.lookup(ended).limit(kind):
            figures.above[kind] += 1


def _order(key: tuple[str, ...]) -> tuple[tuple[int, str], ...]:
    # The keys that say "not known" last, the rest alphabetically (ZK01 ... ZK31).
    return tuple((1 if part in ("uncoded", NONE, UNCLUSTERED, PRIVACY, ERASED) else 0, part) for part in key)


def read_groups(c: Cursor, as_of: date, catalogue: Catalogue) -> dict[str, tuple[str, int | None]]:
    """Each clustered trajectory's (group key, need level) in force on ``as_of``, from the billing view."""
    latest: dict[str, tuple[str, int, int | None]] = {}
    c.execute(
        "SELECT trajectory, on_date, position, cluster FROM billing_clusterings WHERE on_date <= ?",
        (as_of.isoformat(),),
    )
    for number, on, position, cluster in c.fetchall():
        best = latest.get(number)
        if best is None or (on, position) > best[:2]:
            latest[number] = (on, position, cluster)
    private: dict[str, tuple[str, int, int]] = {}
    c.execute(
        "SELECT trajectory, on_date, position, signed FROM billing_privacy WHERE on_date <= ?", (as_of.isoformat(),)
    )
    for number, on, position, signed in c.fetchall():
        best_privacy = private.get(number)
        if best_privacy is None or (on, position) > best_privacy[:2]:
            private[number] = (on, position, signed)
    groups: dict[str, tuple[str, int | None]] = {}
    for number, (_on, _position, cluster) in latest.items():
        if cluster is None:
            groups[number] = (ERASED, None)
            continue
        typed = catalogue.lookup(cluster)
        signed = private.get(number)
        groups[number] = (PRIVACY if signed is not None and signed[2] else typed.group, typed.need_level)
    return groups


def read_volumes(c: Cursor, as_of: date) -> list[Volume]:
    """The activities (not voided) of the 12 months up to ``as_of``, per trajectory, care form and month."""
    first = _months_up_to(as_of)[0] + "-01"
    c.execute(
        "SELECT trajectory, care_form, substr(on_date, 1, 7), COUNT(*), SUM(amount) FROM billing_activities"
        " WHERE voided_position IS NULL AND on_date >= ? AND on_date <= ?"
        " GROUP BY trajectory, care_form, substr(on_date, 1, 7)",
        (first, as_of.isoformat()),
    )
    return [Volume(t, form, month, int(n), int(amount)) for t, form, month, n, amount in c.fetchall()]


def regiobeeld(ledger: Any, as_of: date, by: Sequence[str] = ("region", "care_form")) -> Regiobeeld:
    """The regiobeeld of a caught-up :class:`~ggzledger.service.ledger.Ledger` as of ``as_of``."""
    ledger.projector.catch_up()
    with ledger.store.transaction(write=False) as c:
        waits = read_waits(c, as_of)
        groups = read_groups(c, as_of, ledger.catalogue)
        volumes = read_volumes(c, as_of)
    return compose(waits, groups, volumes, as_of, by)
