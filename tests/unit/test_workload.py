"""The bench's synthetic year: seeded, well-formed, and covering what a provider's year holds."""

from __future__ import annotations

from collections import Counter
from datetime import date

import orjson

from ggzledger.bench.workload import workload
from ggzledger.service.records import parse_line

TODAY = date(2026, 1, 1)


def test_the_same_seed_gives_the_same_lines() -> None:
    assert list(workload(3000, seed=7)) == list(workload(3000, seed=7))


def test_another_seed_gives_other_lines() -> None:
    assert list(workload(3000, seed=7)) != list(workload(3000, seed=8))


def test_it_gives_exactly_the_number_of_lines_asked_for() -> None:
    for events in (1, 100, 2000, 20_000):
        assert sum(1 for _ in workload(events)) == events


def test_every_line_is_a_well_formed_record() -> None:
    for line in workload(5000, seed=3):
        assert line.endswith(b"\n")
        parse_line(line, TODAY)  # raises Malformed otherwise


def test_the_year_holds_every_kind_of_trajectory_record_in_2024() -> None:
    records = [orjson.loads(line) for line in workload(20_000, seed=1)]
    kinds = Counter(r["type"] for r in records)
    codes = {r["code"] for r in records if r["type"] == "activity_delivered"}
    clusters = {r["cluster"] for r in records if r["type"] in ("clustered", "reviewed")}

    assert set(kinds) == {
        "trajectory_opened", "assessed", "clustered", "activity_delivered",
        "activity_voided", "reviewed", "referred_back",
    }  # fmt: skip
    assert kinds["activity_delivered"] > kinds["trajectory_opened"] * 5
    assert {"CO0497", "CO0432", "CONSULT", "VERBLIJF"} <= codes
    assert len(clusters) >= 15
    assert all(r["date"].startswith("2024-") for r in records)


def test_reviews_change_the_cluster_up_and_down_sometimes() -> None:
    current: dict[str, int] = {}
    changes = Counter()
    for line in workload(50_000, seed=2):
        record = orjson.loads(line)
        if record["type"] == "clustered":
            current[record["trajectory"]] = record["cluster"]
        elif record["type"] == "reviewed":
            before = current[record["trajectory"]]
            changes["same" if record["cluster"] == before else "changed"] += 1
            current[record["trajectory"]] = record["cluster"]

    assert changes["same"] > changes["changed"] > 0
