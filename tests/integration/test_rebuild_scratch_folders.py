"""A rebuild's scratch folders beside the ledger: one it cannot judge never stops a rebuild (issue 11, defect 12)."""

from __future__ import annotations

from pathlib import Path

from builders import Clerk, care_need, delivered, month_closed
from ggzledger import Ledger
from ggzledger.service.rebuild import rebuild


def test_folders_named_after_no_possible_process_are_left_alone_and_the_rebuild_goes_on(tmp_path: Path) -> None:
    # Scratch folders live beside the ledger: only a SQLite file has children prepare pages.
    ledger = Ledger(str(tmp_path / "ledger.db"))
    try:
        counts = Clerk(ledger).send(
            *care_need("T1", "2016-11-01"), delivered("A1", "2016-11-02"), month_closed("2016-11")
        )
        assert counts[2] == 0
        issued = ledger.declaration("T1", "2016-11")
        # Past any process id (os.kill raised OverflowError), a digit that is not ASCII (int() refuses
        # it), process 0 (the caller's own group) and one past Linux's largest process id.
        strange = [tmp_path / f".ggzledger-rebuild-{pid}-x" for pid in ("99999999999999999999", "²", "0", "4194305")]
        for folder in strange:
            folder.mkdir()
            (folder / "page-1.db").write_bytes(b"")
        # Children prepare the pages, which is when the folders beside the ledger are looked at.
        ledger.projector.rebuilder.second_process_from, ledger.projector.rebuilder.page_size = 1, 2

        rebuilt = rebuild(ledger)

        assert rebuilt.position == ledger.projector.head()
        assert rebuilt.unreproduced == ()
        assert ledger.declaration("T1", "2016-11") == issued
        assert all((folder / "page-1.db").exists() for folder in strange)
    finally:
        ledger.close()
