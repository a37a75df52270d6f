"""Input records (contract.md, rules.md §3.11) parsed on their own, before any ledger sees them."""

from __future__ import annotations

from datetime import date

import pytest

from builders import assessed, clustered, delivered, month_closed, opened, referred_back, reviewed, voided
from ggzledger import Malformed
from ggzledger.service.records import parse_object

TODAY = date(2025, 6, 15)


def test_every_record_type_takes_an_id() -> None:
    for record in [
        opened(), assessed("2016-11-02"), clustered("2016-11-02"), delivered("A1", "2016-11-02"),
        voided("A1", "2016-11-02"), reviewed("2016-11-02"), referred_back("2016-11-02"), month_closed("2016-11"),
    ]:  # fmt: skip
        assert parse_object({**record, "id": "R1"}, TODAY).record_id == "R1"


def test_a_refusal_is_an_error_of_its_family() -> None:
    with pytest.raises(Malformed):
        parse_object(opened(provider="1"), TODAY)
