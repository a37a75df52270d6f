"""ggzledger erase, reconcile-erasures and rotate-kek as a user runs them: real processes on a SQLite data directory."""

from __future__ import annotations

import base64
import json
import os
import shutil
import sqlite3
import subprocess
from pathlib import Path

import orjson
import pytest

from cli import no_traceback, one_line
from processes import run_cli as run_in_process


def run_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """The CLI with the KEK left to its default: generated beside the key store on the first write."""
    return run_in_process(*args, env={"GGZLEDGER_KEK_FILE": "", **(env or {})})


PATIENT = "PAT-ZQ7731"
REFERRER = "Dr. Quirina Vlasblom"
HONOS = {str(item): (item * 3) % 5 for item in range(1, 13)}
RECORDS = [
    {"type": "trajectory_opened", "trajectory": "T-Q", "patient": PATIENT, "provider": "12345678",
     "insurer": "3311", "date": "2016-11-01", "region": "Utrecht", "referrer": REFERRER},
    {"type": "assessed", "trajectory": "T-Q", "date": "2016-11-01", "honos": HONOS, "assessor": "psychiater"},
    {"type": "clustered", "trajectory": "T-Q", "date": "2016-11-01", "cluster": 4},
    {"type": "activity_delivered", "trajectory": "T-Q", "activity": "Q-1", "date": "2016-11-03", "code": "CONSULT",
     "minutes": 45},
    {"type": "month_closed", "month": "2016-11"},
]  # fmt: skip


def forms() -> list[bytes]:
    """Every form the erased values could take in a file: the id, the referrer, the scores as the code writes them."""
    pairs = [[key, value] for key, value in HONOS.items()]
    return [
        PATIENT.encode(),
        REFERRER.encode(),
        orjson.dumps(HONOS),
        json.dumps(HONOS).encode(),
        orjson.dumps(pairs),
        json.dumps(pairs).encode(),
        PATIENT.encode("utf-16-le"),
        REFERRER.encode("utf-16-le"),
    ]


def found(folder: Path) -> list[str]:
    hits = []
    for path in sorted(folder.iterdir()):
        data = path.read_bytes()
        hits += [f"{path.name}: {form!r}" for form in forms() if form in data]
    return hits


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    data = tmp_path / "data"
    data.mkdir()
    source = tmp_path / "records.jsonl"
    source.write_text("".join(json.dumps(record) + "\n" for record in RECORDS))
    ok(run_cli("--db", str(data / "ledger.db"), "ingest", str(source)))
    return data


def ok(result: object) -> str:
    no_traceback(result)  # type: ignore[arg-type]
    assert result.returncode == 0, result.stderr  # type: ignore[attr-defined]
    return result.stdout  # type: ignore[attr-defined, no-any-return]


def test_after_erase_no_byte_of_any_file_of_the_data_directory_holds_the_patients_values(folder: Path) -> None:
    db = str(folder / "ledger.db")
    ok(run_cli("--db", db, "history", "T-Q"))  # the views hold the values now
    before = (ok(run_cli("--db", db, "invoice", "T-Q", "2016-11", "--json")), ok(run_cli("--db", db, "totals")))

    receipt = ok(run_cli("--db", db, "erase", PATIENT, "--basis", "AVG17"))

    assert receipt.startswith("erased subject ") and "1 trajectory\n  T-Q\n" in receipt and PATIENT not in receipt
    assert {p.name for p in folder.iterdir()} >= {"ledger.db", "ledger.db.keys", "ledger.db.keys.kek"}
    assert found(folder) == []
    issued = json.loads(ok(run_cli("--db", db, "invoice", "T-Q", "2016-11", "--json")))
    was = json.loads(before[0])
    assert issued["cluster"] is None and {k: v for k, v in issued.items() if k not in ("cluster", "review_due")} == {
        k: v for k, v in was.items() if k not in ("cluster", "review_due")
    }
    assert ok(run_cli("--db", db, "totals")) == before[1]
    assert "; the chain holds and every digest matches\n" in ok(run_cli("--db", db, "verify"))
    assert "equals the issued declaration" in ok(run_cli("--db", db, "audit", "T-Q", "2016-11"))
    assert "erased" in ok(run_cli("--db", db, "totals", "--by", "cluster"))
    # Nothing to erase the second time; the dry run changed nothing either.
    assert "no data key for that patient" in one_line(run_cli("--db", db, "erase", PATIENT, "--basis", "AVG17"), 1)


