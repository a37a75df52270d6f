"""What-if tariffs on both stores: the tables and contracts in force give back what was declared, to the cent,
per insurer and per month; an uplift raises every line as documented; nothing is written."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
from starlette.testclient import TestClient

from builders import as_line, meneer_henk, zpm_example
from ggzledger import Ledger, ingest
from ggzledger.analyses.whatif import WhatIf, WhatIfError, whatif
from ggzledger.analyses.whatif_pricing import OtherContracts, OtherTables, Uplift, uplifted
from ggzledger.audit.reports import totals
from ggzledger.bench.workload import workload
from ggzledger.bench.zpm_care import BENCH_TABLE, bench_table
from ggzledger.interfaces.http import create_app
from ggzledger.reference.tariffs import Tariffs, shipped_tables
from ggzledger.service.tokens import Tokens
from ledgers import a_busy_ledger

IN_FORCE = "in force"


def in_force(ledger: Ledger) -> OtherTables:
    """The ledger's own tables, as an alternative: what the key property is held with."""
    return OtherTables(ledger.tariffs, (IN_FORCE,))


def section(result: WhatIf, dimension: str) -> dict[str, tuple[int, int]]:
    return {
        row.key: (row.declared, row.alternative) for dim, rows in result.sections if dim == dimension for row in rows
    }


def assert_reproduces(ledger: Ledger, result: WhatIf) -> None:
    """The alternative total equals the declared, per insurer and per month, and both equal the totals view."""
    assert result.unpriced == ()
    assert result.total == result.declared
    for dimension in ("insurer", "month"):
        shown = section(result, dimension)
        assert all(declared == alternative for declared, alternative in shown.values()), (dimension, shown)
        issued = dict(totals(ledger, dimension).rows)
        if dimension == "month":
            issued = {month: total for month, total in issued.items() if month in result.months}
        assert {key: declared for key, (declared, _) in shown.items()} == issued


def snapshot(ledger: Ledger) -> tuple[int, dict[str, int], dict[str, list[Any]]]:
    """The head, each view's position and the rows of every view table: what a what-if must leave as it was."""
    with ledger.store.transaction(write=False) as c:
        positions = ledger.projector.positions(c)
        tables = {}
        for view in ledger.projector.views:
            for table in getattr(view, "tables", ()):
                c.execute(f"SELECT * FROM {table}")
                tables[table] = sorted(map(repr, c.fetchall()))
    return ledger.projector.head(), positions, tables


def test_meneer_henk_with_the_tables_in_force_or_no_uplift_gives_back_his_declarations(ledger: Ledger) -> None:
    meneer_henk(ledger)
    demo = next(table for table in shipped_tables() if table.version == "demo-2017")
    before = snapshot(ledger)

    for alternative in (Uplift(0), in_force(ledger), OtherTables(Tariffs([demo]), ("demo-2017.csv",))):
        result = whatif(ledger, "2016-11", "2017-02", alternative)
        assert_reproduces(ledger, result)
        assert result.declared == 870000
        assert result.months == ("2016-11", "2016-12", "2017-01", "2017-02")

    assert snapshot(ledger) == before


def test_the_zpm_example_reproduces_with_its_tables_and_its_own_contract(ledger: Ledger) -> None:
    zpm_example(ledger)
    contract = ledger.contracts()[0]
    text = as_line(
        {"type": "contract_agreed", "contract": contract.contract, "provider": contract.provider,
         "insurer": contract.insurer, "valid_from": "2024-01-01", "valid_to": "2024-12-31", "percentage_bp": 9000}
    )  # fmt: skip
    same = OtherContracts.from_jsonl(text, "k.jsonl", ledger.tariffs, ledger.today())
    before = snapshot(ledger)

    for alternative in (in_force(ledger), same, Uplift(0)):
        result = whatif(ledger, "2024-10", "2024-11", alternative)
        assert_reproduces(ledger, result)
        assert result.declared == 95727
        # The privacy statement's month counts under privacy, as totals count it.
        assert section(result, "group")["privacy"] == (21997, 21997)

    assert snapshot(ledger) == before


