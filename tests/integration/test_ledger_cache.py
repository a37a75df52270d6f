"""A ledger keeps the trajectories it wrote in memory, and still sees what other processes recorded since."""

from __future__ import annotations

from typing import Any

import orjson

from ggzledger import Ledger, ingest

HONOS = {str(item): 1 for item in range(1, 13)}


def lines(*records: dict[str, Any]) -> list[bytes]:
    return [orjson.dumps(record) for record in records]


def opened(number: str) -> list[dict[str, Any]]:
    return [
        {"type": "trajectory_opened", "trajectory": number, "patient": f"P-{number}", "provider": "12345678",
         "insurer": "3311", "date": "2024-01-02"},
        {"type": "assessed", "trajectory": number, "date": "2024-01-02", "honos": HONOS},
        {"type": "clustered", "trajectory": number, "date": "2024-01-02", "cluster": 3},
        {"type": "activity_delivered", "trajectory": number, "activity": f"{number}-1", "date": "2024-01-03",
         "code": "CONSULT"},
    ]  # fmt: skip


def void(number: str, reason: str, activity: int = 1) -> dict[str, Any]:
    return {"type": "activity_voided", "trajectory": number, "activity": f"{number}-{activity}",
            "date": "2024-01-09", "reason": reason}  # fmt: skip


def delivered(number: str, activity: int) -> dict[str, Any]:
    return {"type": "activity_delivered", "trajectory": number, "activity": f"{number}-{activity}",
            "date": "2024-01-04", "code": "CONSULT"}  # fmt: skip


def refusals(ledger: Ledger, *records: dict[str, Any]) -> list[str]:
    refused: list[str] = []
    ingest(ledger, lines(*records), lambda n, message: refused.append(message))
    return refused


def test_a_change_by_another_process_to_a_held_trajectory_is_seen(db: str) -> None:
    first, second = Ledger(db), Ledger(db)
    assert refusals(first, *opened("T-1"), *opened("T-2")) == []

    assert refusals(second, delivered("T-1", 2)) == []
    assert refusals(first, *opened("T-3")) == []  # a batch that does not touch T-1

    # Judged on a stale copy this would be refused (no activity T-1-2), and nothing would correct it.
    assert refusals(first, void("T-1", "dubbel", activity=2)) == []
    first.close()
    second.close()


def test_a_stale_write_is_retried_on_fresh_state(db: str) -> None:
    first, second = Ledger(db), Ledger(db)
    refusals(first, *opened("T-1"))
    assert refusals(second, void("T-1", "dubbel")) == []

    refused = refusals(first, void("T-1", "verkeerd"))

    assert len(refused) == 1 and "voided already" in refused[0]
    first.close()
    second.close()


def test_changes_recorded_between_two_batches_of_one_process_are_seen(db: str) -> None:
    first, second = Ledger(db), Ledger(db)
    refusals(first, *opened("T-1"))
    refusals(second, *opened("T-2"))
    refusals(first, *opened("T-3"))  # recorded after the other's events: not contiguous with the last batch

    assert refusals(second, delivered("T-3", 2), delivered("T-2", 2)) == []
    assert refusals(first, void("T-3", "dubbel", activity=2), void("T-2", "dubbel", activity=2)) == []
    first.close()
    second.close()
