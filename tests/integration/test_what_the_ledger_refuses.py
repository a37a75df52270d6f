"""What the ledger refuses (rules.md §3), as a user sees it through ingest: the ``line N: …`` message, nothing stored.

The refusals the Trajectory aggregate decides are also checked on the aggregate alone, given/when/then,
in tests/unit/test_trajectory.py; those that need reference data or the whole ledger (unknown trajectory,
ids, catalogue, tariffs, closes, malformed input) only here.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from builders import (
    HONOS,
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
from ggzledger import Ledger, MonthAlreadyClosed, NotAllowed

# The clock of every ledger in this module: "after today" and "after the current month" are judged by it.
TODAY = date(2025, 6, 15)


@pytest.fixture
def ledger(tmp_path: Path) -> Iterator[Ledger]:
    """A ledger on a fresh SQLite file whose clock says 15 June 2025."""
    instance = Ledger(str(tmp_path / "ledger.db"), today=lambda: TODAY)
    yield instance
    instance.close()


def refused(clerk: Clerk, record: dict[str, Any] | str) -> str:
    """Send one record that must be refused; returns the user's message, checking that nothing was stored."""
    head = clerk.ledger.projector.head()
    message = clerk.refusal(record)
    assert clerk.ledger.projector.head() == head
    return message


# --- §3.1 a trajectory that was never opened ----------------------------------------------------------


@pytest.mark.parametrize(
    "record",
    [
        assessed("2016-11-02", "T9"),
        clustered("2016-11-02", 4, "T9"),
        delivered("A1", "2016-11-02", number="T9"),
        voided("A1", "2016-11-02", number="T9"),
        reviewed("2016-11-02", 4, "T9"),
        referred_back("2016-11-02", number="T9"),
    ],
    ids=lambda record: record["type"],
)
def test_a_record_for_a_trajectory_that_was_never_opened_is_refused(clerk: Clerk, record: dict[str, Any]) -> None:
    clerk.given(*care_need("T1"))
    assert refused(clerk, record) == "line 1: trajectory T9 was never opened"


# --- §3.2 opening a trajectory again ------------------------------------------------------------------


def test_opening_a_trajectory_again_with_other_content_is_refused(clerk: Clerk) -> None:
    clerk.given(opened("T1"))
    assert (
        refused(clerk, opened("T1", region="Utrecht")) == "line 1: trajectory T1 is already opened, with other content"
    )


def test_opening_a_trajectory_again_with_the_same_content_changes_nothing(clerk: Clerk) -> None:
    clerk.given(opened("T1"))
    head = clerk.ledger.projector.head()
    assert clerk.send(opened("T1")) == (0, 1, 0)
    assert clerk.ledger.projector.head() == head


# --- §3.3 dates ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("record", "what"),
    [
        (assessed("2016-10-31"), "assessment"),
        (clustered("2016-10-31"), "clustering"),
        (delivered("A2", "2016-10-31"), "activity A2"),
        (voided("A1", "2016-10-31"), "void of activity A1"),
        (reviewed("2016-10-31"), "review"),
        (referred_back("2016-10-31"), "referral back"),
    ],
    ids=lambda value: value["type"] if isinstance(value, dict) else "",
)
def test_a_date_before_the_opening_is_refused(clerk: Clerk, record: dict[str, Any], what: str) -> None:
    clerk.given(*care_need(), delivered("A1", "2016-11-02"))
    assert refused(clerk, record) == (
        f"line 1: {what} on 2016-10-31 is dated before trajectory T1 was opened on 2016-11-01"
    )


@pytest.mark.parametrize(
    ("record", "what"),
    [
        (assessed("2016-12-02"), "assessment"),
        (clustered("2016-12-02"), "clustering"),
        (delivered("A1", "2016-12-02"), "activity A1"),
        (reviewed("2016-12-02"), "review"),
    ],
    ids=lambda value: value["type"] if isinstance(value, dict) else "",
)
def test_care_dated_after_the_referral_back_is_refused(clerk: Clerk, record: dict[str, Any], what: str) -> None:
    clerk.given(*care_need(), referred_back("2016-12-01"))
    assert refused(clerk, record) == (
        f"line 1: {what} on 2016-12-02 is dated after trajectory T1 was referred back on 2016-12-01"
    )