def test_an_uplift_raises_every_line_by_its_percentage_half_up_and_a_void_still_nets_to_zero(ledger: Ledger) -> None:
    zpm_example(ledger)

    result = whatif(ledger, "2024-10", "2024-11", Uplift(1000), lines=True)

    declared_lines = [
        (d["month"], line["activity"], line["kind"], line["amount"])
        for month in ("2024-10", "2024-11")
        for d in ledger.declarations(month)
        for line in d["lines"]
    ]
    assert [(r.month, r.activity, r.kind, r.declared) for r in result.repriced] == declared_lines
    for line in result.repriced:
        # Independently: Decimal-free integer half up of the declared amount × 110%, sign mirrored.
        size = (abs(line.declared) * 11 + 5) // 10
        assert line.alternative == (size if line.declared > 0 else -size), line
    # A-06 was declared in October and credited in November: debit and credit re-priced to nothing net.
    a06 = [line.alternative for line in result.repriced if line.activity == "A-06"]
    assert len(a06) == 2 and sum(a06) == 0  # type: ignore[arg-type]
    assert result.total == sum(line.alternative or 0 for line in result.repriced) == 105300
    assert section(result, "month") == {"2024-10": (73730, 81103), "2024-11": (21997, 24197)}


def test_a_contract_at_80_percent_prices_the_zpm_lines_at_80_percent_of_their_maximum(ledger: Ledger) -> None:
    zpm_example(ledger)
    text = as_line(
        {"type": "contract_agreed", "contract": "K-NEW", "provider": "12345678", "insurer": "3311",
         "valid_from": "2024-01-01", "valid_to": "2024-12-31", "percentage_bp": 8000}
    )  # fmt: skip

    result = whatif(ledger, "2024-10", "2024-11", OtherContracts.from_jsonl(text, "k", ledger.tariffs, ledger.today()))

    expected = 0
    for month in ("2024-10", "2024-11"):
        for declaration in ledger.declarations(month):
            for line in declaration["lines"]:
                price = (line["max_amount"] * 8000 + 5000) // 10000
                expected += -price if line["kind"] == "credit" else price
    assert result.total == expected and result.unpriced == ()


def test_lines_with_no_price_under_the_alternative_are_counted_listed_and_count_zero(ledger: Ledger) -> None:
    zpm_example(ledger)
    zpm2025 = next(table for table in shipped_tables() if table.version == "zpm-2025")

    result = whatif(ledger, "2024-10", "2024-11", OtherTables(Tariffs([zpm2025]), ("zpm-2025.csv",)))

    assert result.lines == len(result.unpriced) == 12
    assert result.total == 0 and result.declared == 95727
    first = result.unpriced[0]
    assert (first.month, first.trajectory, first.activity, first.code, first.date, first.kind) == (
        "2024-10", "T-ZPM1", "A-01", "CO0562", "2024-10-01", "debit",
    )  # fmt: skip
    assert first.why.startswith("no prestatie in force on 2024-10-01 for consult diagnostiek")
    body = result.to_json()["unpriced"]
    assert (body["lines"], body["activities"], body["declared"]) == (12, 11, 95727)


def test_a_generated_ledger_reproduces_per_insurer_and_month(ledger: Ledger) -> None:
    records = a_busy_ledger(seed=7, most=5)
    ingest(ledger, [as_line(r) for r in records], lambda n, m: None)
    ledger.close_month("2017-03")

    assert_reproduces(ledger, whatif(ledger, "2016-11", "2017-03", in_force(ledger)))
    assert_reproduces(ledger, whatif(ledger, "2016-11", "2017-03", Uplift(0)))


def test_the_bench_year_with_the_tables_in_force_reproduces_its_declarations_to_the_cent(ledger: Ledger) -> None:
    # The bench's synthetic year (ZPM consults under five contracts, one max-max, legacy codes, stays,
    # voids, late lines, three tables): small here; bench/whatif_check.py runs it on 200,000 events.
    ledger.load_tariff_table(bench_table(), BENCH_TABLE)
    ingest(ledger, workload(4000, seed=3), lambda n, m: pytest.fail(m), batch_size=1000)
    ledger.close_month("2024-12")
    before = snapshot(ledger)

    result = whatif(ledger, "2024-01", "2024-12", in_force(ledger), lines=True)

    assert_reproduces(ledger, result)
    assert result.lines > 2000
    assert all(line.alternative == line.declared for line in result.repriced)
    up = whatif(ledger, "2024-01", "2024-12", Uplift(1000), by=("insurer",))
    assert up.total == sum(uplifted(line.declared, 1000) for line in result.repriced)
    assert snapshot(ledger) == before


def test_a_period_backwards_or_too_long_is_refused() -> None:
    with pytest.raises(WhatIfError, match="runs backwards"):
        whatif(None, "2024-02", "2024-01", Uplift(0))  # type: ignore[arg-type]
    with pytest.raises(WhatIfError, match="37 months; at most 36"):
        whatif(None, "2021-01", "2024-01", Uplift(0))  # type: ignore[arg-type]


