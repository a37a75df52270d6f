"""A contract between a provider and an insurer (or the provider's own list): the value the price rules read."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

import attrs

__all__ = ["Contract", "MAX_MAX_BP", "FULL_BP"]

FULL_BP = 10_000
"""100.00% in basis points: the NZa maximum itself."""
MAX_MAX_BP = 11_000
"""110.00%: the most a written max-max agreement may reach (zpm.md Z2.1, Z5.3)."""


def _frozen_amounts(value: Mapping[str, int] | None) -> tuple[tuple[str, int], ...] | None:
    # Events hold immutable values; sorted so that equal contracts compare equal.
    return None if value is None else tuple(sorted(value.items()))


@attrs.frozen
class Contract:
    """What a ``contract_agreed`` record agrees (zpm.md Z3.3, Z5.3).

    ``insurer`` None is the provider's own price list for insurers it has no contract with.
    ``percentage_bp`` is in basis points (9000 = 90.00%); ``code_amounts`` are cents per code,
    kept as sorted (code, cents) pairs. The rules that refuse a contract are checked by the
    reference data's :func:`ggzledger.reference.pricing.check_contract`, which knows the tables.
    """

    contract: str
    provider: str
    insurer: str | None
    valid_from: date
    valid_to: date
    percentage_bp: int | None = None
    code_amounts: tuple[tuple[str, int], ...] | None = attrs.field(default=None, converter=_frozen_amounts)
    max_max: bool = False

    def covers(self, on: date) -> bool:
        """Whether ``on`` lies in the contract's period (both ends included)."""
        return self.valid_from <= on <= self.valid_to

    def amount_for(self, code: str) -> int | None:
        """The agreed amount in cents for ``code``, or None when the contract names none."""
        if self.code_amounts is None:
            return None
        for known, cents in self.code_amounts:
            if known == code:
                return cents
        return None