def test_care_dated_on_the_day_of_the_referral_back_is_accepted(clerk: Clerk) -> None:
    clerk.given(*care_need(), referred_back("2016-12-01"))
    assert clerk.send(
        assessed("2016-12-01"), clustered("2016-12-01", 3), delivered("A1", "2016-12-01"), reviewed("2016-12-01", 3)
    ) == (4, 0, 0)


def test_a_second_referral_back_is_refused(clerk: Clerk) -> None:
    clerk.given(*care_need(), referred_back("2016-12-01"))
    assert refused(clerk, referred_back("2016-12-05", to="none")) == (
        "line 1: trajectory T1 was referred back already on 2016-12-01"
    )


@pytest.mark.parametrize(
    "later",
    [assessed("2016-11-20"), clustered("2016-11-20", 3), reviewed("2016-11-20", 3), delivered("A1", "2016-11-20")],
    ids=lambda record: record["type"],
)
def test_a_referral_back_dated_before_recorded_care_is_refused(clerk: Clerk, later: dict[str, Any]) -> None:
    clerk.given(*care_need(), later)
    assert refused(clerk, referred_back("2016-11-10")) == (
        "line 1: referral back on 2016-11-10 is dated before an assessment, clustering, review or activity "
        "of trajectory T1 on 2016-11-20"
    )


def test_a_referral_back_dated_on_the_day_of_the_latest_care_is_accepted(clerk: Clerk) -> None:
    clerk.given(*care_need(), delivered("A1", "2016-11-20"))
    assert clerk.send(referred_back("2016-11-20")) == (1, 0, 0)


def test_a_referral_back_may_precede_an_activity_that_was_voided(clerk: Clerk) -> None:
    clerk.given(*care_need(), delivered("A1", "2016-11-20"), voided("A1", "2016-11-21"))
    assert clerk.send(referred_back("2016-11-10")) == (1, 0, 0)


def test_a_void_is_allowed_after_the_referral_back(clerk: Clerk) -> None:
    clerk.given(*care_need(), delivered("A1", "2016-11-20"), referred_back("2016-11-25"))
    assert clerk.send(voided("A1", "2016-12-05", reason="consult niet doorgegaan")) == (1, 0, 0)


# --- §3.4 assessments before clusterings and reviews ---------------------------------------------------


def test_a_clustering_without_an_assessment_is_refused(clerk: Clerk) -> None:
    clerk.given(opened())
    assert refused(clerk, clustered("2016-11-05")) == (
        "line 1: clustering on 2016-11-05: trajectory T1 has no assessment dated on or before it"
    )


def test_a_clustering_dated_before_the_first_assessment_is_refused(clerk: Clerk) -> None:
    clerk.given(opened(), assessed("2016-11-10"))
    assert refused(clerk, clustered("2016-11-05")) == (
        "line 1: clustering on 2016-11-05: trajectory T1 has no assessment dated on or before it"
    )


def test_a_clustering_on_the_day_of_the_assessment_is_accepted(clerk: Clerk) -> None:
    clerk.given(opened(), assessed("2016-11-10"))
    assert clerk.send(clustered("2016-11-10")) == (1, 0, 0)


def test_a_review_without_scores_and_without_an_assessment_is_refused(clerk: Clerk) -> None:
    clerk.given(opened())
    assert refused(clerk, reviewed("2016-11-05")) == (
        "line 1: review on 2016-11-05: trajectory T1 has no assessment dated on or before it"
    )


def test_a_review_when_no_cluster_is_in_force_is_refused(clerk: Clerk) -> None:
    clerk.given(opened(), assessed("2016-11-01"))
    assert refused(clerk, reviewed("2016-11-05", honos=HONOS)) == (
        "line 1: review on 2016-11-05: no cluster is in force on that date in trajectory T1"
    )


