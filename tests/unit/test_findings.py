"""Findings for the insurer's material check (zpm.md Z8), judged on event states built by hand.

Each finding has a case that finds it and one, as close as possible, that does not. The log
starts clean: a trajectory with a type-01 referral, a regiebehandelaar from its first day and
a zorgvraagtype in force, so a case adds only what its finding is about.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from ggzledger.audit.findings import DIAGNOSTIEK_DAYS, FINDINGS, Finding, find, select

T = "ggzledger.Trajectory."
REGIE = "11111111"
OTHER = "22222222"


class Log:
    """Stored event states in recording order, as the findings read them."""

    def __init__(self, trajectory: str = "T1", opened_on: str = "2024-01-02", **referral: Any) -> None:
        self.states: list[tuple[int, str, dict[str, Any]]] = []
        self.open(trajectory, opened_on, **referral)
        self.add("RegiebehandelaarAssigned", trajectory, on=opened_on, practitioner=REGIE, beroep="gz_psycholoog")
        self.add("Clustered", trajectory, on=opened_on, cluster=3)

    def add(self, name: str, trajectory: str | None, **state: Any) -> None:
        topic = name if name.startswith("ggzledger.") else T + name
        if trajectory is not None:
            state["trajectory"] = trajectory
        self.states.append((len(self.states) + 1, topic, state))

    def open(self, trajectory: str, on: str, **referral: Any) -> None:
        given = {"referral_type": "01", "referrer_agb": "01234567", "referral_date": "2023-12-20", **referral}
        self.add("Opened", trajectory, opened_on=on, patient="P", provider="12345678", insurer="3311", **given)

    def line(
        self,
        activity: str,
        on: str,
        prestatie: str | None = "consult",
        *,
        trajectory: str = "T1",
        practitioner: str | None = REGIE,
        start: str | None = None,
        minutes: int | None = 45,
        code: str = "CO0497",
        **extra: Any,
    ) -> None:
        fields: dict[str, Any] = {"consult_type": "behandeling"} if prestatie == "consult" else {}
        fields.update(extra)
        self.add(
            "PrestatieDelivered",
            trajectory,
            activity=activity,
            on=on,
            code=code,
            minutes=minutes,
            prestatie=prestatie,
            practitioner=practitioner,
            start=start,
            **fields,
        )

    def void(self, activity: str, on: str, trajectory: str = "T1") -> None:
        self.add("ActivityVoided", trajectory, activity=activity, on=on, reason=None)

    def close(self, month: str) -> None:
        self.add("ggzledger.BillingCalendar.MonthClosed", None, month=month, up_to=len(self.states))

    def find(self, **options: Any) -> list[Finding]:
        return find(self.states, **options)


def named(found: list[Finding], finding: str) -> list[tuple[str, str]]:
    """(trajectory, activity) of each finding with that name."""
    return [(f.trajectory, f.activity) for f in found if f.finding == finding]


def test_a_clean_log_has_no_findings_and_every_finding_is_named_as_z8_names_it() -> None:
    log = Log()
    log.line("A1", "2024-01-02", start="09:00")
    log.line("A2", "2024-01-09", start="09:00")

    assert log.find() == []
    assert len(FINDINGS) == 19 and len(set(FINDINGS)) == 19


# overlapping_consults


def test_two_consults_of_one_practitioner_whose_intervals_intersect_overlap_on_both_lines_across_trajectories() -> None:
    log = Log()
    log.open("T2", "2024-01-02")
    log.line("A1", "2024-02-01", start="09:00", minutes=45)
    log.line("B1", "2024-02-01", start="09:30", minutes=45, trajectory="T2")

    found = log.find()

    assert named(found, "overlapping_consults") == [("T1", "A1"), ("T2", "B1")]
    assert "B1 of trajectory T2" in next(f.detail for f in found if f.activity == "A1")


def test_intervals_are_half_open_so_a_consult_starting_as_another_ends_does_not_overlap() -> None:
    log = Log()
    log.line("A1", "2024-02-01", start="09:00", minutes=45)
    log.line("A2", "2024-02-01", start="09:45", minutes=45)
    log.line("A3", "2024-02-01", start="09:10", minutes=45, practitioner=OTHER)  # another practitioner
    log.line("A4", "2024-02-01", start=None, minutes=45)  # no start: no interval

    assert named(log.find(), "overlapping_consults") == []


def test_group_units_with_the_same_start_are_one_session_but_a_unit_overlapping_a_consult_is_not() -> None:
    log = Log()
    log.open("T2", "2024-01-02")
    group = {"prestatie": "group", "minutes": 30, "group_size": 2, "code": "GC0102"}
    log.line("G1", "2024-02-01", start="14:00", **group)
    log.line("G2", "2024-02-01", start="14:00", trajectory="T2", **group)
    log.line("A1", "2024-02-01", start="14:15", minutes=45, trajectory="T2")

    found = named(log.find(), "overlapping_consults")

    assert ("T1", "G1") in found and ("T2", "A1") in found
    assert len([f for f in found if f[1] in ("G1", "G2")]) == 2  # each unit with the consult, not with each other


# consecutive_consults


def test_a_consult_starting_within_60_minutes_after_another_ends_is_consecutive_on_both() -> None:
    log = Log()
    log.line("A1", "2024-02-01", start="09:00", minutes=45)
    log.line("A2", "2024-02-01", start="10:45", minutes=45)  # 60 minutes after 09:45

    assert named(log.find(), "consecutive_consults") == [("T1", "A1"), ("T1", "A2")]


def test_a_consult_61_minutes_later_or_of_another_trajectory_is_not_consecutive() -> None:
    log = Log()
    log.open("T2", "2024-01-02")
    log.line("A1", "2024-02-01", start="09:00", minutes=45)
    log.line("A2", "2024-02-01", start="10:46", minutes=45)
    log.line("B1", "2024-02-01", start="09:50", minutes=45, trajectory="T2")

    assert named(log.find(), "consecutive_consults") == []


# stay days (Z7's rule: admitted on a, discharged on d: a <= x < d, without a when after 20:00)


def stay(log: Log, activity: str, on: str) -> None:
    log.line(activity, on, "stay", practitioner=None, minutes=None, code="VD0001", care_level="A")


def test_stay_days_of_an_admission_are_from_admission_to_the_day_before_discharge() -> None:
    log = Log()
    log.add("Admitted", "T1", on="2024-03-01", after_20h=False)
    log.add("Discharged", "T1", on="2024-03-03")
    for activity, on in (("S1", "2024-03-01"), ("S2", "2024-03-02")):
        stay(log, activity, on)

    assert log.find() == []


def test_a_stay_on_the_discharge_day_is_on_the_discharge_day_and_outside_the_admission() -> None:
    log = Log()
    log.add("Admitted", "T1", on="2024-03-01", after_20h=False)
    log.add("Discharged", "T1", on="2024-03-03")
    stay(log, "S3", "2024-03-03")

    found = log.find()

    assert named(found, "stay_on_discharge_day") == [("T1", "S3")]
    assert named(found, "stay_outside_admission") == [("T1", "S3")]


def test_the_admission_day_after_20h_and_a_day_before_any_admission_are_outside_it() -> None:
    log = Log()
    stay(log, "S0", "2024-02-28")  # stay days may arrive before their admission: judged on the whole log
    log.add("Admitted", "T1", on="2024-03-01", after_20h=True)
    stay(log, "S1", "2024-03-01")
    stay(log, "S2", "2024-03-02")  # no discharge yet: the admission is open

    found = log.find()

    assert named(found, "stay_outside_admission") == [("T1", "S0"), ("T1", "S1")]
    assert named(found, "stay_on_discharge_day") == []


def test_two_stay_lines_on_one_date_of_one_trajectory_are_duplicates_unless_one_is_voided() -> None:
    log = Log()
    log.add("Admitted", "T1", on="2024-03-01", after_20h=False)
    stay(log, "S1", "2024-03-02")
    stay(log, "S2", "2024-03-02")
    stay(log, "S3", "2024-03-03")
    stay(log, "S4", "2024-03-03")
    log.void("S4", "2024-03-04")

    assert named(log.find(), "duplicate_stay_day") == [("T1", "S1"), ("T1", "S2")]


# zorgvraagtype_missing and typing_older_than_12_months


def test_a_line_without_a_type_in_force_is_missing_one_but_a_diagnostiek_consult_is_not() -> None:
    log = Log()
    log.open("T2", "2024-01-02")
    log.line("B1", "2024-01-05", trajectory="T2")
    log.line("B2", "2024-01-05", trajectory="T2", consult_type="diagnostiek", start="11:00")

    assert named(log.find(), "zorgvraagtype_missing") == [("T2", "B1")]


def test_a_line_of_a_declaration_with_privacy_is_not_missing_a_type() -> None:
    log = Log()
    log.open("T2", "2024-01-02")
    log.add("PrivacyStatementSigned", "T2", on="2024-01-03")
    log.line("B1", "2024-01-05", trajectory="T2")

    assert named(log.find(), "zorgvraagtype_missing") == []


def test_privacy_is_that_of_the_close_that_declared_the_line_not_of_a_statement_recorded_after_it() -> None:
    log = Log()
    log.open("T2", "2024-01-02")
    log.line("B1", "2024-01-05", trajectory="T2")
    log.close("2024-01")
    # Signed after January's close: only what is declared from now on goes without type.
    log.add("PrivacyStatementSigned", "T2", on="2024-01-03")
    log.line("B2", "2024-01-20", trajectory="T2")  # late: declared at the next close, with privacy
    log.line("B3", "2024-02-05", trajectory="T2")

    assert named(log.find(), "zorgvraagtype_missing") == [("T2", "B1")]


def test_a_withdrawal_dated_after_the_statement_ends_privacy_and_ties_go_to_the_later_recorded() -> None:
    log = Log()
    log.open("T2", "2024-01-02")
    log.add("PrivacyStatementSigned", "T2", on="2024-01-03")
    log.add("PrivacyStatementWithdrawn", "T2", on="2024-01-10")
    log.line("B1", "2024-01-15", trajectory="T2")
    log.open("T3", "2024-01-02")
    log.add("PrivacyStatementWithdrawn", "T3", on="2024-01-03")
    log.add("PrivacyStatementSigned", "T3", on="2024-01-03")
    log.line("C1", "2024-01-15", trajectory="T3")

    assert named(log.find(), "zorgvraagtype_missing") == [("T2", "B1")]


def test_the_type_shown_is_the_one_the_carrying_close_saw() -> None:
    log = Log()
    log.open("T2", "2024-01-02")
    log.line("B1", "2024-01-05", trajectory="T2")
    log.close("2024-01")
    log.add("Clustered", "T2", on="2024-01-04", cluster=3)  # too late for January's declaration
    log.line("B2", "2024-02-05", trajectory="T2")

    assert named(log.find(), "zorgvraagtype_missing") == [("T2", "B1")]


def test_a_type_more_than_12_calendar_months_old_is_old_and_one_of_exactly_12_is_not() -> None:
    log = Log()  # typed on 2024-01-02
    log.line("A1", "2025-01-02")
    log.line("A2", "2025-01-03")
    log.add("Reviewed", "T1", on="2025-01-10", cluster=3)  # a review renews the typing
    log.line("A3", "2025-01-10")

    assert named(log.find(), "typing_older_than_12_months") == [("T1", "A2")]


def test_a_privacy_line_shows_no_type_so_its_typing_is_never_old() -> None:
    log = Log()
    log.add("PrivacyStatementSigned", "T1", on="2024-01-03")
    log.line("A1", "2025-06-02")

    assert log.find() == []


# group_size_inconsistent


def group(log: Log, activity: str, trajectory: str, size: int, start: str = "14:00") -> None:
    log.line(
        activity, "2024-02-01", "group", trajectory=trajectory, start=start, minutes=30, group_size=size, code="GC"
    )


def test_units_of_one_session_with_different_group_sizes_are_inconsistent_on_every_unit() -> None:
    log = Log()
    log.open("T2", "2024-01-02")
    group(log, "G1", "T1", 5)
    group(log, "G2", "T2", 6)

    assert named(log.find(), "group_size_inconsistent") == [("T1", "G1"), ("T2", "G2")]


def test_more_trajectories_in_a_session_than_its_group_size_is_inconsistent() -> None:
    log = Log()
    for number in ("T2", "T3"):
        log.open(number, "2024-01-02")
        log.add("Clustered", number, on="2024-01-02", cluster=3)
        log.add("RegiebehandelaarAssigned", number, on="2024-01-02", practitioner=REGIE, beroep="gz_psycholoog")
    for activity, number in (("G1", "T1"), ("G2", "T2"), ("G3", "T3")):
        group(log, activity, number, 2)
        group(log, activity + "b", number, 3, start="14:30")

    found = log.find()

    assert named(found, "group_size_inconsistent") == [("T1", "G1"), ("T2", "G2"), ("T3", "G3")]
    assert named(found, "overlapping_consults") == []


# diagnostiek_after_treatment


@pytest.mark.parametrize(("days_later", "found"), [(90, False), (91, True)])
def test_diagnostiek_more_than_90_days_after_the_first_behandeling_is_a_finding(days_later: int, found: bool) -> None:
    log = Log()
    log.line("A1", "2024-01-02")
    log.line("A2", date.fromordinal(date(2024, 1, 2).toordinal() + days_later).isoformat(), consult_type="diagnostiek")

    assert bool(named(log.find(), "diagnostiek_after_treatment")) is found


def test_the_diagnostiek_threshold_is_a_parameter() -> None:
    log = Log()
    log.line("A1", "2024-01-02")
    log.line("A2", "2024-02-01", consult_type="diagnostiek")

    assert DIAGNOSTIEK_DAYS == 90
    assert named(log.find(diagnostiek_days=20), "diagnostiek_after_treatment") == [("T1", "A2")]


# regiebehandelaar_missing and regiebehandelaar_not_involved


def test_a_line_before_the_first_assignment_has_no_regiebehandelaar() -> None:
    log = Log()
    log.open("T2", "2024-01-02")
    log.add("Clustered", "T2", on="2024-01-02", cluster=3)
    log.add("RegiebehandelaarAssigned", "T2", on="2024-01-10", practitioner=REGIE, beroep="gz_psycholoog")
    log.line("B1", "2024-01-09", trajectory="T2")
    log.line("B2", "2024-01-10", trajectory="T2", start="11:00")

    assert named(log.find(), "regiebehandelaar_missing") == [("T2", "B1")]


def five_consults_by_another(log: Log, last: str) -> None:
    for activity, on in (("A1", "2024-01-02"), ("A2", "2024-01-09"), ("A3", "2024-01-16"), ("A4", "2024-01-23")):
        log.line(activity, on, practitioner=OTHER)
    log.line("A5", last, practitioner=OTHER)


def test_a_fifth_consult_after_42_days_without_the_regiebehandelaar_is_a_finding() -> None:
    log = Log()
    five_consults_by_another(log, "2024-02-14")  # day 43

    assert named(log.find(), "regiebehandelaar_not_involved") == [("T1", "A5")]


def test_not_involved_needs_the_fifth_consult_day_43_and_no_consult_by_the_then_regiebehandelaar() -> None:
    within = Log()
    five_consults_by_another(within, "2024-02-13")  # day 42
    fourth = Log()
    for activity, on in (("A1", "2024-01-02"), ("A2", "2024-01-09"), ("A3", "2024-01-16"), ("A4", "2024-03-01")):
        fourth.line(activity, on, practitioner=OTHER)
    seen = Log()
    five_consults_by_another(seen, "2024-02-14")
    seen.line("A6", "2024-02-14", practitioner=REGIE, start="15:00")  # on the same day counts
    nobody = Log()
    nobody.states = [s for s in nobody.states if not s[1].endswith("RegiebehandelaarAssigned")]
    five_consults_by_another(nobody, "2024-02-14")

    for log in (within, fourth, seen, nobody):
        assert named(log.find(), "regiebehandelaar_not_involved") == []
    assert named(nobody.find(), "regiebehandelaar_missing")  # which covers that case


# referral findings (on every ZPM line of the trajectory)


@pytest.mark.parametrize("referral", [{"referral_type": None}, {"referral_type": "05", "referrer_agb": None}])
def test_a_trajectory_without_a_referral_or_with_type_05_misses_one(referral: dict[str, Any]) -> None:
    log = Log(**referral)
    log.line("A1", "2024-01-02")

    assert named(log.find(), "referral_missing") == [("T1", "A1")]


def test_a_referral_more_than_9_months_before_the_opening_is_old_and_one_of_exactly_9_is_not() -> None:
    old = Log(referral_date="2023-04-01")  # opened 2024-01-02
    old.line("A1", "2024-01-02")
    exact = Log(referral_date="2023-04-02")
    exact.line("A1", "2024-01-02")

    assert named(old.find(), "referral_older_than_9_months") == [("T1", "A1")]
    assert named(exact.find(), "referral_older_than_9_months") == []


@pytest.mark.parametrize(("kind", "found"), [("01", True), ("02", True), ("03", False)])
def test_types_01_and_02_need_the_referrers_agb(kind: str, found: bool) -> None:
    log = Log(referral_type=kind, referrer_agb=None)
    log.line("A1", "2024-01-02")

    assert bool(named(log.find(), "referrer_agb_missing")) is found


def test_referral_findings_need_a_zpm_line() -> None:
    log = Log(referral_type=None)
    log.add("ActivityDelivered", "T1", activity="L1", on="2024-01-02", code="CONSULT", minutes=45)

    assert log.find() == []


# overleg_without_treatment


def test_an_overleg_by_a_practitioner_who_has_not_treated_the_patient_by_then_is_a_finding() -> None:
    log = Log()
    log.line("A1", "2024-01-10", practitioner=OTHER)
    overleg = {"minutes": 10, "code": "OV0007", "setting": 1}
    log.line("O1", "2024-01-09", "overleg", practitioner=OTHER, **overleg)
    log.line("O2", "2024-01-10", "overleg", practitioner=OTHER, **overleg)

    assert named(log.find(), "overleg_without_treatment") == [("T1", "O1")]


# psychodiagnostiek_surcharge_missing


def long_diagnostiek(log: Log, activity: str, on: str) -> None:
    log.line(activity, on, consult_type="diagnostiek", minutes=130, band=120, code="CO0952")


def test_a_diagnostiek_consult_from_120_minutes_without_the_surcharge_the_table_offers_misses_it() -> None:
    log = Log()
    long_diagnostiek(log, "A1", "2024-02-01")
    long_diagnostiek(log, "A2", "2024-02-08")
    log.line("S1", "2024-02-08", "surcharge", surcharge_type="psychodiagnostiek", linked_activity="A2", code="TC1")

    found = log.find(surcharge_in_force=lambda kind, on: kind == "psychodiagnostiek")

    assert named(found, "psychodiagnostiek_surcharge_missing") == [("T1", "A1")]


def test_no_surcharge_is_missing_when_the_table_has_none_or_before_2024() -> None:
    log = Log(opened_on="2023-06-01", referral_date="2023-05-01")
    long_diagnostiek(log, "A1", "2023-12-01")
    long_diagnostiek(log, "A2", "2024-02-01")

    assert named(log.find(), "psychodiagnostiek_surcharge_missing") == []
    found = log.find(surcharge_in_force=lambda kind, on: True)
    assert named(found, "psychodiagnostiek_surcharge_missing") == [("T1", "A2")]


# duration_unverifiable (legacy lines) and price_capped


def test_a_legacy_line_whose_code_has_a_band_but_no_minutes_is_unverifiable() -> None:
    log = Log()
    log.add("ActivityDelivered", "T1", activity="L1", on="2024-01-02", code="CO0432", minutes=None)
    log.add("ActivityDelivered", "T1", activity="L2", on="2024-01-02", code="CO0432", minutes=45)
    log.add("ActivityDelivered", "T1", activity="L3", on="2024-01-02", code="CONSULT", minutes=None)
    log.add("ActivityDelivered", "T1", activity="L4", on="2024-01-03", code="CO0432", minutes=None)
    log.void("L4", "2024-01-04")

    found = log.find(min_minutes_of=lambda code, on: 45 if code == "CO0432" else None)

    assert named(found, "duration_unverifiable") == [("T1", "L1")]


def test_a_line_priced_at_the_cap_is_a_finding() -> None:
    log = Log()
    log.line("A1", "2024-01-02", price_basis="contract:K1:capped")
    log.line("A2", "2024-01-09", price_basis="contract:K1")

    assert named(log.find(), "price_capped") == [("T1", "A1")]


# what counts, order and selection


def test_voided_and_legacy_lines_count_for_no_zpm_finding() -> None:
    log = Log(referral_type=None)
    log.line("A1", "2024-01-02", price_basis="nza_max:capped")
    log.void("A1", "2024-01-03")
    log.line("A2", "2024-01-02", None, planned_minutes=45)  # a legacy record kept with its planned minutes

    assert log.find() == []


def test_findings_are_sorted_and_selected_by_trajectory_and_by_the_month_of_their_line() -> None:
    log = Log(referral_type=None)
    log.open("T0", "2024-01-02", referral_type=None)
    log.add("Clustered", "T0", on="2024-01-02", cluster=3)
    log.add("RegiebehandelaarAssigned", "T0", on="2024-01-02", practitioner=REGIE, beroep="gz_psycholoog")
    log.line("A2", "2024-02-01")
    log.line("A1", "2024-02-01", start="10:00")
    log.line("B1", "2024-01-05", trajectory="T0", price_basis="x:capped")

    found = log.find()

    assert [(f.trajectory, f.activity, f.finding) for f in found] == [
        ("T0", "B1", "price_capped"),
        ("T0", "B1", "referral_missing"),
        ("T1", "A1", "referral_missing"),
        ("T1", "A2", "referral_missing"),
    ]
    assert [f.activity for f in select(found, trajectory="T1")] == ["A1", "A2"]
    assert [f.activity for f in select(found, month="2024-01")] == ["B1", "B1"]
    assert select(found, trajectory="T1", month="2024-01") == []
    assert found[0].to_json() == {
        "trajectory": "T0",
        "activity": "B1",
        "date": "2024-01-05",
        "code": "CO0497",
        "finding": "price_capped",
        "detail": found[0].detail,
    }


def test_an_erased_referrers_agb_is_not_missing_but_what_stays_plain_is_still_judged() -> None:
    # What erasure leaves of the events (trust.md §4): the AGB code, the referral date and the cluster read None.
    log = Log(referrer_agb=None, referral_date=None)
    log.states = [(p, t, {**s, "cluster": None} if t == T + "Clustered" else s) for p, t, s in log.states]
    log.line("A1", "2025-02-03")
    log.add("PersonalDataErased", "T1", subject="0" * 32, basis="AVG17", erased_at="2025-03-01T00:00:00+00:00")

    found = log.find()

    assert named(found, "referrer_agb_missing") == []
    assert [(f.finding, f.detail) for f in found] == [
        (
            "typing_older_than_12_months",
            "zorgvraagtype (erased) was typed on 2024-01-02, more than 12 months before the line",
        )
    ]
