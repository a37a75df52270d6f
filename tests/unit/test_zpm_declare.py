"""Declarations with ZPM lines (zpm.md Z6.2-Z6.4, Z6.7), from facts built by hand: the pure arithmetic alone.

Each test gives declare() a trajectory's facts as a close would read them, and checks the line and
header fields the spec names; the numbers come from the spec's rules, not from the code.
"""

from __future__ import annotations

import hashlib
from datetime import date
from typing import Any

import orjson

from ggzledger.interfaces.text.declaration import _wrap, render_declaration
from ggzledger.projections.declarations import (
    Activity,
    Assignment,
    Clustering,
    Declaration,
    Prestatie,
    PrivacyEvent,
    Referral,
    TrajectoryFacts,
    declare,
    digest_of,
    financial,
    line_minutes,
)
from ggzledger.projections.totals import Parties, breakdown
from ggzledger.reference import load_catalogue

CATALOGUE = load_catalogue()
GZ = "11111111"  # the GZ-psycholoog of zpm.md Z12
KP = "22222222"  # the klinisch psycholoog


def consult(name: str, on: str, declared: str | None = None) -> Activity:
    return Activity(name, "T1", date.fromisoformat(on), "CO0497", "Behandeling vanaf 45 min", 12230, None, 1,
                    None, declared)  # fmt: skip


def facts_of(
    prestaties: dict[str, Prestatie],
    clusterings: tuple[Clustering, ...] = (),
    regie: tuple[Assignment, ...] = (),
    privacy: tuple[PrivacyEvent, ...] = (),
    ended_on: date | None = None,
    referral: Referral | None = None,
) -> TrajectoryFacts:
    return TrajectoryFacts("T1", date(2024, 5, 1), ended_on, clusterings, 0, 0, referral, regie, privacy, prestaties)


def zpm(prestatie: str = "consult", practitioner: str | None = GZ, minutes: int | None = 45) -> Prestatie:
    return Prestatie(prestatie, practitioner, "gz_psycholoog" if practitioner else None,
                     1 if prestatie == "consult" else None, "09:00", None, minutes, 13589,
                     "contract:K-3311-2024")  # fmt: skip


def lines_of(declaration: Declaration | None) -> dict[tuple[str, str], dict[str, Any]]:
    assert declaration is not None
    return {(line["activity"], line["kind"]): line for line in declaration.to_json()["lines"]}


REGIE_GZ = Assignment(date(2024, 5, 1), 2, GZ, "gz_psycholoog")


def test_role_is_02_for_the_regiebehandelaar_in_force_on_the_lines_date_else_01() -> None:
    # From 10 June the klinisch psycholoog is regiebehandelaar; on 20 June two assignments of the
    # same date: the later recorded (position 9, GZ again) is in force.
    regie = (
        REGIE_GZ,
        Assignment(date(2024, 6, 10), 5, KP, "klinisch_psycholoog"),
        Assignment(date(2024, 6, 20), 9, GZ, "gz_psycholoog"),
        Assignment(date(2024, 6, 20), 8, KP, "klinisch_psycholoog"),
    )
    debits = [consult("A1", "2024-06-03"), consult("A2", "2024-06-12"), consult("A3", "2024-06-12"),
              consult("A4", "2024-06-21"), consult("A5", "2024-06-22")]  # fmt: skip
    prestaties = {"A1": zpm(), "A2": zpm(), "A3": zpm(practitioner=KP), "A4": zpm(), "A5": zpm("stay", None, None)}
    lines = lines_of(declare(facts_of(prestaties, regie=regie), "2024-06", debits, [], CATALOGUE))

    assert {key[0]: line["role"] for key, line in lines.items()} == {
        "A1": "02", "A2": "01", "A3": "02", "A4": "02", "A5": None,
    }  # fmt: skip


def test_a_line_before_any_regiebehandelaar_is_01_and_the_header_has_none() -> None:
    declaration = declare(facts_of({"A1": zpm()}), "2024-06", [consult("A1", "2024-06-03")], [], CATALOGUE)
    assert declaration is not None
    assert lines_of(declaration)["A1", "debit"]["role"] == "01"
    assert declaration.to_json()["regiebehandelaar"] is None