def test_a_review_dated_before_the_first_clustering_is_refused(clerk: Clerk) -> None:
    clerk.given(opened(), assessed("2016-11-01"), clustered("2016-11-10"))
    assert refused(clerk, reviewed("2016-11-05")) == (
        "line 1: review on 2016-11-05: no cluster is in force on that date in trajectory T1"
    )


def test_a_review_with_its_own_scores_is_accepted(clerk: Clerk) -> None:
    clerk.given(*care_need())
    assert clerk.send(reviewed("2017-01-10", 3, honos={**HONOS, "7": 2})) == (1, 0, 0)


# --- §3.5 the cluster catalogue -----------------------------------------------------------------------


@pytest.mark.parametrize("code", [9, 22, -1])
def test_a_cluster_outside_the_catalogue_is_refused(clerk: Clerk, code: int) -> None:
    clerk.given(opened(), assessed("2016-11-01"))
    assert refused(clerk, clustered("2016-11-02", code)) == (
        f"line 1: clustered on 2016-11-02: cluster {code} is not in the catalogue (0..8, 10..21)"
    )


@pytest.mark.parametrize("code", [9, 22])
def test_a_review_to_a_cluster_outside_the_catalogue_is_refused(clerk: Clerk, code: int) -> None:
    clerk.given(*care_need())
    assert refused(clerk, reviewed("2016-12-02", code)) == (
        f"line 1: reviewed on 2016-12-02: cluster {code} is not in the catalogue (0..8, 10..21)"
    )


@pytest.mark.parametrize("code", [0, 8, 10, 21])
def test_every_catalogue_code_is_accepted(clerk: Clerk, code: int) -> None:
    clerk.given(opened(), assessed("2016-11-01"))
    assert clerk.send(clustered("2016-11-02", code)) == (1, 0, 0)


# --- §3.6 HoNOS+ scores -------------------------------------------------------------------------------


@pytest.mark.parametrize("item", [str(n) for n in range(1, 13)])
def test_an_assessment_missing_a_required_item_is_refused(clerk: Clerk, item: str) -> None:
    clerk.given(opened())
    scores = {key: value for key, value in HONOS.items() if key != item}
    assert refused(clerk, assessed("2016-11-02", honos=scores)) == f"line 1: honos: required item '{item}' is missing"


@pytest.mark.parametrize("item", ["14", "0", "F", "a", ""])
def test_an_assessment_with_an_unknown_item_is_refused(clerk: Clerk, item: str) -> None:
    clerk.given(opened())
    assert refused(clerk, assessed("2016-11-02", honos={**HONOS, item: 0})) == (
        f"line 1: honos: unknown item '{item}' (items are 1..13 and A..E)"
    )


@pytest.mark.parametrize(
    ("score", "shown"), [(5, "5"), (-1, "-1"), (4.0, "4.0"), (True, "true"), ("3", '"3"'), (None, "null")]
)
def test_an_assessment_with_a_score_that_is_not_0_to_4_or_9_is_refused(clerk: Clerk, score: Any, shown: str) -> None:
    clerk.given(opened())
    assert refused(clerk, assessed("2016-11-02", honos={**HONOS, "3": score})) == (
        f"line 1: honos: item '3' has score {shown}; a score is an integer 0..4, or 9 for not known"
    )


def test_an_optional_item_with_a_bad_score_is_refused(clerk: Clerk) -> None:
    clerk.given(opened())
    assert refused(clerk, assessed("2016-11-02", honos={**HONOS, "B": 5})) == (
        "line 1: honos: item 'B' has score 5; a score is an integer 0..4, or 9 for not known"
    )


def test_nine_means_not_known_and_the_optional_items_are_accepted(clerk: Clerk) -> None:
    clerk.given(opened())
    scores = {**HONOS, "1": 9, "12": 4, "13": 9, "A": 0, "B": 1, "C": 2, "D": 3, "E": 4}
    assert clerk.send(assessed("2016-11-02", honos=scores)) == (1, 0, 0)


