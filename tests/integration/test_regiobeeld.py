"""The regiobeeld and the waiting times of a small ledger made by hand, counted by hand, on both stores."""

from __future__ import annotations

from datetime import date
from typing import Any

from builders import HONOS, Clerk, assessed, clustered, delivered, opened, referred_back, voided
from ggzledger import Ledger
from ggzledger.analyses.regiobeeld import regiobeeld
from ggzledger.analyses.waiting import waiting, waits_from_states
from ggzledger.audit.findings import _states, findings

AS_OF = date(2017, 6, 30)  # the quarter: 2017-04-01 .. 2017-06-30


def registered(number: str, on: str, region: str, **extra: Any) -> dict[str, Any]:
    return {"type": "registered", "trajectory": number, "date": on, "region": region, **extra}


def begun(number: str, on: str, cluster: int, **opening: Any) -> list[dict[str, Any]]:
    """Opened, assessed and clustered on one day."""
    return [opened(number, on, **opening), assessed(on, number, HONOS), clustered(on, cluster, number)]


def hand_made(clerk: Clerk) -> None:
    clerk.given(
        # T1: registered 1 March (ZK11, outreach), intake 29 March (aanmeld 28 days), the consult that day is
        # the intake itself; treated 5 April (behandel 7, total 35). Cluster 4: need level 4, complex.
        *begun("T1", "2017-03-29", 4),
        registered("T1", "2017-03-01", "ZK11", care_form="outreach"),
        delivered("A11", "2017-03-29", number="T1"),
        delivered("A12", "2017-04-05", number="T1", care_form="outreach"),
        # T2: registered 1 February, intake 2 March (aanmeld 29), treated 12 May (behandel 71, total 100).
        # Cluster 2: need level 2.
        opened("T2", "2017-03-01"),
        registered("T2", "2017-02-01", "ZK11", care_form="outreach"),
        assessed("2017-03-02", "T2", HONOS),
        clustered("2017-03-02", 2, "T2"),
        delivered("A21", "2017-05-12", number="T2"),
        # T3: registered 1 May, intake 10 June (aanmeld 40), not treated: waiting.
        *begun("T3", "2017-06-10", 3),
        registered("T3", "2017-05-01", "ZK11", care_form="outreach"),
        # T4: registered 20 June (ZK12, acute), opened 25 June, no intake yet: waiting.
        opened("T4", "2017-06-25"),
        registered("T4", "2017-06-20", "ZK12", care_form="acute"),
        # T5: no registration; the old free text "Utrecht" reads as ZK11, no care form. Cluster 5: complex.
        *begun("T5", "2017-01-10", 5, region="Utrecht"),
        delivered("A51", "2017-01-17", number="T5"),
        delivered("A52", "2017-02-01", code="VERBLIJF", number="T5", care_form="clinical"),
        # T6: "Amersfoort" names no region: uncoded. Referred back 30 April: not in care on 30 June.
        *begun("T6", "2017-01-10", 3, region="Amersfoort"),
        delivered("A61", "2017-02-01", number="T6"),
        referred_back("2017-04-30", number="T6"),
        # T7: registered and taken in on 3 April (aanmeld 0); the consult of 10 April is voided, so the
        # first treatment is 19 June (behandel 77, total 77). Cluster 13: need level 5, complex.
        *begun("T7", "2017-04-03", 13),
        registered("T7", "2017-04-03", "ZK11", care_form="outreach"),
        delivered("A71", "2017-04-10", number="T7"),
        voided("A71", "2017-04-11", number="T7"),
        delivered("A72", "2017-06-19", number="T7"),
    )