def test_zorgvraagtype_is_the_type_in_force_on_the_lines_own_date() -> None:
    # Type 1 from 1 June, type 6 from 15 June: the 1 June line shows 1, the header (30 June) shows 6.
    clusterings = (Clustering(date(2024, 6, 1), 3, 1), Clustering(date(2024, 6, 15), 4, 6))
    debits = [consult("A0", "2024-05-31"), consult("A1", "2024-06-01"), consult("A2", "2024-06-20")]
    facts = facts_of({"A0": zpm(), "A1": zpm(), "A2": zpm()}, clusterings, (REGIE_GZ,))
    declaration = declare(facts, "2024-06", debits, [], CATALOGUE)
    assert declaration is not None
    body = declaration.to_json()

    assert [line["zorgvraagtype"] for line in body["lines"]] == [None, 1, 6]
    assert [line["privacy"] for line in body["lines"]] == [False, False, False]
    assert body["privacy"] is False
    assert body["cluster"]["code"] == 6
    assert body["review_due"] == "2024-12-15"  # 15 June + 6 months (cluster 6)


def test_a_credit_line_repeats_the_debit_but_carries_no_type() -> None:
    clusterings = (Clustering(date(2024, 5, 2), 3, 3),)
    facts = facts_of({"A1": zpm()}, clusterings, (REGIE_GZ,))
    declaration = declare(facts, "2024-06", [], [consult("A1", "2024-05-20", declared="2024-05")], CATALOGUE)
    line = lines_of(declaration)["A1", "credit"]

    assert (line["amount"], line["max_amount"], line["minutes"], line["role"]) == (-12230, 13589, 45, "02")
    assert line["zorgvraagtype"] is None
    assert line["late"] is False


def test_privacy_signed_then_withdrawn_is_no_privacy() -> None:
    clusterings = (Clustering(date(2024, 5, 2), 3, 3),)
    privacy = (PrivacyEvent(date(2024, 6, 5), 6, True), PrivacyEvent(date(2024, 6, 20), 7, False))
    facts = facts_of({"A1": zpm()}, clusterings, (REGIE_GZ,), privacy)
    declaration = declare(facts, "2024-06", [consult("A1", "2024-06-10")], [], CATALOGUE)
    assert declaration is not None
    body = declaration.to_json()

    assert body["privacy"] is False
    assert body["cluster"]["code"] == 3
    assert body["lines"][0]["zorgvraagtype"] == 3
    assert body["lines"][0]["privacy"] is False


def test_privacy_is_the_latest_by_date_not_by_recording_and_ties_go_to_the_later_recorded() -> None:
    def private(*events: PrivacyEvent) -> bool | None:
        declaration = declare(facts_of({"A1": zpm()}, privacy=events), "2024-06", [consult("A1", "2024-06-10")],
                              [], CATALOGUE)  # fmt: skip
        assert declaration is not None
        return declaration.privacy

    # A withdrawal recorded later but dated before the statement does not end it.
    assert private(PrivacyEvent(date(2024, 6, 25), 6, True), PrivacyEvent(date(2024, 6, 20), 7, False)) is True
    # Same date: the later recorded wins.
    assert private(PrivacyEvent(date(2024, 6, 5), 6, True), PrivacyEvent(date(2024, 6, 5), 7, False)) is False
    assert private(PrivacyEvent(date(2024, 6, 5), 7, True), PrivacyEvent(date(2024, 6, 5), 6, False)) is True
    # A statement dated after the month still counts: it is judged per declaration (Z6.4).
    assert private(PrivacyEvent(date(2024, 7, 2), 6, True)) is True
    assert private() is False


def test_under_privacy_a_late_line_goes_without_type_and_the_header_without_cluster() -> None:
    # Type 3 in force since May; the statement is signed on 5 June. The May line declared in June is
    # late, and although it predates the statement it carries no type (zpm.md Z6.4).
    clusterings = (Clustering(date(2024, 5, 2), 3, 3),)
    privacy = (PrivacyEvent(date(2024, 6, 5), 9, True),)
    facts = facts_of({"A1": zpm(), "A2": zpm()}, clusterings, (REGIE_GZ,), privacy)
    declaration = declare(facts, "2024-06", [consult("A1", "2024-05-28"), consult("A2", "2024-06-12")], [],
                          CATALOGUE)  # fmt: skip
    assert declaration is not None
    body = declaration.to_json()

    assert (body["privacy"], body["cluster"], body["review_due"]) == (True, None, None)
    assert [(line["late"], line["zorgvraagtype"], line["privacy"]) for line in body["lines"]] == [
        (True, None, True),
        (False, None, True),
    ]
    # Codes, amounts and the total do not change.
    assert body["total"] == 2 * 12230
    assert body["regiebehandelaar"] == {"practitioner": GZ, "beroep": "gz_psycholoog"}


