"""The care-need history and the review worklist (rules.md §8) as pure functions over a trajectory's events.

Each story is told on a real Trajectory aggregate; its events, in recording order, go to the pure
functions of ``projections/care_need.py``. Expected values are worked out by hand from rules.md §7–§8.
"""

from __future__ import annotations

import itertools
from datetime import date
from typing import Any

import pytest

from ggzledger.domain import Scores, Trajectory
from ggzledger.projections.care_need import Entry, care_need_of, due_for_review, history_of
from ggzledger.reference import load_catalogue

CATALOGUE = load_catalogue()


def honos(**items: int) -> dict[str, int]:
    """A rating with every required item 0 except those given as i2=…, i7=…"""
    scores = {str(n): 0 for n in range(1, 13)}
    scores.update({name[1:]: score for name, score in items.items()})
    return scores


class Story:
    """One trajectory, told command by command; its events kept in recording order."""

    def __init__(self, opened: str = "2017-01-02") -> None:
        self._ids = itertools.count()
        self.trajectory = Trajectory(
            trajectory="T1", record_id=None, fingerprint=self._fingerprint(), patient="P1", provider="12345678",
            insurer="3311", opened_on=date.fromisoformat(opened), region=None, referrer=None,
        )  # fmt: skip
        self.events: list[Any] = []

    def _fingerprint(self) -> str:
        return f"f{next(self._ids)}"

    def _common(self) -> dict[str, Any]:
        return {"record_id": None, "fingerprint": self._fingerprint()}

    def assess(self, on: str, **items: int) -> Story:
        scores = Scores.from_mapping(honos(**items)).items
        self.trajectory.assess(on=date.fromisoformat(on), scores=scores, assessor=None, **self._common())
        return self

    def cluster(self, on: str, code: int) -> Story:
        self.trajectory.cluster(on=date.fromisoformat(on), cluster=code, **self._common())
        return self

    def review(self, on: str, code: int, honos_items: dict[str, int] | None = None) -> Story:
        scores = None if honos_items is None else Scores.from_mapping(honos(**honos_items)).items
        self.trajectory.review(on=date.fromisoformat(on), cluster=code, scores=scores, **self._common())
        return self

    def refer_back(self, on: str) -> Story:
        self.trajectory.refer_back(on=date.fromisoformat(on), to="huisarts", reason=None, **self._common())
        return self

    def history(self) -> list[Entry]:
        self.events += self.trajectory.collect_events()
        return history_of(self.events, CATALOGUE)

    def due(self, as_of: str) -> tuple[int, date] | None:
        self.events += self.trajectory.collect_events()
        return due_for_review(care_need_of(self.events), date.fromisoformat(as_of), CATALOGUE)


def started(cluster: int = 4, on: str = "2017-01-02", **items: int) -> Story:
    """Opened, assessed and clustered on one day."""
    return Story(on).assess(on, **items).cluster(on, cluster)


def changes(entries: list[Entry]) -> list[str]:
    return [entry.change for entry in entries]


# Change kinds.


def test_the_first_clustering_is_initial_with_no_likelihood_and_no_delta() -> None:
    [entry] = started(4, i7=3, i8=2).history()

    assert entry.to_json() == {
        "on": "2017-01-02", "event": "clustered", "from": None, "to": 4, "change": "initial",
        "likelihood": None, "honos_total": 5, "honos_delta": None, "findings": [],
    }  # fmt: skip


def test_a_review_to_the_same_cluster_is_unchanged_with_no_likelihood() -> None:
    entries = started(4).review("2017-03-01", 4).history()

    assert (entries[1].change, entries[1].from_cluster, entries[1].to_cluster) == ("unchanged", 4, 4)
    assert entries[1].likelihood is None
    assert entries[1].findings == ()


def test_a_higher_need_level_is_a_step_up_and_a_lower_one_a_step_down() -> None:
    # Cluster 4 (need 4) -> 5 (need 5): up; 5 -> 2 (need 2): down.
    story = started(4, i7=2).assess("2017-02-01", i7=4).review("2017-02-01", 5)
    entries = story.assess("2017-03-01", i7=1).review("2017-03-01", 2).history()

    assert changes(entries) == ["initial", "step_up", "step_down"]
    assert [e.likelihood for e in entries] == [None, "less_likely", "less_likely"]  # I.a <-> I.b: same supercluster
    assert [e.honos_delta for e in entries] == [None, 2, -3]
    assert [e.findings for e in entries] == [(), (), ()]


