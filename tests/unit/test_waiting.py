"""The arithmetic of waiting times and the regiobeeld, on plain values: percentiles, treatments, quarters, keys."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ggzledger.analyses.regiobeeld import Volume, compose, parse_by, quarter_before
from ggzledger.analyses.waiting import Wait, exceeded, is_treatment, percentile
from ggzledger.reference.regions import UNCODED, UnknownRegion, load_regions
from ggzledger.reference.treeknormen import load_treeknormen

D = date.fromisoformat


def test_percentiles_are_nearest_rank() -> None:
    assert percentile([], 50) is None
    assert percentile([7], 50) == percentile([7], 90) == 7
    assert percentile([4, 1, 3, 2], 50) == 2  # rank ceil(0.5 * 4) = 2: no average of 2 and 3
    assert percentile([4, 1, 3, 2], 90) == 4  # rank ceil(3.6) = 4
    assert percentile(list(range(1, 11)), 90) == 9  # rank 9 of 10
    assert percentile(list(range(1, 101)), 50) == 50


@given(st.lists(st.integers(0, 400), min_size=1), st.integers(1, 100))
def test_a_percentile_is_one_of_the_values_with_at_least_p_percent_at_or_below_it(values: list[int], p: int) -> None:
    found = percentile(values, p)

    assert found in values
    assert sum(1 for v in values if v <= found) * 100 >= p * len(values)
    assert sum(1 for v in values if v < found) * 100 < p * len(values)


@pytest.mark.parametrize(
    ("prestatie", "consult_type", "on", "treats"),
    [
        (None, None, "2024-01-10", False),  # billed by code on the assessment's day: the intake itself
        (None, None, "2024-01-11", True),
        (None, None, "2024-01-09", False),  # before the assessment
        ("consult", "behandeling", "2024-01-10", True),
        ("consult", "diagnostiek", "2024-01-20", False),
        ("group", None, "2024-01-10", True),
        ("stay", None, "2024-01-10", True),
        ("overleg", None, "2024-01-20", False),
        ("surcharge", None, "2024-01-20", False),
        ("other", None, "2024-01-20", False),
    ],
)
def test_what_a_treatment_activity_is(prestatie: str | None, consult_type: str | None, on: str, treats: bool) -> None:
    assert is_treatment(prestatie, consult_type, D(on), D("2024-01-10")) is treats
    assert is_treatment(prestatie, consult_type, D(on), None) is False  # never assessed: nothing treats yet


@pytest.mark.parametrize(
    ("day", "first"),
    [
        ("2017-06-30", "2017-04-01"),
        ("2024-05-15", "2024-02-16"),
        ("2024-05-30", "2024-02-29"),
        ("2024-01-31", "2023-11-01"),
    ],
)
def test_the_quarter_is_the_three_months_that_end_on_the_day(day: str, first: str) -> None:
    assert quarter_before(D(day)) == D(first)


def wait(number: str = "T", registered: str | None = "2024-01-01", assessed: str | None = None,
         treated: str | None = None, ended: str | None = None, region: str = "ZK11",
         form: str | None = "acute") -> Wait:  # fmt: skip
    day = lambda text: None if text is None else D(text)  # noqa: E731
    return Wait(number, region, form, D("2024-01-01"), day(registered), day(assessed), day(treated), day(ended))


@pytest.mark.parametrize(
    ("assessed", "treated", "over"),
    [
        ("2024-01-29", "2024-04-08", []),  # 28, 70, 98
        ("2024-01-30", "2024-04-09", ["aanmeld", "total"]),  # 29, 70, 99
        ("2024-01-29", "2024-04-09", ["behandel", "total"]),  # 28, 71, 99
        ("2024-01-30", None, ["aanmeld"]),  # the other waits have not ended
    ],
)
def test_the_treeknorm_edges(assessed: str, treated: str | None, over: list[str]) -> None:
    found = exceeded(wait(assessed=assessed, treated=treated), load_treeknormen())

    assert [kind for kind, _days, _limit in found] == over


def test_who_is_waiting_on_a_day() -> None:
    day = D("2024-03-01")
    assert wait(registered="2024-02-01").waiting_on(day)
    assert wait(registered="2024-03-01").waiting_on(day)  # registered that day
    assert not wait(registered="2024-03-02").waiting_on(day)
    assert wait(registered="2024-02-01", treated="2024-03-02").waiting_on(day)
    assert not wait(registered="2024-02-01", treated="2024-03-01").waiting_on(day)
    assert not wait(registered="2024-02-01", ended="2024-02-28").waiting_on(day)  # referred back untreated
    assert not wait(registered=None).waiting_on(day)


def test_compose_keys_rows_by_the_dimensions_asked_and_sums_the_whole() -> None:
    waits = [
        wait("A", assessed="2024-01-10", treated="2024-01-20"),
        wait("B", registered="2024-01-15", region="ZK12", form=None),
        wait("C", assessed="2024-01-05", treated="2024-01-06", region=UNCODED, form=None),
    ]
    groups = {"A": ("I.a", 4), "C": ("II.b", 3)}
    volumes = [Volume("A", None, "2024-01", 2, 20000), Volume("A", "clinical", "2024-01", 1, 40000),
               Volume("C", None, "2023-12", 1, 10000), Volume("Z", None, "2024-01", 9, 9)]  # fmt: skip

    beeld = compose(waits, groups, volumes, D("2024-01-31"), ("care_form", "region")).to_json()

    keys = [(row["care_form"], row["region"]) for row in beeld["rows"]]
    assert keys == [("acute", "ZK11"), ("clinical", "ZK11"), ("none", "ZK12"), ("none", "uncoded")]
    acute = beeld["rows"][0]
    assert (acute["waiting"], acute["in_care"], acute["complex"]) == (0, 1, 1)
    assert acute["volume"]["2024-01"] == {"activities": 2, "amount": 20000}
    assert beeld["rows"][1]["volume"]["2024-01"] == {"activities": 1, "amount": 40000}
    # Volume of a trajectory not among the waits (Z) is not counted.
    assert beeld["total"]["volume"]["2024-01"] == {"activities": 3, "amount": 60000}
    assert beeld["total"]["volume"]["2023-12"] == {"activities": 1, "amount": 10000}
    assert beeld["total"]["waiting"] == 1
    by_group = compose(waits, groups, volumes, D("2024-01-31"), ("group",)).to_json()["rows"]
    assert [row["group"] for row in by_group] == ["I.a", "II.b", "unclustered"]


def test_by_takes_known_dimensions_once() -> None:
    assert parse_by("region,care_form,group") == ("region", "care_form", "group")
    assert parse_by("group") == ("group",)
    with pytest.raises(ValueError, match="'insurer' is not one of region, care_form, group"):
        parse_by("region,insurer")
    with pytest.raises(ValueError, match="twice"):
        parse_by("region,region")


def test_the_region_list_has_31_zorgkantoorregios_and_reads_free_text_by_exact_name() -> None:
    regions = load_regions()

    assert len(regions) == 31 and len(set(regions.codes)) == 31
    assert regions.lookup("ZK11").name == "Utrecht"
    assert regions.code_of("Utrecht") == regions.code_of(" UTRECHT ") == regions.code_of("ZK11") == "ZK11"
    assert regions.code_of("Amersfoort") == regions.code_of("Utrecht-Oost") == regions.code_of(None) == UNCODED
    with pytest.raises(UnknownRegion, match="'ZK32' is not a code of the 31 zorgkantoorregio's"):
        regions.lookup("ZK32")


def test_the_treeknormen_are_4_10_and_14_weeks() -> None:
    norm = load_treeknormen().lookup(D("2024-06-01"))

    assert (norm.aanmeld_days, norm.behandel_days, norm.total_days) == (28, 70, 98)
    assert load_treeknormen().lookup(D("1990-01-01")) == norm  # before the first version: the first
