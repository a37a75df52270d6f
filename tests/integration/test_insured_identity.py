"""The insured's identity on a trajectory's opening: checked when recorded, sealed when stored, gone when erased."""

from __future__ import annotations

from pathlib import Path

from builders import Clerk, opened
from ggzledger import Ledger
from ggzledger.service.erasure import erase


def test_a_bsn_that_fails_the_elfproef_is_refused_without_repeating_it(clerk: Clerk) -> None:
    message = clerk.refusal(opened("T1", bsn="123456789"))
    assert message == "line 1: field 'bsn' is not a BSN: its nine digits fail the elfproef"


def test_a_bsn_of_other_than_nine_digits_is_refused(clerk: Clerk) -> None:
    assert "must be a string of 9 digits" in clerk.refusal(opened("T1", bsn=999999990))


def test_a_birth_date_after_the_opening_is_refused(clerk: Clerk) -> None:
    message = clerk.refusal(opened("T1", "2016-11-01", birth_date="2016-11-02"))
    assert message == "line 1: trajectory T1: the birth date lies after the opening date 2016-11-01"


def test_the_identity_is_kept_on_the_trajectory(ledger: Ledger, clerk: Clerk) -> None:
    clerk.given(opened("T1", bsn="111222333", member_number="M-9", birth_date="1970-01-31"))
    trajectory = ledger.load("T1")
    assert (trajectory.bsn, trajectory.member_number, str(trajectory.birth_date)) == ("111222333", "M-9", "1970-01-31")


def test_the_bsn_is_sealed_in_the_file_and_gone_once_erased(tmp_path: Path) -> None:
    db = tmp_path / "ledger.db"
    ledger = Ledger(str(db))
    try:
        Clerk(ledger).given(opened("T1", bsn="111222333", member_number="MEMBER-4711", birth_date="1970-01-31"))
        # The database, its write-ahead log and its key store: every file the ledger wrote.
        stored = b"".join(path.read_bytes() for path in tmp_path.iterdir() if path.name.startswith("ledger.db"))
        assert b"111222333" not in stored and b"MEMBER-4711" not in stored and b"1970-01-31" not in stored
        erase(ledger, "P-T1", "AVG17")
        trajectory = ledger.load("T1")
        assert (trajectory.bsn, trajectory.member_number, trajectory.birth_date) == (None, None, None)
    finally:
        ledger.close()
