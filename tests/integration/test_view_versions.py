"""A view whose table layout changed is rebuilt on an existing ledger instead of failing."""

from __future__ import annotations

from builders import meneer_henk
from ggzledger import Ledger
from ggzledger.projections.billing import BillingView


def test_a_view_with_a_new_layout_version_is_rebuilt_from_position_zero(db: str) -> None:
    first = Ledger(db)
    meneer_henk(first)
    expected = first.declaration("T-HENK", "2017-02")
    with first.store.transaction(write=True) as c:
        # What an older layout left behind: rows that the new layout would not write.
        c.execute("DELETE FROM billing_declarations")
    first.close()

    original = BillingView.version
    BillingView.version = original + 1
    try:
        second = Ledger(db)
        with second.store.transaction(write=False) as c:
            c.execute("SELECT position, version FROM projection_positions WHERE name = 'billing'")
            assert c.fetchone() == (0, original + 1)
        assert second.declaration("T-HENK", "2017-02") == expected
        second.close()
    finally:
        BillingView.version = original