def test_after_erase_every_patient_command_still_answers_with_the_personal_fields_shown_as_erased(
    folder: Path,
) -> None:
    db = str(folder / "ledger.db")
    ok(run_cli("--db", db, "erase", PATIENT, "--basis", "WGBO455"))

    history = ok(run_cli("--db", db, "history", "T-Q"))
    entries = json.loads(ok(run_cli("--db", db, "history", "T-Q", "--json")))["entries"]
    shown = [ok(run_cli("--db", db, *command)) for command in (["invoice", "T-Q", "2016-11"], ["invoices", "2016-11"])]
    shown += [ok(run_cli("--db", db, "totals", "--by", by)) for by in ("cluster", "group", "supercluster")]
    shown += [ok(run_cli("--db", db, "reviews", "--as-of", "2017-06-01")), ok(run_cli("--db", db, "feed"))]

    assert "2016-11-01  clustered      erased" in history and "× erased" in history
    assert [(e["on"], e["change"], e["to"], e["honos_total"]) for e in entries] == [
        ("2016-11-01", "erased", None, None)
    ]
    assert not [text for text in [history, *shown] if PATIENT in text or REFERRER in text]


def test_a_dry_run_changes_nothing(folder: Path) -> None:
    db = str(folder / "ledger.db")
    said = ok(run_cli("--db", db, "erase", PATIENT, "--basis", "WGBO455", "--dry-run"))

    assert said.startswith("would erase subject ")
    assert f'"patient":"{PATIENT}"' in ok(run_cli("--db", db, "feed", "--limit", "1"))


def test_a_restored_key_store_undoes_an_erasure_until_reconcile_erasures(folder: Path, tmp_path: Path) -> None:
    db = str(folder / "ledger.db")
    backup = tmp_path / "keys.backup"
    shutil.copy(folder / "ledger.db.keys", backup)
    ok(run_cli("--db", db, "erase", PATIENT, "--basis", "AVG17"))
    shutil.copy(backup, folder / "ledger.db.keys")

    restored = ok(run_cli("--db", db, "feed", "--limit", "1"))
    said = ok(run_cli("--db", db, "reconcile-erasures"))
    after = ok(run_cli("--db", db, "feed", "--limit", "1"))

    assert f'"patient":"{PATIENT}"' in restored
    assert said == "1 erased subject: 1 data key deleted again, 1 tombstone written again, 0 erasures recorded\n"
    assert '"patient":null' in after
    assert found(folder) == []


def test_rotate_kek_leaves_the_old_kek_useless_and_a_wrong_kek_is_one_clear_line(folder: Path, tmp_path: Path) -> None:
    db = str(folder / "ledger.db")
    old_kek = (folder / "ledger.db.keys.kek").read_text()
    old_keys = tmp_path / "keys.before-rotation"
    shutil.copy(folder / "ledger.db.keys", old_keys)

    said = ok(run_cli("--db", db, "rotate-kek", str(tmp_path / "new.kek")))

    assert said.startswith("rewrapped 1 data key and 1 secret from KEK ")
    assert (folder / "ledger.db.keys.kek").read_text() == (tmp_path / "new.kek").read_text() != old_kek
    assert os.stat(tmp_path / "new.kek").st_mode & 0o777 == 0o600
    assert f'"patient":"{PATIENT}"' in ok(run_cli("--db", db, "feed", "--limit", "1"))
    # The backup taken before the rotation with the KEK now in use: its keys are wrapped by the old one.
    shutil.copy(old_keys, folder / "ledger.db.keys")
    line = one_line(run_cli("--db", db, "feed", "--limit", "1"), 2)
    assert "is not the one the key store's keys are wrapped with" in line
    wrong = base64.b64encode(os.urandom(32)).decode()
    line = one_line(run_cli("--db", db, "feed", "--limit", "1", env={"GGZLEDGER_KEK": wrong}), 2)
    assert line.startswith("ggzledger: the KEK from GGZLEDGER_KEK (id ")


def test_a_kek_left_out_is_one_line_and_no_new_kek_is_generated_beside_keys_it_cannot_open(tmp_path: Path) -> None:
    source = tmp_path / "records.jsonl"
    source.write_text("".join(json.dumps(record) + "\n" for record in RECORDS))
    db = str(tmp_path / "ledger.db")
    kek = base64.b64encode(os.urandom(32)).decode()
    ok(run_cli("--db", db, "ingest", str(source), env={"GGZLEDGER_KEK": kek}))

    # An empty variable counts as unset: without a KEK file beside the key store, none is made.
    line = one_line(run_cli("--db", db, "erase", PATIENT, "--basis", "AVG17", env={"GGZLEDGER_KEK": ""}), 2)

    assert line.startswith("ggzledger: no KEK: the key store's keys are wrapped with KEK id ")
    assert not (tmp_path / "ledger.db.keys.kek").exists()
    assert "would erase subject" in ok(
        run_cli("--db", db, "erase", PATIENT, "--basis", "AVG17", "--dry-run", env={"GGZLEDGER_KEK": kek})
    )


