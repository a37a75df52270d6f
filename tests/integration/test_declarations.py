"""Declarations (rules.md §5) on each store, narrated: what a month close issues and what a draft shows.

Every expected value here is worked out by hand from rules.md (prices from §4, review terms from §7),
never copied from the code's output.
"""

from __future__ import annotations

import hashlib
import json
from datetime import date
from typing import Any

import pytest

from builders import (
    Clerk,
    assessed,
    care_need,
    clustered,
    delivered,
    month_closed,
    opened,
    referred_back,
    reviewed,
    voided,
)
from ggzledger import Ledger
from ggzledger.domain import BillingCalendar, trajectory_id
from ggzledger.projections.declarations import Activity, TrajectoryFacts, declare
from ggzledger.reference import TariffError, TariffTable, load_catalogue

# demo-2017 (rules.md §4): CONSULT € 100,00 per consult, VERBLIJF € 400,00 per day.
CONSULT = 10000
VERBLIJF = 40000
CLUSTER_4 = {"code": 4, "name": "Psychische aandoening ernstig"}


def line(
    on: str, activity: str, amount: int = CONSULT, kind: str = "debit", late: bool = False, code: str = "CONSULT"
) -> dict[str, Any]:
    description = {"CONSULT": "Consult", "VERBLIJF": "Verblijf"}.get(code, code)
    return {
        "date": on, "code": code, "description": description, "amount": amount,
        "kind": kind, "activity": activity, "late": late,
    }  # fmt: skip


def issued(ledger: Ledger, trajectory: str, month: str) -> dict[str, Any]:
    """The issued declaration, without its digest (checked to be a SHA-256 hex)."""
    declaration = ledger.declaration(trajectory, month)
    assert declaration is not None, f"{trajectory} has no declaration for {month}"
    assert declaration["status"] == "issued"
    digest = declaration.pop("digest")
    assert len(digest) == 64 and int(digest, 16) >= 0
    return declaration


# --- Late lines ---------------------------------------------------------------------------------------


def test_an_activity_recorded_after_its_month_closed_is_a_late_line_in_the_next_close(
    clerk: Clerk, ledger: Ledger
) -> None:
    clerk.given(*care_need(), delivered("A1", "2016-11-02"))
    ledger.close_month("2016-11")

    clerk.given(delivered("A2", "2016-11-20"), delivered("A3", "2016-12-05"))
    ledger.close_month("2016-12")

    assert issued(ledger, "T1", "2016-12") == {
        "trajectory": "T1",
        "month": "2016-12",
        "status": "issued",
        "sequence": 2,
        "cluster": CLUSTER_4,
        "start_date": "2016-11-01",
        "end_date": None,
        "review_due": "2017-05-01",  # clustered 1 November 2016 + 6 months
        "previously_declared": CONSULT,
        "total": 2 * CONSULT,
        "lines": [line("2016-11-20", "A2", late=True), line("2016-12-05", "A3")],
    }
    # The November declaration stays as it was issued.
    assert issued(ledger, "T1", "2016-11")["lines"] == [line("2016-11-02", "A1")]


# --- Credit lines and voids ---------------------------------------------------------------------------


def test_a_void_after_the_declaration_gives_a_credit_line_and_may_make_the_total_negative(
    clerk: Clerk, ledger: Ledger
) -> None:
    clerk.given(*care_need(), delivered("A1", "2016-11-02"), delivered("V1", "2016-11-03", code="VERBLIJF"))
    ledger.close_month("2016-11")

    clerk.given(voided("V1", "2016-12-10", reason="geen verblijf"), delivered("A2", "2016-12-12"))
    ledger.close_month("2016-12")

    december = issued(ledger, "T1", "2016-12")
    # The credit carries the voided activity's own date, code and description, negated, never late.
    assert december["lines"] == [
        line("2016-11-03", "V1", -VERBLIJF, "credit", code="VERBLIJF"),
        line("2016-12-12", "A2"),
    ]
    assert december["total"] == CONSULT - VERBLIJF == -30000
    assert (december["sequence"], december["previously_declared"]) == (2, CONSULT + VERBLIJF)

    # A credit is issued once; the next close starts from the new running total.
    clerk.given(delivered("A3", "2017-01-04"))
    ledger.close_month("2017-01")
    january = issued(ledger, "T1", "2017-01")
    assert january["lines"] == [line("2017-01-04", "A3")]
    assert (january["sequence"], january["previously_declared"]) == (3, CONSULT + VERBLIJF + CONSULT - VERBLIJF)


