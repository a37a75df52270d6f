"""The DBC comparison on a real ledger of each kind: Meneer Henk as the seed compares him, a month's
trajectories, voided activities, ZPM care, loaded DBC tables, and the auditor's HTTP endpoints."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from importlib import resources
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from builders import ZPM_EXAMPLE, Clerk, assessed, clustered, delivered, opened, referred_back, voided
from ggzledger import Ledger, ingest
from ggzledger.analyses.dbc_ledger import comparison, comparisons, ended_in, tables_of
from ggzledger.audit.access_log import AccessLog
from ggzledger.domain.months import months_between
from ggzledger.interfaces.http import create_app
from ggzledger.reference.dbc import DbcTable
from ggzledger.reference.tariff_rows import TariffError
from ggzledger.service.dbc_tables import StoredDbcTables
from ggzledger.service.sealing import make_plain, seal_into
from ggzledger.service.tokens import Tokens

HEADER = "product,diagnosis_group,min_minutes,max_minutes,description,amount,valid_from,valid_to\n"


def demo_henk(ledger: Ledger) -> None:
    """The packaged demo's Meneer Henk (minutes on his stay days, diagnosis group depressie), as `ggzledger demo`."""
    lines = (resources.files("ggzledger") / "scenarios" / "meneer-henk.jsonl").read_bytes().splitlines()
    refused: list[str] = []
    ingest(ledger, lines, lambda n, message: refused.append(message))
    assert refused == []


def test_meneer_henk_costs_9050_at_his_dbcs_close_against_8700_declared_in_four_notas(ledger: Ledger) -> None:
    demo_henk(ledger)
    head = ledger.recorder.max_notification_id()

    found = comparison(ledger, "T-HENK")

    [dbc] = found.dbcs
    assert (dbc.start, dbc.end, dbc.closed_by, dbc.group) == (
        date(2016, 11, 1),
        date(2017, 2, 21),
        "referred_back",
        "depressie",
    )
    # 15 consults of 45 minutes and 18 stay days of 150: 3,375 minutes, in the 3000-5999 band.
    assert (dbc.minutes, dbc.product, dbc.amount) == (3375, "Depressie (3000-5999)", 785000)
    assert (dbc.claimed_on, found.closing_claim(dbc)) == (date(2017, 2, 21), 905000)
    # The declared side is the ledger's own four declarations.
    issued = [ledger.declaration("T-HENK", month) for month in months_between("2016-11", "2017-02")]
    assert [(d.month, d.sequence, d.total) for d in found.declarations] == [
        (i["month"], i["sequence"], i["total"]) for i in issued if i is not None
    ]
    assert (len(found.declarations), found.declared_total) == (4, 870000) == (4, sum(i["total"] for i in issued))  # type: ignore[index]
    # Every stay day is claimed: November's and December's month by month, February's with the DBC.
    assert [(c.on, c.kind, c.amount) for c in found.claims] == [
        (date(2016, 11, 30), "stay", 320000),
        (date(2016, 12, 31), "stay", 280000),
        (date(2017, 2, 21), "dbc", 785000),
        (date(2017, 2, 21), "stay", 120000),
    ]
    assert (found.dbc_total, found.difference) == (1505000, 635000)
    assert [(m.month, m.dbc, m.declared) for m in found.months] == [
        ("2016-11", 320000, 380000), ("2016-12", 280000, 320000), ("2017-01", 0, 40000), ("2017-02", 905000, 130000),
    ]  # fmt: skip
    # The analysis wrote nothing.
    assert ledger.recorder.max_notification_id() == head


