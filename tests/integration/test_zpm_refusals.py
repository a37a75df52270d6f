"""What the ledger refuses of the zorgprestatiemodel's records (zpm.md Z4.8 a-c, Z5.3, Z7), said as a clerk sees it.

Each refusal is sent through ``ingest`` into a real ledger, and its message is the one the spec
writes after ``line N: ``. Also: a contract prices the activities recorded after it, a privacy
statement is signed and withdrawn, and a ledger written before the zorgprestatiemodel still loads.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import orjson
import pytest

from builders import HONOS, Clerk, Record
from ggzledger import Ledger
from ggzledger.domain import ContractBook, Trajectory, trajectory_id
from ggzledger.domain.errors import Conflict
from ggzledger.service.outcomes import Outcome
from ggzledger.service.records import parse_object
from ggzledger.service.sealing import make_plain
from ggzledger.store import TypedMapper

PROVIDER, INSURER = "12345678", "3311"


def opened(number: str = "T1", on: str = "2024-10-01", **extra: Any) -> Record:
    return {
        "type": "trajectory_opened", "trajectory": number, "patient": f"P-{number}", "provider": PROVIDER,
        "insurer": INSURER, "date": on, **extra,
    }  # fmt: skip


def consult(activity: str = "A1", on: str = "2024-10-01", number: str = "T1", **extra: Any) -> Record:
    """The consult A-01 of zpm.md Z12: diagnostiek, GZ-psycholoog, setting 1, 60 minutes (CO0562)."""
    return {
        "type": "activity_delivered", "trajectory": number, "activity": activity, "date": on,
        "prestatie": "consult", "consult_type": "diagnostiek", "beroep": "gz_psycholoog",
        "practitioner": "11111111", "setting": 1, "minutes": 60, "start": "10:00", **extra,
    }  # fmt: skip


def dated(kind: str, on: str, number: str = "T1", **extra: Any) -> Record:
    return {"type": kind, "trajectory": number, "date": on, **extra}


def contract(name: str = "K-3311-2024", **extra: Any) -> Record:
    """The 90% contract of zpm.md Z12."""
    record = {
        "type": "contract_agreed", "contract": name, "provider": PROVIDER, "insurer": INSURER,
        "valid_from": "2024-01-01", "valid_to": "2024-12-31", "percentage_bp": 9000,
    }  # fmt: skip
    return {**record, **extra}


def without(record: Record, *names: str) -> Record:
    return {k: v for k, v in record.items() if k not in names}


@pytest.fixture
def ledger(tmp_path: Any) -> Any:
    """A ledger in a real SQLite file."""
    instance = Ledger(str(tmp_path / "ledger.db"), today=lambda: date(2025, 6, 30))
    yield instance
    instance.close()


@pytest.fixture
def clerk(ledger: Ledger) -> Clerk:
    return Clerk(ledger)


# --- Z4.8 a-c: refused as the record is read --------------------------------------------------------------


def test_3_12a_a_zpm_record_dated_before_2022_is_refused(clerk: Clerk) -> None:
    clerk.given(opened(on="2021-12-01"))

    assert clerk.refusal(consult(on="2021-12-30")) == (
        "line 1: activity A1: the zorgprestatiemodel applies from 2022-01-01, not on 2021-12-30"
    )


def test_3_12b_a_required_field_missing_and_a_refused_field_given(clerk: Clerk) -> None:
    clerk.given(opened())

    assert (
        clerk.refusal(without(consult(), "consult_type"))
        == "line 1: activity A1: prestatie consult requires 'consult_type'"
    )
    assert clerk.refusal(consult(group_size=4)) == "line 1: activity A1: prestatie consult does not take 'group_size'"
    assert clerk.refusal(without(consult(), "minutes")) == "line 1: activity A1: prestatie consult requires 'minutes'"


def test_3_12c_a_beroep_outside_its_list(clerk: Clerk) -> None:
    clerk.given(opened())

    message = clerk.refusal(consult(beroep="psycholoog"))

    assert message == (
        "line 1: field 'beroep' must be one of the 35 codes of docs/input.md's beroepen table"
        ' (closest: wo_psycholoog, gz_psycholoog, klinisch_psycholoog); got "psycholoog"'
    )


# --- Z7: 3.13-3.19 --------------------------------------------------------------------------------------


def test_3_13_cluster_0_and_a_hoofdgroep_that_does_not_match(clerk: Clerk) -> None:
    clerk.given(opened(), dated("assessed", "2024-10-08", honos=HONOS))

    assert clerk.refusal(dated("clustered", "2024-10-08", cluster=0)) == (
        "line 1: clustered on 2024-10-08: cluster 0 is not a zorgvraagtype; from 2022-01-01 the typing is one of "
        "1..8, 10..21"
    )
    assert clerk.refusal(dated("clustered", "2024-10-08", cluster=3, hoofdgroep="Y")) == (
        "line 1: clustered on 2024-10-08: hoofdgroep Y does not match zorgvraagtype 3 (X is 1..8, Y 10..17, Z 18..21)"
    )
    clerk.given(dated("clustered", "2024-10-08", cluster=3, hoofdgroep="X"))
    assert clerk.refusal(dated("reviewed", "2024-11-08", cluster=11, hoofdgroep="X")) == (
        "line 1: reviewed on 2024-11-08: hoofdgroep X does not match zorgvraagtype 11 (X is 1..8, Y 10..17, Z 18..21)"
    )


def test_3_14_item_q_from_2022_and_the_dynamic_route(clerk: Clerk, ledger: Ledger) -> None:
    clerk.given(opened(), dated("assessed", "2024-10-08", honos={"7": 3, "Q": 2}, route="dynamic"))

    assert clerk.refusal(dated("assessed", "2024-10-09", honos={}, route="dynamic")) == (
        "line 1: honos: the dynamic route needs at least one item"
    )
    assert (
        clerk.refusal(dated("assessed", "2024-10-09", honos={"7": 3})) == "line 1: honos: required item '1' is missing"
    )
    (assessed,) = [e for e in ledger.events.get(trajectory_id("T1")) if isinstance(e, Trajectory.Assessed)]
    assert (assessed.scores, assessed.route, assessed.total) == ((("7", 3), ("Q", 2)), "dynamic", 3)


def test_3_15_a_regiebehandelaar_must_have_a_beroep_that_may_be_one(clerk: Clerk) -> None:
    clerk.given(opened())
    regie = dated("regiebehandelaar_assigned", "2024-10-01", practitioner="11111111", beroep="neuroloog")

    assert clerk.refusal(regie) == "line 1: regiebehandelaar: beroep neuroloog cannot be regiebehandelaar"
    clerk.given({**regie, "beroep": "psychiater"})


def test_3_15_3_16_3_17_the_dates_follow_3_3(clerk: Clerk) -> None:
    clerk.given(opened(), dated("referred_back", "2024-12-01", to="huisarts"))
    regie = dated("regiebehandelaar_assigned", "2024-09-30", practitioner="11111111", beroep="gz_psycholoog")

    assert clerk.refusal(regie) == (
        "line 1: regiebehandelaar on 2024-09-30 is dated before trajectory T1 was opened on 2024-10-01"
    )
    assert clerk.refusal(dated("privacy_statement", "2024-12-02")) == (
        "line 1: privacy statement on 2024-12-02 is dated after trajectory T1 was referred back on 2024-12-01"
    )
    assert clerk.refusal(dated("admitted", "2024-09-01")) == (
        "line 1: admission on 2024-09-01 is dated before trajectory T1 was opened on 2024-10-01"
    )


def test_3_16_a_privacy_statement_signed_and_withdrawn(clerk: Clerk, ledger: Ledger) -> None:
    clerk.given(opened())

    assert clerk.refusal(dated("privacy_withdrawn", "2024-10-02")) == (
        "line 1: privacy withdrawal on 2024-10-02: trajectory T1 has no privacy statement to withdraw"
    )
    clerk.given(dated("privacy_statement", "2024-11-05"))
    assert ledger.load("T1").privacy == (date(2024, 11, 5), True)
    assert clerk.refusal(dated("privacy_statement", "2024-11-06")) == (
        "line 1: privacy statement on 2024-11-06: trajectory T1 has a privacy statement (of 2024-11-05) as its "
        "latest privacy event already"
    )
    clerk.given(dated("privacy_withdrawn", "2024-11-20"))
    assert ledger.load("T1").privacy == (date(2024, 11, 20), False)
    assert clerk.refusal(dated("privacy_withdrawn", "2024-11-21")) == (
        "line 1: privacy withdrawal on 2024-11-21: trajectory T1 has no privacy statement to withdraw"
    )
    clerk.given(dated("privacy_statement", "2024-12-01"))
    kinds = [type(e).__name__ for e in ledger.events.get(trajectory_id("T1"))]
    assert kinds == ["Opened", "PrivacyStatementSigned", "PrivacyStatementWithdrawn", "PrivacyStatementSigned"]


def test_3_16_the_latest_privacy_event_is_the_latest_by_date_then_by_recording(clerk: Clerk) -> None:
    clerk.given(opened(), dated("privacy_statement", "2024-11-05"), dated("privacy_withdrawn", "2024-11-20"))

    # Dated before the withdrawal, a statement leaves the withdrawal the latest: allowed, and still no statement.
    clerk.given(dated("privacy_statement", "2024-11-10"))
    assert clerk.refusal(dated("privacy_withdrawn", "2024-11-25")) == (
        "line 1: privacy withdrawal on 2024-11-25: trajectory T1 has no privacy statement to withdraw"
    )
    # On the withdrawal's own date, the statement recorded later is the latest.
    clerk.given(dated("privacy_statement", "2024-11-20"))
    assert clerk.refusal(dated("privacy_statement", "2024-11-21")) == (
        "line 1: privacy statement on 2024-11-21: trajectory T1 has a privacy statement (of 2024-11-20) as its "
        "latest privacy event already"
    )


def test_3_17_admissions_and_discharges(clerk: Clerk, ledger: Ledger) -> None:
    clerk.given(opened())

    assert clerk.refusal(dated("discharged", "2024-10-05")) == (
        "line 1: discharge on 2024-10-05: trajectory T1 has no open admission"
    )
    clerk.given(dated("admitted", "2024-10-10", after_20h=True))
    assert clerk.refusal(dated("admitted", "2024-10-12")) == (
        "line 1: admission on 2024-10-12: trajectory T1 has an open admission of 2024-10-10 already"
    )
    assert clerk.refusal(dated("discharged", "2024-10-09")) == (
        "line 1: discharge on 2024-10-09 is dated before the admission of trajectory T1 on 2024-10-10"
    )
    clerk.given(dated("discharged", "2024-10-20"), dated("admitted", "2024-10-25"))
    admitted = [e for e in ledger.events.get(trajectory_id("T1")) if isinstance(e, Trajectory.Admitted)]
    assert [(e.on, e.after_20h) for e in admitted] == [(date(2024, 10, 10), True), (date(2024, 10, 25), False)]


def test_3_19_the_referral_of_an_opening(clerk: Clerk, ledger: Ledger) -> None:
    assert clerk.refusal(opened(referral_type="01", referral_date="2024-10-02")) == (
        "line 1: trajectory T1: the referral date 2024-10-02 lies after the opening date 2024-10-01"
    )
    assert clerk.refusal(opened(referral_type="04", referrer_agb="01234567")) == (
        "line 1: trajectory T1: referral type 04 has no referrer, so no 'referrer_agb'"
    )
    assert clerk.refusal(opened(referral_type="06", referral_date="2024-09-20")) == (
        "line 1: trajectory T1: referral type 06 has no referrer, so no 'referral_date'"
    )
    clerk.given(opened(referral_type="01", referrer_agb="01234567", referral_date="2024-09-20"))
    trajectory = ledger.load("T1")
    assert (trajectory.referral_type, trajectory.referrer_agb, trajectory.referral_date) == (
        "01", "01234567", date(2024, 9, 20),
    )  # fmt: skip


# --- Z5.3 (3.18): contracts -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (
            {"valid_from": "2024-06-01", "valid_to": "2024-05-31"},
            "contract K-2: valid_to 2024-05-31 is before valid_from 2024-06-01",
        ),
        (
            {"valid_from": "2024-07-01", "valid_to": "2025-06-30"},
            "contract K-2: runs from 2024-07-01 to 2025-06-30; a contract stays within one calendar year",
        ),
        (
            {"valid_from": "2024-12-01"},
            "contract K-2: overlaps contract K-3311-2024 (2024-01-01..2024-12-31) of provider 12345678 with insurer 3311",
        ),
        ({"insurer": "3343", "percentage_bp": 0}, "contract K-2: percentage_bp must be 1 to 11000, got 0"),
        ({"insurer": "3343", "percentage_bp": 11001, "max_max": True}, "contract K-2: percentage_bp must be 1 to 11000, got 11001"),
        (
            {"insurer": "3343", "percentage_bp": 10001},
            "contract K-2: percentage_bp 10001 is above 10000 (the maximum); only a max-max contract (max_max: true) "
            "goes up to 11000",
        ),
        ({"insurer": "3343", "percentage_bp": None}, "contract K-2: needs percentage_bp or code_amounts"),
        (
            {"insurer": "3343", "percentage_bp": None, "code_amounts": {"XX9999": 100}},
            "contract K-2: code XX9999 has no tariff row in force on 2024-01-01; load the year's table first",
        ),
        (
            {"insurer": "3343", "percentage_bp": None, "code_amounts": {"CO0562": 18345}},
            "contract K-2: amount 18345 for code CO0562 is above its cap 18344 (the NZa maximum)",
        ),
        (
            {"insurer": "3343", "percentage_bp": None, "code_amounts": {"CO0562": 20179}, "max_max": True},
            "contract K-2: amount 20179 for code CO0562 is above its cap 20178 (the maximum + 10%, max-max)",
        ),
        (
            {"contract": "K-3311-2024", "insurer": "3343"},
            "contract K-3311-2024 was used before with other content",
        ),
    ],
)  # fmt: skip
def test_3_18_a_contract_that_z5_3_refuses(clerk: Clerk, ledger: Ledger, extra: dict[str, Any], message: str) -> None:
    clerk.given(contract())
    record = {**contract("K-2"), **extra}

    assert clerk.refusal({k: v for k, v in record.items() if v is not None}) == f"line 1: {message}"
    assert [c.contract for c in ledger.contracts()] == ["K-3311-2024"]


def test_a_contract_sent_again_changes_nothing_and_its_record_id_is_bound_to_it(clerk: Clerk, ledger: Ledger) -> None:
    clerk.given(contract(id="C1"))

    assert clerk.send(contract(id="C1"), contract()) == (0, 2, 0)
    assert clerk.refusal(contract("K-9", id="C1", insurer="3343")) == (
        "line 1: record id C1 was used before with other content"
    )
    book = [e for e in ledger.events.get(ContractBook.ID) if isinstance(e, ContractBook.ContractAgreed)]
    assert [(e.contract, e.record_id, e.percentage_bp, e.max_max) for e in book] == [("K-3311-2024", "C1", 9000, False)]


def test_a_contract_prices_the_activities_recorded_after_it(clerk: Clerk, ledger: Ledger) -> None:
    # zpm.md Z12: A-01, CO0562 at 18344 maximum, 90% -> 16509.6, half up 16510.
    clerk.given(opened(), consult("A0"), contract(), consult("A1"))

    events = {
        e.activity: e for e in ledger.events.get(trajectory_id("T1")) if isinstance(e, Trajectory.PrestatieDelivered)
    }
    before, after = events["A0"], events["A1"]
    assert (before.code, before.amount, before.price_basis, before.max_amount) == ("CO0562", 18344, "nza_max", 18344)
    assert (after.code, after.amount, after.price_basis, after.max_amount) == (
        "CO0562", 16510, "contract:K-3311-2024", 18344,
    )  # fmt: skip
    assert (after.tariff_type, after.band, after.effective_minutes, after.beroep_category) == (
        "maximum", 60, 60, "gz_psycholoog",
    )  # fmt: skip
    assert ledger.contracts()[0].percentage_bp == 9000


def test_contract_record_judges_a_repeat_before_the_rules(ledger: Ledger) -> None:
    record = parse_object(contract(), date(2025, 6, 30))

    assert ledger.contract_record(record) is Outcome.RECORDED
    # The same contract again would overlap itself: recognised as a repeat first (rules.md 3.8).
    assert ledger.contract_record(record) is Outcome.UNCHANGED
    with pytest.raises(Conflict, match="contract K-3311-2024 was used before with other content"):
        ledger.contract_record(parse_object(contract(insurer="3343"), date(2025, 6, 30)))


# --- surcharges remember their consult (DeliveredActivity) ------------------------------------------------


def test_a_travel_surcharge_is_linked_to_its_consult_and_freed_when_voided(clerk: Clerk, ledger: Ledger) -> None:
    travel = {
        "type": "activity_delivered", "trajectory": "T1", "activity": "S1", "date": "2024-10-01",
        "prestatie": "surcharge", "surcharge_type": "reistijd", "linked_activity": "A1", "minutes": 30,
    }  # fmt: skip
    clerk.given(opened(), consult("A1"), travel)

    activities = ledger.load("T1").activities
    assert activities["A1"].surcharges == frozenset({"reistijd"})
    assert (activities["A1"].prestatie, activities["A1"].consult_type, activities["A1"].band) == (
        "consult", "diagnostiek", 60,
    )  # fmt: skip
    assert (activities["S1"].prestatie, activities["S1"].surcharge_type, activities["S1"].linked_activity) == (
        "surcharge", "reistijd", "A1",
    )  # fmt: skip
    clerk.given(dated("activity_voided", "2024-10-02", activity="S1"))
    assert ledger.load("T1").activities["A1"].surcharges == frozenset()


def test_a_legacy_record_with_planned_minutes_keeps_them_and_its_v1_price(clerk: Clerk, ledger: Ledger) -> None:
    legacy = {
        "type": "activity_delivered", "trajectory": "T1", "activity": "L1", "date": "2024-10-08", "code": "CO0432",
        "minutes": 44, "planned_minutes": 45,
    }  # fmt: skip
    clerk.given(opened(), contract(), legacy, {**without(legacy, "planned_minutes"), "activity": "L2", "minutes": 45})

    events = {
        e.activity: e for e in ledger.events.get(trajectory_id("T1")) if isinstance(e, Trajectory.ActivityDelivered)
    }
    planned, plain = events["L1"], events["L2"]
    assert type(planned) is Trajectory.PrestatieDelivered and type(plain) is Trajectory.ActivityDelivered
    assert (planned.prestatie, planned.planned_minutes, planned.effective_minutes, planned.band) == (None, 45, 45, 45)
    # A legacy record keeps v1's price: the table's amount, whatever the contracts.
    assert (planned.amount, plain.amount, planned.price_basis) == (15970, 15970, "nza_max")


# --- a ledger written before the zorgprestatiemodel -----------------------------------------------------


def _as_written_before(stored: Any, drop: tuple[str, ...], version: int | None) -> Any:
    state = orjson.loads(stored.state)
    state.pop("class_version", None)
    for name in drop:
        del state[name]
    if version is not None:
        state["class_version"] = version
    return type(stored)(stored.originator_id, stored.originator_version, stored.topic, orjson.dumps(state))


def test_v1_opened_assessed_clustered_and_reviewed_states_still_load(ledger: Ledger, clerk: Clerk) -> None:
    make_plain(ledger)  # version 1 shapes were stored by ledgers before sealing
    trajectory = Trajectory(
        trajectory="T-OLD", record_id=None, fingerprint="f0", patient="P-OLD", provider=PROVIDER, insurer=INSURER,
        opened_on=date(2016, 11, 1), region=None, referrer="huisarts",
    )  # fmt: skip
    scores = tuple((str(item), 2) for item in range(1, 13))
    trajectory.assess(on=date(2016, 11, 1), scores=scores, assessor=None, record_id=None, fingerprint="f1")
    trajectory.cluster(on=date(2016, 11, 1), cluster=4, record_id=None, fingerprint="f2")
    trajectory.review(on=date(2016, 12, 1), cluster=0, scores=None, record_id=None, fingerprint="f3")
    mapper = TypedMapper()
    opened_, assessed, clustered, reviewed = [mapper.to_stored_event(e) for e in trajectory.collect_events()]
    old = [
        _as_written_before(opened_, ("referral_type", "referrer_agb", "referral_date"), None),
        _as_written_before(assessed, ("route",), 2),
        _as_written_before(clustered, ("hoofdgroep",), None),
        _as_written_before(reviewed, ("route", "hoofdgroep"), 2),
    ]
    ledger.recorder.insert_events(old, keys=[])

    loaded = ledger.load("T-OLD")
    events = list(ledger.events.get(trajectory_id("T-OLD")))

    assert (loaded.referral_type, loaded.referrer_agb, loaded.referral_date) == (None, None, None)
    assert [type(e).__name__ for e in events] == ["Opened", "Assessed", "Clustered", "Reviewed"]
    assert events[1].route is None and events[1].total == 24
    assert events[2].hoofdgroep is None and events[2].cluster == 4
    assert (events[3].route, events[3].hoofdgroep, events[3].cluster) == (None, None, 0)
    # And the old trajectory takes ZPM records after them.
    clerk.given(dated("clustered", "2024-10-08", number="T-OLD", cluster=3, hoofdgroep="X"))
    assert ledger.load("T-OLD").version == 5