def test_a_declaration_of_only_a_credit_has_a_negative_total(clerk: Clerk, ledger: Ledger) -> None:
    clerk.given(*care_need(), delivered("A1", "2016-11-02"))
    ledger.close_month("2016-11")
    clerk.given(voided("A1", "2016-12-01"))
    results = ledger.close_month("2016-12")

    assert issued(ledger, "T1", "2016-12")["total"] == -CONSULT
    assert (len(results[0].declarations), results[0].total) == (1, -CONSULT)


def test_an_activity_voided_before_it_was_declared_appears_on_no_declaration(clerk: Clerk, ledger: Ledger) -> None:
    clerk.given(
        *care_need(),
        delivered("A1", "2016-11-02"),
        voided("A1", "2016-11-03"),
        delivered("A2", "2016-11-04"),
        opened("T2"),
        delivered("B1", "2016-11-02", number="T2"),
        voided("B1", "2016-11-05", number="T2"),
    )
    ledger.close_month("2016-12")

    assert issued(ledger, "T1", "2016-11")["lines"] == [line("2016-11-04", "A2")]
    assert ledger.declaration("T1", "2016-12") is None
    # T2's only activity was voided before any close: no declaration, no credit, ever.
    assert ledger.declaration("T2", "2016-11") is None
    assert ledger.declaration("T2", "2016-12") is None


# --- Drafts -------------------------------------------------------------------------------------------


def test_a_draft_is_what_closing_the_month_would_issue(clerk: Clerk, ledger: Ledger) -> None:
    clerk.given(*care_need(), delivered("A1", "2016-11-02"), delivered("V1", "2016-11-10", code="VERBLIJF"))

    draft = ledger.declaration("T1", "2016-11")
    assert draft is not None and draft["status"] == "draft"
    assert "digest" not in draft
    assert draft["total"] == CONSULT + VERBLIJF

    ledger.close_month("2016-11")
    assert {**draft, "status": "issued"} == issued(ledger, "T1", "2016-11")


def test_a_draft_closes_the_earlier_open_months_first(clerk: Clerk, ledger: Ledger) -> None:
    clerk.given(
        *care_need(), delivered("A1", "2016-11-02"), delivered("A2", "2016-11-03"), delivered("A3", "2016-12-05")
    )

    draft = ledger.declaration("T1", "2016-12")

    # November would close first, as its own close: December holds only its own line.
    assert draft == {
        "trajectory": "T1",
        "month": "2016-12",
        "status": "draft",
        "sequence": 2,
        "cluster": CLUSTER_4,
        "start_date": "2016-11-01",
        "end_date": None,
        "review_due": "2017-05-01",
        "previously_declared": 2 * CONSULT,
        "total": CONSULT,
        "lines": [line("2016-12-05", "A3")],
    }
    assert [d["trajectory"] for d in ledger.declarations("2016-12")] == ["T1"]
    ledger.close_month("2016-12")
    assert {**draft, "status": "issued"} == issued(ledger, "T1", "2016-12")


def test_reading_a_draft_changes_nothing(clerk: Clerk, ledger: Ledger) -> None:
    clerk.given(*care_need(), delivered("A1", "2016-11-02"), delivered("A2", "2016-12-05"))
    head = ledger.projector.head()

    first = ledger.declaration("T1", "2016-12")
    assert ledger.declarations("2016-12") == [first]
    assert ledger.declaration("T1", "2016-12") == first

    assert ledger.projector.head() == head
    assert not ledger.is_closed("2016-11")
    # November is still open: its draft still holds its own line, as sequence 1.
    november = ledger.declaration("T1", "2016-11")
    assert november is not None
    assert (november["status"], november["sequence"], november["lines"]) == ("draft", 1, [line("2016-11-02", "A1")])


# --- Closing several months at once -------------------------------------------------------------------