def test_the_header_regiebehandelaar_is_the_one_in_force_on_the_months_last_day_or_the_end_date() -> None:
    regie = (REGIE_GZ, Assignment(date(2024, 6, 25), 5, KP, "klinisch_psycholoog"),
             Assignment(date(2024, 7, 1), 6, GZ, "gz_psycholoog"))  # fmt: skip
    june = declare(facts_of({"A1": zpm()}, regie=regie), "2024-06", [consult("A1", "2024-06-03")], [], CATALOGUE)
    assert june is not None
    assert june.to_json()["regiebehandelaar"] == {"practitioner": KP, "beroep": "klinisch_psycholoog"}

    ended = facts_of({"A1": zpm()}, regie=regie, ended_on=date(2024, 6, 20))
    early = declare(ended, "2024-06", [consult("A1", "2024-06-03")], [], CATALOGUE)
    assert early is not None
    assert early.to_json()["regiebehandelaar"] == {"practitioner": GZ, "beroep": "gz_psycholoog"}


def test_the_referral_of_the_opening_is_in_the_header() -> None:
    referral = Referral("01", "01234567", date(2024, 4, 20))
    facts = facts_of({"A1": zpm()}, referral=referral)
    declaration = declare(facts, "2024-06", [consult("A1", "2024-06-03")], [], CATALOGUE)
    assert declaration is not None
    assert declaration.to_json()["referral"] == {"type": "01", "referrer_agb": "01234567", "date": "2024-04-20"}
    without = declare(facts_of({"A1": zpm()}), "2024-06", [consult("A1", "2024-06-03")], [], CATALOGUE)
    assert without is not None
    assert without.to_json()["referral"] is None


def test_a_declaration_without_zpm_lines_keeps_exactly_the_v1_form_and_digest() -> None:
    # The trajectory has ZPM facts (a regiebehandelaar, privacy, a referral), but no pending ZPM line.
    facts = facts_of({"B9": zpm()}, (Clustering(date(2024, 5, 2), 3, 3),), (REGIE_GZ,),
                     (PrivacyEvent(date(2024, 6, 5), 9, True),), referral=Referral("01", None, None))  # fmt: skip
    # Digest form 1, as the closes recorded before digest forms recomputed (trust.md §3).
    declaration = declare(facts, "2024-06", [consult("A1", "2024-06-03")], [], CATALOGUE, form=1)
    assert declaration is not None
    body = declaration.canonical_body()

    assert sorted(body) == ["cluster", "end_date", "lines", "month", "previously_declared", "review_due",
                            "sequence", "start_date", "status", "total", "trajectory"]  # fmt: skip
    assert sorted(body["lines"][0]) == ["activity", "amount", "code", "date", "description", "kind", "late"]
    assert body["cluster"]["code"] == 3  # privacy concerns ZPM declarations only
    raw = orjson.dumps(body, option=orjson.OPT_SORT_KEYS)
    assert declaration.digest == hashlib.sha256(raw).hexdigest() == digest_of(body)


def test_a_zpm_line_has_every_field_of_z6_2_and_the_header_those_of_z6_3() -> None:
    declaration = declare(facts_of({"A1": zpm()}, regie=(REGIE_GZ,)), "2024-06", [consult("A1", "2024-06-03")],
                          [], CATALOGUE)  # fmt: skip
    assert declaration is not None
    body = declaration.to_json()
    assert {"privacy", "regiebehandelaar", "referral"} <= set(body)
    assert body["lines"][0] == {
        "date": "2024-06-03", "code": "CO0497", "description": "Behandeling vanaf 45 min", "amount": 12230,
        "kind": "debit", "activity": "A1", "late": False, "prestatie": "consult", "practitioner": GZ,
        "beroep": "gz_psycholoog", "setting": 1, "start": "09:00", "linked_activity": None, "minutes": 45,
        "role": "02", "zorgvraagtype": None, "privacy": False, "max_amount": 13589,
        "price_basis": "contract:K-3311-2024",
    }  # fmt: skip