def test_a_review_with_bad_scores_is_refused(clerk: Clerk) -> None:
    clerk.given(*care_need())
    assert refused(clerk, reviewed("2016-12-02", honos={**HONOS, "12": 7})) == (
        "line 1: honos: item '12' has score 7; a score is an integer 0..4, or 9 for not known"
    )


# --- §3.7 tariffs and minutes -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "on"),
    [
        ("CO0432", "2023-12-31"),  # zpm-2024 starts on 1 January 2024
        ("CO0432", "2025-01-01"),  # and ends, inclusive, on 31 December 2024
        ("CONSULT", "2015-12-31"),  # demo-2017 starts on 1 January 2016
        ("NOPE", "2024-03-01"),
    ],
)
def test_an_activity_without_a_tariff_in_force_on_its_date_is_refused(clerk: Clerk, code: str, on: str) -> None:
    clerk.given(opened(on="2015-12-01"))
    assert refused(clerk, delivered("A1", on, code)) == (
        f"line 1: activity A1: no tariff for code '{code}' in force on {on}"
    )


def test_an_activity_on_the_first_and_last_day_of_a_tariff_is_accepted(clerk: Clerk) -> None:
    clerk.given(opened(on="2015-12-01"))
    assert clerk.send(
        delivered("A1", "2024-01-01", "CO0432"), delivered("A2", "2024-12-31", "CO0432"), delivered("A3", "2016-01-01")
    ) == (3, 0, 0)


@pytest.mark.parametrize("minutes", [0, -5])
def test_an_activity_with_non_positive_minutes_is_refused(clerk: Clerk, minutes: int) -> None:
    clerk.given(opened())
    assert refused(clerk, delivered("A1", "2016-11-02", minutes=minutes)) == (
        f"line 1: activity A1: minutes must be positive, got {minutes}"
    )


def test_an_activity_of_one_minute_is_accepted(clerk: Clerk) -> None:
    clerk.given(opened())
    assert clerk.send(delivered("A1", "2016-11-02", minutes=1)) == (1, 0, 0)


# --- §3.8 ids and repeats -----------------------------------------------------------------------------


def test_an_activity_id_reused_with_other_content_in_the_same_trajectory_is_refused(clerk: Clerk) -> None:
    clerk.given(opened(), delivered("A1", "2016-11-02"))
    assert refused(clerk, delivered("A1", "2016-11-03")) == "line 1: activity A1 is already recorded with other content"


def test_an_activity_id_reused_in_another_trajectory_is_refused(clerk: Clerk) -> None:
    clerk.given(opened("T1"), opened("T2"), delivered("A1", "2016-11-02", number="T1"))
    assert refused(clerk, delivered("A1", "2016-11-02", number="T2")) == (
        "line 1: activity A1 is already recorded (in trajectory T1) with other content"
    )


def test_an_activity_id_reused_later_in_the_same_input_is_refused(clerk: Clerk) -> None:
    clerk.given(opened())
    assert clerk.send(delivered("A1", "2016-11-02"), delivered("A1", "2016-11-03", code="VERBLIJF")) == (1, 0, 1)
    assert clerk.messages == ["line 2: activity A1 is already recorded with other content"]


def test_a_record_id_reused_with_other_content_is_refused(clerk: Clerk) -> None:
    clerk.given(opened(), assessed("2016-11-02", id="R1"))
    assert refused(clerk, clustered("2016-11-02", id="R1")) == "line 1: record id R1 was used before with other content"


def test_a_record_id_sent_again_with_the_same_content_changes_nothing(clerk: Clerk) -> None:
    clerk.given(opened(id="R0"), assessed("2016-11-02", id="R1"))
    assert clerk.send(opened(id="R0"), assessed("2016-11-02", id="R1")) == (0, 2, 0)


def test_an_identical_record_without_an_id_changes_nothing(clerk: Clerk) -> None:
    clerk.given(*care_need(), delivered("A1", "2016-11-02"))
    head = clerk.ledger.projector.head()
    assert clerk.send(assessed("2016-11-01"), clustered("2016-11-01"), delivered("A1", "2016-11-02")) == (0, 3, 0)
    assert clerk.ledger.projector.head() == head