def test_closing_a_month_in_a_fresh_ledger_first_closes_every_month_from_the_earliest_activity(
    clerk: Clerk, ledger: Ledger
) -> None:
    clerk.given(*care_need(), delivered("A1", "2016-11-02"), delivered("A2", "2017-01-10"))

    results = ledger.close_month("2017-02")

    assert [(r.month, len(r.declarations), r.total) for r in results] == [
        ("2016-11", 1, CONSULT),
        ("2016-12", 0, 0),
        ("2017-01", 1, CONSULT),
        ("2017-02", 0, 0),
    ]
    calendar = ledger.repository.get(BillingCalendar.ID)
    assert calendar.closed == ["2016-11", "2016-12", "2017-01", "2017-02"]
    assert issued(ledger, "T1", "2017-01")["sequence"] == 2


def test_the_close_chain_starts_from_sixty_four_zeros(clerk: Clerk, ledger: Ledger) -> None:
    clerk.given(*care_need(), delivered("A1", "2016-11-02"))
    [november] = ledger.close_month("2016-11")
    [december] = ledger.close_month("2016-12")

    declaration = issued(ledger, "T1", "2016-11")
    # rules.md §9, digest form 2: the financial content, keys sorted; its SHA-256 is the digest.
    content = {key: declaration[key] for key in ("trajectory", "month", "sequence", "total", "previously_declared")}
    content["lines"] = [
        {k: line[k] for k in ("activity", "kind", "code", "date", "amount")} for line in declaration["lines"]
    ]
    content.update(provider=opened()["provider"], insurer=opened()["insurer"])  # as care_need() opens T1
    canonical = json.dumps(content, sort_keys=True, separators=(",", ":")).encode()
    declaration_digest = hashlib.sha256(canonical).hexdigest()
    assert ledger.declaration("T1", "2016-11")["digest"] == declaration_digest  # type: ignore[index]
    assert november.digest == hashlib.sha256(("0" * 64 + declaration_digest).encode()).hexdigest()
    # A close without declarations still chains: the digest of the previous digest alone.
    assert december.digest == hashlib.sha256(november.digest.encode()).hexdigest()


def test_a_trajectory_without_pending_lines_gets_no_declaration(clerk: Clerk, ledger: Ledger) -> None:
    clerk.given(*care_need("T1"), *care_need("T2"), delivered("A1", "2016-11-02"), delivered("A2", "2016-12-02"))
    ledger.close_month("2016-11")

    assert [d["trajectory"] for d in ledger.declarations("2016-11")] == ["T1"]
    assert ledger.declaration("T2", "2016-11") is None
    # T1 has a December activity after November's close, but nothing pending for November itself.
    assert ledger.declaration("T1", "2016-10") is None


# --- Cluster, end date and review due ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("cluster", "clustered_on", "month", "review_due"),
    [
        (1, "2016-11-01", "2016-11", "2017-01-24"),  # 12 weeks = 84 days
        (2, "2016-11-01", "2016-11", "2017-02-14"),  # 15 weeks = 105 days
        (14, "2016-11-01", "2016-11", "2016-11-29"),  # 4 weeks = 28 days
        (4, "2016-08-31", "2016-09", "2017-02-28"),  # 6 months; February 2017 has no 31st
        (7, "2016-02-29", "2016-03", "2017-02-28"),  # 12 months from a leap day
        (19, "2016-11-30", "2016-12", "2017-05-30"),  # 6 months, the day exists
    ],
)
def test_review_due_adds_the_clusters_review_term(
    clerk: Clerk, ledger: Ledger, cluster: int, clustered_on: str, month: str, review_due: str
) -> None:
    clerk.given(*care_need("T1", clustered_on, cluster), delivered("A1", f"{month}-28"))
    ledger.close_month(month)
    declaration = issued(ledger, "T1", month)
    assert (declaration["cluster"]["code"], declaration["review_due"]) == (cluster, review_due)


def test_review_due_counts_from_the_latest_clustering_or_review_by_the_end_of_the_month(
    clerk: Clerk, ledger: Ledger
) -> None:
    clerk.given(
        *care_need(),
        reviewed("2016-12-15", 4),
        reviewed("2017-01-10", 4),  # after December: not counted for December
        delivered("A1", "2016-11-02"),
        delivered("A2", "2016-12-20"),
    )
    ledger.close_month("2016-12")
    assert issued(ledger, "T1", "2016-11")["review_due"] == "2017-05-01"
    assert issued(ledger, "T1", "2016-12")["review_due"] == "2017-06-15"