def test_the_same_need_level_in_another_cluster_is_lateral() -> None:
    # Cluster 13 (II.b) and 14 (II.c) both have need level 5.
    entries = started(13).review("2017-02-01", 14).history()

    assert (entries[1].change, entries[1].likelihood) == ("lateral", "less_likely")


@pytest.mark.parametrize("to", [6, 7])
def test_a_retyping_from_4_to_6_or_7_is_a_step_up(to: int) -> None:
    # Clusters 6 and 7 are I.b, "zeer ernstig/complex/aanhoudend" (seed 002): need level 5, above 4's.
    entries = started(4).review("2017-02-01", to).history()

    assert entries[1].change == "step_up"


def test_a_change_from_or_to_cluster_0_is_lateral() -> None:
    entries = started(0).review("2017-02-01", 5).review("2017-03-01", 0).history()

    assert changes(entries) == ["initial", "lateral", "lateral"]
    assert [e.likelihood for e in entries[1:]] == ["less_likely", "less_likely"]


def test_a_referral_back_ends_the_history_with_no_cluster_after_it() -> None:
    entries = started(4, i7=3).assess("2017-02-20", i7=1).refer_back("2017-02-21").history()

    assert entries[-1].to_json() == {
        "on": "2017-02-21", "event": "referred_back", "from": 4, "to": None, "change": "ended",
        "likelihood": None, "honos_total": 1, "honos_delta": -2, "findings": [],
    }  # fmt: skip


def test_a_referral_back_without_any_cluster_is_ended_from_nothing() -> None:
    [entry] = Story().assess("2017-01-02").refer_back("2017-01-03").history()

    assert (entry.change, entry.from_cluster, entry.to_cluster, entry.findings) == ("ended", None, None, ())


# Findings.


def test_a_transition_across_superclusters_is_an_unlikely_transition() -> None:
    # 4 (I) -> 10 (II): unlikely, and lateral (both need level 4).
    entries = started(4).review("2017-02-01", 10).history()

    assert (entries[1].change, entries[1].likelihood) == ("lateral", "unlikely")
    assert entries[1].findings == ("unlikely_transition",)


def test_the_cluster_3_slide_decides_its_own_transitions() -> None:
    # From 3, going to 2 is likely and to 1 unlikely, although both lie in I.a.
    likely = started(3).review("2017-02-01", 2).history()[1]
    unlikely = started(3).review("2017-02-01", 1).history()[1]

    assert (likely.likelihood, likely.findings) == ("likely", ())
    assert (unlikely.likelihood, unlikely.findings) == ("unlikely", ("unlikely_transition",))


@pytest.mark.parametrize(("later", "flagged"), [(4, False), (3, True), (1, True)])
def test_a_step_up_while_the_honos_total_did_not_rise_is_a_step_up_without_worsening(later: int, flagged: bool) -> None:
    entries = started(4, i7=3).review("2017-02-01", 5, {"i7": later}).history()

    assert entries[1].change == "step_up"
    assert entries[1].honos_delta == later - 3
    assert ("step_up_without_worsening" in entries[1].findings) is flagged


def test_an_entry_dated_after_the_review_due_of_the_cluster_before_it_is_review_overdue() -> None:
    # Cluster 1: review within 12 weeks; from 2017-01-02 the review is due 2017-03-27.
    on_time = started(1).review("2017-03-27", 1).history()[1]
    late = started(1).review("2017-03-28", 1).history()[1]

    assert on_time.findings == ()
    assert late.findings == ("review_overdue",)


def test_a_referral_back_after_the_review_due_is_review_overdue_too() -> None:
    # Cluster 4: 6 months; 2017-01-02 + 6 months = 2017-07-02.
    entry = started(4).refer_back("2017-07-03").history()[-1]

    assert entry.findings == ("review_overdue",)


def test_a_change_of_cluster_without_an_assessment_in_the_90_days_before_it_is_no_recent_assessment() -> None:
    # 2017-01-02 + 90 days = 2017-04-02: the assessment of 2017-01-02 still counts on that day, not the day after.
    in_time = started(4).review("2017-04-02", 3).history()[1]
    too_late = started(4).review("2017-04-03", 3).history()[1]

    assert in_time.findings == ()
    assert too_late.findings == ("no_recent_assessment",)


def test_an_unchanged_review_needs_no_recent_assessment() -> None:
    entry = started(4).review("2017-06-01", 4).history()[1]

    assert (entry.change, entry.findings) == ("unchanged", ())


