"""Tariff tables version 2 (zpm.md Z5.1) and finding a ZPM record's row by key and band (Z4.3)."""

from datetime import date

import pytest

from cli import no_traceback
from ggzledger.reference import Found, NoTariff, TariffError, TariffRow, Tariffs, TariffTable, load_tariffs
from ggzledger.reference.kinds import BANDS, band_of
from processes import run_cli

HEADER = (
    "code,description,unit,amount,valid_from,valid_to,tariff_type,kind,consult_type,setting,beroep_category,"
    "min_minutes,group_size,unit_minutes,care_level,security_level,surcharge_type\n"
)
Y2024 = "2024-01-01,2024-12-31"


def v2(version, *lines, source="zpm.csv"):
    return TariffTable.from_csv(version, HEADER + "".join(line + "\n" for line in lines), source=source)


def consult_row(code, band, amount, *, period=Y2024, consult_type="diagnostiek", setting=3, category="overig"):
    return (
        f"{code},Diagnostiek vanaf {band} min,consult,{amount},{period},maximum,consult,"
        f"{consult_type},{setting},{category},{band},,,,,"
    )


def every_band(prefix="CD", amount=1000, **key):
    return [consult_row(f"{prefix}{band:04d}", band, amount + band, **key) for band in BANDS["consult"]]


def refusal(*lines):
    with pytest.raises(TariffError) as refused:
        v2("t", *lines)
    return str(refused.value)


# --- loading ------------------------------------------------------------------------------------


def test_a_v2_row_carries_its_tariff_type_kind_and_key_columns():
    [row] = v2("t", consult_row("CO0302", 30, 11420, setting=1, category="gz_psycholoog")).rows
    assert row == TariffRow(
        "CO0302", "Diagnostiek vanaf 30 min", "consult", 11420, date(2024, 1, 1), date(2024, 12, 31),
        tariff_type="maximum", kind="consult", consult_type="diagnostiek", setting=1,
        beroep_category="gz_psycholoog", min_minutes=30,
    )  # fmt: skip


def test_an_empty_tariff_type_is_maximum_and_a_vrij_tariff_may_have_no_amount():
    table = v2(
        "t",
        f"OV0012,Niet-basispakket,consult,13182,{Y2024},,other,,,,,,,,,",
        f"XX0001,Vrij,item,,{Y2024},vrij,other,,,,,,,,,",
    )
    assert [(row.tariff_type, row.amount) for row in table.rows] == [("maximum", 13182), ("vrij", None)]


def test_a_v1_table_keeps_loading_with_every_zpm_column_empty():
    table = TariffTable.from_csv("v1", "code,description,unit,amount,valid_from,valid_to\nX,x,item,5,2024-01-01,\n")
    [row] = table.rows
    assert (row.tariff_type, row.kind, row.min_minutes) == ("maximum", None, None)


