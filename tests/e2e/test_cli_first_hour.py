"""What a newcomer hit in the first hour (issue 11): each mistake is one `ggzledger:` line, nothing lost."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from builders import HENK
from cli import one_line
from databases import postgres_or_skip
from ggzledger.interfaces.text.declaration import render_declaration
from processes import run_cli


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (("feed", "--limit", "99999999999999999999999"), "--limit must be a whole number 0..9223372036854775807"),
        (("serve", "--port", "99999"), "--port must be a whole number 1..65535"),
        (("--db", "", "invoices", "2017-02"), "--db is empty"),
        (("--db", "fresh.db", "invoice", "T-1", "2017-02"), "no ledger at fresh.db"),
        (("--db", "no/such/dir/x.db", "ingest", str(HENK)), "the directory no/such/dir does not exist"),
    ],
    ids=["huge limit", "port out of range", "empty --db", "mistyped --db", "missing directory"],
)
def test_a_bad_number_or_path_is_one_line_and_creates_nothing(args: tuple[str, ...], says: str, tmp_path: Path) -> None:
    assert says in one_line(run_cli(*args, cwd=tmp_path), 2)
    assert list(tmp_path.iterdir()) == []


def test_a_windows_1252_tariff_csv_is_named_and_taken_with_encoding_cp1252(tmp_path: Path) -> None:
    csv = tmp_path / "excel.csv"
    csv.write_bytes("code,description,unit,amount,valid_from,valid_to\nX1,Behandeling één,consult,100,2024-01-01,\n"
                    .encode("cp1252"))  # fmt: skip
    db = str(tmp_path / "t.db")
    refused = one_line(run_cli("--db", db, "tariffs", "load", str(csv), "--version", "x"), 2)
    assert "is not UTF-8 text" in refused and "--encoding cp1252" in refused
    loaded = run_cli("--db", db, "tariffs", "load", str(csv), "--version", "x", "--encoding", "cp1252")
    assert (loaded.returncode, loaded.stdout) == (0, "loaded tariff table x: 1 row\n")
    assert "Behandeling één" in run_cli("--db", db, "tariffs").stdout


def test_demo_never_writes_into_ggzledger_db_or_a_ledger_with_events(tmp_path: Path) -> None:
    production = tmp_path / "production.db"
    assert run_cli("--db", str(production), "ingest", str(HENK)).returncode == 0
    before = production.read_bytes()

    fresh = run_cli("demo", cwd=tmp_path, env={"GGZLEDGER_DB": str(production)})
    assert fresh.returncode == 0 and (tmp_path / "ggzledger-demo.db").exists()
    refused = one_line(run_cli("--db", str(production), "demo"), 2)
    assert refused == f"ggzledger: the demo needs an empty ledger; {production} holds events already"
    assert production.read_bytes() == before


def test_bench_refuses_a_ledger_with_events_before_generating_its_workload(tmp_path: Path) -> None:
    db = str(tmp_path / "full.db")
    assert run_cli("--db", db, "ingest", str(HENK)).returncode == 0
    result = run_cli("--db", db, "bench", "--events", "100")
    assert result.returncode == 2 and "empty store" in result.stderr
    assert "generating" not in result.stderr


def test_close_and_audit_say_the_same_of_a_month_before_the_first_close(tmp_path: Path) -> None:
    db = str(tmp_path / "henk.db")
    assert run_cli("--db", db, "ingest", str(HENK)).returncode == 0
    closing = one_line(run_cli("--db", db, "close", "2016-10"), 1)
    auditing = one_line(run_cli("--db", db, "audit", "T-HENK", "2016-10"), 2)
    for said in (closing, auditing):
        assert "month 2016-10 lies before the ledger's first close (2016-11): it was never closed" in said


def test_the_current_month_is_closed_only_when_told_so(tmp_path: Path) -> None:
    from datetime import date

    month = date.today().isoformat()[:7]
    db = str(tmp_path / "now.db")
    refused = one_line(run_cli("--db", db, "close", month), 2)
    assert "is the current month and not over yet" in refused and "--yes" in refused
    closed = run_cli("--db", db, "close", month, "--yes")
    # The month's line, then its anchor to keep outside the database (docs/audit.md, "Keeping and checking anchors").
    assert closed.returncode == 0, closed.stderr
    assert re.fullmatch(rf"{month}: no declarations\nanchor \d+ [0-9a-f]{{64}}  # close of {month}\n", closed.stdout)


def test_the_zorgnota_cuts_nothing_and_says_credit_and_late_in_dutch() -> None:
    expected = json.loads((Path(HENK).parent / "meneer-henk.expected.json").read_text())[-1]
    long_name = "Psychische aandoening ernstig met een heel lange naam die de lijst verbreedt"
    declaration = {
        **expected, "cluster": {"code": 4, "name": long_name},
        "lines": [
            {"date": "2024-05-02", "code": "CO0627", "description": "Behandeling 60 min", "amount": -16146,
             "kind": "credit", "late": False, "activity": "A1"},
            {"date": "2024-04-30", "code": "OV0012", "description": "Niet-basispakketzorg consult", "amount": -13182,
             "kind": "credit", "late": True, "activity": "A2"},
        ],
    }  # fmt: skip
    text = render_declaration(declaration)
    assert long_name in text
    assert "Behandeling 60 min (creditering)" in text
    assert "Niet-basispakketzorg consult (creditering, nagekomen)" in text and "nagekomen: " in text
    assert "€ -131,82" in text
    frame = len(text.splitlines()[2])
    assert all(len(line) <= frame for line in text.splitlines() if not line.startswith("digest"))


def test_postgres_settings_are_checked_and_a_password_is_never_shown(tmp_path: Path) -> None:
    postgres_or_skip()
    url = "postgresql://postgres:s3cret@127.0.0.1:5432/ggzledger_nope"
    bad_pool = one_line(run_cli("--db", url, "invoices", "2017-02", env={"GGZLEDGER_POSTGRES_POOL_SIZE": "x"}), 2)
    assert bad_pool == "ggzledger: GGZLEDGER_POSTGRES_POOL_SIZE must be a whole number 1..1000, not 'x'"
    bad_port = one_line(run_cli("--db", url.replace("5432", "99999"), "invoices", "2017-02"), 2)
    assert "s3cret" not in bad_port and "postgres:***@" in bad_port
    # sslmode is passed on, not dropped: the test server speaks no TLS, so require must fail.
    ssl = one_line(run_cli("--db", url.replace("ggzledger_nope", "postgres") + "?sslmode=require", "verify"), 2)
    assert "SSL" in ssl and "s3cret" not in ssl
    unknown = one_line(run_cli("--db", url + "?colour=red", "verify"), 2)
    assert "unknown connection option 'colour'" in unknown