def test_a_review_with_scores_counts_as_an_assessment_on_its_date() -> None:
    entry = started(4, i7=1).review("2017-05-01", 5, {"i7": 3}).history()[1]

    assert (entry.change, entry.honos_total, entry.honos_delta, entry.findings) == ("step_up", 3, 2, ())


def test_ending_cluster_3_when_the_latest_assessment_misses_a_discharge_criterion_is_a_finding() -> None:
    # Cluster 3's criteria: item 2 = 0, item 7 <= 1, item 8 <= 1.
    met = started(3, i7=3).assess("2017-03-01", i2=0, i7=1, i8=1).refer_back("2017-03-02").history()[-1]
    missed = started(3, i7=3).assess("2017-03-01", i7=2).refer_back("2017-03-02").history()[-1]
    unknown = started(3, i7=3).assess("2017-03-01", i8=9).refer_back("2017-03-02").history()[-1]

    assert met.findings == ()
    assert missed.findings == ("discharge_criteria_not_met",)
    assert unknown.findings == ("discharge_criteria_not_met",)  # 9 = not known cannot show the need resolved


def test_ending_a_cluster_without_discharge_criteria_is_no_finding() -> None:
    entry = started(4, i7=4).refer_back("2017-03-02").history()[-1]

    assert entry.findings == ()


def test_findings_come_together_in_the_order_rules_md_lists_them() -> None:
    # 3 -> 13 (II.b, need 5): unlikely; a step up on the same total (the only assessment is the first);
    # after cluster 3's six months ran out; with no assessment in the 90 days before.
    entry = started(3, i7=3).review("2017-08-01", 13).history()[1]

    assert entry.findings == (
        "unlikely_transition", "step_up_without_worsening", "review_overdue", "no_recent_assessment",
    )  # fmt: skip
    entry = started(3, i7=3).review("2017-02-01", 13, {"i7": 1}).history()[1]
    assert entry.findings == ("unlikely_transition", "step_up_without_worsening")


# Totals and order.


def test_the_honos_total_counts_items_1_to_12_and_skips_9_for_not_known() -> None:
    [entry] = started(4, i1=2, i2=9, i7=4, i9=3).history()

    assert entry.honos_total == 9


def test_a_review_recorded_late_but_dated_early_takes_its_place_by_date() -> None:
    story = started(4).review("2017-03-01", 5)
    story.review("2017-02-01", 6)  # recorded after the March review

    entries = story.history()

    assert [(e.on.isoformat(), e.from_cluster, e.to_cluster) for e in entries] == [
        ("2017-01-02", None, 4), ("2017-02-01", 4, 6), ("2017-03-01", 6, 5),
    ]  # fmt: skip
    assert changes(entries) == ["initial", "step_up", "lateral"]  # 6 and 5 both need level 5


def test_on_one_date_the_later_recorded_clustering_comes_after() -> None:
    entries = started(4).review("2017-02-01", 5).review("2017-02-01", 6).history()

    assert [(e.from_cluster, e.to_cluster) for e in entries[1:]] == [(4, 5), (5, 6)]


def test_an_assessment_recorded_late_changes_the_totals_of_the_entries_after_its_date() -> None:
    story = started(4, i7=2).review("2017-03-01", 4)
    before = story.history()
    story.assess("2017-02-01", i7=4)

    after = story.history()

    assert [e.honos_total for e in before] == [2, 2]
    assert [e.honos_total for e in after] == [2, 4]


# The worklist.


def test_a_trajectory_is_due_for_review_once_its_cluster_term_has_run_out() -> None:
    story = started(1)  # 12 weeks: due 2017-03-27

    assert story.due("2017-03-26") is None
    assert story.due("2017-03-27") == (1, date(2017, 3, 27))
    assert story.due("2017-06-01") == (1, date(2017, 3, 27))


def test_the_worklist_as_of_a_past_date_ignores_reviews_and_referrals_dated_after_it() -> None:
    story = started(1).review("2017-04-10", 2).refer_back("2017-05-01")

    assert story.due("2017-04-01") == (1, date(2017, 3, 27))  # the review of 04-10 had not happened yet
    assert story.due("2017-04-10") is None  # cluster 2 from 04-10: 15 weeks
    assert story.due("2017-05-01") is None  # referred back that day


def test_a_trajectory_not_yet_opened_or_not_yet_clustered_is_not_due() -> None:
    story = Story("2017-01-02").assess("2017-01-02").cluster("2017-02-01", 1)

    assert story.due("2016-12-31") is None
    assert story.due("2017-01-20") is None
    assert story.due("2017-04-26") == (1, date(2017, 4, 26))