def test_an_identical_record_under_a_new_id_is_a_repeat(clerk: Clerk) -> None:
    # A choice (docs/rules.md): the content identifies the record; the id only guards against reuse.
    clerk.given(opened(), assessed("2016-11-02", id="R1"))
    assert clerk.send(assessed("2016-11-02", id="R2"), assessed("2016-11-02")) == (0, 2, 0)


def test_a_repeat_is_recognised_before_any_other_rule(clerk: Clerk) -> None:
    history = [*care_need(), delivered("A1", "2016-11-02"), voided("A1", "2016-11-03"), referred_back("2016-11-04")]
    clerk.given(*history)
    # Judged afresh, the opening, the activity and the void would now be refused; as repeats they are not.
    assert clerk.send(*history) == (0, len(history), 0)


def test_a_month_closed_record_for_a_closed_month_changes_nothing(clerk: Clerk) -> None:
    clerk.given(*care_need(), delivered("A1", "2016-11-02"), month_closed("2016-12", id="C1"))
    assert clerk.send(month_closed("2016-12", id="C1"), month_closed("2016-12"), month_closed("2016-11")) == (0, 3, 0)
    assert clerk.ledger.is_closed("2016-12")


def test_a_month_closed_record_reusing_a_record_id_is_refused(clerk: Clerk) -> None:
    clerk.given(opened(id="R1"))
    assert refused(clerk, month_closed("2016-12", id="R1")) == "line 1: record id R1 was used before with other content"
    assert not clerk.ledger.is_closed("2016-12")


# --- §3.9 voids ---------------------------------------------------------------------------------------


def test_a_void_of_an_unknown_activity_is_refused(clerk: Clerk) -> None:
    clerk.given(opened())
    assert refused(clerk, voided("A9", "2016-11-02")) == "line 1: void: activity A9 is not in trajectory T1"


def test_a_void_of_another_trajectorys_activity_is_refused(clerk: Clerk) -> None:
    clerk.given(opened("T1"), opened("T2"), delivered("A1", "2016-11-02", number="T1"))
    assert (
        refused(clerk, voided("A1", "2016-11-03", number="T2")) == "line 1: void: activity A1 is not in trajectory T2"
    )


def test_a_second_void_of_an_activity_is_refused(clerk: Clerk) -> None:
    clerk.given(opened(), delivered("A1", "2016-11-02"), voided("A1", "2016-11-03"))
    assert refused(clerk, voided("A1", "2016-11-04", reason="dubbel")) == (
        "line 1: void: activity A1 in trajectory T1 was voided already"
    )


# --- §3.10 the close command --------------------------------------------------------------------------


def test_closing_a_month_that_is_closed_already_is_refused(ledger: Ledger) -> None:
    ledger.close_month("2016-12")  # the ledger's first close: it holds nothing from before December
    with pytest.raises(MonthAlreadyClosed) as caught:
        ledger.close_month("2016-12")
    assert str(caught.value) == "month 2016-12 is closed already"
    # A month before the first close counts as closed too, and the refusal says why (as audit does).
    with pytest.raises(MonthAlreadyClosed) as caught:
        ledger.close_month("2016-11")
    assert str(caught.value) == (
        "month 2016-11 lies before the ledger's first close (2016-12): it was never closed, and cannot be now"
    )


def test_closing_a_month_after_the_current_month_is_refused(ledger: Ledger) -> None:
    with pytest.raises(NotAllowed) as caught:
        ledger.close_month("2025-07")
    assert str(caught.value) == "month 2025-07 lies after the current month 2025-06; it cannot be closed yet"
    assert not ledger.is_closed("2025-07")


def test_the_current_month_can_be_closed(ledger: Ledger) -> None:
    assert [result.month for result in ledger.close_month("2025-06")] == ["2025-06"]