def test_erase_on_a_plain_ledger_says_how_to_seal_it(tmp_path: Path) -> None:
    old = tmp_path / "old.db"
    shutil.copy(Path(__file__).parent.parent / "data" / "ledger-0.1.0.db", old)

    line = one_line(run_cli("--db", str(old), "erase", "P-HENK", "--basis", "AVG17"), 1)

    assert line == "ggzledger: this ledger is plain (recorded before sealing): copy it with ggzledger seal --into NEW"


def test_seal_into_copies_a_plain_ledger_at_the_same_positions_and_the_copy_can_erase(tmp_path: Path) -> None:
    old, new = tmp_path / "old.db", tmp_path / "new.db"
    shutil.copy(Path(__file__).parent.parent / "data" / "ledger-0.1.0.db", old)
    feed_before = ok(run_cli("--db", str(old), "feed"))
    invoices = ok(run_cli("--db", str(old), "invoices", "2017-02", "--json"))

    said = ok(run_cli("--db", str(old), "seal", "--into", str(new)))

    assert said.startswith("sealed 525 events into ")
    assert ok(run_cli("--db", str(new), "feed")) == feed_before
    assert ok(run_cli("--db", str(new), "invoices", "2017-02", "--json")) == invoices
    assert "the chain holds and every digest matches" in ok(run_cli("--db", str(new), "verify"))
    with sqlite3.connect(new) as connection:
        states = b"".join(row[0] for row in connection.execute("SELECT state FROM stored_events"))
    assert b"P-HENK" not in states and b'"_sealed"' in states  # the views hold it until an erasure
    ok(run_cli("--db", str(new), "erase", "P-HENK", "--basis", "AVG17"))
    assert '"patient":null' in ok(run_cli("--db", str(new), "feed", "--limit", "1"))


def test_a_rebuild_after_erasing_a_patient_with_form_1_declarations_gives_back_the_issued_digests(
    tmp_path: Path,
) -> None:
    old, new = tmp_path / "old.db", tmp_path / "new.db"
    shutil.copy(Path(__file__).parent.parent / "data" / "ledger-0.1.0.db", old)
    ok(run_cli("--db", str(old), "seal", "--into", str(new)))
    db = str(new)
    months = ("2016-11", "2016-12", "2017-01", "2017-02")
    issued = {m: json.loads(ok(run_cli("--db", db, "invoice", "T-HENK", m, "--json")))["digest"] for m in months}
    ok(run_cli("--db", db, "erase", "P-HENK", "--basis", "AVG17"))

    rebuilt = run_cli("--db", db, "rebuild")
    after = {m: json.loads(ok(run_cli("--db", db, "invoice", "T-HENK", m, "--json")))["digest"] for m in months}
    verified = ok(run_cli("--db", db, "verify"))

    # The closes of the plain ledger digested the cluster (form 1): the erasure event kept what they issued.
    no_traceback(rebuilt)
    assert rebuilt.returncode == 0, rebuilt.stderr
    assert after == issued
    assert "the chain holds and every digest matches" in verified
    assert "not recomputable: personal data erased (its recorded digest is used)" in verified


def test_seal_into_a_path_that_cannot_be_a_new_ledger_is_one_line_naming_it(tmp_path: Path) -> None:
    old = tmp_path / "old.db"
    shutil.copy(Path(__file__).parent.parent / "data" / "ledger-0.1.0.db", old)
    text = tmp_path / "notes.txt"
    text.write_text("not a ledger\n")

    def refused(into: Path) -> str:
        return one_line(run_cli("--db", str(old), "seal", "--into", str(into)), 2)

    assert refused(tmp_path / "nowhere" / "new.db").endswith(f"the directory {tmp_path / 'nowhere'} does not exist")
    assert refused(text).startswith(f"ggzledger: {text} is not a SQLite database")  # not old.db, as it said
    assert refused(tmp_path) == f"ggzledger: {tmp_path} is a directory, not a ledger file"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt", "old.db"]
