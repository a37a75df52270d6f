"""A sealed ledger's record fingerprints are keyed per patient: they tell repeats, and give away no sealed value."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import orjson
import pytest

from builders import Clerk, assessed, clustered, opened
from ggzledger import Ledger
from ggzledger.audit.access_log import AccessLog, Entry
from ggzledger.service.erasure import erase
from ggzledger.service.records import parse_line
from ggzledger.service.sealing import make_plain, seal_into
from ggzledger.service.tokens import TokenCheck, Tokens

PATIENT = "PAT-FP4410"
HONOS = {str(item): item % 4 for item in range(1, 13)}
TODAY = date(2017, 6, 1)


def records(cluster: int) -> list[dict[str, object]]:
    return [
        opened("T-FP", "2016-11-01", patient=PATIENT, referrer="huisarts Brons"),
        assessed("2016-11-01", "T-FP", HONOS),
        clustered("2016-11-02", cluster, "T-FP", id="R-C"),
    ]


def stored_fingerprints(ledger: Ledger) -> set[str]:
    head = ledger.projector.head()
    states = [orjson.loads(bytes(s)) for _p, _t, s in ledger.recorder.select_states(0, head, head)]
    return {state["fingerprint"] for state in states if "fingerprint" in state}


def guessed_clusters(ledger: Ledger) -> list[int]:
    """What someone holding only the ledger learns by trying every cluster against the stored fingerprints."""
    stored = stored_fingerprints(ledger)
    return [
        cluster
        for cluster in range(0, 30)
        if parse_line(json.dumps(clustered("2016-11-02", cluster, "T-FP", id="R-C")), TODAY).fingerprint in stored
    ]


def test_the_clustering_cannot_be_guessed_from_a_sealed_ledgers_fingerprints_as_it_can_from_a_plain_ones(
    ledger: Ledger, tmp_path: Path
) -> None:
    Clerk(ledger).given(*records(cluster=7))
    plain = Ledger(str(tmp_path / "plain.db"))
    make_plain(plain)
    Clerk(plain).given(*records(cluster=7))

    # The plain ledger (as before sealing) gives its cluster away in one guess of about twenty.
    assert guessed_clusters(plain) == [7]
    assert guessed_clusters(ledger) == []
    plain.close()


def test_a_repeat_is_still_told_and_after_erasure_refused_as_erased(ledger: Ledger) -> None:
    clerk = Clerk(ledger)
    clerk.given(*records(cluster=4))

    assert clerk.send(*records(cluster=4)) == (0, 3, 0)
    assert "with other content" in clerk.refusal(clustered("2016-11-02", 5, "T-FP", id="R-C"))

    erase(ledger, PATIENT, "AVG17")
    message = clerk.refusal(records(cluster=4)[2])
    assert "personal data was erased (AVG17)" in message


@pytest.mark.parametrize("db", ["sqlite"], indirect=True)
def test_a_sealed_copy_keys_the_fingerprints_and_tells_the_old_records_as_repeats(db: str, tmp_path: Path) -> None:
    plain = Ledger(db)
    make_plain(plain)
    Clerk(plain).given(*records(cluster=6), {**clustered("2016-12-01", 5, "T-FP"), "id": "R-1"})
    copied_from = stored_fingerprints(plain)
    seal_into(plain, str(tmp_path / "sealed.db"))
    plain.close()

    sealed = Ledger(str(tmp_path / "sealed.db"))
    clerk = Clerk(sealed)

    assert not copied_from & stored_fingerprints(sealed)
    assert clerk.send(*records(cluster=6), {**clustered("2016-12-01", 5, "T-FP"), "id": "R-1"}) == (0, 4, 0)
    assert "with other content" in clerk.refusal({**clustered("2016-12-01", 3, "T-FP"), "id": "R-1"})
    sealed.close()


@pytest.mark.parametrize("db", ["sqlite"], indirect=True)
def test_a_sealed_copy_keeps_the_tokens_and_the_access_log_with_its_chain(db: str, tmp_path: Path) -> None:
    plain = Ledger(db)
    make_plain(plain)
    Clerk(plain).given(*records(cluster=6))
    tokens, log = Tokens(plain.store), AccessLog(plain.store)
    tokens.create()
    log.create()
    token = tokens.add("kassa", "auditor")
    log.append(
        [
            Entry("kassa", "GET /trajectories/T-FP/history", "T-FP", "allowed"),
            Entry("os:root", "invoice", "T-FP", "allowed"),
        ]
    )
    seal_into(plain, str(tmp_path / "sealed.db"))
    plain.close()

    sealed = Ledger(str(tmp_path / "sealed.db"))
    copied = AccessLog(sealed.store)

    assert [(r.who, r.what) for r in copied.rows()] == [
        ("kassa", "GET /trajectories/T-FP/history"),
        ("os:root", "invoice"),
    ]
    assert copied.verify().id is None
    caller = TokenCheck(Tokens(sealed.store)).caller(token)
    assert caller is not None and (caller.name, caller.role) == ("kassa", "auditor")
    sealed.close()
