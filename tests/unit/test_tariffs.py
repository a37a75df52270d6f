"""Tariff tables and the registry that prices an activity code on a date (rules.md §4)."""

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ggzledger.reference import (
    NoTariff,
    PricedCode,
    TariffError,
    TariffRow,
    Tariffs,
    TariffTable,
    load_tariffs,
    shipped_tables,
)

HEADER = "code,description,unit,amount,valid_from,valid_to\n"


def table(version, *lines, source="tariffs.csv"):
    return TariffTable.from_csv(version, HEADER + "".join(line + "\n" for line in lines), source=source)


# --- the shipped tables ------------------------------------------------------------------------


def test_the_shipped_tables_are_demo_2017_zpm_2024_and_then_zpm_2024b_and_zpm_2025():
    # zpm.md Z5.6: the v2 tables load after zpm-2024, which stays for the labels in stored events.
    assert [t.version for t in shipped_tables()] == ["demo-2017", "zpm-2024", "zpm-2024b", "zpm-2025"]
    assert load_tariffs().tables == shipped_tables()


def test_the_demo_table_prices_the_seeds_consult_and_stay_day():
    tariffs = load_tariffs()
    consult = tariffs.lookup("CONSULT", date(2017, 2, 15))
    stay = tariffs.lookup("VERBLIJF", date(2017, 2, 19))
    assert consult == PricedCode("CONSULT", "Consult", "consult", 10000, "demo-2017")
    assert stay == PricedCode("VERBLIJF", "Verblijf", "day", 40000, "demo-2017")


def test_the_demo_table_has_no_end():
    assert load_tariffs().lookup("CONSULT", date(2030, 1, 1)).amount == 10000
    with pytest.raises(NoTariff):
        load_tariffs().lookup("CONSULT", date(2015, 12, 31))


# domain.md §4.2, 2024 column, copied from the spec.
NZA_2024 = {
    "CO0432": 15970,
    "CO0497": 13589,
    "CO0562": 18344,
    "CO0627": 16146,
    "OV0007": 2505,
    "OV0008": 7535,
    "OV0012": 13182,
}


@pytest.mark.parametrize("code", sorted(NZA_2024))
def test_the_zpm_2024_table_holds_the_nza_maximum_tariffs_for_2024(code):
    (zpm,) = [t for t in shipped_tables() if t.version == "zpm-2024"]
    row = zpm.lookup(code, date(2024, 6, 1))
    assert row is not None
    assert (row.amount, row.valid_from, row.valid_to) == (
        NZA_2024[code],
        date(2024, 1, 1),
        date(2024, 12, 31),
    )
    assert zpm.codes == frozenset(NZA_2024)


def test_zpm_2024_descriptions_are_dutch():
    (zpm,) = [t for t in shipped_tables() if t.version == "zpm-2024"]
    assert zpm.lookup("CO0432", date(2024, 3, 1)).description == "Diagnostiek 45 min"
    assert zpm.lookup("CO0627", date(2024, 3, 1)).description == "Behandeling 60 min"


def test_a_2024_code_is_priced_from_zpm_2024b_which_is_loaded_after_zpm_2024():
    priced = load_tariffs().lookup("CO0432", date(2024, 3, 1))
    assert (priced.amount, priced.table) == (15970, "zpm-2024b")


def test_zpm_2024_is_not_in_force_outside_2024():
    tariffs = load_tariffs()
    for day in (date(2023, 12, 31), date(2025, 1, 1)):
        with pytest.raises(NoTariff):
            tariffs.lookup("CO0432", day)


# --- rows and lookup ---------------------------------------------------------------------------


def test_valid_to_is_inclusive():
    row = TariffRow("X", "x", "consult", 100, date(2024, 1, 1), date(2024, 1, 31))
    assert row.in_force(date(2024, 1, 1))
    assert row.in_force(date(2024, 1, 31))
    assert not row.in_force(date(2024, 2, 1))
    assert not row.in_force(date(2023, 12, 31))


def test_a_row_without_valid_to_is_in_force_from_valid_from_on():
    row = TariffRow("X", "x", "consult", 100, date(2024, 1, 1))
    assert row.in_force(date(9999, 12, 31))
    assert not row.in_force(date(2023, 12, 31))


def test_a_table_finds_the_row_in_force_among_successive_periods():
    prices = table("t", "X,x,consult,100,2023-01-01,2023-12-31", "X,x,consult,110,2024-01-01,")
    assert prices.lookup("X", date(2023, 12, 31)).amount == 100
    assert prices.lookup("X", date(2024, 1, 1)).amount == 110
    assert prices.lookup("X", date(2022, 12, 31)) is None
    assert prices.lookup("Y", date(2024, 1, 1)) is None