def test_of_two_clusterings_on_one_date_the_one_recorded_later_is_in_force(clerk: Clerk, ledger: Ledger) -> None:
    clerk.given(*care_need(cluster=4), reviewed("2016-11-01", 1), delivered("A1", "2016-11-02"))
    ledger.close_month("2016-11")
    declaration = issued(ledger, "T1", "2016-11")
    assert (declaration["cluster"]["code"], declaration["review_due"]) == (1, "2017-01-24")


def test_a_referred_back_trajectory_shows_its_end_date_and_the_cluster_then_in_force(
    clerk: Clerk, ledger: Ledger
) -> None:
    clerk.given(
        *care_need(),
        delivered("A1", "2016-12-05"),
        delivered("A2", "2017-01-05"),
        reviewed("2017-01-10", 2),
        referred_back("2017-01-20"),
    )
    ledger.close_month("2017-01")
    # The referral back lies after December: December shows no end date and the cluster of 31 December.
    december = issued(ledger, "T1", "2016-12")
    assert (december["cluster"], december["end_date"], december["review_due"]) == (CLUSTER_4, None, "2017-05-01")
    january = issued(ledger, "T1", "2017-01")
    # Cluster 2, reviewed 10 January 2017, + 15 weeks = 25 April 2017.
    assert (january["cluster"]["code"], january["end_date"], january["review_due"]) == (2, "2017-01-20", "2017-04-25")

    # A late activity after the end still shows the end date and the cluster at that date.
    clerk.given(delivered("A3", "2017-01-15"))
    ledger.close_month("2017-02")
    february = issued(ledger, "T1", "2017-02")
    assert february["lines"] == [line("2017-01-15", "A3", late=True)]
    assert (february["cluster"]["code"], february["end_date"], february["review_due"]) == (
        2,
        "2017-01-20",
        "2017-04-25",
    )


def test_without_a_cluster_in_force_cluster_and_review_due_are_null(clerk: Clerk, ledger: Ledger) -> None:
    clerk.given(
        opened("T1"),
        delivered("A1", "2016-11-02", number="T1"),  # never clustered
        opened("T2"),
        assessed("2016-11-01", "T2"),
        clustered("2016-12-05", 4, "T2"),  # clustered only after November
        delivered("B1", "2016-11-02", number="T2"),
    )
    ledger.close_month("2016-11")
    for number in ("T1", "T2"):
        declaration = issued(ledger, number, "2016-11")
        assert (declaration["cluster"], declaration["review_due"]) == (None, None)


# --- Sequence, previously declared and line order ---------------------------------------------------


def test_sequence_and_previously_declared_run_across_months(clerk: Clerk, ledger: Ledger) -> None:
    clerk.given(
        *care_need(),
        delivered("A1", "2016-11-02"),
        delivered("A2", "2016-11-09"),
        delivered("V1", "2016-12-01", code="VERBLIJF"),
        delivered("A3", "2017-02-01"),
        month_closed("2017-02"),
    )
    expected = {
        "2016-11": (1, 0, 2 * CONSULT),
        "2016-12": (2, 2 * CONSULT, VERBLIJF),
        "2017-02": (3, 2 * CONSULT + VERBLIJF, CONSULT),
    }
    for month, numbers in expected.items():
        declaration = issued(ledger, "T1", month)
        assert (declaration["sequence"], declaration["previously_declared"], declaration["total"]) == numbers
    assert ledger.declaration("T1", "2017-01") is None  # no pending lines in January


