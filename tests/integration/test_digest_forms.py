"""The financial digest (trust.md §3): new closes digest form 2, closes recorded before keep form 1.

Form 2 is recomputed here from the declaration's JSON with hashlib and orjson alone, as an
auditor would from an exported zorgnota and the trajectory's provider and insurer.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
from datetime import date
from pathlib import Path
from uuid import uuid4

import orjson

from builders import HENK
from cli import no_traceback
from digests import form_2
from ggzledger.domain import BillingCalendar
from ggzledger.projections.declarations import Declaration, Line
from ggzledger.store import TypedMapper
from processes import run_cli

OLD_LEDGER = Path(__file__).parents[1] / "data" / "ledger-0.1.0.db"


def test_a_new_close_records_form_2_and_each_declaration_shows_its_form_2_digest(db: str) -> None:
    assert run_cli("--db", db, "ingest", str(HENK)).returncode == 0

    for month in ("2016-11", "2016-12", "2017-01", "2017-02"):
        shown = json.loads(run_cli("--db", db, "invoice", "T-HENK", month, "--json").stdout)
        assert shown["digest"] == form_2(shown, "12345678", "3311")
    assert run_cli("--db", db, "verify").returncode == 0


def declaration(cluster: int | None, insurer: str, form: int) -> Declaration:
    line = Line(date(2017, 2, 3), "CONSULT", "Consult", 10000, "debit", "H-1", False)
    return Declaration(
        trajectory="T-1", month="2017-02", status="issued", sequence=1, cluster=cluster, cluster_name=None,
        start_date=date(2016, 11, 1), end_date=None, review_due=None, previously_declared=0, total=10000,
        lines=(line,), provider="12345678", insurer=insurer, digest_form=form,
    )  # fmt: skip


def test_form_2_leaves_the_cluster_out_and_takes_the_insurer_in_and_form_1_the_other_way_round() -> None:
    assert declaration(4, "3311", 2).digest == declaration(None, "3311", 2).digest
    assert declaration(4, "3311", 2).digest != declaration(4, "7029", 2).digest
    assert declaration(4, "3311", 1).digest != declaration(None, "3311", 1).digest
    assert declaration(4, "3311", 1).digest == declaration(4, "7029", 1).digest


def test_a_close_stored_before_digest_forms_reads_as_form_1() -> None:
    state = {"timestamp": "2017-03-01T00:00:00+00:00", "record_id": None, "month": "2017-02", "up_to": 40,
             "declarations": 1, "total": 100, "digest": "0" * 64}  # fmt: skip
    stored = TypedMapper().to_stored_event(BillingCalendar.MonthClosed(
        originator_id=uuid4(), originator_version=2, **{**state, "timestamp": date(2017, 3, 1)}, digest_form=2,
    ))  # fmt: skip
    old = type(stored)(stored.originator_id, 2, stored.topic, orjson.dumps(state))

    assert TypedMapper().to_domain_event(old).digest_form == 1  # type: ignore[attr-defined]
    assert TypedMapper().to_domain_event(stored).digest_form == 2  # type: ignore[attr-defined]


def test_form_1_declarations_of_an_erased_patient_are_said_not_recomputable_and_verify_passes(tmp_path: Path) -> None:
    old = tmp_path / "ledger.db"
    shutil.copyfile(OLD_LEDGER, old)
    # What erasure leaves readable of Henk's clusterings (helper B's sealing reads them as null).
    with sqlite3.connect(old) as connection:
        connection.execute(
            "UPDATE stored_events SET state = CAST(replace(CAST(state AS TEXT), '\"cluster\":4', '\"cluster\":null')"
            " AS BLOB) WHERE topic LIKE '%.Clustered' AND CAST(state AS TEXT) LIKE '%T-HENK%'"
        )
    connection.close()

    verified = run_cli("--db", str(old), "verify")

    no_traceback(verified)
    assert verified.returncode == 0, verified.stdout
    notes = [line for line in verified.stdout.splitlines() if "personal data erased" in line]
    assert "  note: declaration T-HENK 2016-11: not recomputable: personal data erased" in "\n".join(notes)
    assert len([n for n in notes if n.startswith("  note: declaration T-HENK")]) == 4
