"""The care-need chart's geometry: HoNOS+ totals and need-level steps over time, as SVG coordinates."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from datetime import date, timedelta

import attrs

from ggzledger.projections.care_need import Entry

__all__ = ["WIDTH", "HEIGHT", "LEFT", "RIGHT", "HONOS", "STEPS", "Point", "Step", "Mark", "Tick", "Chart", "chart"]

WIDTH, HEIGHT = 720, 380
LEFT, RIGHT = 64, 700
HONOS = (28, 196)
"""The HoNOS+ panel's top and bottom (y grows downward, as in SVG)."""
STEPS = (236, 326)
"""The need-level panel's top (level 5) and bottom (level 0: cluster 0, n/a)."""
LEVELS = 5
# A history of one day (one clustering) still needs a width to draw on: at least a month is shown.
MIN_SPAN = timedelta(days=30)
# More month labels than this crowd the axis: every second (third, ...) month is labelled instead.
MAX_X_TICKS = 8
# Dutch abbreviates maart as mrt, not by its first three letters.
SHORT_MONTHS = ("jan", "feb", "mrt", "apr", "mei", "jun", "jul", "aug", "sep", "okt", "nov", "dec")


@attrs.frozen
class Point:
    """A HoNOS+ total on a date, where the chart draws it."""

    on: date
    x: float
    y: float
    honos: int
    event: str
    cluster: int | None


@attrs.frozen
class Step:
    """A stretch of time under one cluster (zorgvraagtype), at the height of its need level."""

    start: date
    end: date
    x1: float
    x2: float
    y: float
    cluster: int
    level: int | None  # None: a cluster without a need level (0, n/a), drawn on the baseline
    open: bool = False  # still in force: the chart's end is not the cluster's


@attrs.frozen
class Mark:
    """A review or a finding on a date: a vertical line across both panels."""

    on: date
    x: float
    kind: str  # "review" or "finding"
    label: str


@attrs.frozen
class Tick:
    """An axis label at a position (x for dates, y for HoNOS+ totals and levels)."""

    at: float
    label: str


@attrs.frozen
class Chart:
    """Everything the template draws: points and their polyline, steps and their path, marks, ticks."""

    start: date
    end: date
    honos_top: int
    points: tuple[Point, ...]
    steps: tuple[Step, ...]
    marks: tuple[Mark, ...]
    x_ticks: tuple[Tick, ...]
    y_ticks: tuple[Tick, ...]
    level_ticks: tuple[Tick, ...]

    @property
    def polyline(self) -> str:
        """The ``points`` attribute of the HoNOS+ line: ``x,y`` pairs in date order."""
        return " ".join(f"{p.x:.1f},{p.y:.1f}" for p in self.points)

    @property
    def step_path(self) -> str:
        """The ``d`` attribute of the need-level steps: across each stretch, up or down to the next."""
        parts: list[str] = []
        for before, step in zip((None, *self.steps), self.steps, strict=False):
            joined = before is not None and before.end == step.start
            parts.append(f"{'V' if joined else 'M'}{'' if joined else f'{step.x1:.1f},'}{step.y:.1f}")
            parts.append(f"H{step.x2:.1f}")
        return " ".join(parts)


def chart(
    entries: Sequence[Entry], findings: Sequence[tuple[date, str]], level_of: Callable[[int], int | None]
) -> Chart:
    """The chart of a care-need history (``entries`` in date order) and dated ``findings`` (date, label).

    ``level_of`` gives a cluster's need level (1-5, None for none). Time runs from the first to the
    last date of either, at least MIN_SPAN; an open trajectory's last cluster runs to the end.
    """
    dates = [e.on for e in entries] + [on for on, _ in findings]
    start = min(dates, default=date(2000, 1, 1))
    end = max(max(dates, default=start), start + MIN_SPAN)
    top = _honos_top([e.honos_total for e in entries if e.honos_total is not None])

    def x(on: date) -> float:
        return LEFT + (on - start).days / (end - start).days * (RIGHT - LEFT)

    points = tuple(
        Point(e.on, x(e.on), _y(e.honos_total, top), e.honos_total, e.event, e.to_cluster)
        for e in entries
        if e.honos_total is not None
    )
    marks = [Mark(e.on, x(e.on), "review", f"review: cluster {e.to_cluster}") for e in entries if e.event == "reviewed"]
    marks += [Mark(e.on, x(e.on), "finding", name.replace("_", " ")) for e in entries for name in e.findings]
    marks += [Mark(on, x(on), "finding", label) for on, label in findings]
    return Chart(
        start=start,
        end=end,
        honos_top=top,
        points=points,
        steps=tuple(_steps(entries, end, x, level_of)),
        marks=tuple(sorted(marks, key=lambda m: (m.on, m.kind, m.label))),
        x_ticks=tuple(_month_ticks(start, end, x)),
        y_ticks=tuple(Tick(_y(v, top), str(v)) for v in range(0, top + 1, 5 if top <= 20 else 10)),
        level_ticks=tuple(Tick(_level_y(level), str(level)) for level in range(LEVELS + 1)),
    )


def _honos_top(totals: Sequence[int]) -> int:
    """The HoNOS+ axis' top: the largest total rounded up to ten, at least ten."""
    return max(10, math.ceil(max(totals, default=0) / 10) * 10)


def _y(total: int, top: int) -> float:
    return HONOS[1] - total / top * (HONOS[1] - HONOS[0])


def _level_y(level: int | None) -> float:
    return STEPS[1] - (level or 0) / LEVELS * (STEPS[1] - STEPS[0])


def _steps(
    entries: Sequence[Entry], end: date, x: Callable[[date], float], level_of: Callable[[int], int | None]
) -> list[Step]:
    """One step per entry that leaves a cluster in force, until the next entry (or ``end``)."""
    steps = []
    for entry, following in zip(entries, [*entries[1:], None], strict=True):
        if entry.to_cluster is None:
            continue  # ended, or erased: nothing in force to draw
        until = end if following is None else following.on
        level = level_of(entry.to_cluster)
        steps.append(
            Step(entry.on, until, x(entry.on), x(until), _level_y(level), entry.to_cluster, level, following is None)
        )
    return steps


def _month_ticks(start: date, end: date, x: Callable[[date], float]) -> list[Tick]:
    """A label on the first of each month from ``start`` to ``end``, thinned to at most MAX_X_TICKS."""
    firsts = []
    on = date(start.year, start.month, 1)
    if on < start:
        on = _next_month(on)
    while on <= end:
        firsts.append(on)
        on = _next_month(on)
    every = max(1, math.ceil(len(firsts) / MAX_X_TICKS))
    return [Tick(x(first), f"{SHORT_MONTHS[first.month - 1]} {first.year}") for first in firsts[::every]]


def _next_month(on: date) -> date:
    return date(on.year + on.month // 12, on.month % 12 + 1, 1)