def rows_by_key(found: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    return {(row["region"], row["care_form"]): row for row in found["rows"]}


def test_the_regiobeeld_counts_what_a_hand_count_of_the_ledger_gives(clerk: Clerk, ledger: Ledger) -> None:
    hand_made(clerk)

    found = regiobeeld(ledger, AS_OF).to_json()
    rows = rows_by_key(found)

    assert found["quarter"] == {"from": "2017-04-01", "to": "2017-06-30"}
    assert list(rows) == [("ZK11", "clinical"), ("ZK11", "outreach"), ("ZK11", "none"), ("ZK12", "acute"),
                          ("uncoded", "none")]  # fmt: skip
    outreach = rows["ZK11", "outreach"]
    # Waiting on 30 June: T3 (T1, T2 and T7 were treated by then).
    assert outreach["waiting"] == 1
    # In care: T1, T2, T7; complex: T1 (level 4) and T7 (level 5).
    assert (outreach["in_care"], outreach["complex"]) == (3, 2)
    # Waits that ended in the quarter. aanmeld: T7 0 (3 April), T3 40 (10 June); T1's and T2's ended in March.
    assert outreach["waits"]["aanmeld"] == {
        "count": 2, "median_days": 0, "p90_days": 40, "above_norm": 1, "share_above_norm": 0.5,
    }  # fmt: skip
    # behandel: T1 7, T2 71, T7 77 (above 70: T2 and T7).
    assert outreach["waits"]["behandel"] == {
        "count": 3, "median_days": 71, "p90_days": 77, "above_norm": 2, "share_above_norm": 0.6667,
    }  # fmt: skip
    # total: T1 35, T7 77, T2 100 (above 98: T2).
    assert outreach["waits"]["total"] == {
        "count": 3, "median_days": 77, "p90_days": 100, "above_norm": 1, "share_above_norm": 0.3333,
    }  # fmt: skip
    # Volume: T1's two consults (March, April; the first takes the registration's form), T2's (May), T7's
    # of June (the voided one of April is not counted); € 100 each.
    assert {m: v for m, v in outreach["volume"].items() if v["activities"]} == {
        "2017-03": {"activities": 1, "amount": 10000},
        "2017-04": {"activities": 1, "amount": 10000},
        "2017-05": {"activities": 1, "amount": 10000},
        "2017-06": {"activities": 1, "amount": 10000},
    }
    # T4 waits in ZK12; T5 is in care with a complex need, its stay day under its own form (clinical).
    assert (rows["ZK12", "acute"]["waiting"], rows["ZK12", "acute"]["in_care"]) == (1, 0)
    assert (rows["ZK11", "none"]["in_care"], rows["ZK11", "none"]["complex"]) == (1, 1)
    assert rows["ZK11", "none"]["volume"]["2017-01"] == {"activities": 1, "amount": 10000}
    assert rows["ZK11", "clinical"]["volume"]["2017-02"] == {"activities": 1, "amount": 40000}
    assert rows["ZK11", "clinical"]["in_care"] == 0
    # T6 ended before the day: not in care; its consult of February counts under uncoded.
    assert rows["uncoded", "none"]["in_care"] == 0
    assert rows["uncoded", "none"]["volume"]["2017-02"] == {"activities": 1, "amount": 10000}
    total = found["total"]
    assert (total["waiting"], total["in_care"], total["complex"]) == (2, 4, 3)
    # Six consults not voided (A11, A12, A21, A51, A61, A72) and one stay day.
    assert sum(v["amount"] for v in total["volume"].values()) == 6 * 10000 + 40000


def test_the_regiobeeld_by_group_puts_each_trajectory_under_its_cluster_group(clerk: Clerk, ledger: Ledger) -> None:
    hand_made(clerk)

    rows = regiobeeld(ledger, AS_OF, ("group",)).to_json()["rows"]

    # I.a: T1 (4), T2 (2), T3 (3), T6 (3); I.b: T5 (5); II.b: T7 (13); T4 has no cluster.
    assert {row["group"]: row["in_care"] for row in rows} == {"I.a": 2, "I.b": 1, "II.b": 1, "unclustered": 0}
    assert {row["group"]: row["waiting"] for row in rows} == {"I.a": 1, "I.b": 0, "II.b": 0, "unclustered": 1}


def test_as_of_an_earlier_day_only_the_dates_up_to_it_count(clerk: Clerk, ledger: Ledger) -> None:
    hand_made(clerk)

    rows = rows_by_key(regiobeeld(ledger, date(2017, 3, 15)).to_json())

    # On 15 March T1 and T2 were registered and not yet treated; T3, T4 and T7 not yet registered.
    assert rows["ZK11", "outreach"]["waiting"] == 2
    assert "ZK12" not in {region for region, _form in rows}


def test_the_waits_of_the_view_are_those_the_events_give(clerk: Clerk, ledger: Ledger) -> None:
    hand_made(clerk)

    from_view = {w.trajectory: w for w in waiting(ledger, date(2030, 1, 1))}
    from_events = {number: wait for number, (wait, _first) in waits_from_states(_states(ledger)).items()}

    assert from_view == from_events
    t2 = from_view["T2"]
    assert (t2.days("aanmeld"), t2.days("behandel"), t2.days("total")) == (29, 71, 100)
    assert from_view["T5"].region == "ZK11" and from_view["T6"].region == "uncoded"


def test_waiting_for_one_trajectory_and_one_never_opened(clerk: Clerk, ledger: Ledger) -> None:
    hand_made(clerk)

    [t7] = waiting(ledger, AS_OF, "T7")

    assert (t7.registered_on, t7.first_treated_on) == (date(2017, 4, 3), date(2017, 6, 19))
    try:
        waiting(ledger, AS_OF, "T-NONE")
    except Exception as error:
        assert "was never opened" in str(error)
    else:
        raise AssertionError("an unknown trajectory was answered")


def treeknorm_edges(clerk: Clerk) -> None:
    clerk.given(
        # E1: aanmeld 28, behandel 70, total 98: within every norm.
        *begun("E1", "2017-01-29", 3),
        registered("E1", "2017-01-01", "ZK11"),
        delivered("E1-1", "2017-04-09", number="E1"),
        # E2: aanmeld 29 (over), behandel 70, total 99 (over).
        *begun("E2", "2017-01-30", 3),
        registered("E2", "2017-01-01", "ZK11"),
        delivered("E2-1", "2017-04-10", number="E2"),
        # E3: aanmeld 28, behandel 71 (over), total 99 (over).
        *begun("E3", "2017-01-29", 3),
        registered("E3", "2017-01-01", "ZK11"),
        delivered("E3-1", "2017-04-10", number="E3"),
    )


def test_a_wait_over_its_treeknorm_is_a_finding_and_one_at_the_norm_is_not(clerk: Clerk, ledger: Ledger) -> None:
    treeknorm_edges(clerk)

    found = [(f["trajectory"], f["activity"], f["date"], f["detail"].split()[0]) for f in findings(ledger)
             if f["finding"] == "treeknorm_exceeded"]  # fmt: skip

    assert found == [
        ("E2", "", "2017-01-30", "aanmeldwachttijd"),
        ("E2", "E2-1", "2017-04-10", "wachttijd"),
        ("E3", "E3-1", "2017-04-10", "behandelwachttijd"),
        ("E3", "E3-1", "2017-04-10", "wachttijd"),
    ]
    waits = {w.trajectory: w for w in waiting(ledger, AS_OF)}
    assert [waits["E1"].days(kind) for kind in ("aanmeld", "behandel", "total")] == [28, 70, 98]
    assert [waits["E2"].days(kind) for kind in ("aanmeld", "behandel", "total")] == [29, 70, 99]
    assert [waits["E3"].days(kind) for kind in ("aanmeld", "behandel", "total")] == [28, 71, 99]