@pytest.fixture
def auditor(ledger: Ledger) -> Iterator[tuple[TestClient, dict[str, str]]]:
    zpm_example(ledger)
    token = Tokens(ledger.store).add("auditor", "auditor")
    with TestClient(create_app(ledger), base_url="http://127.0.0.1") as client:
        yield client, {"Authorization": f"Bearer {token}"}


def test_over_http_the_auditor_asks_with_an_uplift_or_a_loaded_tables_label(
    auditor: tuple[TestClient, dict[str, str]], ledger: Ledger
) -> None:
    client, headers = auditor
    up = client.get("/analyses/whatif?month_from=2024-10&month_to=2024-11&uplift=10&by=month", headers=headers)
    assert up.status_code == 200, up.text
    assert (up.json()["declared"], up.json()["alternative_total"]) == (95727, 105300)
    assert list(up.json()["by"]) == ["month"]
    same = client.get(
        "/analyses/whatif?month_from=2024-10&month_to=2024-11&tariffs=zpm-2024b&by=insurer,month", headers=headers
    ).json()
    assert same["difference"] == 0 and same["unpriced"]["lines"] == 0
    # No line unpriced, no one named: nothing in the access log. With zpm-2025, T-ZPM1 is named: one row.
    from ggzledger.audit.access_log import AccessLog

    assert AccessLog(ledger.store).rows(None, None) == []
    client.get("/analyses/whatif?month_from=2024-10&month_to=2024-11&tariffs=zpm-2025", headers=headers)
    assert [(row.who, row.trajectory) for row in AccessLog(ledger.store).rows(None, None)] == [("auditor", "T-ZPM1")]


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("month_to=2024-11&uplift=10", "month_from is required"),
        ("month_from=2024-13&month_to=2024-11&uplift=10", "month_from must be a month YYYY-MM"),
        ("month_from=2024-11&month_to=2024-10&uplift=10", "runs backwards"),
        ("month_from=2020-01&month_to=2024-11&uplift=10", "at most 36"),
        ("month_from=2024-10&month_to=2024-11", "exactly one of uplift"),
        ("month_from=2024-10&month_to=2024-11&uplift=10&tariffs=zpm-2024b", "exactly one of uplift"),
        ("month_from=2024-10&month_to=2024-11&uplift=1001", "uplift must be -100 to 1000 percent"),
        ("month_from=2024-10&month_to=2024-11&uplift=ten", "uplift must be a percentage"),
        ("month_from=2024-10&month_to=2024-11&tariffs=nza-2031", "no tariff table 'nza-2031' is loaded"),
        ("month_from=2024-10&month_to=2024-11&uplift=10&shift_years=1", "shift_years goes with tariffs"),
        ("month_from=2024-10&month_to=2024-11&tariffs=zpm-2025&shift_years=11", "shift_years must be"),
        ("month_from=2024-10&month_to=2024-11&uplift=10&by=patient", "by must be one of"),
        ("month_from=2024-10&month_to=2024-11&uplift=10&uplift=5", "uplift is given 2 times"),
        ("month_from=2024-10&month_to=2024-11&uplift=10&contract=x", "unknown parameter 'contract'"),
    ],
)
def test_every_parameter_is_checked_with_a_clear_400(
    auditor: tuple[TestClient, dict[str, str]], query: str, message: str
) -> None:
    client, headers = auditor
    response = client.get(f"/analyses/whatif?{query}", headers=headers)
    assert response.status_code == 400
    assert message in response.json()["error"], response.json()


def test_next_years_table_on_this_years_care_with_shift_years(ledger: Ledger) -> None:
    zpm_example(ledger)
    zpm2025 = next(table for table in shipped_tables() if table.version == "zpm-2025")

    result = whatif(ledger, "2024-10", "2024-11", OtherTables(Tariffs([zpm2025]), ("zpm-2025",), shift_years=1))

    # zpm-2025 holds only some 2025 rows: three lines are priced at 2025's maximum × 90% (the contract
    # of the care's own date), the other nine listed, the voided A-06 on both its debit and its credit.
    assert (result.lines, len(result.unpriced), result.total) == (12, 9, 35173)
    assert Counter(u.kind for u in result.unpriced) == {"debit": 8, "credit": 1}
    assert all(u.why.startswith("no prestatie in force on 2025-") for u in result.unpriced)


def test_the_200k_check_script_runs_and_passes_on_a_small_year(capsys: pytest.CaptureFixture[str]) -> None:
    from ggzledger.bench.whatif_check import main

    assert main(["--events", "2000", "--seed", "2"]) == 0
    out = capsys.readouterr().out
    assert out.count(": yes") == 3, out
