"""The public feed: real output against the shipped schemas, resuming after a position, old shapes served new."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import jsonschema
import orjson
import pytest

from builders import meneer_henk
from ggzledger import Ledger
from ggzledger.domain import AGGREGATES, BillingCalendar, ClaimBook, ContractBook
from ggzledger.feed.public import TOPICS, TYPES, Feed, schema
from ggzledger.service.records import parse_line
from ggzledger.service.sealing import make_plain

# A second trajectory with every optional field, a review with scores and a void, after Henk's closes.
MORE = [
    {
        "type": "trajectory_opened",
        "trajectory": "T-MORE",
        "patient": "P-2",
        "provider": "87654321",
        "insurer": "0101",
        "date": "2017-01-02",
        "region": "Zwolle",
        "referrer": "huisarts Jansen",
        "id": "m-1",
    },
    {
        "type": "assessed",
        "trajectory": "T-MORE",
        "date": "2017-01-02",
        "assessor": "psychiater",
        "honos": {**{str(i): 2 for i in range(1, 13)}, "A": 9, "13": 1},
    },
    {"type": "clustered", "trajectory": "T-MORE", "date": "2017-01-03", "cluster": 11},
    {
        "type": "activity_delivered",
        "trajectory": "T-MORE",
        "activity": "M-1",
        "date": "2017-01-04",
        "code": "CONSULT",
        "minutes": 50,
        "professional": "GZ-psycholoog",
        "setting": 3,
        "care_form": "outreach",
        "id": "m-4",
    },
    {"type": "activity_voided", "trajectory": "T-MORE", "activity": "M-1", "date": "2017-01-05", "reason": "duplicate"},
    {
        "type": "reviewed",
        "trajectory": "T-MORE",
        "date": "2017-01-06",
        "cluster": 12,
        "honos": {str(i): 3 for i in range(1, 13)},
    },
    {"type": "referred_back", "trajectory": "T-MORE", "date": "2017-01-07", "to": "other_provider", "reason": "moved"},
]


# The types the zorgprestatiemodel added (zpm.md Z9); test_zpm_feed.py has their lines.
ZPM_TYPES = {
    "regiebehandelaar_assigned",
    "privacy_statement",
    "privacy_withdrawn",
    "admitted",
    "discharged",
    "contract_agreed",
}


V1_ACTIVITY_FIELDS = {
    "id", "activity", "date", "code", "minutes", "professional", "setting", "care_form", "description", "unit", "amount",
    "tariff",
}  # fmt: skip


def henk_feed(ledger: Ledger) -> list[dict[str, Any]]:
    meneer_henk(ledger, *MORE)
    return list(Feed(ledger.recorder, ledger.mapper).lines())


def validate(line: dict[str, Any]) -> None:
    jsonschema.Draft202012Validator(schema(line["type"]), format_checker=jsonschema.FormatChecker()).validate(line)


def test_every_line_of_the_henk_feed_is_valid_against_its_shipped_schema(ledger: Ledger) -> None:
    lines = henk_feed(ledger)

    # Every type of the first release; the zorgprestatiemodel's have their own case (test_zpm_feed.py),
    # and so have personal_data_erased (test_erasure.py), claim_exported (test_export_gds801.py) and
    # registered (test_registrations.py).
    excluded = {"personal_data_erased", "claim_exported", "registered"}
    assert {line["type"] for line in lines} == set(TYPES) - ZPM_TYPES - excluded
    for line in lines:
        validate(line)
        # And the schema names every field the feed writes: the contract and the code agree.
        assert set(line["data"]) == set(schema(line["type"])["properties"]["data"]["properties"])
        assert set(line) == set(schema(line["type"])["properties"])
        assert orjson.loads(orjson.dumps(line)) == line


def test_the_feed_is_every_public_event_in_position_order_and_no_internal_one(ledger: Ledger) -> None:
    lines = henk_feed(ledger)

    stored = ledger.recorder.select_notifications(start=0, limit=10_000, inclusive_of_start=False)
    public = [n.id for n in stored if n.topic != BillingCalendar.Started.TOPIC]
    assert [line["position"] for line in lines] == public
    assert len(public) == len(stored) - 1
    closes = [line for line in lines if line["type"] == "month_closed"]
    assert [c["data"]["month"] for c in closes] == ["2016-11", "2016-12", "2017-01", "2017-02"]
    assert all("trajectory" not in c for c in closes)
    trajectories = [line["trajectory"] for line in lines if line["type"] != "month_closed"]
    assert set(trajectories) == {"T-HENK", "T-MORE"}
    assert trajectories[-len(MORE) :] == ["T-MORE"] * len(MORE)


def test_an_activity_line_carries_the_input_fields_and_the_priced_facts(ledger: Ledger) -> None:
    lines = henk_feed(ledger)

    line = next(line for line in lines if line["type"] == "activity_delivered" and line["trajectory"] == "T-MORE")
    sent = MORE[3]
    zpm = {key: line["data"].pop(key) for key in list(line["data"]) if key not in V1_ACTIVITY_FIELDS}
    assert set(zpm.values()) == {None}  # recorded without a prestatie: every ZPM field null
    assert line["data"] == {
        "id": sent["id"],
        "activity": sent["activity"],
        "date": sent["date"],
        "code": sent["code"],
        "minutes": sent["minutes"],
        "professional": sent["professional"],
        "setting": sent["setting"],
        "care_form": sent["care_form"],
        # Priced when recorded, from the tariff in force on its date (rules.md §4).
        "description": "Consult",
        "unit": "consult",
        "amount": 10000,
        "tariff": "demo-2017",
    }


def test_resuming_after_any_position_gives_every_later_event_exactly_once(ledger: Ledger) -> None:
    lines = henk_feed(ledger)
    feed = Feed(ledger.recorder, ledger.mapper)

    for index, line in enumerate(lines):
        assert feed.page(after=line["position"], limit=10_000) == lines[index + 1 :]
    # Paging with a small limit, each page after the last position of the one before, gives the whole feed.
    paged, after = [], 0
    while page := feed.page(after=after, limit=7):
        paged += page
        after = page[-1]["position"]
    assert paged == lines


def test_every_stored_event_class_is_published_or_declared_internal() -> None:
    internal = {BillingCalendar.Started.TOPIC, ContractBook.Started.TOPIC, ClaimBook.Started.TOPIC}
    stored = {
        cls.TOPIC
        for owner in AGGREGATES
        for name, cls in vars(owner).items()
        if isinstance(cls, type)
        and hasattr(cls, "TOPIC")
        and cls.TOPIC not in (owner.TOPIC, owner.Event.TOPIC)
        # The library's default Created class is never triggered (Opened and Started are).
        and name != "Created"
    }
    assert stored == set(TOPICS) | internal


def test_an_assessment_stored_in_its_version_1_shape_is_served_in_the_current_shape(ledger: Ledger) -> None:
    make_plain(ledger)  # version 1 shapes were stored by ledgers before sealing
    opened = (
        b'{"type": "trajectory_opened", "trajectory": "T-OLD", "patient": "P", "provider": "12345678",'
        b' "insurer": "3311", "date": "2016-11-01"}'
    )
    ledger.record([parse_line(opened, ledger.today())])
    trajectory = ledger.load("T-OLD")
    scores = (("1", 2), ("2", 9), *((str(i), 1) for i in range(3, 13)))
    trajectory.assess(on=trajectory.opened_on, scores=scores, assessor=None, record_id=None, fingerprint="old")
    (event,) = trajectory.collect_events()
    stored = ledger.mapper.to_stored_event(event)
    # What a release before Assessed version 2 stored: no class_version, no total (and no route, version 3's).
    state = orjson.loads(stored.state)
    assert state.pop("class_version") == 3
    del state["total"], state["route"]
    old = type(stored)(stored.originator_id, stored.originator_version, stored.topic, orjson.dumps(state))
    ledger.recorder.insert_events([old])

    (line,) = [line for line in Feed(ledger.recorder, ledger.mapper).lines() if line["type"] == "assessed"]

    validate(line)
    assert line["data"]["total"] == 2 + 10  # item 2 is 9 (not known) and does not count
    assert line["data"]["honos"] == dict(scores)
    assert ledger.load("T-OLD").version == 2


@pytest.mark.parametrize("kind", TYPES)
def test_each_schema_is_a_valid_draft_2020_12_schema_for_its_own_type(kind: str) -> None:
    document = schema(kind)
    jsonschema.Draft202012Validator.check_schema(document)
    assert document["properties"]["type"] == {"const": kind}
    assert document["properties"]["version"] == {"const": 1}


def test_the_example_lines_in_docs_feed_md_are_valid_lines() -> None:
    page = (Path(__file__).parents[2] / "docs" / "feed.md").read_text()
    examples = [orjson.loads(block) for block in re.findall(r"```json\n(.*?)```", page, re.DOTALL)]
    lines = [example for example in examples if "type" in example]
    lines += [line for example in examples if "events" in example for line in example["events"]]

    assert {line["type"] for line in lines} >= {"activity_delivered", "month_closed"}
    for line in lines:
        validate(line)