def test_lines_are_ordered_by_date_then_activity_id(clerk: Clerk, ledger: Ledger) -> None:
    clerk.given(*care_need(), delivered("B", "2016-11-02"), delivered("X", "2016-11-10"))
    ledger.close_month("2016-11")
    clerk.given(
        delivered("Z", "2016-12-03"),
        delivered("A-2", "2016-12-02", code="VERBLIJF"),
        delivered("A-10", "2016-12-02"),
        delivered("C", "2016-11-30"),
        voided("B", "2016-12-04"),
        voided("X", "2016-12-04"),
        delivered("W", "2016-11-10"),
    )
    ledger.close_month("2016-12")

    assert [
        (entry["date"], entry["activity"], entry["kind"]) for entry in issued(ledger, "T1", "2016-12")["lines"]
    ] == [
        ("2016-11-02", "B", "credit"),
        ("2016-11-10", "W", "debit"),  # W before X: same date, activity id order
        ("2016-11-10", "X", "credit"),
        ("2016-11-30", "C", "debit"),
        ("2016-12-02", "A-10", "debit"),  # ids compare as text: "A-10" < "A-2"
        ("2016-12-02", "A-2", "debit"),
        ("2016-12-03", "Z", "debit"),
    ]


def test_a_debit_comes_before_a_credit_of_the_same_activity() -> None:
    # Through the ledger an activity is never debited and credited at one close; the arithmetic still orders them.
    def activity(name: str, declared: str | None) -> Activity:
        return Activity(name, "T1", date(2016, 11, 2), "CONSULT", "Consult", CONSULT, None, 1, None, declared)

    facts = TrajectoryFacts("T1", date(2016, 11, 1), None, ())
    declaration = declare(
        facts,
        "2016-12",
        [activity("A1", None)],
        [activity("A1", "2016-11"), activity("A0", "2016-11")],
        load_catalogue(),
    )
    assert declaration is not None
    assert [(entry.activity, entry.kind, entry.amount) for entry in declaration.lines] == [
        ("A0", "credit", -CONSULT),
        ("A1", "debit", CONSULT),
        ("A1", "credit", -CONSULT),
    ]
    assert declaration.total == -CONSULT


# --- Prices -------------------------------------------------------------------------------------------

PRAKTIJK_2024 = (
    "code,description,unit,amount,valid_from,valid_to\n"
    "CO0432,Diagnostiek 45 min (praktijk),consult,20000,2024-03-01,2024-12-31\n"
)


def delivered_events(ledger: Ledger, number: str) -> dict[str, Any]:
    return {
        event.activity: event
        for event in ledger.events.get(trajectory_id(number))
        if type(event).__name__ == "ActivityDelivered"
    }


def test_an_activity_is_priced_from_zpm_2024b_and_keeps_its_price(clerk: Clerk, ledger: Ledger, db: str) -> None:
    clerk.given(
        opened(on="2024-02-01"), delivered("A1", "2024-02-20", "CO0432"), delivered("A2", "2024-03-01", "OV0008")
    )
    first = delivered_events(ledger, "T1")
    assert (first["A1"].amount, first["A1"].tariff, first["A1"].description, first["A1"].unit) == (
        15970, "zpm-2024b", "Diagnostiek vanaf 45 min GZ-psycholoog setting 1", "consult",
    )  # fmt: skip
    assert (first["A2"].amount, first["A2"].tariff) == (7535, "zpm-2024b")

    # A table loaded later wins for activities recorded from then on, where it is in force.
    ledger.load_tariff_table(TariffTable.from_csv("praktijk-2024", PRAKTIJK_2024), PRAKTIJK_2024)
    clerk.given(delivered("A3", "2024-03-05", "CO0432"), delivered("A4", "2024-02-21", "CO0432"))
    priced = delivered_events(ledger, "T1")
    assert (priced["A3"].amount, priced["A3"].tariff) == (20000, "praktijk-2024")
    assert (priced["A4"].amount, priced["A4"].tariff) == (15970, "zpm-2024b")  # before the table's valid_from

    # The loaded table is part of the ledger: another process prices with it too.
    other = Ledger(db)
    try:
        Clerk(other).given(delivered("A5", "2024-04-01", "CO0432"))
        assert (delivered_events(other, "T1")["A5"].amount, delivered_events(other, "T1")["A5"].tariff) == (
            20000, "praktijk-2024",
        )  # fmt: skip
    finally:
        other.close()

    ledger.close_month("2024-03")
    february = issued(ledger, "T1", "2024-02")
    march = issued(ledger, "T1", "2024-03")
    assert [(entry["activity"], entry["amount"], entry["description"]) for entry in february["lines"]] == [
        ("A1", 15970, "Diagnostiek vanaf 45 min GZ-psycholoog setting 1"),  # recorded before the new table
        ("A4", 15970, "Diagnostiek vanaf 45 min GZ-psycholoog setting 1"),
    ]
    assert [(entry["activity"], entry["amount"]) for entry in march["lines"]] == [("A2", 7535), ("A3", 20000)]
    assert march["total"] == 7535 + 20000