def test_the_month_compares_every_trajectory_referred_back_in_it(ledger: Ledger) -> None:
    demo_henk(ledger)
    clerk = Clerk(ledger)
    clerk.given(
        opened("T-FEB", "2017-01-02"), assessed("2017-01-02", "T-FEB"), clustered("2017-01-02", 4, "T-FEB"),
        delivered("F-1", "2017-01-03", number="T-FEB", minutes=60), referred_back("2017-02-28", number="T-FEB"),
        opened("T-MAR", "2017-01-02"), assessed("2017-01-02", "T-MAR"),
        clustered("2017-01-02", 4, "T-MAR", diagnosis_group="depressie"),
        delivered("M-1", "2017-01-03", number="T-MAR", minutes=60), referred_back("2017-03-01", number="T-MAR"),
    )  # fmt: skip

    assert ended_in(ledger, "2017-02") == ["T-FEB", "T-HENK"]
    feb, henk = comparisons(ledger, "2017-02")

    assert henk == comparison(ledger, "T-HENK")
    # T-FEB has no diagnosis group: shown, with no DBC price and no difference, never left out. Its
    # January consult came after January was closed: a late line of March's draft.
    assert (feb.trajectory, feb.dbcs[0].amount, feb.complete, feb.difference) == ("T-FEB", None, False, None)
    assert [(d.month, d.status, d.total) for d in feb.declarations] == [("2017-03", "draft", 10000)]
    assert (feb.declared_total, feb.draft_total) == (0, 10000)
    assert comparisons(ledger, "2017-04") == []


def test_voided_activities_count_no_minutes_and_no_stay_day(ledger: Ledger) -> None:
    Clerk(ledger).given(
        opened("T1", "2016-11-01"), assessed("2016-11-01"), clustered("2016-11-01", 4, diagnosis_group="depressie"),
        *(delivered(f"C-{day}", f"2016-11-0{day}", minutes=1000) for day in (2, 3, 4)),
        delivered("C-5", "2016-11-05", minutes=45),
        delivered("V-1", "2016-11-04", "VERBLIJF", minutes=100), voided("C-5", "2016-11-06"), voided("V-1", "2016-11-06"),
        referred_back("2016-11-30"),
    )  # fmt: skip

    found = comparison(ledger, "T1")

    assert (found.dbcs[0].minutes, found.dbcs[0].amount) == (3000, 785000)
    assert [c.kind for c in found.claims] == ["dbc"]


def test_zpm_care_counts_its_consults_minutes_and_has_a_dbc_price_only_under_a_counterfactual_table(
    ledger: Ledger,
) -> None:
    ingest(ledger, ZPM_EXAMPLE.read_bytes().splitlines(), lambda n, m: None)
    Clerk(ledger).given(clustered("2024-11-01", 3, "T-ZPM1", hoofdgroep="X", diagnosis_group="angst"))
    ledger.today = lambda: date(2024, 12, 15)

    before = comparison(ledger, "T-ZPM1")
    text = HEADER + "dbc,angst,250,799,Angst (250-799),120000,2024-01-01,2024-12-31\n"
    assert StoredDbcTables(ledger.store).add(DbcTable.from_csv("dbc-zpm-2024", text), text) is True
    after = comparison(ledger, "T-ZPM1")

    # A-06 was voided and the example's are refused; the overleg's 10 minutes count, and
    # each 30-minute group unit of 5 patients counts 6.
    assert before.dbcs[0].minutes == 60 + 44 + 50 + 45 + 10 + 45 + 3 * 6 + 60 == 332
    assert before.dbcs[0].amount is None and "in force on 2024-10-01" in (before.dbcs[0].problem or "")
    assert (after.dbcs[0].closed_by, after.dbcs[0].amount, after.dbcs[0].table) == ("open", 120000, "dbc-zpm-2024")
    assert after.claims == ()  # an open DBC is not claimed yet
    assert after.declared_total == sum(d.total for d in after.declarations if d.status == "issued") > 0