@pytest.mark.parametrize(
    ("line", "why"),
    [
        (f"A,a,consult,1,{Y2024},maximum,consult,,3,overig,45,,,,,", "kind consult needs consult_type"),
        (f"A,a,consult,1,{Y2024},maximum,consult,diagnostiek,,overig,45,,,,,", "kind consult needs setting"),
        (f"A,a,consult,1,{Y2024},maximum,consult,diagnostiek,3,,45,,,,,", "kind consult needs beroep_category"),
        (f"A,a,consult,1,{Y2024},maximum,consult,diagnostiek,3,overig,,,,,,", "kind consult needs min_minutes"),
        (f"A,a,consult,1,{Y2024},maximum,group,,,overig,,5,,,,", "kind group needs unit_minutes"),
        (f"A,a,consult,1,{Y2024},maximum,group,,,overig,,,30,,,", "kind group needs group_size"),
        (f"A,a,day,1,{Y2024},maximum,stay,,5,,,,,,,", "kind stay needs care_level"),
        (f"A,a,item,1,{Y2024},maximum,surcharge,,,,1,,,,,", "kind surcharge needs surcharge_type"),
        (f"A,a,item,1,{Y2024},maximum,overleg,,1,overig,5,,,,,", "beroep_category must be empty for kind overleg"),
        (f"A,a,consult,1,{Y2024},maximum,group,,1,overig,,5,30,,,", "setting must be empty for kind group"),
        (f"A,a,item,1,{Y2024},maximum,other,,3,,,,,,,", "setting must be empty for kind other"),
        (f"A,a,item,1,{Y2024},maximum,surcharge,,,,,,,,,reistijd", None),  # a surcharge without bands is fine
        (f"A,a,item,1,{Y2024},,,,,,30,,,,,", "min_minutes must be empty for kind (none)"),
        (f"A,a,consult,1,{Y2024},maximum,consult,diagnostiek,0,overig,45,,,,,", "setting 0 must be a whole number 1 to 8"),
        (f"A,a,consult,1,{Y2024},maximum,consult,diagnostiek,9,overig,45,,,,,", "setting 9 must be a whole number 1 to 8"),
        (f"A,a,consult,1,{Y2024},maximum,consult,diagnostiek,3,psycholoog,45,,,,,", "beroep_category 'psycholoog' is not one of arts,"),
        (f"A,a,consult,1,{Y2024},maximum,group,,,overig,,1,30,,,", "group_size 1 must be a whole number at least 2"),
        (f"A,a,consult,1,{Y2024},maximum,consult,diagnostiek,3,overig,40,,,,,", "min_minutes 40 is not a band of consult"),
        (f"A,a,consult,1,{Y2024},maximum,consult,ander,3,overig,45,,,,,", "consult_type 'ander' is not one of"),
        (f"A,a,consult,1,{Y2024},duur,consult,diagnostiek,3,overig,45,,,,,", "tariff_type 'duur' is not one of"),
        (f"A,a,consult,1,{Y2024},maximum,dbc,diagnostiek,3,overig,45,,,,,", "kind 'dbc' is not one of"),
        (f"A,a,consult,1,{Y2024},maximum,consult,diagnostiek,drie,overig,45,,,,,", "setting 'drie' is not a whole number"),
        (f"A,a,consult,,{Y2024},maximum,consult,diagnostiek,3,overig,45,,,,,", "amount is empty; only a vrij tariff"),
        (f"A,a,consult,1,{Y2024},maximum,consult,diagnostiek,3,overig,45,,,", "expected 17 fields, found 15"),
    ],
)  # fmt: skip
def test_a_row_whose_kind_needs_or_forbids_a_column_is_refused_naming_file_and_line(line, why):
    if why is None:
        v2("t", line)
        return
    message = refusal(f"OK,ok,item,1,{Y2024},maximum,other,,,,,,,,,", line)
    assert message.startswith(f"zpm.csv line 3: {why}"), message


def test_two_rows_with_one_kind_key_and_band_in_overlapping_periods_are_refused():
    message = refusal(
        consult_row("CO0001", 45, 100),
        consult_row("CO0002", 60, 100),
        consult_row("CO0003", 45, 120, period="2024-07-01,"),
    )
    assert message == (
        "zpm.csv line 4: code 'CO0003' (2024-07-01..) has the same kind, key and band as line 2 "
        "(code 'CO0001', 2024-01-01..2024-12-31): consult diagnostiek vanaf 45 min, setting 3, "
        "beroepscategorie overig"
    )


def test_one_key_and_band_may_have_rows_in_periods_that_do_not_overlap():
    table = v2("t", consult_row("CO0001", 45, 100), consult_row("CO0002", 45, 120, period="2025-01-01,2025-12-31"))
    assert len(table.rows) == 2


def test_rows_differing_in_one_key_column_do_not_clash():
    v2("t", consult_row("CO0001", 45, 100), consult_row("CO0002", 45, 100, consult_type="behandeling"))
    v2("t", consult_row("CO0001", 45, 100), consult_row("CO0002", 45, 100, setting=1))


def test_a_surcharge_type_with_rows_with_and_without_min_minutes_is_refused():
    message = refusal(
        f"TC0009,Reistijd,item,3476,{Y2024},maximum,surcharge,,,,1,,,,,reistijd",
        f"TC0099,Reistijd vast,item,100,{Y2024},maximum,surcharge,,,,,,,,,reistijd",
    )
    assert message.startswith("zpm.csv line 3: surcharge reistijd has rows with and without min_minutes")
    assert "line 2" in message


def test_a_table_built_in_code_is_checked_like_a_file():
    row = TariffRow("A", "a", "consult", 1, date(2024, 1, 1), kind="consult", consult_type="diagnostiek",
                    setting=3, beroep_category="overig", min_minutes=45)  # fmt: skip
    other = TariffRow("B", "b", "consult", 2, date(2024, 6, 1), kind="consult", consult_type="diagnostiek",
                      setting=3, beroep_category="overig", min_minutes=45)  # fmt: skip
    with pytest.raises(TariffError, match=r"^table t: code 'B' .* same kind, key and band as row 1"):
        TariffTable("t", [row, other])


def test_the_shipped_v2_tables_are_zpm_2024b_and_zpm_2025_with_the_rows_of_z11():
    tables = {table.version: table for table in load_tariffs().tables}
    assert len(tables["zpm-2024b"].rows) == 24
    assert len(tables["zpm-2025"].rows) == 11
    assert {row.valid_from.year for row in tables["zpm-2024b"].rows} == {2024}
    assert {row.valid_from.year for row in tables["zpm-2025"].rows} == {2025}


