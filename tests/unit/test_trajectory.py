"""The Trajectory aggregate, given/when/then (rules.md §3): what it refuses, with which message, and no event.

Rules that need reference data or the whole ledger (unknown trajectory, ids, catalogue, tariffs, closes,
malformed input) are the ledger's: tests/integration/test_what_the_ledger_refuses.py.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from typing import Any

import pytest

from builders import HONOS
from ggzledger import Conflict, NotAllowed, OutOfOrder
from ggzledger.domain import Scores, Trajectory

OPENED_ON = date(2016, 11, 1)
SCORES = Scores.from_mapping(HONOS).items
_fingerprints = itertools.count()


def d(text: str) -> date:
    return date.fromisoformat(text)


def a_trajectory() -> Trajectory:
    """Trajectory T1, opened on 1 November 2016."""
    return Trajectory(
        trajectory="T1",
        record_id=None,
        fingerprint="opened",
        patient="P1",
        provider="12345678",
        insurer="3311",
        opened_on=OPENED_ON,
        region=None,
        referrer=None,
    )


def _ids() -> dict[str, Any]:
    return {"record_id": None, "fingerprint": f"f{next(_fingerprints)}"}


def assess(t: Trajectory, on: str) -> None:
    t.assess(on=d(on), scores=SCORES, assessor=None, **_ids())


def cluster(t: Trajectory, on: str, code: int = 4) -> None:
    t.cluster(on=d(on), cluster=code, **_ids())


def deliver(t: Trajectory, activity: str, on: str, minutes: int | None = None) -> None:
    t.deliver(
        activity=activity,
        on=d(on),
        code="CONSULT",
        description="Consult",
        unit="consult",
        amount=10000,
        tariff="demo-2017",
        minutes=minutes,
        professional=None,
        setting=None,
        care_form=None,
        **_ids(),
    )


def void(t: Trajectory, activity: str, on: str) -> None:
    t.void(activity=activity, on=d(on), reason=None, **_ids())


def review(t: Trajectory, on: str, code: int = 4, scores: Any = None) -> None:
    t.review(on=d(on), cluster=code, scores=scores, **_ids())


def refer_back(t: Trajectory, on: str) -> None:
    t.refer_back(on=d(on), to="huisarts", reason=None, **_ids())


@contextmanager
def refuses(trajectory: Trajectory, kind: type[Exception], message: str) -> Iterator[None]:
    """The command in the block raises ``kind`` with exactly ``message`` and triggers no event."""
    version = trajectory.version
    with pytest.raises(kind) as caught:
        yield
    assert str(caught.value) == message
    assert trajectory.version == version


def a_clustered_trajectory() -> Trajectory:
    trajectory = a_trajectory()
    assess(trajectory, "2016-11-01")
    cluster(trajectory, "2016-11-01")
    return trajectory


@pytest.mark.parametrize(
    ("command", "what"),
    [
        (lambda t: assess(t, "2016-10-31"), "assessment"),
        (lambda t: cluster(t, "2016-10-31"), "clustering"),
        (lambda t: deliver(t, "A1", "2016-10-31"), "activity A1"),
        (lambda t: review(t, "2016-10-31"), "review"),
        (lambda t: refer_back(t, "2016-10-31"), "referral back"),
    ],
)
def test_the_aggregate_refuses_a_date_before_the_opening(command: Any, what: str) -> None:
    trajectory = a_clustered_trajectory()
    with refuses(
        trajectory, OutOfOrder, f"{what} on 2016-10-31 is dated before trajectory T1 was opened on 2016-11-01"
    ):
        command(trajectory)


def test_the_aggregate_refuses_a_void_dated_before_the_opening() -> None:
    trajectory = a_trajectory()
    deliver(trajectory, "A1", "2016-11-02")
    with refuses(
        trajectory,
        OutOfOrder,
        "void of activity A1 on 2016-10-31 is dated before trajectory T1 was opened on 2016-11-01",
    ):
        void(trajectory, "A1", "2016-10-31")


@pytest.mark.parametrize(
    ("command", "what"),
    [
        (lambda t: assess(t, "2016-12-02"), "assessment"),
        (lambda t: cluster(t, "2016-12-02"), "clustering"),
        (lambda t: deliver(t, "A1", "2016-12-02"), "activity A1"),
        (lambda t: review(t, "2016-12-02"), "review"),
    ],
)
def test_the_aggregate_refuses_care_dated_after_the_referral_back(command: Any, what: str) -> None:
    trajectory = a_clustered_trajectory()
    refer_back(trajectory, "2016-12-01")
    with refuses(
        trajectory, OutOfOrder, f"{what} on 2016-12-02 is dated after trajectory T1 was referred back on 2016-12-01"
    ):
        command(trajectory)


def test_the_aggregate_accepts_care_dated_on_the_day_of_the_referral_back() -> None:
    trajectory = a_clustered_trajectory()
    refer_back(trajectory, "2016-12-01")
    assess(trajectory, "2016-12-01")
    cluster(trajectory, "2016-12-01")
    deliver(trajectory, "A1", "2016-12-01")
    review(trajectory, "2016-12-01")
    assert [type(e).__name__ for e in trajectory.collect_events()][-5:] == [
        "ReferredBack", "Assessed", "Clustered", "ActivityDelivered", "Reviewed",
    ]  # fmt: skip


def test_the_aggregate_refuses_a_second_referral_back() -> None:
    trajectory = a_clustered_trajectory()
    refer_back(trajectory, "2016-12-01")
    with refuses(trajectory, NotAllowed, "trajectory T1 was referred back already on 2016-12-01"):
        refer_back(trajectory, "2016-12-05")


@pytest.mark.parametrize(
    "later",
    [
        lambda t: assess(t, "2016-11-20"),
        lambda t: cluster(t, "2016-11-20"),
        lambda t: review(t, "2016-11-20"),
        lambda t: deliver(t, "A1", "2016-11-20"),
    ],
    ids=["assessment", "clustering", "review", "activity"],
)
def test_the_aggregate_refuses_a_referral_back_dated_before_recorded_care(later: Any) -> None:
    trajectory = a_clustered_trajectory()
    later(trajectory)
    with refuses(
        trajectory,
        OutOfOrder,
        "referral back on 2016-11-10 is dated before an assessment, clustering, review or activity "
        "of trajectory T1 on 2016-11-20",
    ):
        refer_back(trajectory, "2016-11-10")


def test_the_aggregate_ignores_a_voided_activity_when_dating_the_referral_back() -> None:
    trajectory = a_clustered_trajectory()
    deliver(trajectory, "A1", "2016-11-20")
    void(trajectory, "A1", "2016-11-21")
    refer_back(trajectory, "2016-11-10")
    assert trajectory.referred_back_on == date(2016, 11, 10)


def test_the_aggregate_allows_a_void_after_the_referral_back() -> None:
    trajectory = a_clustered_trajectory()
    deliver(trajectory, "A1", "2016-11-20")
    refer_back(trajectory, "2016-11-25")
    void(trajectory, "A1", "2016-12-05")
    assert trajectory.activities["A1"].voided


def test_the_aggregate_refuses_a_clustering_without_an_assessment_on_or_before_it() -> None:
    trajectory = a_trajectory()
    assess(trajectory, "2016-11-10")
    with refuses(
        trajectory, OutOfOrder, "clustering on 2016-11-05: trajectory T1 has no assessment dated on or before it"
    ):
        cluster(trajectory, "2016-11-05")


def test_the_aggregate_refuses_a_review_without_scores_and_without_an_assessment() -> None:
    trajectory = a_trajectory()
    with refuses(trajectory, OutOfOrder, "review on 2016-11-05: trajectory T1 has no assessment dated on or before it"):
        review(trajectory, "2016-11-05")


def test_the_aggregate_refuses_a_review_when_no_cluster_is_in_force() -> None:
    trajectory = a_trajectory()
    assess(trajectory, "2016-11-01")
    cluster(trajectory, "2016-11-10")
    with refuses(trajectory, NotAllowed, "review on 2016-11-05: no cluster is in force on that date in trajectory T1"):
        review(trajectory, "2016-11-05", scores=SCORES)


def test_the_aggregate_counts_a_reviews_own_scores_as_an_assessment() -> None:
    trajectory = a_clustered_trajectory()
    review(trajectory, "2016-12-20", code=3, scores=SCORES)
    # The review's scores date the latest care-need event: a referral back may not precede it.
    with refuses(
        trajectory,
        OutOfOrder,
        "referral back on 2016-12-19 is dated before an assessment, clustering, review or activity "
        "of trajectory T1 on 2016-12-20",
    ):
        refer_back(trajectory, "2016-12-19")


@pytest.mark.parametrize("minutes", [0, -5])
def test_the_aggregate_refuses_non_positive_minutes(minutes: int) -> None:
    trajectory = a_trajectory()
    with refuses(trajectory, NotAllowed, f"activity A1: minutes must be positive, got {minutes}"):
        deliver(trajectory, "A1", "2016-11-02", minutes=minutes)


def test_the_aggregate_refuses_an_activity_id_it_already_holds() -> None:
    trajectory = a_trajectory()
    deliver(trajectory, "A1", "2016-11-02")
    with refuses(trajectory, Conflict, "activity A1 is already recorded in trajectory T1 with other content"):
        deliver(trajectory, "A1", "2016-11-03")


def test_the_aggregate_refuses_to_void_an_unknown_activity() -> None:
    trajectory = a_trajectory()
    with refuses(trajectory, NotAllowed, "void: activity A9 is not in trajectory T1"):
        void(trajectory, "A9", "2016-11-02")


def test_the_aggregate_refuses_to_void_an_activity_twice() -> None:
    trajectory = a_trajectory()
    deliver(trajectory, "A1", "2016-11-02")
    void(trajectory, "A1", "2016-11-03")
    with refuses(trajectory, NotAllowed, "void: activity A1 in trajectory T1 was voided already"):
        void(trajectory, "A1", "2016-11-04")


def test_scores_are_kept_in_catalogue_order_whatever_order_they_came_in() -> None:
    shuffled = dict(reversed(list({**HONOS, "A": 1, "13": 2}.items())))
    assert [item for item, _ in Scores.from_mapping(shuffled).items] == [*HONOS, "13", "A"]


def test_an_event_the_trajectory_builds_is_the_one_its_class_would_build_and_is_stored_alike() -> None:
    from ggzledger.domain import Trajectory
    from ggzledger.store import TypedMapper

    trajectory = Trajectory(
        trajectory="T1", record_id=None, fingerprint="f0", patient="P1", provider="12345678", insurer="3311",
        opened_on=date(2024, 1, 2), region=None, referrer=None,
    )  # fmt: skip
    scores = tuple((str(item), 2) for item in range(1, 13))
    trajectory.assess(on=date(2024, 1, 3), scores=scores, assessor=None, record_id=None, fingerprint="fa")
    trajectory.cluster(on=date(2024, 1, 3), cluster=4, record_id="r1", fingerprint="f1")
    built = trajectory.pending_events[-1]
    by_init = Trajectory.Clustered(
        originator_id=trajectory.id, originator_version=3, timestamp=built.timestamp, trajectory="T1",
        record_id="r1", fingerprint="f1", on=date(2024, 1, 3), cluster=4,
    )  # fmt: skip
    mapper = TypedMapper()

    assert built == by_init
    assert mapper.to_stored_event(built) == mapper.to_stored_event(by_init)
    assert (trajectory.version, trajectory.modified_on) == (3, built.timestamp)
    with pytest.raises(TypeError, match="Clustered takes"):
        trajectory._trigger(
            Trajectory.Clustered, on=date(2024, 1, 4), cluster=4, record_id=None, fingerprint="f2", extra=1
        )
