"""Input records as the contract writes them, Meneer Henk's file, and a clerk that sends records to a ledger."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ggzledger import Ledger, Summary, ingest

# The seed's worked example (docs/overview.md) and the four declarations worked out for it by hand.
HENK = Path(__file__).parent / "data" / "meneer-henk.jsonl"
HENK_EXPECTED = Path(__file__).parent / "data" / "meneer-henk.expected.json"
# The zorgprestatiemodel's worked example (zpm.md Z12) and what it must give, copied from ../shared/scenarios.
ZPM_EXAMPLE = Path(__file__).parent / "data" / "zpm-example.jsonl"
ZPM_EXPECTED = Path(__file__).parent / "data" / "zpm-example.expected.json"

# A HoNOS+ rating with every required item, all "no problem".
HONOS: dict[str, int] = {str(item): 0 for item in range(1, 13)}

Record = dict[str, Any]


def opened(number: str = "T1", on: str = "2016-11-01", **extra: Any) -> Record:
    return {
        "type": "trajectory_opened",
        "trajectory": number,
        "patient": f"P-{number}",
        "provider": "12345678",
        "insurer": "3311",
        "date": on,
        **extra,
    }


def assessed(on: str, number: str = "T1", honos: dict[str, Any] | None = None, **extra: Any) -> Record:
    return {"type": "assessed", "trajectory": number, "date": on, "honos": HONOS if honos is None else honos, **extra}


def clustered(on: str, cluster: Any = 4, number: str = "T1", **extra: Any) -> Record:
    return {"type": "clustered", "trajectory": number, "date": on, "cluster": cluster, **extra}


def delivered(activity: str, on: str, code: str = "CONSULT", number: str = "T1", **extra: Any) -> Record:
    return {"type": "activity_delivered", "trajectory": number, "activity": activity, "date": on, "code": code, **extra}


def voided(activity: str, on: str, number: str = "T1", **extra: Any) -> Record:
    return {"type": "activity_voided", "trajectory": number, "activity": activity, "date": on, **extra}


def reviewed(on: str, cluster: Any = 4, number: str = "T1", **extra: Any) -> Record:
    return {"type": "reviewed", "trajectory": number, "date": on, "cluster": cluster, **extra}


def referred_back(on: str, to: str = "huisarts", number: str = "T1", **extra: Any) -> Record:
    return {"type": "referred_back", "trajectory": number, "date": on, "to": to, **extra}


def month_closed(month: str, **extra: Any) -> Record:
    return {"type": "month_closed", "month": month, **extra}


def care_need(number: str = "T1", on: str = "2016-11-01", cluster: int = 4) -> list[Record]:
    """A trajectory opened, assessed and clustered on one day: ready for activities and reviews."""
    return [opened(number, on), assessed(on, number), clustered(on, cluster, number)]


def henk_lines(closes: bool = True) -> list[bytes]:
    """Meneer Henk's input lines; without his ``month_closed`` records when ``closes`` is false."""
    lines = HENK.read_bytes().splitlines()
    return lines if closes else [line for line in lines if b'"month_closed"' not in line]


def meneer_henk(ledger: Ledger, *more: Record, closes: bool = True) -> Summary:
    """Meneer Henk's file ingested into ``ledger``, then ``more`` records; fails unless every line is accepted."""
    refused: list[str] = []
    lines = [*henk_lines(closes), *(as_line(record).encode() for record in more)]
    summary = ingest(ledger, lines, lambda n, message: refused.append(f"line {n}: {message}"))
    assert refused == [], refused
    return summary


def as_line(record: Record | str) -> str:
    """A record as one input line; a str is sent as it is (for malformed input)."""
    return record if isinstance(record, str) else json.dumps(record)


class Clerk:
    """Sends records to a ledger as `ggzledger ingest` does, and keeps the messages a user would see."""

    def __init__(self, ledger: Ledger) -> None:
        self.ledger = ledger
        self.messages: list[str] = []

    def send(self, *records: Record | str) -> tuple[int, int, int]:
        """Ingest the records as one input; returns (recorded, unchanged, refused)."""
        self.messages = []
        summary = ingest(
            self.ledger, [as_line(r) for r in records], lambda n, message: self.messages.append(f"line {n}: {message}")
        )
        return summary.recorded, summary.unchanged, summary.refused

    def given(self, *records: Record) -> None:
        """Records that must all be recorded: the history a test starts from."""
        counts = self.send(*records)
        assert counts == (len(records), 0, 0), self.messages

    def accepts(self, *records: Record) -> None:
        """Records none of which may be refused; a repeat is accepted, and changes nothing."""
        counts = self.send(*records)
        assert counts[2] == 0, self.messages

    def refusal(self, record: Record | str) -> str:
        """The one message a single refused record gives; fails when it was not refused."""
        counts = self.send(record)
        assert counts == (0, 0, 1), (counts, self.messages)
        return self.messages[0]


# A test BSN (it passes the elfproef) and a birth date: what a claim needs of the example's patient.
INSURED = {"bsn": "999999990", "birth_date": "1984-03-12"}


def zpm_example(ledger: Ledger, **opening: Any) -> Summary:
    """The ZPM worked example ingested, its opening given ``opening`` too (e.g. INSURED); A-09 and A-10 are refused."""
    lines = []
    for line in ZPM_EXAMPLE.read_bytes().splitlines():
        record = json.loads(line)
        if record["type"] == "trajectory_opened":
            record.update(opening)
        lines.append(json.dumps(record).encode())
    summary = ingest(ledger, lines, lambda n, message: None)
    assert (summary.recorded, summary.refused) == (20, 2), summary
    return summary