def test_the_digest_of_a_zpm_declaration_covers_the_financial_fields_only() -> None:
    def made(practitioner: str, max_amount: int, privacy: tuple[PrivacyEvent, ...] = ()) -> Declaration:
        prestatie = zpm(practitioner=practitioner)._replace(max_amount=max_amount)
        facts = facts_of({"A1": prestatie}, (Clustering(date(2024, 5, 2), 3, 3),), (REGIE_GZ,), privacy,
                         referral=Referral("01", "01234567", None))  # fmt: skip
        # Digest form 1 (zpm.md Z6.7), which closes recorded before digest forms keep.
        declaration = declare(facts, "2024-06", [consult("A1", "2024-06-03")], [], CATALOGUE, form=1)
        assert declaration is not None
        return declaration

    plain = made(GZ, 13589)
    # Practitioner, role and beroep are not digested; the maximum is.
    assert made(KP, 13589).digest == plain.digest
    assert made(GZ, 13590).digest != plain.digest
    # Privacy takes the type off the header (cluster and review_due are digested v1 fields).
    assert made(GZ, 13589, (PrivacyEvent(date(2024, 6, 5), 9, True),)).digest != plain.digest
    # What is stored gives the same digest again (verification and audit recompute it so).
    stored = orjson.loads(plain.canonical_json)
    assert digest_of(stored) == plain.digest
    left = financial(stored)
    assert not {"privacy", "regiebehandelaar", "referral"} & set(left)
    assert sorted(left["lines"][0]) == ["activity", "amount", "code", "date", "description", "kind", "late",
                                        "linked_activity", "max_amount", "prestatie", "price_basis"]  # fmt: skip


def test_a_line_shows_the_effective_minutes_of_a_consult_and_none_for_a_stay_day() -> None:
    assert line_minutes("consult", 44, 45) == 45
    assert line_minutes("group", 30, None) == 30
    assert line_minutes("overleg", 10, None) == 10
    assert line_minutes("stay", None, None) is None


def november() -> dict[str, Any]:
    """zpm.md Z12's November declaration, from its facts: a credit, a late line, group units, under privacy."""
    descriptions = {
        "CO0497": "Behandeling vanaf 45 min GZ-psycholoog setting 1",
        "CO0473": "Behandeling vanaf 45 min klinisch (neuro)psycholoog setting 1",
        "GC0102": "Groepsconsult per patient groep 5 GZ-psycholoog",
        "CO0627": "Behandeling vanaf 60 min GZ-psycholoog setting 1",
    }

    def activity(name: str, on: str, code: str, amount: int, declared: str | None = None) -> Activity:
        return Activity(name, "T-ZPM1", date.fromisoformat(on), code, descriptions[code], amount, None, 1, None,
                        declared)  # fmt: skip

    def prestatie(kind: str, practitioner: str, beroep: str, minutes: int, maximum: int) -> Prestatie:
        return Prestatie(kind, practitioner, beroep, 1 if kind == "consult" else None, None, None, minutes, maximum,
                         "contract:K-3311-2024")  # fmt: skip

    gz = (GZ, "gz_psycholoog")
    prestaties = {
        "A-06": prestatie("consult", *gz, 45, 13589),
        "A-07": prestatie("consult", KP, "klinisch_psycholoog", 45, 17924),
        **{f"G-0{n}": prestatie("group", *gz, 30, 1320) for n in (1, 2, 3)},
        "A-08": prestatie("consult", *gz, 60, 16146),
    }
    facts = TrajectoryFacts(
        "T-ZPM1", date(2024, 10, 1), None, (Clustering(date(2024, 10, 8), 5, 3),), 1, 73730,
        Referral("01", "01234567", date(2024, 9, 20)), (Assignment(date(2024, 10, 1), 3, GZ, "gz_psycholoog"),),
        (PrivacyEvent(date(2024, 11, 5), 14, True),), prestaties,
    )  # fmt: skip
    debits = [activity("A-07", "2024-10-30", "CO0473", 16132)] + [
        activity(f"G-0{n}", "2024-11-12", "GC0102", 1188) for n in (1, 2, 3)
    ] + [activity("A-08", "2024-11-19", "CO0627", 14531)]  # fmt: skip
    credits = [activity("A-06", "2024-10-29", "CO0497", 12230, declared="2024-10")]
    declaration = declare(facts, "2024-11", debits, credits, CATALOGUE)
    assert declaration is not None
    return declaration.to_json()


