"""Sealed personal fields and their erasure, on both stores: what is stored, what erase changes and what it keeps."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import orjson
import pytest
from jsonschema import Draft202012Validator, FormatChecker

from builders import Clerk, assessed, clustered, delivered, month_closed, opened
from ggzledger import Ledger
from ggzledger.audit.reports import history, totals
from ggzledger.domain.errors import NotAllowed
from ggzledger.feed.public import Feed, schema
from ggzledger.service.erasure import UnknownPatient, erase, reconcile_erasures, trajectories_of
from ggzledger.store.sealing import Sealer

PATIENT = "PAT-ZQ7731"
REFERRER = "Dr. Quirina Vlasblom"
HONOS = {str(item): (item * 3) % 5 for item in range(1, 13)}


def patient_records(
    number: str = "T-Q", patient: str = PATIENT, referrer: str = REFERRER, honos: dict[str, int] = HONOS
) -> list[dict[str, Any]]:
    return [
        opened(number, "2016-11-01", patient=patient, referrer=referrer),
        assessed("2016-11-01", number, honos, assessor="psychiater"),
        clustered("2016-11-01", 4, number),
        delivered(f"{number}-A1", "2016-11-03", number=number, professional="Zr. Ingeborg Plomp"),
        delivered(f"{number}-A2", "2016-12-05", number=number),
    ]


@pytest.fixture
def busy(ledger: Ledger) -> Iterator[Ledger]:
    """A sealed ledger with the patient's trajectory, another patient's, and two closed months."""
    clerk = Clerk(ledger)
    clerk.given(
        *patient_records(),
        *patient_records("T-OTHER", "PAT-OTHER", "huisarts", {str(i): 1 for i in range(1, 13)}),
        month_closed("2016-11"),
    )
    clerk.given(month_closed("2016-12"))
    yield ledger


def stored_states(ledger: Ledger) -> bytes:
    head = ledger.projector.head()
    return b"\n".join(bytes(state) for _p, _t, state in ledger.recorder.select_states(0, head, head))


def test_a_new_ledger_stores_no_personal_value_in_clear(busy: Ledger) -> None:
    stored = stored_states(busy)

    assert busy.keys is not None
    assert PATIENT.encode() not in stored and REFERRER.encode() not in stored and b"Plomp" not in stored
    assert b'"_sealed"' in stored
    # An activity without personal fields stores no envelope (most of them: ingest stays fast).
    (plain,) = [s for s in stored.split(b"\n") if b"T-Q-A2" in s]
    assert b'"_sealed"' not in plain
    # Every read opens them again.
    assert next(Feed(busy.recorder, busy.mapper).lines())["data"]["patient"] == PATIENT


def test_sealing_the_same_fields_twice_gives_different_ciphertexts(busy: Ledger) -> None:
    event = busy.mapper.to_domain_event(_stored(busy, 2))  # T-Q's assessment
    first, second = busy.mapper.to_stored_event(event), busy.mapper.to_stored_event(event)

    assert orjson.loads(first.state)["_sealed"]["c"] != orjson.loads(second.state)["_sealed"]["c"]
    assert busy.mapper.to_domain_event(first).scores == busy.mapper.to_domain_event(second).scores


def _stored(ledger: Ledger, position: int) -> Any:
    from eventsourcing.persistence import StoredEvent

    (n,) = ledger.recorder.select_notifications(position, 1)
    return StoredEvent(n.originator_id, n.originator_version, n.topic, n.state)


def test_a_sealed_value_moved_to_another_event_does_not_open(busy: Ledger) -> None:
    assessed_state = orjson.loads(_stored(busy, 2).state)
    other = orjson.loads(_stored(busy, 7).state)  # T-OTHER's assessment: the same topic, the same kind of fields
    other["_sealed"] = {**assessed_state["_sealed"]}
    sealer = busy.mapper.sealer
    assert isinstance(sealer, Sealer)

    with pytest.raises(Exception, match="do not open with its patient's key"):
        sealer.open("ggzledger.Trajectory.Assessed", other)


def test_erase_keeps_every_declaration_total_and_amount_and_moves_the_clusters_under_erased(busy: Ledger) -> None:
    before = {m: busy.declarations(m) for m in ("2016-11", "2016-12")}
    by = {dim: totals(busy, dim).to_json() for dim in ("month", "insurer", "trajectory", "cluster", "supercluster")}

    receipt = erase(busy, PATIENT, "AVG17")

    assert receipt.trajectories == ("T-Q",) and len(receipt.subject) == 32
    for month, declarations in before.items():
        after = busy.declarations(month)
        financial = ("trajectory", "month", "sequence", "total", "previously_declared", "lines", "digest")
        assert [{k: d[k] for k in financial} for d in after] == [{k: d[k] for k in financial} for d in declarations]
        erased = next(d for d in after if d["trajectory"] == "T-Q")
        assert erased["cluster"] is None and erased["review_due"] is None
        kept = next(d for d in after if d["trajectory"] == "T-OTHER")
        assert kept["cluster"] == {"code": 4, "name": "Psychische aandoening ernstig"}
    for dim in ("month", "insurer", "trajectory"):
        assert totals(busy, dim).to_json() == by[dim]
    for dim in ("cluster", "supercluster"):
        moved = totals(busy, dim).to_json()
        assert moved["total"] == by[dim]["total"]
        assert {row["key"] for row in moved["rows"]} == {row["key"] for row in by[dim]["rows"]} | {"erased"}
    # The history keeps its dates and events; nothing derived from the care need.
    [entry] = history(busy, "T-Q")
    assert (entry.on.isoformat(), entry.event, entry.to_cluster, entry.change, entry.honos_total) == (
        "2016-11-01",
        "clustered",
        None,
        "erased",
        None,
    )


def test_after_erase_every_read_gives_none_for_the_personal_fields_and_the_feed_tells_integrators(busy: Ledger) -> None:
    erase(busy, PATIENT, "WGBO455")
    busy.cache.forget()

    trajectory = busy.load("T-Q")
    lines = [line for line in Feed(busy.recorder, busy.mapper).lines() if line.get("trajectory") == "T-Q"]

    assert (trajectory.patient, trajectory.referrer, trajectory.erased) == (None, None, "WGBO455")
    assert busy.load("T-OTHER").patient == "PAT-OTHER"
    assert [line["data"].get("patient") for line in lines if line["type"] == "trajectory_opened"] == [None]
    assert [(line["data"]["honos"], line["data"]["total"]) for line in lines if line["type"] == "assessed"] == [
        (None, None)
    ]
    last = lines[-1]
    assert last["type"] == "personal_data_erased" and last["data"]["basis"] == "WGBO455"
    for line in lines:
        shipped = schema(line["type"])
        assert not list(Draft202012Validator(shipped, format_checker=FormatChecker()).iter_errors(line)), line
        assert set(line["data"]) == set(shipped["properties"]["data"]["properties"])
    stored = stored_states(busy) + orjson.dumps(busy.declarations("2016-11"))
    assert PATIENT.encode() not in stored


def test_an_erased_trajectory_takes_no_more_records_and_a_returning_patient_gets_a_new_subject(busy: Ledger) -> None:
    first = erase(busy, PATIENT, "AVG17")
    clerk = Clerk(busy)

    message = clerk.refusal(delivered("T-Q-A9", "2016-12-20", number="T-Q"))
    clerk.given(*patient_records("T-Q2"))

    assert "personal data was erased (AVG17)" in message
    assert trajectories_of(busy, first.subject) == ["T-Q"]
    assert busy.load("T-Q2").patient == PATIENT
    second = erase(busy, PATIENT, "AVG17", dry_run=True)
    assert second.subject != first.subject and second.trajectories == ("T-Q2",)
    with pytest.raises(UnknownPatient):
        erase(busy, "PAT-NEVER", "AVG17")


def test_a_rebuild_after_erase_gives_the_views_the_erasure_left(busy: Ledger) -> None:
    erase(busy, PATIENT, "AVG17")
    before = (busy.declarations("2016-11"), totals(busy, "cluster").to_json(), history(busy, "T-Q"))

    busy.projector.rebuild()

    after = (busy.declarations("2016-11"), totals(busy, "cluster").to_json(), history(busy, "T-Q"))
    assert [{k: v for k, v in d.items() if k != "digest"} for d in after[0]] == [
        {k: v for k, v in d.items() if k != "digest"} for d in before[0]
    ]
    assert after[1:] == before[1:]


def test_no_table_holds_an_erased_value(busy: Ledger) -> None:
    erase(busy, PATIENT, "AVG17")
    tables = ("billing_trajectories", "billing_clusterings", "billing_declarations", "history_marks")
    tables += ("history_assessments", "history_entries", "totals_by", "ledger_keys")
    dump = stored_states(busy)
    with busy.store.transaction(write=False) as c:
        for table in tables:
            c.execute(f"SELECT * FROM {table}")
            dump += repr(c.fetchall()).encode()

    assert PATIENT.encode() not in dump and REFERRER.encode() not in dump
    assert orjson.dumps(HONOS) not in dump and orjson.dumps(sorted(HONOS.items(), key=lambda i: int(i[0]))) not in dump
    with busy.store.transaction(write=False) as c:
        c.execute("SELECT patient, referrer FROM billing_trajectories WHERE trajectory = 'T-Q'")
        assert c.fetchall() == [(None, None)]
        c.execute("SELECT COUNT(*) FROM history_assessments WHERE trajectory = 'T-Q'")
        assert c.fetchone()[0] == 0


def test_erase_on_a_plain_ledger_is_refused_with_the_way_out(tmp_path: Any) -> None:
    import shutil
    from pathlib import Path

    copy = tmp_path / "old.db"
    shutil.copy(Path(__file__).parent.parent / "data" / "ledger-0.1.0.db", copy)
    ledger = Ledger(str(copy))
    try:
        assert ledger.keys is None
        with pytest.raises(NotAllowed, match=r"this ledger is plain .*seal --into NEW"):
            erase(ledger, "P-HENK", "AVG17")
    finally:
        ledger.close()


def test_an_erase_cut_off_after_the_key_went_is_finished_by_reconcile_with_the_issued_form_1_digests(
    tmp_path: Any,
) -> None:
    import shutil
    from pathlib import Path

    from ggzledger.service.rebuild import rebuild
    from ggzledger.service.sealing import seal_into

    old = tmp_path / "old.db"
    shutil.copy(Path(__file__).parent.parent / "data" / "ledger-0.1.0.db", old)
    plain = Ledger(str(old))
    seal_into(plain, str(tmp_path / "new.db"))
    plain.close()
    ledger = Ledger(str(tmp_path / "new.db"))
    ledger.projector.rebuild()
    issued = {m: ledger.declaration("T-HENK", m)["digest"] for m in ("2016-11", "2017-02")}  # type: ignore[index]
    keys = ledger.keys
    assert keys is not None
    subject = keys.find("P-HENK")
    assert subject is not None

    # What a killed erase leaves: the key and tombstone gone, no PersonalDataErased yet.
    keys.erase(subject, "AVG17", "2025-01-01T00:00:00+00:00")
    reconciled = reconcile_erasures(ledger)
    rebuilt = rebuild(ledger)

    assert reconciled.erasures_recorded == 1
    assert rebuilt.unreproduced == ()
    assert {m: ledger.declaration("T-HENK", m)["digest"] for m in issued} == issued  # type: ignore[index]
    ledger.close()