def test_loaded_dbc_tables_are_kept_in_the_ledger_and_the_last_loaded_wins(ledger: Ledger) -> None:
    text = HEADER + "dbc,depressie,3000,5999,Depressie (3000-5999),800000,2018-01-01,2018-12-31\n"
    table = DbcTable.from_csv("dbc-2018", text)
    stored = StoredDbcTables(ledger.store)

    assert [t.version for t in stored.tables().tables] == ["dbc-demo"]
    assert stored.add(table, text) is True and stored.add(table, text) is False
    with pytest.raises(TariffError, match="a different DBC table dbc-2018 is loaded already"):
        stored.add(DbcTable.from_csv("dbc-2018", HEADER + "stay,,,,Verblijf,1,2018-01-01,\n"), "")
    with pytest.raises(TariffError, match="a different DBC table dbc-demo"):
        stored.add(DbcTable.from_csv("dbc-demo", text), text)

    tables = tables_of(ledger)
    assert [t.version for t in tables.tables] == ["dbc-demo", "dbc-2018"]
    assert tables.product("depressie", 4000, date(2018, 6, 1))[1].amount == 800000  # type: ignore[index]
    assert tables.product("depressie", 4000, date(2017, 6, 1))[1].amount == 785000  # type: ignore[index]


@pytest.fixture
def client(ledger: Ledger) -> Iterator[tuple[TestClient, dict[str, str]]]:
    demo_henk(ledger)
    tokens = {role: Tokens(ledger.store).add(role, role) for role in ("auditor", "backoffice", "integrator")}
    with TestClient(create_app(ledger), base_url="http://127.0.0.1") as test_client:
        yield test_client, tokens


def test_the_auditor_reads_the_comparison_over_http_and_each_read_is_logged(
    ledger: Ledger, client: tuple[TestClient, dict[str, str]]
) -> None:
    http, tokens = client
    auditor = {"Authorization": f"Bearer {tokens['auditor']}"}

    one = http.get("/analyses/dbc/T-HENK", headers=auditor)
    month = http.get("/analyses/dbc?month=2017-02", headers=auditor)

    assert one.status_code == 200 and one.json() == comparison(ledger, "T-HENK").to_json()
    assert one.json()["dbcs"][0]["closing_claim"] == 905000 and one.json()["declared_total"] == 870000
    assert month.status_code == 200
    assert [c["trajectory"] for c in month.json()["trajectories"]] == ["T-HENK"]
    assert (month.json()["dbc_total"], month.json()["declared_total"], month.json()["difference"]) == (
        1505000, 870000, 635000,
    )  # fmt: skip
    assert http.get("/analyses/dbc/T-NONE", headers=auditor).status_code == 404
    assert http.get("/analyses/dbc?month=2017-13", headers=auditor).status_code == 400
    assert http.get("/analyses/dbc", headers=auditor).status_code == 400
    for role in ("backoffice", "integrator"):
        refused = http.get("/analyses/dbc/T-HENK", headers={"Authorization": f"Bearer {tokens[role]}"})
        assert refused.status_code == 403, role

    logged = [(row.who, row.what, row.trajectory, row.outcome) for row in AccessLog(ledger.store).rows()]
    assert logged == [
        ("auditor", "GET /analyses/dbc/T-HENK", "T-HENK", "allowed"),
        ("auditor", "GET /analyses/dbc?month=2017-02", "T-HENK", "allowed"),
        ("auditor", "GET /analyses/dbc/T-NONE", "T-NONE", "not found"),
        ("backoffice", "GET /analyses/dbc/T-HENK", "T-HENK", "refused 403"),
        ("integrator", "GET /analyses/dbc/T-HENK", "T-HENK", "refused 403"),
    ]


@pytest.mark.parametrize("db", ["sqlite"], indirect=True)
def test_a_sealed_copy_keeps_the_loaded_dbc_tables(db: str, tmp_path: Path) -> None:
    plain = Ledger(db)
    make_plain(plain)
    text = HEADER + "dbc,depressie,3000,5999,Depressie (3000-5999),800000,2018-01-01,2018-12-31\n"
    StoredDbcTables(plain.store).add(DbcTable.from_csv("dbc-2018", text), text)
    seal_into(plain, str(tmp_path / "sealed.db"))
    plain.close()
    sealed = Ledger(str(tmp_path / "sealed.db"))
    try:
        assert [t.version for t in StoredDbcTables(sealed.store).tables().tables] == ["dbc-demo", "dbc-2018"]
    finally:
        sealed.close()