def test_lookup_outside_every_validity_raises_no_tariff_naming_code_and_date():
    with pytest.raises(NoTariff, match=r"^no tariff for code 'CO9999' in force on 2024-03-01$"):
        load_tariffs().lookup("CO9999", date(2024, 3, 1))


def test_no_tariff_is_a_lookup_error():
    with pytest.raises(LookupError):
        load_tariffs().lookup("CO0432", date(2025, 3, 1))


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("amount", 0),
        ("amount", -100),
        ("amount", 1.5),
        ("amount", True),
        ("unit", "hour"),
        ("code", ""),
        ("code", "CO 0432"),
        ("description", " "),
        ("description", "a\nb"),
        ("valid_from", "2024-01-01"),
    ],
)
def test_a_row_with_a_bad_value_is_refused(field, value):
    fields = {
        "code": "X",
        "description": "x",
        "unit": "consult",
        "amount": 100,
        "valid_from": date(2024, 1, 1),
    }
    with pytest.raises(TariffError, match=field):
        TariffRow(**(fields | {field: value}))


def test_a_row_whose_valid_to_lies_before_its_valid_from_is_refused():
    with pytest.raises(TariffError, match="valid_to 2023-12-31 is before valid_from 2024-01-01"):
        TariffRow("X", "x", "consult", 100, date(2024, 1, 1), date(2023, 12, 31))


def test_overlapping_periods_of_one_code_in_one_table_are_refused():
    rows = [
        TariffRow("X", "x", "consult", 100, date(2024, 1, 1), date(2024, 6, 30)),
        TariffRow("X", "x", "consult", 110, date(2024, 6, 30)),
    ]
    with pytest.raises(TariffError) as refused:
        TariffTable("t", rows)
    assert str(refused.value) == "table t: code 'X' 2024-06-30.. overlaps 2024-01-01..2024-06-30"


def test_the_same_period_for_different_codes_is_fine():
    prices = table("t", "X,x,consult,100,2024-01-01,", "Y,y,day,200,2024-01-01,")
    assert prices.codes == {"X", "Y"}


# --- the registry ------------------------------------------------------------------------------


def test_the_table_added_last_wins_where_both_have_the_code_in_force():
    user = table("user-2017", "CONSULT,Consult (gecontracteerd),consult,9500,2017-01-01,2017-12-31")
    tariffs = load_tariffs().with_table(user)
    assert tariffs.lookup("CONSULT", date(2017, 2, 15)) == PricedCode(
        "CONSULT", "Consult (gecontracteerd)", "consult", 9500, "user-2017"
    )


def test_an_earlier_table_still_prices_the_dates_the_later_one_does_not_cover():
    user = table("user-2017", "CONSULT,Consult,consult,9500,2017-01-01,2017-12-31")
    tariffs = load_tariffs().with_table(user)
    assert tariffs.lookup("CONSULT", date(2016, 12, 31)).table == "demo-2017"
    assert tariffs.lookup("CONSULT", date(2018, 1, 1)).table == "demo-2017"


def test_with_table_leaves_the_original_registry_unchanged():
    original = load_tariffs()
    extended = original.with_table(table("user", "NEW,n,item,1,2024-01-01,"))
    shipped = ["demo-2017", "zpm-2024", "zpm-2024b", "zpm-2025"]
    assert [t.version for t in original.tables] == shipped
    assert [t.version for t in extended.tables] == [*shipped, "user"]
    with pytest.raises(NoTariff):
        original.lookup("NEW", date(2024, 1, 1))


def test_a_different_table_under_a_version_already_loaded_is_refused():
    clash = table("zpm-2024", "CO0432,Diagnostiek 45 min,consult,1,2024-01-01,2024-12-31")
    with pytest.raises(TariffError, match="'zpm-2024' is loaded already"):
        load_tariffs().with_table(clash)


def test_loading_the_same_table_again_changes_nothing():
    tariffs = load_tariffs()
    assert tariffs.with_table(shipped_tables()[0]).tables == tariffs.tables


def test_the_registry_accepts_only_tables():
    with pytest.raises(TypeError):
        Tariffs(["demo-2017"])


def test_an_empty_registry_prices_nothing():
    with pytest.raises(NoTariff):
        Tariffs([]).lookup("CONSULT", date(2017, 1, 1))


# --- reading CSV -------------------------------------------------------------------------------