def test_tariffs_load_takes_a_v2_file_and_list_shows_it(tmp_path):
    source = tmp_path / "praktijk.csv"
    source.write_text(
        HEADER + consult_row("CO0001", 45, 12345) + "\n" + f"XX0001,Vrij,item,,{Y2024},vrij,other,,,,,,,,,\n"
    )
    db = str(tmp_path / "ledger.db")
    loaded = run_cli("--db", db, "tariffs", "load", str(source), "--version", "praktijk-v2")
    no_traceback(loaded)
    assert loaded.returncode == 0, loaded.stderr
    assert loaded.stdout == "loaded tariff table praktijk-v2: 2 rows\n"
    listed = run_cli("--db", db, "tariffs", "list")
    no_traceback(listed)
    [line] = [line for line in listed.stdout.splitlines() if "XX0001" in line]
    assert "vrij" in line


# --- the band rule ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("minutes", "band"),
    [(4, None), (5, 5), (14, 5), (15, 15), (29, 15), (30, 30), (104, 90), (119, 90), (120, 120), (140, 120)],
)
def test_the_consult_bands_are_vanaf_5_15_30_45_60_75_90_120(minutes, band):
    assert band_of(minutes, BANDS["consult"]) == band


def test_the_overleg_bands_are_kort_from_5_and_lang_from_15():
    assert [band_of(m, BANDS["overleg"]) for m in (4, 5, 14, 15, 90)] == [None, 5, 5, 15, 15]


def consult(tariffs, minutes, on=date(2024, 10, 1), **key):
    key = {"consult_type": "diagnostiek", "setting": 3, "beroep_category": "overig", **key}
    return tariffs.find("consult", on, minutes=minutes, **key)


@pytest.mark.parametrize(
    ("minutes", "code"), [(5, "CD0005"), (14, "CD0005"), (15, "CD0015"), (119, "CD0090"), (120, "CD0120")]
)
def test_a_consult_gets_the_row_of_the_band_its_minutes_fall_in(minutes, code):
    tariffs = Tariffs([v2("full", *every_band())])
    assert consult(tariffs, minutes) == Found(
        row=v2("full", *every_band()).lookup(code, date(2024, 10, 1)), table="full"
    )


def test_four_minutes_find_no_band_and_no_row():
    with pytest.raises(NoTariff, match=r"^no prestatie in force on 2024-10-01 for consult diagnostiek, setting 3"):
        consult(Tariffs([v2("full", *every_band())]), 4)


def test_a_104_minute_consult_is_refused_when_the_90_minute_row_is_missing_never_priced_as_60():
    rows = [line for line in every_band() if not line.startswith("CD0090")]
    with pytest.raises(NoTariff) as refused:
        consult(Tariffs([v2("gap", *rows)]), 104)
    assert str(refused.value) == (
        "no prestatie in force on 2024-10-01 for consult diagnostiek, setting 3, beroepscategorie overig, 104 minutes"
    )


def test_the_refusal_names_the_key_as_z4_8_g_does():
    with pytest.raises(NoTariff) as refused:
        consult(load_tariffs(), 130)
    assert str(refused.value) == (
        "no prestatie in force on 2024-10-01 for consult diagnostiek, setting 3, beroepscategorie overig, 130 minutes"
    )


def test_each_band_comes_from_the_last_loaded_table_that_has_it():
    correction = v2("correction", consult_row("CX0045", 45, 99999))
    tariffs = Tariffs([v2("full", *every_band()), correction])
    assert (consult(tariffs, 50).row.code, consult(tariffs, 50).table) == ("CX0045", "correction")
    # The correction holds one band and hides no other.
    assert (consult(tariffs, 60).row.code, consult(tariffs, 60).table) == ("CD0060", "full")
    assert consult(tariffs, 44).table == "full"


def test_a_later_table_whose_band_row_is_not_in_force_leaves_the_earlier_one():
    later = v2("later", consult_row("CX0045", 45, 99999, period="2025-01-01,2025-12-31"))
    tariffs = Tariffs([v2("full", *every_band()), later])
    assert consult(tariffs, 45).row.code == "CD0045"
    assert consult(tariffs, 45, on=date(2025, 3, 1)).row.code == "CX0045"


def test_december_and_january_consults_are_priced_from_the_2024_and_2025_tables():
    tariffs = load_tariffs()
    key = {"consult_type": "diagnostiek", "setting": 1, "beroep_category": "gz_psycholoog"}
    december = consult(tariffs, 60, on=date(2024, 12, 31), **key)
    january = consult(tariffs, 60, on=date(2025, 1, 1), **key)
    assert (december.row.code, december.row.amount, december.table) == ("CO0562", 18344, "zpm-2024b")
    assert (january.row.code, january.row.amount, january.table) == ("CO0562", 19088, "zpm-2025")


