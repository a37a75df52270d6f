"""The care-need chart's geometry, from histories written as lists of entries."""

from __future__ import annotations

from datetime import date

import pytest

from ggzledger.interfaces.web.charts import HONOS, LEFT, MIN_SPAN, RIGHT, STEPS, chart
from ggzledger.projections.care_need import Entry

LEVELS = {4: 4, 7: 2, 0: None}


def entry(on: str, event: str, before: int | None, after: int | None, change: str, honos: int | None) -> Entry:
    return Entry(date.fromisoformat(on), event, before, after, change, None, honos, None)


HISTORY = [
    entry("2017-01-01", "clustered", None, 4, "initial", 20),
    entry("2017-03-01", "reviewed", 4, 7, "step_down", 10),
    entry("2017-05-01", "referred_back", 7, None, "ended", 5),
]


def test_each_honos_total_is_a_point_whose_height_is_its_share_of_the_axis_top() -> None:
    drawn = chart(HISTORY, [], LEVELS.get)

    assert [(p.on.isoformat(), p.honos) for p in drawn.points] == [
        ("2017-01-01", 20), ("2017-03-01", 10), ("2017-05-01", 5),
    ]  # fmt: skip
    assert drawn.honos_top == 20
    bottom, top = HONOS[1], HONOS[0]
    assert [p.y for p in drawn.points] == [top, bottom - (bottom - top) / 2, bottom - (bottom - top) / 4]


def test_time_runs_from_the_first_date_at_the_left_to_the_last_at_the_right_in_proportion() -> None:
    drawn = chart(HISTORY, [], LEVELS.get)

    xs = [p.x for p in drawn.points]
    assert xs[0] == LEFT and xs[-1] == RIGHT
    # 59 of the 120 days from 1 January to 1 May lie before 1 March.
    assert xs[1] == pytest.approx(LEFT + 59 / 120 * (RIGHT - LEFT))
    assert drawn.polyline == " ".join(f"{p.x:.1f},{p.y:.1f}" for p in drawn.points)


def test_each_cluster_in_force_is_a_step_at_its_need_level_until_the_next_entry() -> None:
    drawn = chart(HISTORY, [], LEVELS.get)

    assert [(s.cluster, s.level, s.start.isoformat(), s.end.isoformat(), s.open) for s in drawn.steps] == [
        (4, 4, "2017-01-01", "2017-03-01", False),
        (7, 2, "2017-03-01", "2017-05-01", False),
    ]
    level_height = (STEPS[1] - STEPS[0]) / 5
    assert [s.y for s in drawn.steps] == [STEPS[1] - 4 * level_height, STEPS[1] - 2 * level_height]
    first, second = drawn.steps
    assert drawn.step_path == f"M{first.x1:.1f},{first.y:.1f} H{first.x2:.1f} V{second.y:.1f} H{second.x2:.1f}"


def test_an_open_trajectorys_last_cluster_runs_to_the_end_and_a_single_day_spans_at_least_a_month() -> None:
    drawn = chart(HISTORY[:1], [], LEVELS.get)

    assert drawn.end - drawn.start == MIN_SPAN
    (step,) = drawn.steps
    assert step.open and step.x2 == RIGHT
    assert [p.x for p in drawn.points] == [LEFT]


def test_a_cluster_without_a_need_level_is_drawn_on_the_baseline() -> None:
    drawn = chart([entry("2017-01-01", "clustered", None, 0, "initial", 3)], [], LEVELS.get)

    assert [(s.level, s.y) for s in drawn.steps] == [(None, STEPS[1])]


def test_reviews_and_findings_are_marks_at_their_dates_and_findings_widen_the_time_axis() -> None:
    flagged = [*HISTORY[:2], Entry(date(2017, 5, 1), "referred_back", 7, None, "ended", None, 5, None,
                                   ("discharge_criteria_not_met",))]  # fmt: skip
    drawn = chart(flagged, [(date(2017, 6, 30), "overlapping consults: A-1")], LEVELS.get)

    assert [(m.on.isoformat(), m.kind, m.label) for m in drawn.marks] == [
        ("2017-03-01", "review", "review: cluster 7"),
        ("2017-05-01", "finding", "discharge criteria not met"),
        ("2017-06-30", "finding", "overlapping consults: A-1"),
    ]
    assert drawn.end == date(2017, 6, 30)
    assert drawn.marks[-1].x == RIGHT


def test_the_honos_axis_is_rounded_up_to_tens_and_labelled_every_five_or_ten() -> None:
    low = chart([entry("2017-01-01", "clustered", None, 4, "initial", 3)], [], LEVELS.get)
    high = chart([entry("2017-01-01", "clustered", None, 4, "initial", 31)], [], LEVELS.get)

    assert (low.honos_top, [t.label for t in low.y_ticks]) == (10, ["0", "5", "10"])
    assert (high.honos_top, [t.label for t in high.y_ticks]) == (40, ["0", "10", "20", "30", "40"])


def test_months_are_labelled_on_their_first_day_and_thinned_to_eight_at_most() -> None:
    short = chart(HISTORY, [], LEVELS.get)
    long = chart([entry("2016-01-15", "clustered", None, 4, "initial", 9), HISTORY[-1]], [], LEVELS.get)

    assert [t.label for t in short.x_ticks] == ["jan 2017", "feb 2017", "mrt 2017", "apr 2017", "mei 2017"]
    assert short.x_ticks[0].at == LEFT
    assert len(long.x_ticks) <= 8
    assert long.x_ticks[0].label == "feb 2016"  # 15 January has no first of the month before it


def test_an_erased_history_draws_no_point_and_no_step() -> None:
    erased = [entry("2017-01-01", "clustered", None, None, "erased", None)]

    drawn = chart(erased, [], LEVELS.get)

    assert drawn.points == () and drawn.steps == ()
