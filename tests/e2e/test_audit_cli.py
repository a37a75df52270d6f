"""The audit side of the command line as users run it: history, reviews, totals, audit, verify, rebuild."""

from __future__ import annotations

import json
import re
import sqlite3
import subprocess
from pathlib import Path

import orjson
import pytest

from builders import HENK, HONOS, as_line, care_need, delivered, referred_back, reviewed
from cli import no_traceback, one_line
from processes import run_cli, run_cli_on_a_terminal


def ok(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 0, (result.stdout, result.stderr)
    no_traceback(result)
    return result.stdout


def usage_error(result: subprocess.CompletedProcess[str]) -> str:
    """A command line the parser refuses: exit 2, no traceback, the reason on the last line."""
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert result.stdout == ""
    no_traceback(result)
    return result.stderr.splitlines()[-1]


# Henk, plus a trajectory whose care need grows, shrinks and ends without meeting cluster 3's criteria.
ANNA = [
    *care_need("T-ANNA", "2016-11-01", 3),
    reviewed("2016-12-01", 5, "T-ANNA", honos={**HONOS, "7": 4}),
    delivered("A1", "2016-12-02", number="T-ANNA"),
    reviewed("2017-01-10", 3, "T-ANNA", honos={**HONOS, "7": 2}),
    referred_back("2017-01-20", number="T-ANNA"),
]


@pytest.fixture
def db(tmp_path: Path) -> str:
    source = tmp_path / "ledger.jsonl"
    source.write_text("".join(as_line(record) + "\n" for record in ANNA) + HENK.read_text())
    path = str(tmp_path / "ledger.db")
    ok(run_cli("--db", path, "ingest", str(source)))
    return path


def test_history_shows_where_care_grew_and_shrank_with_arrows_and_findings(db: str) -> None:
    out = ok(run_cli("--db", db, "history", "T-ANNA"))

    lines = out.splitlines()
    assert lines[0] == "Care-need history of T-ANNA"
    rows = [line for line in lines if line.startswith("  20")]
    assert len(rows) == 4
    assert "• initial" in rows[0] and "███··  3" in rows[0]
    assert "↑ step up (less likely)" in rows[1] and "█████  5" in rows[1] and "(+4)" in rows[1]
    assert "↓ step down (less likely)" in rows[2] and "(-2)" in rows[2]
    assert "■ ended" in rows[3] and "discharge criteria not met" in rows[3]
    assert "  cluster  5: Niet-psychotisch (zeer ernstig) (I.b, review every 6 months)" in lines
    assert lines[-1] == "  1 finding in 4 entries"


def test_history_json_is_the_contract_shape_with_integer_cluster_codes(db: str) -> None:
    body = json.loads(ok(run_cli("--db", db, "history", "T-ANNA", "--json")))

    assert body["trajectory"] == "T-ANNA"
    assert [(e["from"], e["to"], e["change"]) for e in body["entries"]] == [
        (None, 3, "initial"), (3, 5, "step_up"), (5, 3, "step_down"), (3, None, "ended"),
    ]  # fmt: skip
    assert body["entries"][3] == {
        "on": "2017-01-20", "event": "referred_back", "from": 3, "to": None, "change": "ended",
        "likelihood": None, "honos_total": 2, "honos_delta": 0, "findings": ["discharge_criteria_not_met"],
    }  # fmt: skip


def test_the_review_worklist_as_of_a_date(db: str) -> None:
    # Henk's cluster 4 from 2016-11-01: six months, due 2017-05-01; he was referred back on 2017-02-21.
    before = json.loads(ok(run_cli("--db", db, "reviews", "--as-of", "2017-02-20", "--json")))
    text = ok(run_cli("--db", db, "reviews", "--as-of", "2017-02-20"))

    assert before == {"as_of": "2017-02-20", "rows": []}
    assert text == "Review worklist as of 2017-02-20: 0 trajectories due\n"
    assert "'20170220' is not a date YYYY-MM-DD" in usage_error(run_cli("--db", db, "reviews", "--as-of", "20170220"))


def test_totals_by_cluster_in_json_and_in_dutch_money(db: str) -> None:
    body = json.loads(ok(run_cli("--db", db, "totals", "--by", "cluster", "--json")))
    text = ok(run_cli("--db", db, "totals", "--by", "cluster"))

    # Henk € 8.700,00 under cluster 4; Anna's one consult of 2016-12-02 under cluster 5, in force that day.
    assert body == {
        "by": "cluster", "total": 880000, "rows": [{"key": "4", "total": 870000}, {"key": "5", "total": 10000}]
    }  # fmt: skip
    assert text.splitlines()[0] == "Totals by cluster: issued declarations"
    assert "  4                     € 8.700,00" in text.splitlines()
    assert text.splitlines()[-1] == "  total                 € 8.800,00"


def test_totals_with_drafts_keeps_them_apart_and_says_so(db: str, tmp_path: Path) -> None:
    more = tmp_path / "more.jsonl"
    march = [*care_need("T-B", "2017-03-01"), delivered("B1", "2017-03-02", number="T-B")]
    more.write_text("".join(as_line(record) + "\n" for record in march))
    ok(run_cli("--db", db, "ingest", str(more)))

    body = json.loads(ok(run_cli("--db", db, "totals", "--drafts", "--json")))
    text = ok(run_cli("--db", db, "totals", "--drafts"))

    assert body["total"] == 880000
    assert body["drafts"] == {
        "status": "draft", "months": ["2017-03"], "total": 10000, "rows": [{"key": "2017-03", "total": 10000}]
    }  # fmt: skip
    assert "drafts of open months (not issued)" in text.splitlines()[0]
    assert "  2017-03                   € 0,00          € 100,00" in text.splitlines()


def test_an_unknown_dimension_is_refused_by_the_parser(db: str) -> None:
    assert "invalid choice: 'colour'" in usage_error(run_cli("--db", db, "totals", "--by", "colour"))


def test_audit_of_an_issued_declaration_is_equal_and_exits_0(db: str) -> None:
    out = ok(run_cli("--db", db, "audit", "T-HENK", "2017-02"))

    assert out.splitlines()[0] == "audit T-HENK 2017-02: the reconstruction from the log equals the issued declaration"
    assert "total € 1.300,00, 4 lines, digest " in out


def test_audit_errors_are_one_line_without_a_traceback(db: str) -> None:
    assert "month 2017-03 is not closed" in one_line(run_cli("--db", db, "audit", "T-HENK", "2017-03"), 2)
    assert "trajectory T-NOPE was never opened" in one_line(run_cli("--db", db, "audit", "T-NOPE", "2017-02"), 1)
    assert "T-NOPE was never opened" in one_line(run_cli("--db", db, "history", "T-NOPE"), 1)


def test_build_then_rebuild_then_verify_exits_0(db: str) -> None:
    rebuilt = ok(run_cli("--db", db, "rebuild"))
    verified = ok(run_cli("--db", db, "verify"))

    assert rebuilt.startswith("rebuilt every view from position 0 to 49 in ")
    summary, anchor = verified.splitlines()
    assert summary == "verify: 49 events, 4 closes, 5 declarations recomputed; the chain holds and every digest matches"
    assert re.fullmatch("anchor 49 [0-9a-f]{64}", anchor)


def test_an_amount_altered_in_the_sqlite_file_is_found_by_verify_which_names_the_declaration(db: str) -> None:
    with sqlite3.connect(db) as connection:
        [(rowid, state)] = connection.execute(
            'SELECT rowid, state FROM stored_events WHERE CAST(state AS TEXT) LIKE \'%"activity":"H-0215-C"%\''
        ).fetchall()
        altered = orjson.loads(state)
        altered["amount"] = 90000
        connection.execute("UPDATE stored_events SET state = ? WHERE rowid = ?", (orjson.dumps(altered), rowid))
    connection.close()

    verified = run_cli("--db", db, "verify")
    audited = run_cli("--db", db, "audit", "T-HENK", "2017-02")
    untouched = run_cli("--db", db, "audit", "T-ANNA", "2016-12")

    assert verified.returncode == 1
    lines = verified.stdout.splitlines()
    assert lines[0].endswith("3 differences")
    # The chain names the altered event first; the digests then say what it changed.
    assert (
        lines[1]
        == f"  chain at position {rowid}: an event was altered, inserted or deleted here: its chain hash differs"
    )
    del lines[1]
    assert lines[1] == (
        "  declaration T-HENK 2017-02: digest differs from the issued declaration:"
        " total: recorded € 1.300,00, log gives € 2.100,00;"
        " debit line of activity H-0215-C: amount recorded € 100,00, log gives € 900,00"
    )
    assert lines[2].startswith("  close 2017-02 (position 49): chained digest ")
    assert audited.returncode == 1
    assert "  - debit line of activity H-0215-C: amount recorded € 100,00, log gives € 900,00" in audited.stdout
    assert untouched.returncode == 0


def test_rebuild_after_an_alteration_warns_and_exits_1(db: str) -> None:
    with sqlite3.connect(db) as connection:
        connection.execute(
            "UPDATE stored_events"
            " SET state = CAST(replace(CAST(state AS TEXT), '\"amount\":40000', '\"amount\":1') AS BLOB)"
            ' WHERE CAST(state AS TEXT) LIKE \'%"activity":"H-0221-V"%\''
        )
    connection.close()

    result = run_cli("--db", db, "rebuild")

    assert result.returncode == 1
    assert result.stdout.startswith("rebuilt every view")
    assert result.stderr == (
        "ggzledger: the log no longer gives the declarations issued at the close of 2017-02:"
        " a stored event was altered; run ggzledger verify\n"
    )


def test_audit_and_verify_on_postgresql(postgres_db: str) -> None:
    ok(run_cli("--db", postgres_db, "ingest", str(HENK)))

    assert ok(run_cli("--db", postgres_db, "audit", "T-HENK", "2016-11")).startswith("audit T-HENK 2016-11: the")
    assert ok(run_cli("--db", postgres_db, "rebuild")).startswith("rebuilt every view from position 0 to 42")
    assert "; the chain holds and every digest matches\nanchor 42 " in ok(run_cli("--db", postgres_db, "verify"))


def test_rebuild_shows_a_progress_bar_only_when_standard_error_is_a_terminal(db: str) -> None:
    result, shown = run_cli_on_a_terminal("--db", db, "rebuild")

    assert result.returncode == 0
    assert b"rebuild" in shown and b"events" in shown
    assert "rebuild:" not in ok(run_cli("--db", db, "rebuild"))  # no bar when standard error is a pipe