def test_loading_the_same_tariff_table_again_changes_nothing(ledger: Ledger) -> None:
    table = TariffTable.from_csv("praktijk-2024", PRAKTIJK_2024)
    ledger.load_tariff_table(table, PRAKTIJK_2024)
    ledger.load_tariff_table(TariffTable.from_csv("praktijk-2024", PRAKTIJK_2024), PRAKTIJK_2024)
    shipped = ["demo-2017", "zpm-2024", "zpm-2024b", "zpm-2025"]
    assert [t.version for t in ledger.tariffs.tables] == [*shipped, "praktijk-2024"]

    other = PRAKTIJK_2024.replace("20000", "21000")
    with pytest.raises(TariffError, match="tariff table 'praktijk-2024' is loaded already, with other rows"):
        ledger.load_tariff_table(TariffTable.from_csv("praktijk-2024", other), other)
    assert ledger.tariffs.lookup("CO0432", date(2024, 3, 1)).amount == 20000


# --- Invariants over random histories ----------------------------------------------------------------


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_every_activity_is_billed_once_and_every_total_reconciles(clerk: Clerk, ledger: Ledger, seed: int) -> None:
    import random

    rng = random.Random(seed)
    months = ["2016-11", "2016-12", "2017-01", "2017-02", "2017-03"]
    numbers = ["T1", "T2", "T3"]
    clerk.given(*[record for number in numbers for record in care_need(number, "2016-11-01", rng.choice([1, 4, 7]))])
    amounts: dict[str, tuple[str, int]] = {}  # activity -> (trajectory, amount)
    live: set[str] = set()
    for step, month in enumerate(months):
        # Activities anywhere up to this month (some late), a few voids, then (mostly) a close.
        for n in range(rng.randint(2, 6)):
            number, activity = rng.choice(numbers), f"A{step}-{n}"
            on = f"{rng.choice(months[: step + 1])}-{rng.randint(1, 28):02d}"
            code = rng.choice(["CONSULT", "VERBLIJF"])
            clerk.given(delivered(activity, on, code, number))
            amounts[activity] = (number, CONSULT if code == "CONSULT" else VERBLIJF)
            live.add(activity)
        for activity in rng.sample(sorted(live), k=min(len(live), rng.randint(0, 2))):
            clerk.given(voided(activity, f"{month}-28", amounts[activity][0]))
            live.discard(activity)
        if month == months[-1] or rng.random() < 0.6:
            drafts = ledger.declarations(month)
            ledger.close_month(month)
            # What the draft showed is exactly what the close issued.
            issued_now = [{k: v for k, v in d.items() if k != "digest"} for d in ledger.declarations(month)]
            assert [{**d, "status": "issued"} for d in drafts] == issued_now

    debited: dict[str, str] = {}
    credited: dict[str, str] = {}
    for number in numbers:
        running, sequence = 0, 0
        for month in months:
            declaration = ledger.declaration(number, month)
            if declaration is None:
                continue
            sequence += 1
            assert (declaration["sequence"], declaration["previously_declared"]) == (sequence, running)
            assert declaration["total"] == sum(entry["amount"] for entry in declaration["lines"])
            running += declaration["total"]
            for entry in declaration["lines"]:
                assert amounts[entry["activity"]][0] == number
                if entry["kind"] == "debit":
                    assert entry["activity"] not in debited
                    assert entry["amount"] == amounts[entry["activity"]][1]
                    assert entry["late"] == (entry["date"][:7] < month)
                    assert entry["date"][:7] <= month
                    debited[entry["activity"]] = month
                else:
                    assert entry["activity"] not in credited and debited[entry["activity"]] < month
                    assert (entry["amount"], entry["late"]) == (-amounts[entry["activity"]][1], False)
                    credited[entry["activity"]] = month
        # After the last close, what was billed net is exactly what still stands.
        assert running == sum(amount for activity, (t, amount) in amounts.items() if t == number and activity in live)
    assert set(debited) - set(credited) == live
    assert set(credited) <= set(debited)