def test_the_worked_examples_november_declaration_from_its_facts() -> None:
    body = november()
    assert (body["sequence"], body["previously_declared"], body["total"]) == (2, 73730, 21997)
    assert (body["privacy"], body["cluster"], body["review_due"]) == (True, None, None)
    assert [
        (line["activity"], line["kind"], line["role"], line["minutes"], line["late"]) for line in body["lines"]
    ] == [
        ("A-06", "credit", "02", 45, False),
        ("A-07", "debit", "01", 45, True),
        ("G-01", "debit", "02", 30, False),
        ("G-02", "debit", "02", 30, False),
        ("G-03", "debit", "02", 30, False),
        ("A-08", "debit", "02", 60, False),
    ]
    assert {(line["zorgvraagtype"], line["privacy"]) for line in body["lines"]} == {(None, True)}


def test_the_zpm_nota_names_who_delivered_what_for_how_long_on_one_page() -> None:
    text = render_declaration({**november(), "digest": "0" * 64})
    rows = text.splitlines()

    assert max(len(row) for row in rows) <= 80
    assert "Privacyverklaring: ja" in rows
    assert not any("Zorgvraagtype" in row or "Zorgcluster" in row for row in rows)
    assert any(row.startswith("Regiebehandelaar") and "11111111 (gz_psycholoog)" in row for row in rows)
    assert any(row.startswith("Verwijzing") and "01234567" in row and "20 september 2024" in row for row in rows)
    late = rows.index(next(row for row in rows if row.startswith("30-10-2024")))
    block = " ".join(" ".join(rows[late : late + 3]).split())  # the line and the rows under it, as words
    assert "CO0473" in block and "(neuro)psycholoog setting 1 (nagekomen)" in block and "€ 161,32" in block
    assert "door 22222222 (klinisch_psycholoog), 45 minuten" in block
    assert any(row.startswith("Totaal deze maand") and row.endswith("€ 219,97") for row in rows)


def test_a_wrapped_description_never_leaves_a_lone_short_word_on_a_row() -> None:
    description = "Diagnostiek vanaf 60 min GZ-psycholoog setting 1"
    # One character too long for its first row: "setting 1" goes down together, not a lone "1".
    assert _wrap(description, len(description) - 1, 57) == ["Diagnostiek vanaf 60 min GZ-psycholoog", "setting 1"]
    assert _wrap(description, len(description), 57) == [description]
    assert _wrap("Groepsconsult per patient groep 5 GZ-psycholoog", 34, 57) == [
        "Groepsconsult per patient groep 5",
        "GZ-psycholoog",
    ]


def test_a_zpm_nota_without_privacy_shows_the_zorgvraagtype() -> None:
    body = {**november(), "privacy": False, "cluster": {"code": 3, "name": "Niet-psychotisch (matige ernst)"}}
    rows = render_declaration(body).splitlines()
    assert "Privacyverklaring: ja" not in rows
    assert any(row.startswith("Zorgvraagtype") and "3  Niet-psychotisch" in row for row in rows)


def test_totals_count_a_privacy_declarations_lines_under_privacy_and_zpm_fields_per_line() -> None:
    body = november()
    body["lines"].append({"date": "2024-11-20", "activity": "V1", "amount": 500, "kind": "debit"})  # a v1 line
    # Type 3 is in force, but under privacy no line counts by it (zpm.md Z6.4 point 3).
    counts = breakdown(body, Parties("3311", "12345678", None), [Clustering(date(2024, 10, 8), 5, 3)], {}, CATALOGUE)
    total = 21997 + 500

    assert {key: n for (dimension, key), n in counts.items() if dimension == "cluster"} == {"privacy": total}
    assert counts["group", "privacy"] == counts["supercluster", "privacy"] == total
    assert {key: n for (dimension, key), n in counts.items() if dimension == "setting"} == {
        "1": -12230 + 16132 + 14531, "none": 3 * 1188 + 500,
    }  # fmt: skip
    assert {key: n for (dimension, key), n in counts.items() if dimension == "prestatie"} == {
        "consult": -12230 + 16132 + 14531, "group": 3 * 1188, "none": 500,
    }  # fmt: skip
    assert counts["beroep", "klinisch_psycholoog"] == 16132