def test_a_csv_table_is_read_with_empty_valid_to_as_no_end():
    prices = table("t", "X,Consult, lang,consult,100,2024-01-01,".replace("Consult, lang", '"Consult, lang"'))
    assert prices.rows == (TariffRow("X", "Consult, lang", "consult", 100, date(2024, 1, 1), None),)


def test_blank_lines_a_byte_order_mark_and_crlf_line_ends_are_accepted():
    text = "\ufeff" + HEADER.replace("\n", "\r\n") + "\r\nX,x,consult,100,2024-01-01,2024-12-31\r\n\r\n"
    assert TariffTable.from_csv("t", text).lookup("X", date(2024, 12, 31)).amount == 100


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("X,x,consult,12,5,2024-01-01,", "line 3: expected 6 fields, found 7"),
        ('X,x,consult,"12,5",2024-01-01,', "line 3: amount '12,5' is not an integer number of cents"),
        ("X,x,consult,12.50,2024-01-01,", "line 3: amount '12.50' is not an integer number of cents"),
        ("X,x,consult,-100,2024-01-01,", "line 3: amount '-100' is not an integer number of cents"),
        ("X,x,consult,0,2024-01-01,", "line 3: amount 0 must be a positive integer number of cents"),
        ("X,x,hour,100,2024-01-01,", "line 3: unit 'hour' is not one of consult, day, item"),
        ("X,x,consult,100,2024-02-30,", "line 3: valid_from '2024-02-30' is not a YYYY-MM-DD date"),
        ("X,x,consult,100,20240101,", "line 3: valid_from '20240101' is not a YYYY-MM-DD date"),
        ("X,x,consult,100,,", "line 3: valid_from '' is not a YYYY-MM-DD date"),
        ("X,x,consult,100,2024-01-01,31-12-2024", "line 3: valid_to '31-12-2024' is not a YYYY-MM-DD date"),
        (
            "X,x,consult,100,2024-01-01,2023-12-31",
            "line 3: valid_to 2023-12-31 is before valid_from 2024-01-01",
        ),
        (",x,consult,100,2024-01-01,", "line 3: code '' must be non-empty text without spaces"),
        (
            "X,,consult,100,2024-01-01,",
            "line 3: description '' must be non-empty text without control characters",
        ),
    ],
)
def test_a_bad_csv_line_is_refused_naming_the_file_and_line(line, message):
    with pytest.raises(TariffError) as refused:
        table("t", "OK,ok,consult,100,2024-01-01,", line)
    assert str(refused.value) == f"tariffs.csv {message}"


def test_overlapping_csv_rows_are_refused_naming_both_lines():
    with pytest.raises(TariffError) as refused:
        table(
            "t",
            "X,x,consult,100,2024-01-01,2024-12-31",
            "Y,y,day,1,2024-01-01,",
            "X,x,consult,110,2024-07-01,",
        )
    assert str(refused.value) == "tariffs.csv line 4: code 'X' 2024-07-01.. overlaps line 2 (2024-01-01..2024-12-31)"


def test_a_csv_with_a_wrong_header_is_refused():
    with pytest.raises(TariffError, match=r"^prices\.csv line 1: header must be code,description,unit,amount"):
        TariffTable.from_csv("t", "code,omschrijving,eenheid,bedrag,van,tot\n", source="prices.csv")


def test_an_empty_csv_is_refused():
    with pytest.raises(TariffError, match=r"^empty\.csv: empty"):
        TariffTable.from_csv("t", "\n\n", source="empty.csv")


def test_a_csv_with_only_a_header_is_refused():
    with pytest.raises(TariffError, match="no tariff rows"):
        TariffTable.from_csv("t", HEADER)


def test_a_csv_with_an_unterminated_quote_is_refused_with_its_line():
    with pytest.raises(TariffError, match=r"^<csv> line \d+: "):
        TariffTable.from_csv("t", HEADER + 'X,"x,consult,100,2024-01-01,\n')


def test_a_table_needs_a_version_label_without_spaces():
    with pytest.raises(TariffError, match="version"):
        table("my table", "X,x,consult,100,2024-01-01,")


@given(
    amount=st.integers(min_value=1, max_value=10**12),
    start=st.dates(min_value=date(2000, 1, 1), max_value=date(2100, 1, 1)),
    days=st.integers(min_value=0, max_value=3650),
)
def test_a_row_written_to_csv_reads_back_equal(amount, start, days):
    end = date.fromordinal(start.toordinal() + days)
    prices = table("t", f"X,Consult,consult,{amount},{start},{end}")
    assert prices.rows == (TariffRow("X", "Consult", "consult", amount, start, end),)
    assert prices.lookup("X", start) == prices.lookup("X", end) == prices.rows[0]
