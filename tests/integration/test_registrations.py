"""The registered record: what is recorded, what is refused (one line each), its feed line, and old regions."""

from __future__ import annotations

from datetime import date
from typing import Any

import jsonschema
import pytest

from builders import Clerk, meneer_henk, opened
from ggzledger import Ledger
from ggzledger.analyses.waiting import waiting
from ggzledger.feed.public import Feed, schema


def registered(on: str = "2024-01-05", number: str = "T1", region: str = "ZK11", **extra: Any) -> dict[str, Any]:
    return {"type": "registered", "trajectory": number, "date": on, "region": region, **extra}


OPENING = opened("T1", "2024-02-01", region="Utrecht")


@pytest.mark.parametrize(
    ("record", "message"),
    [
        (registered(region="ZK32"), "line 1: field 'region' must be one of the 31 codes of docs/input.md's region list"),
        (registered(region="Utrecht"), "line 1: field 'region' must be a region code: \"Utrecht\" is the name of region ZK11"),
        (registered(region=11), "line 1: field 'region' must be one of the 31 codes"),
        (registered(on="2024-02-02"), "line 1: registration on 2024-02-02 is dated after trajectory T1 was opened on"
         " 2024-02-01; a registration precedes the opening"),
        (registered(patient="P-OTHER"), "line 1: registration on 2024-01-05: field 'patient' is not the patient"
         " trajectory T1 was opened for"),
        (registered(provider="87654321"), "line 1: registration on 2024-01-05: provider 87654321 is not trajectory T1's"
         " provider 12345678"),
        (registered(care_form="ambulant"), "line 1: field 'care_form' must be one of acute, outreach"),
        (registered(number="T9"), "line 1: trajectory T9 was never opened"),
        ({"type": "registered", "trajectory": "T1", "date": "2024-01-05"}, "line 1: "),
    ],
    ids=["unknown code", "a name", "not text", "after the opening", "another patient", "another provider",
         "no cruciale form", "never opened", "no region"],
)  # fmt: skip
def test_a_bad_registration_is_refused_in_one_line(clerk: Clerk, record: dict[str, Any], message: str) -> None:
    clerk.given(OPENING)

    refusal = clerk.refusal(record)

    assert refusal.startswith(message)
    assert "\n" not in refusal


def test_a_second_registration_is_refused_and_the_same_one_again_is_a_repeat(clerk: Clerk) -> None:
    clerk.given(OPENING, registered(patient="P-T1", provider="12345678", care_form="outreach"))

    assert clerk.send(registered(patient="P-T1", provider="12345678", care_form="outreach")) == (0, 1, 0)
    assert clerk.refusal(registered(on="2024-01-06")) == (
        "line 1: registration on 2024-01-06: trajectory T1 was registered already, on 2024-01-05"
    )


def test_a_registration_on_the_opening_day_after_the_first_assessment_record_is_taken(clerk: Clerk) -> None:
    # The assessment is never dated before the opening: a registration on or before the opening precedes it.
    clerk.given(
        OPENING,
        {"type": "assessed", "trajectory": "T1", "date": "2024-02-01", "honos": {str(n): 0 for n in range(1, 13)}},
        registered(on="2024-02-01"),
    )


def test_the_feed_line_of_a_registration_is_valid_against_its_schema(clerk: Clerk, ledger: Ledger) -> None:
    clerk.given(OPENING, registered(care_form="acute", id="R-1"))

    [line] = [line for line in Feed(ledger.recorder, ledger.mapper).lines() if line["type"] == "registered"]

    assert line["data"] == {"id": "R-1", "date": "2024-01-05", "region": "ZK11", "care_form": "acute"}
    jsonschema.Draft202012Validator(schema("registered"), format_checker=jsonschema.FormatChecker()).validate(line)


def test_old_free_text_regions_still_read_and_name_a_region_only_by_its_exact_name(ledger: Ledger) -> None:
    # Meneer Henk's file was written before regions were coded: its "Utrecht" is region ZK11.
    meneer_henk(ledger)
    clerk = Clerk(ledger)
    clerk.given(
        opened("T-OLD1", "2017-01-02", region=" utrecht "), opened("T-OLD2", "2017-01-02", region="Utrecht-Oost")
    )

    regions = {w.trajectory: w.region for w in waiting(ledger, date(2017, 3, 1))}

    assert regions == {"T-HENK": "ZK11", "T-OLD1": "ZK11", "T-OLD2": "uncoded"}


def test_the_registration_region_takes_precedence_over_the_opening_text(clerk: Clerk, ledger: Ledger) -> None:
    clerk.given(OPENING, registered(region="ZK12"))

    [wait] = waiting(ledger, date(2024, 3, 1))

    assert (wait.region, wait.registered_on) == ("ZK12", date(2024, 1, 5))
