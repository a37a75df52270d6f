"""The history and totals views on each store: kept by the projector, equal to the pure arithmetic.

Histories are compared with ``care_need.entries`` over the trajectory's own events; totals are worked
out by hand from rules.md §4 prices (CONSULT € 100,00, VERBLIJF € 400,00) and §6 keys.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings

from builders import (
    HONOS,
    Clerk,
    Record,
    assessed,
    care_need,
    clustered,
    delivered,
    meneer_henk,
    month_closed,
    opened,
    referred_back,
    reviewed,
    voided,
)
from ggzledger import Ledger
from ggzledger.audit.reports import DIMENSIONS, history, totals, worklist
from ggzledger.domain import trajectory_id
from ggzledger.projections.care_need import care_need_of, due_for_review, history_of
from ggzledger.projections.totals import CLUSTER_DIMENSIONS
from ggzledger.service.erasure import erase
from ledgers import a_busy_ledger, ledgers

CONSULT, VERBLIJF = 10000, 40000


def pure_history(ledger: Ledger, number: str) -> list[dict[str, Any]]:
    events = list(ledger.events.get(trajectory_id(number)))
    return [entry.to_json() for entry in history_of(events, ledger.catalogue)]


# History.


def test_the_history_view_gives_the_entries_of_the_pure_arithmetic(ledger: Ledger, clerk: Clerk) -> None:
    clerk.given(
        *care_need("T1", "2016-11-01", 3),
        reviewed("2016-12-01", 4, "T1", honos={**HONOS, "7": 3}),
        reviewed("2017-01-10", 10, "T1"),
        assessed("2017-02-01", "T1", {**HONOS, "7": 2}),
        referred_back("2017-02-21", number="T1"),
    )

    entries = [entry.to_json() for entry in history(ledger, "T1")]

    assert entries == pure_history(ledger, "T1")
    assert [e["change"] for e in entries] == ["initial", "step_up", "lateral", "ended"]
    assert entries[2]["findings"] == ["unlikely_transition"]


def test_a_referral_back_is_judged_on_the_assessment_latest_by_date_kept_and_rebuilt(
    ledger: Ledger, clerk: Clerk
) -> None:
    # Cluster 3's discharge criteria: item 2 = 0, item 7 <= 1, item 8 <= 1.
    met, missed = {**HONOS, "7": 1}, {**HONOS, "7": 3}
    clerk.given(
        *care_need("T-MET", "2017-01-02", 3),
        assessed("2017-02-10", "T-MET", met),
        assessed("2017-02-05", "T-MET", missed),  # recorded last, but not the latest by date
        referred_back("2017-02-20", number="T-MET"),
        *care_need("T-MISSED", "2017-01-02", 3),
        assessed("2017-02-10", "T-MISSED", missed),
        assessed("2017-02-05", "T-MISSED", met),
        referred_back("2017-02-20", number="T-MISSED"),
    )
    kept = {number: history(ledger, number) for number in ("T-MET", "T-MISSED")}

    ledger.projector.rebuild()

    for number, findings in (("T-MET", []), ("T-MISSED", ["discharge_criteria_not_met"])):
        entries = [entry.to_json() for entry in history(ledger, number)]
        assert entries == [entry.to_json() for entry in kept[number]] == pure_history(ledger, number)
        assert (entries[-1]["change"], entries[-1]["findings"]) == ("ended", findings)


def test_a_review_recorded_later_but_dated_earlier_is_put_in_its_place_and_the_entries_recomputed(
    ledger: Ledger, clerk: Clerk
) -> None:
    clerk.given(*care_need("T1", "2016-11-01", 4), reviewed("2017-02-01", 5, "T1"))
    before = [e.to_json() for e in history(ledger, "T1")]

    clerk.given(reviewed("2016-12-15", 6, "T1", honos={**HONOS, "1": 2}))
    after = [e.to_json() for e in history(ledger, "T1")]

    assert [(e["on"], e["from"], e["to"]) for e in before] == [("2016-11-01", None, 4), ("2017-02-01", 4, 5)]
    assert [(e["on"], e["from"], e["to"], e["change"]) for e in after] == [
        ("2016-11-01", None, 4, "initial"),
        ("2016-12-15", 4, 6, "step_up"),
        ("2017-02-01", 6, 5, "lateral"),  # 6 and 5 both need level 5 (rules.md §7)
    ]
    assert after[2]["honos_total"] == 2  # the late review's scores are the latest assessment by February
    assert after == pure_history(ledger, "T1")


def test_the_history_of_an_unknown_trajectory_is_refused(ledger: Ledger) -> None:
    from ggzledger import UnknownTrajectory

    with pytest.raises(UnknownTrajectory, match="T-NOPE was never opened"):
        history(ledger, "T-NOPE")


def test_the_review_worklist_as_of_a_past_date_is_judged_on_the_events_dated_by_then(
    ledger: Ledger, clerk: Clerk
) -> None:
    clerk.given(
        *care_need("T-A", "2016-11-01", 1),  # 12 weeks: due 2017-01-24
        *care_need("T-B", "2016-11-01", 14),  # 4 weeks: due 2016-11-29
        reviewed("2016-11-20", 14, "T-B"),  # due 2016-12-18
        *care_need("T-C", "2016-11-01", 4),  # 6 months: due 2017-05-01
        referred_back("2016-12-01", number="T-C"),
        opened("T-D", "2016-11-01"),  # never clustered
        *care_need("T-E", "2016-12-20", 14),  # opened after some dates asked
        reviewed("2017-01-10", 14, "T-A"),  # recorded last, dated in the past: T-A reviewed (cluster 14, 4 weeks)
    )

    def due(as_of: str) -> list[tuple[str, int, str]]:
        rows = worklist(ledger, date.fromisoformat(as_of))
        return [(row.trajectory, row.cluster, row.review_due.isoformat()) for row in rows]

    assert due("2016-11-28") == []
    assert due("2016-12-18") == [("T-B", 14, "2016-12-18")]
    assert due("2017-01-09") == [("T-B", 14, "2016-12-18")]
    assert due("2017-01-17") == [("T-B", 14, "2016-12-18"), ("T-E", 14, "2017-01-17")]
    assert due("2017-02-10") == [("T-B", 14, "2016-12-18"), ("T-E", 14, "2017-01-17"), ("T-A", 14, "2017-02-07")]
    # The view agrees with the pure function on every trajectory and day.
    for day in ("2016-11-15", "2016-12-01", "2017-01-24", "2017-03-01", "2017-06-01"):
        expected = []
        for number in ("T-A", "T-B", "T-C", "T-D", "T-E"):
            facts = care_need_of(ledger.events.get(trajectory_id(number)))
            found = due_for_review(facts, date.fromisoformat(day), ledger.catalogue)
            if found is not None:
                expected.append((number, found[0], found[1].isoformat()))
        assert sorted(due(day)) == sorted(expected), day


# Totals.


def test_totals_by_cluster_count_each_line_under_the_cluster_in_force_on_its_own_date(
    ledger: Ledger, clerk: Clerk
) -> None:
    clerk.given(
        opened("T1", "2016-11-01"),
        assessed("2016-11-01", "T1"),
        delivered("A1", "2016-11-02", number="T1"),  # before any cluster: unclustered
        clustered("2016-11-10", 3, "T1"),
        delivered("A2", "2016-11-10", number="T1"),  # cluster 3
        reviewed("2016-11-20", 0, "T1"),
        delivered("A5", "2016-11-22", number="T1"),  # cluster 0
        delivered("A3", "2016-11-25", "VERBLIJF", "T1", care_form="clinical"),
        reviewed("2016-11-25", 18, "T1"),  # same day as A3, recorded later: in force on 11-25
        delivered("A4", "2016-11-30", number="T1"),  # cluster 18
        month_closed("2016-11"),
    )

    by = {dim: dict(totals(ledger, dim).rows) for dim in DIMENSIONS}

    both = VERBLIJF + CONSULT
    assert by["cluster"] == {"0": CONSULT, "3": CONSULT, "18": both, "unclustered": CONSULT}
    assert by["group"] == {"niet te clusteren": CONSULT, "I.a": CONSULT, "III.a": both, "unclustered": CONSULT}
    assert by["supercluster"] == {"none": CONSULT, "I": CONSULT, "III": both, "unclustered": CONSULT}
    assert by["care_form"] == {"clinical": VERBLIJF, "none": 4 * CONSULT}
    assert by["region"] == {"none": VERBLIJF + 4 * CONSULT}
    assert [key for key, _ in totals(ledger, "cluster").rows] == ["0", "3", "18", "unclustered"]
    # The declaration itself shows the cluster in force on the month's last day.
    assert ledger.declaration("T1", "2016-11")["cluster"]["code"] == 18  # type: ignore[index]


def test_cluster_0_counts_under_niet_te_clusteren_and_supercluster_none(ledger: Ledger, clerk: Clerk) -> None:
    clerk.given(*care_need("T1", "2016-11-01", 0), delivered("A1", "2016-11-02", number="T1"), month_closed("2016-11"))

    assert totals(ledger, "group").rows == (("niet te clusteren", CONSULT),)
    assert totals(ledger, "supercluster").rows == (("none", CONSULT),)
    assert totals(ledger, "cluster").rows == (("0", CONSULT),)


def test_a_credit_counts_negatively_under_the_month_it_is_declared_in(ledger: Ledger, clerk: Clerk) -> None:
    clerk.given(
        *care_need("T1", "2016-11-01", 4),
        delivered("A1", "2016-11-02", "VERBLIJF", "T1", care_form="clinical"),
        delivered("A2", "2016-11-03", number="T1"),
        month_closed("2016-11"),
        voided("A1", "2016-12-05", "T1"),
        month_closed("2016-12"),
    )

    assert totals(ledger, "month").rows == (("2016-11", VERBLIJF + CONSULT), ("2016-12", -VERBLIJF))
    assert totals(ledger, "care_form").rows == (("clinical", 0), ("none", CONSULT))
    assert totals(ledger, "month").total == CONSULT


def test_drafts_of_open_months_are_kept_apart_from_issued_totals(ledger: Ledger, clerk: Clerk) -> None:
    clerk.given(
        *care_need("T1", "2016-11-01", 4),
        delivered("A1", "2016-11-02", number="T1"),
        month_closed("2016-11"),
        delivered("A2", "2016-12-02", "VERBLIJF", "T1"),
        delivered("A3", "2017-01-02", number="T1"),
    )

    result = totals(ledger, "month", drafts=True)

    assert result.to_json() == {
        "by": "month",
        "total": CONSULT,
        "rows": [{"key": "2016-11", "total": CONSULT}],
        "drafts": {
            "status": "draft",
            "months": ["2016-12", "2017-01"],
            "total": VERBLIJF + CONSULT,
            "rows": [{"key": "2016-12", "total": VERBLIJF}, {"key": "2017-01", "total": CONSULT}],
        },
    }
    assert "drafts" not in totals(ledger, "month").to_json()
    assert ledger.is_closed("2016-12") is False  # reading drafts changes nothing


def test_every_breakdown_of_a_fixed_busy_ledger_sums_to_all_declarations(ledger: Ledger) -> None:
    Clerk(ledger).accepts(*a_busy_ledger(20170201, most=6))

    _assert_every_breakdown_sums_to_the_declarations(ledger)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ledgers())
def test_over_generated_ledgers_every_breakdown_sums_to_the_sum_of_all_declaration_totals(
    tmp_path_factory: pytest.TempPathFactory, records: list[Record]
) -> None:
    path = tmp_path_factory.mktemp("ledger") / "ledger.db"
    ledger = Ledger(str(path))
    try:
        Clerk(ledger).accepts(*records)
        _assert_every_breakdown_sums_to_the_declarations(ledger)
    finally:
        ledger.close()


def _assert_every_breakdown_sums_to_the_declarations(ledger: Ledger) -> None:
    with ledger.store.transaction(write=False) as c:
        c.execute("SELECT COALESCE(SUM(total), 0) FROM billing_declarations")
        declared = c.fetchone()[0]
        c.execute("SELECT COALESCE(SUM(total), 0) FROM billing_closes")
        closed = c.fetchone()[0]
    drafts = None
    for dimension in DIMENSIONS:
        result = totals(ledger, dimension, drafts=True)
        assert sum(total for _key, total in result.rows) == result.total == declared == closed, dimension
        assert result.drafts is not None
        if drafts is None:
            drafts = result.drafts.total
        assert result.drafts.total == drafts, dimension
    months = totals(ledger, "month", drafts=True)
    draft_declarations = [ledger.declaration(t, m) for m in months.draft_months for t in _numbers(ledger)]
    assert drafts == sum(d["total"] for d in draft_declarations if d is not None and d["status"] == "draft")


def _numbers(ledger: Ledger) -> list[str]:
    with ledger.store.transaction(write=False) as c:
        c.execute("SELECT trajectory FROM billing_trajectories")
        return [row[0] for row in c.fetchall()]


def test_after_an_erasure_the_totals_without_health_data_are_unchanged_and_those_by_cluster_keep_their_sum(
    ledger: Ledger,
) -> None:
    # trust.md §4: by month, insurer, provider, region and care form (and the rest) as before; by cluster,
    # group and supercluster the same grand total, Henk's amounts under "erased", the other patient's kept.
    other = [*care_need("T2", "2016-11-01", cluster=6), delivered("T2-A1", "2016-11-04", number="T2")]
    meneer_henk(ledger, *other, month_closed("2017-02"), closes=False)
    before = {by: totals(ledger, by) for by in DIMENSIONS}

    erase(ledger, "P-HENK", "AVG17")

    six = ledger.catalogue.lookup(6)
    for by in DIMENSIONS:
        after = totals(ledger, by)
        if by in CLUSTER_DIMENSIONS:
            t2 = {"cluster": "6", "group": six.group, "supercluster": six.supercluster_key}[by]
            assert dict(after.rows) == {"erased": before[by].total - CONSULT, t2: CONSULT}, by
            assert after.total == before[by].total
        else:
            assert after == before[by], by
