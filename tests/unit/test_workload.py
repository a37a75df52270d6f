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
    activities = [r for r in records if r["type"] == "activity_delivered"]
    codes = {r["code"] for r in activities if "code" in r}
    clusters = {r["cluster"] for r in records if r["type"] in ("clustered", "reviewed")}

    assert set(kinds) == {
        "contract_agreed", "trajectory_opened", "assessed", "clustered", "regiebehandelaar_assigned",
        "activity_delivered", "activity_voided", "reviewed", "referred_back", "registered",
    }  # fmt: skip
    assert kinds["activity_delivered"] > kinds["trajectory_opened"] * 5
    assert {"CO0497", "CO0432", "CONSULT", "VERBLIJF", "OV0012"} <= codes
    assert len(clusters) >= 15
    assert 0 not in clusters  # no zorgvraagtype 0 from 2022 (rules.md 3.13)
    # A registration precedes its opening, and January's intake was registered in 2023.
    assert all(r.get("date", r.get("valid_from", "")).startswith("2024-") for r in records if r["type"] != "registered")
    opened = {r["trajectory"]: r["date"] for r in records if r["type"] == "trajectory_opened"}
    assert all(r["date"] <= opened[r["trajectory"]] for r in records if r["type"] == "registered")


def test_a_share_of_the_year_is_billed_as_zpm_prestaties_by_several_professions_and_settings() -> None:
    records = [orjson.loads(line) for line in workload(20_000, seed=1)]
    activities = [r for r in records if r["type"] == "activity_delivered"]
    zpm = [r for r in activities if "prestatie" in r]
    consults = [r for r in zpm if r["prestatie"] == "consult"]

    assert 0.15 < len(zpm) / len(activities) < 0.5
    assert {r["prestatie"] for r in zpm} == {"consult", "group", "overleg", "surcharge", "other"}
    assert len({r["beroep"] for r in consults}) >= 4
    assert {r["setting"] for r in consults} == {1, 2, 3, 4}
    assert any("planned_minutes" in r for r in consults)
    # The contracts come first: they price the care recorded after them.
    assert [r["type"] for r in records[:5]] == ["contract_agreed"] * 5


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