def test_a_2025_gz_consult_of_45_minutes_finds_no_row_in_the_illustrative_table():
    # zpm.md Z11: "a 2025 GZ consult of 45 minutes … finds no row here and is refused".
    with pytest.raises(NoTariff):
        consult(load_tariffs(), 45, on=date(2025, 2, 1), consult_type="behandeling", setting=1,
                beroep_category="gz_psycholoog")  # fmt: skip


def test_overleg_kort_and_lang():
    tariffs = load_tariffs()
    on = date(2024, 10, 22)
    assert [tariffs.find("overleg", on, setting=1, minutes=m).row.code for m in (5, 10, 14, 15, 40)] == [
        "OV0007", "OV0007", "OV0007", "OV0008", "OV0008",
    ]  # fmt: skip
    with pytest.raises(NoTariff, match=r"^no prestatie in force on 2024-10-22 for overleg, setting 2, 10 minutes$"):
        tariffs.find("overleg", on, setting=2, minutes=10)


def test_reistijd_bands_come_from_its_rows_tc0009_from_1_and_tc0010_from_25():
    tariffs = load_tariffs()
    on = date(2024, 10, 1)
    found = [tariffs.find("surcharge", on, surcharge_type="reistijd", minutes=m).row.code for m in (1, 24, 25, 90)]
    assert found == ["TC0009", "TC0009", "TC0010", "TC0010"]
    with pytest.raises(NoTariff, match=r"for surcharge reistijd, 0 minutes$"):
        tariffs.find("surcharge", on, surcharge_type="reistijd", minutes=0)


def test_a_surcharge_type_without_bands_has_one_row_whatever_the_minutes():
    table = v2("t", f"TP0001,Psychodiagnostiek,item,5000,{Y2024},maximum,surcharge,,,,,,,,,psychodiagnostiek")
    tariffs = Tariffs([table])
    assert tariffs.find("surcharge", date(2024, 5, 1), surcharge_type="psychodiagnostiek").row.code == "TP0001"


def test_a_group_row_is_found_by_category_and_group_size():
    tariffs = load_tariffs()
    on = date(2024, 11, 12)
    assert tariffs.find("group", on, beroep_category="gz_psycholoog", group_size=5).row.code == "GC0102"
    with pytest.raises(NoTariff, match=r"for group, beroepscategorie gz_psycholoog, group size 7$"):
        tariffs.find("group", on, beroep_category="gz_psycholoog", group_size=7)


def test_a_stay_without_security_level_takes_the_row_with_an_empty_level():
    table = v2(
        "stay",
        f"VB0001,Verblijf A,day,30000,{Y2024},maximum,stay,,5,,,,,A,,",
        f"VB0002,Verblijf A beveiligd,day,40000,{Y2024},maximum,stay,,5,,,,,A,3,",
    )
    tariffs = Tariffs([table])
    on = date(2024, 3, 1)
    assert tariffs.find("stay", on, setting=5, care_level="A").row.code == "VB0001"
    assert tariffs.find("stay", on, setting=5, care_level="A", security_level=3).row.code == "VB0002"
    with pytest.raises(NoTariff, match=r"care level A, security level 2$"):
        tariffs.find("stay", on, setting=5, care_level="A", security_level=2)


def test_other_is_found_by_its_code_not_by_find():
    with pytest.raises(ValueError, match="not 'other'"):
        load_tariffs().find("other", date(2024, 1, 1))


def test_row_gives_the_row_in_force_for_a_code_from_the_last_loaded_table():
    tariffs = load_tariffs()
    found = tariffs.row("OV0008", date(2024, 5, 1))
    assert (found.row.amount, found.row.kind, found.table) == (7535, "overleg", "zpm-2024b")
    with pytest.raises(NoTariff, match="no tariff for code 'OV0008' in force on 2026-01-01"):
        tariffs.row("OV0008", date(2026, 1, 1))


def test_lookup_stays_as_it_was_for_v1_codes_and_refuses_a_free_tariff_without_amount():
    tariffs = load_tariffs()
    assert tariffs.lookup("CONSULT", date(2017, 2, 15)).table == "demo-2017"
    free = tariffs.with_table(v2("vrij", f"XX0001,Vrij,item,,{Y2024},vrij,other,,,,,,,,,"))
    with pytest.raises(NoTariff, match="free tariff"):
        free.lookup("XX0001", date(2024, 5, 1))


def test_find_answers_are_remembered():
    tariffs = load_tariffs()
    key = {"consult_type": "diagnostiek", "setting": 1, "beroep_category": "gz_psycholoog"}
    assert consult(tariffs, 46, **key) is consult(tariffs, 50, **key)  # one band, one answer