def test_a_month_closed_record_for_a_month_after_the_current_month_is_refused(clerk: Clerk) -> None:
    assert refused(clerk, month_closed("2025-07")) == (
        "line 1: month 2025-07 lies after the current month 2025-06; it cannot be closed yet"
    )


# --- §3.11 malformed input ----------------------------------------------------------------------------

LONG = "X" * 65
TYPES = (
    "trajectory_opened, assessed, clustered, activity_delivered, activity_voided, reviewed, referred_back, month_closed"
    ", regiebehandelaar_assigned, privacy_statement, privacy_withdrawn, admitted, discharged, registered"
    ", contract_agreed"
)

MALFORMED = [
    ("not JSON", "nope", "not JSON ("),
    ("cut-off JSON", '{"type": "assessed", "trajectory": "T1"', "not JSON ("),
    ("not an object", "[1, 2]", "not a JSON object: [1,2]"),
    ("a string", '"assessed"', 'not a JSON object: "assessed"'),
    ("unknown type", {"type": "transferred", "trajectory": "T1"}, f'unknown type "transferred" (types: {TYPES})'),
    ("type not a string", {"type": ["assessed"]}, f'unknown type ["assessed"] (types: {TYPES})'),
    ("no type", {"trajectory": "T1"}, "missing field 'type'"),
    ("missing field", {k: v for k, v in opened().items() if k != "patient"}, "trajectory_opened: missing field 'patient'"),
    ("missing date", {k: v for k, v in delivered("A1", "2016-11-02").items() if k != "date"},
     "activity_delivered: missing field 'date'"),
    ("number as text", opened(patient=7), "field 'patient' must be a non-empty string, got 7"),
    ("empty text", delivered("A1", "2016-11-02", professional=""), "field 'professional' must be a non-empty string, got \"\""),
    ("null text", voided("A1", "2016-11-02", reason=None), "field 'reason' must be a non-empty string, got null"),
    ("text as cluster", clustered("2016-11-02", "4"), "field 'cluster' must be a JSON integer, got \"4\""),
    ("honos not an object", assessed("2016-11-02", honos=[0] * 12),
     "field 'honos' must be an object of HoNOS+ item -> score, got [0,0,0,0,0,0,0,0,0,0,0,0]"),
    ("newline in text", opened(referrer="huis\narts"), "field 'referrer' contains a control character"),
    ("tab in an identifier", opened(patient="P\t1"), "field 'patient' contains a control character"),
    ("C1 control in text", delivered("A1", "2016-11-02", professional="psy\u0085chiater"),
     "field 'professional' contains a control character"),
    ("65-character trajectory", opened(LONG), "field 'trajectory' is 65 characters long; identifiers are at most 64"),
    ("65-character activity", delivered(LONG, "2016-11-02"),
     "field 'activity' is 65 characters long; identifiers are at most 64"),
    ("65-character record id", assessed("2016-11-02", id=LONG), "field 'id' is 65 characters long; identifiers are at most 64"),
    ("4.0 as minutes", delivered("A1", "2016-11-02", minutes=4.0), "field 'minutes' must be a JSON integer, got 4.0"),
    ("true as minutes", delivered("A1", "2016-11-02", minutes=True), "field 'minutes' must be a JSON integer, got true"),
    ("4.0 as cluster", clustered("2016-11-02", 4.0), "field 'cluster' must be a JSON integer, got 4.0"),
    ("true as setting", delivered("A1", "2016-11-02", setting=True), "field 'setting' must be a JSON integer, got true"),
    ("30 February", assessed("2017-02-30"), "field 'date' is not a real date: 2017-02-30"),
    ("no leading zeros", assessed("2017-2-3"), "field 'date' must be a date YYYY-MM-DD, got \"2017-2-3\""),
    ("a date with a time", assessed("2017-02-03T10:00"), "field 'date' must be a date YYYY-MM-DD, got \"2017-02-03T10:00\""),
    ("a date after today", assessed("2025-06-16"), "field 'date' is 2025-06-16, after today (2025-06-15)"),
    ("month 13", month_closed("2016-13"), "field 'month' must be a month YYYY-MM, got \"2016-13\""),
    ("unknown field", clustered("2016-11-02", region="Utrecht"), "clustered: unknown field 'region'"),
    ("misspelt field", delivered("A1", "2016-11-02", minuten=45), "activity_delivered: unknown field 'minuten'"),
    ("care form outside its list", delivered("A1", "2016-11-02", care_form="inpatient"),
     "field 'care_form' must be one of acute, outreach, secure, clinical, highly_specialised_hospital, "
     "highly_specialised_institution; got \"inpatient\""),
    ("to outside its list", referred_back("2016-11-02", to="gp"),
     "field 'to' must be one of huisarts, other_provider, none; got \"gp\""),
    ("setting 9", delivered("A1", "2016-11-02", setting=9), "field 'setting' must be an integer 1..8, got 9"),
    ("setting 0", delivered("A1", "2016-11-02", setting=0), "field 'setting' must be an integer 1..8, got 0"),
    ("provider of 7 digits", opened(provider="1234567"), "field 'provider' must be a string of 8 digits, got \"1234567\""),
    ("provider as a number", opened(provider=12345678), "field 'provider' must be a string of 8 digits, got 12345678"),
    ("provider with a letter", opened(provider="1234567A"),
     "field 'provider' must be a string of 8 digits, got \"1234567A\""),
    ("insurer of 5 digits", opened(insurer="33110"), "field 'insurer' must be a string of 4 digits, got \"33110\""),
    ("insurer in other digits", opened(insurer="\u0663\u0663\u0661\u0661"),
     "field 'insurer' must be a string of 4 digits, got \"\u0663\u0663\u0661\u0661\""),
]  # fmt: skip


