"""The DBC comparison's arithmetic (docs/analyses.md, DBC comparison), on facts and tables made by hand."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from ggzledger.analyses.dbc import DBC_DAYS, Declared, Delivery, Facts, claims, compare, dbcs
from ggzledger.reference.dbc import DbcTable, DbcTables, shipped_dbc_tables
from ggzledger.reference.tariff_rows import TariffError

DEMO = shipped_dbc_tables()
LATER = date(2030, 1, 1)

# Two tariff years: 2016's Depressie 3000-5999 as the seed's, 2017's dearer, and the stay day too.
TWO_YEARS = DbcTables(
    [
        DbcTable.from_csv(
            "two-years",
            "product,diagnosis_group,min_minutes,max_minutes,description,amount,valid_from,valid_to\n"
            "dbc,depressie,1,2999,Depressie (1-2999),400000,2016-01-01,2016-12-31\n"
            "dbc,depressie,3000,5999,Depressie (3000-5999),785000,2016-01-01,2016-12-31\n"
            "dbc,depressie,1,2999,Depressie (1-2999),420000,2017-01-01,2017-12-31\n"
            "dbc,depressie,3000,5999,Depressie (3000-5999),810000,2017-01-01,2017-12-31\n"
            "stay,,,,Verblijf,40000,2016-01-01,2016-12-31\n"
            "stay,,,,Verblijf,41000,2017-01-01,2017-12-31\n",
        )
    ]
)


def consult(on: date, minutes: int, name: str = "") -> Delivery:
    return Delivery(name or f"C-{on.isoformat()}-{minutes}", on, minutes, stay=False)


def stay(on: date, minutes: int = 0) -> Delivery:
    return Delivery(f"V-{on.isoformat()}", on, minutes, stay=True)


def facts(
    *deliveries: Delivery,
    opened: date = date(2016, 11, 1),
    ended: date | None = date(2017, 2, 21),
    groups: tuple[tuple[date, str], ...] = ((date(2016, 11, 1), "depressie"),),
) -> Facts:
    return Facts("T1", opened, ended, deliveries, groups)


@pytest.mark.parametrize(
    ("minutes", "product", "amount"),
    [
        (2999, "Depressie (1800-2999)", 430000),
        (3000, "Depressie (3000-5999)", 785000),
        (5999, "Depressie (3000-5999)", 785000),
        (6000, "Depressie (6000-11999)", 1390000),
    ],
)
def test_the_minutes_fall_into_the_band_that_holds_them_both_edges_included(
    minutes: int, product: str, amount: int
) -> None:
    [dbc] = dbcs(facts(consult(date(2016, 11, 3), minutes)), DEMO, LATER)

    assert (dbc.minutes, dbc.product, dbc.amount, dbc.table) == (minutes, product, amount, "dbc-demo")


def test_a_dbc_sums_every_minute_of_its_span_stays_included() -> None:
    given = facts(consult(date(2016, 11, 3), 45), stay(date(2016, 11, 10), 150), consult(date(2017, 2, 21), 45))

    [dbc] = dbcs(given, DEMO, LATER)

    assert dbc.minutes == 240
    assert (dbc.start, dbc.end, dbc.closed_by, dbc.claimed_on) == (
        date(2016, 11, 1), date(2017, 2, 21), "referred_back", date(2017, 2, 21),
    )  # fmt: skip


def test_a_dbc_closes_on_its_365th_day_and_a_continuing_trajectory_opens_a_follow_up_the_next_day() -> None:
    opened = date(2017, 3, 1)
    last = opened + timedelta(days=DBC_DAYS - 1)
    given = facts(
        consult(opened, 3000), consult(last, 10), consult(last + timedelta(days=1), 45), opened=opened, ended=None
    )

    first, follow_up = dbcs(given, DEMO, date(2019, 1, 1))

    assert last == date(2018, 2, 28)
    assert (first.start, first.end, first.closed_by, first.minutes) == (opened, last, "365_days", 3010)
    assert (first.claimed_on, first.amount) == (last, 785000)
    # The follow-up is still open on the day asked: it closes a year after its start at the latest.
    assert (follow_up.number, follow_up.start, follow_up.end, follow_up.closed_by, follow_up.claimed_on) == (
        2, date(2018, 3, 1), date(2019, 2, 28), "open", None,
    )  # fmt: skip
    assert follow_up.start == last + timedelta(days=1) and follow_up.minutes == 45


def test_a_follow_up_dbc_that_is_not_yet_a_year_old_is_open_and_claims_nothing() -> None:
    opened = date(2017, 3, 1)
    given = facts(consult(opened, 3000), consult(date(2018, 4, 2), 60), opened=opened, ended=None)

    first, follow_up = dbcs(given, DEMO, date(2018, 6, 1))

    assert first.closed_by == "365_days" and follow_up.closed_by == "open" and follow_up.claimed_on is None
    assert [claim.dbc for claim in claims(given, (first, follow_up), DEMO)] == [1]


def test_a_referral_back_on_the_365th_day_closes_the_dbc_by_the_referral_and_opens_no_follow_up() -> None:
    opened = date(2017, 3, 1)
    last = opened + timedelta(days=DBC_DAYS - 1)

    [dbc] = dbcs(facts(consult(opened, 100), consult(last, 100), opened=opened, ended=last), DEMO, LATER)

    assert (dbc.end, dbc.closed_by) == (last, "referred_back")


def test_a_trajectory_without_care_after_its_dbc_year_opens_no_follow_up() -> None:
    [dbc] = dbcs(facts(consult(date(2017, 3, 1), 100), opened=date(2017, 3, 1), ended=None), DEMO, LATER)

    assert dbc.closed_by == "365_days"


def test_the_tariff_is_the_start_years_for_a_dbc_that_spans_two_tariff_years() -> None:
    # Opened in 2016, closed in 2017: the 2016 price, although every minute but one consult's is of 2017.
    given = facts(consult(date(2016, 12, 20), 45), consult(date(2017, 1, 10), 3000), stay(date(2017, 2, 19)))

    [dbc] = dbcs(given, TWO_YEARS, LATER)
    made = claims(given, [dbc], TWO_YEARS)

    assert (dbc.product, dbc.amount) == ("Depressie (3000-5999)", 785000)
    # A stay day is a product of its own day: 2017's price.
    assert [(c.kind, c.amount) for c in made] == [("dbc", 785000), ("stay", 41000)]


def test_a_follow_up_dbc_is_priced_at_its_own_start_year() -> None:
    given = facts(
        consult(date(2016, 6, 1), 3000), consult(date(2017, 7, 1), 100), opened=date(2016, 6, 1), ended=date(2017, 8, 1)
    )

    first, follow_up = dbcs(given, TWO_YEARS, LATER)

    assert (first.start.year, first.amount) == (2016, 785000)
    assert (follow_up.start, follow_up.closed_by, follow_up.amount) == (date(2017, 6, 1), "referred_back", 420000)


def test_stay_days_are_claimed_at_the_end_of_their_month_or_with_the_dbc_in_the_month_it_closes() -> None:
    given = facts(
        stay(date(2016, 11, 10)), stay(date(2016, 11, 11)), stay(date(2016, 12, 1)), stay(date(2017, 2, 19)),
        stay(date(2017, 2, 21)), consult(date(2016, 11, 3), 3000),
    )  # fmt: skip

    made = claims(given, dbcs(given, DEMO, LATER), DEMO)

    assert [(c.on, c.kind, c.amount, len(c.days)) for c in made] == [
        (date(2016, 11, 30), "stay", 80000, 2),
        (date(2016, 12, 31), "stay", 40000, 1),
        (date(2017, 2, 21), "dbc", 785000, 0),
        (date(2017, 2, 21), "stay", 80000, 2),
    ]


def test_the_diagnosis_group_is_the_latest_given_on_or_before_the_close() -> None:
    groups = ((date(2016, 11, 1), "verslaving"), (date(2017, 1, 5), "depressie"), (date(2017, 3, 1), "angst"))

    [dbc] = dbcs(facts(consult(date(2016, 11, 3), 3000), groups=groups), DEMO, LATER)

    assert (dbc.group, dbc.product) == ("depressie", "Depressie (3000-5999)")


def test_without_a_diagnosis_group_the_dbc_has_no_product_and_the_comparison_no_difference() -> None:
    given = facts(consult(date(2016, 11, 3), 3000), stay(date(2016, 11, 10)), groups=())

    found = compare(given, DEMO, [Declared("2016-11", "issued", 1, 50000)], LATER)

    [dbc] = found.dbcs
    assert (dbc.group, dbc.amount, dbc.problem) == (None, None, "no diagnosis group recorded on or before 2017-02-21")
    # The stay day is still the DBC model's claim; only the DBC itself has no price.
    assert [(c.kind, c.amount) for c in found.claims] == [("stay", 40000), ("dbc", None)]
    assert (found.complete, found.dbc_total, found.difference) == (False, 40000, None)


def test_a_group_without_a_row_for_its_minutes_has_no_product() -> None:
    [dbc] = dbcs(facts(consult(date(2016, 11, 3), 3000), groups=((date(2016, 11, 1), "angst"),)), DEMO, LATER)

    assert dbc.amount is None
    assert dbc.problem == "no DBC table has a angst product for 3000 minutes in force on 2016-11-01"


def test_care_after_2021_has_no_dbc_price_in_the_demo_table() -> None:
    [dbc] = dbcs(
        facts(consult(date(2024, 10, 1), 3000), opened=date(2024, 10, 1), ended=date(2024, 12, 1)), DEMO, LATER
    )

    assert dbc.amount is None and "in force on 2024-10-01" in (dbc.problem or "")


def test_the_months_set_each_claim_beside_the_declaration_of_its_month() -> None:
    given = facts(consult(date(2016, 11, 3), 3000), stay(date(2016, 11, 10)), stay(date(2017, 2, 20)))
    declared = [Declared("2016-11", "issued", 1, 50000), Declared("2017-02", "draft", 2, 40000)]

    found = compare(given, DEMO, declared, LATER)

    assert [(m.month, m.dbc, m.declared, m.status, m.difference) for m in found.months] == [
        ("2016-11", 40000, 50000, "issued", -10000),
        ("2016-12", 0, 0, None, 0),
        ("2017-01", 0, 0, None, 0),
        ("2017-02", 825000, 40000, "draft", 785000),
    ]
    assert (found.dbc_total, found.declared_total, found.draft_total, found.difference) == (
        865000,
        50000,
        40000,
        775000,
    )
    [dbc] = found.dbcs
    assert found.closing_claim(dbc) == 825000


def test_a_dbc_table_refuses_overlapping_bands_and_unknown_groups() -> None:
    header = "product,diagnosis_group,min_minutes,max_minutes,description,amount,valid_from,valid_to\n"
    with pytest.raises(TariffError, match=r"line 3: depressie 100-300 minutes 2016-01-01\.\.no end overlaps line 2"):
        DbcTable.from_csv(
            "x", header + "dbc,depressie,1,200,A,100,2016-01-01,\ndbc,depressie,100,300,B,100,2016-01-01,\n"
        )
    with pytest.raises(TariffError, match="'somber' is not a DBC diagnosis group"):
        DbcTable.from_csv("x", header + "dbc,somber,1,200,A,100,2016-01-01,\n")
    with pytest.raises(TariffError, match="a stay row has no diagnosis_group"):
        DbcTable.from_csv("x", header + "stay,depressie,,,Verblijf,40000,2016-01-01,\n")
    # The same band in another period is no overlap.
    DbcTable.from_csv(
        "x", header + "dbc,depressie,1,200,A,100,2016-01-01,2016-12-31\ndbc,depressie,1,200,A,100,2017-01-01,\n"
    )


def test_the_table_loaded_last_wins_and_a_label_means_one_table() -> None:
    header = "product,diagnosis_group,min_minutes,max_minutes,description,amount,valid_from,valid_to\n"
    later = DbcTable.from_csv("dbc-2018", header + "dbc,depressie,3000,5999,Depressie 2018,800000,2018-01-01,\n")

    tables = DEMO.with_table(later)

    assert tables.product("depressie", 3000, date(2018, 3, 1)) == ("dbc-2018", later.rows[0])
    assert tables.product("depressie", 3000, date(2017, 3, 1))[1].amount == 785000  # type: ignore[index]
    assert tables.with_table(later) is tables
    with pytest.raises(TariffError, match="a different DBC table dbc-2018 is loaded already"):
        tables.with_table(DbcTable.from_csv("dbc-2018", header + "stay,,,,Verblijf,1,2018-01-01,\n"))
