"""Input files for tests with several writers: the same trajectories, written from different sources."""

from __future__ import annotations

import re
import subprocess
from typing import Any

import orjson

MONTHS = ("2016-11", "2016-12", "2017-01", "2017-02")


def _honos(seed: int) -> dict[str, int]:
    return {str(item): (seed + item) % 5 for item in range(1, 13)}


def writer_records(tag: str, trajectories: int = 80, activities: int = 24) -> list[dict[str, Any]]:
    """One source's records for trajectories T-0000…: its own activities, plus records every source sends.

    Every source opens, assesses, clusters and reviews each trajectory with the
    same content (so all but one copy are repeats, some recognised by record id)
    and delivers one shared activity; the other activities and a void are the
    source's own (ids start with ``tag``).
    """
    records: list[dict[str, Any]] = []
    for t in range(trajectories):
        number = f"T-{t:04d}"
        common: dict[str, Any] = {"trajectory": number}
        records += [
            {
                "type": "trajectory_opened",
                **common,
                "patient": f"P-{t:04d}",
                "provider": "12345678",
                "insurer": "3311",
                "date": "2016-11-01",
                "region": "Utrecht" if t % 2 else "Zwolle",
            },
            {"type": "assessed", **common, "date": "2016-11-01", "honos": _honos(t)},
            {"type": "clustered", **common, "date": "2016-11-02", "cluster": 1 + t % 8},
            {
                "type": "activity_delivered",
                **common,
                "activity": f"SHARED-{t}",
                "date": "2016-11-03",
                "code": "CONSULT",
                "id": f"rec-shared-{t}",
            },
        ]
        for k in range(activities):
            month = MONTHS[k % len(MONTHS)]
            records.append(
                {
                    "type": "activity_delivered",
                    **common,
                    "activity": f"{tag}-{t}-{k}",
                    "date": f"{month}-{1 + k % 27:02d}",
                    "code": "VERBLIJF" if k % 3 == 0 else "CONSULT",
                    "minutes": 45,
                }
            )
        records += [
            {"type": "reviewed", **common, "date": "2017-01-15", "cluster": 1 + t % 8, "id": f"review-{t}"},
            {
                "type": "activity_voided",
                **common,
                "activity": f"{tag}-{t}-1",
                "date": "2017-02-25",
                "reason": "wrong day",
            },
        ]
    return records


def as_lines(records: list[dict[str, Any]]) -> bytes:
    """JSON lines, as an input file holds them."""
    return b"".join(orjson.dumps(record) + b"\n" for record in records)


_SUMMARY = re.compile(rb"recorded (\d+), unchanged (\d+), refused (\d+)")


def ingest_summary(process: subprocess.Popen[bytes]) -> tuple[int, int, int]:
    """Wait for an ``ingest`` process to succeed; its (recorded, unchanged, refused)."""
    out, err = process.communicate(timeout=300)
    assert process.returncode == 0, err.decode()
    match = _SUMMARY.search(out)
    assert match, out
    return int(match[1]), int(match[2]), int(match[3])