@pytest.mark.parametrize(("record", "message"), [case[1:] for case in MALFORMED], ids=[case[0] for case in MALFORMED])
def test_malformed_input_is_refused_with_what_is_wrong(clerk: Clerk, record: Any, message: str) -> None:
    clerk.given(*care_need(), delivered("A0", "2016-11-02"))
    got = refused(clerk, record)
    assert got.startswith(f"line 1: {message}") if message.endswith("(") else got == f"line 1: {message}"


def test_the_limits_themselves_are_accepted(clerk: Clerk) -> None:
    longest = "X" * 64
    clerk.given(opened(longest, patient=longest, id="I" * 64))
    assert clerk.send(
        delivered(longest, "2025-06-15", number=longest, setting=1, minutes=45, care_form="acute"),
        delivered("A2", "2016-11-02", number=longest, setting=8, care_form="highly_specialised_institution"),
        referred_back("2025-06-15", to="other_provider", number=longest),
    ) == (3, 0, 0)


# --- A refused record stores nothing; the rest of the input is judged on its own ----------------------


def test_a_refused_record_stores_nothing_and_the_others_are_still_recorded(clerk: Clerk, ledger: Ledger) -> None:
    head = ledger.projector.head()
    counts = clerk.send(
        opened(),
        delivered("A1", "2016-10-01", id="R-bad"),  # before the opening
        "{broken",
        assessed("2016-11-01", id="R-ok"),
        clustered("2016-11-01", 9),
        clustered("2016-11-01", 4),
    )
    assert counts == (3, 0, 3)
    assert clerk.messages == [
        "line 2: activity A1 on 2016-10-01 is dated before trajectory T1 was opened on 2016-11-01",
        clerk.messages[1],
        "line 5: clustered on 2016-11-01: cluster 9 is not in the catalogue (0..8, 10..21)",
    ]
    assert clerk.messages[1].startswith("line 3: not JSON (")
    assert ledger.projector.head() == head + 3
    # Neither the refused record's id nor its activity id was claimed: both are free for a correct record.
    keys = ledger.recorder.select_keys(["record:R-bad", "activity:A1", "record:R-ok"])  # type: ignore[attr-defined]
    assert set(keys) == {"record:R-ok"}
    assert clerk.send(delivered("A1", "2016-11-02", id="R-bad")) == (1, 0, 0)
