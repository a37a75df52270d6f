"""The price of a ZPM activity: NZa maximum, fixed or free tariff, and the contracts that lower or set it."""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence
from datetime import date

import attrs

from ggzledger.domain.contracts import FULL_BP, MAX_MAX_BP, Contract
from ggzledger.reference.tariffs import Found, NoTariff, TariffRow, Tariffs

__all__ = [
    "ContractIndex",
    "ContractRefused",
    "Contracts",
    "NoPrice",
    "Price",
    "cap_of",
    "check_contract",
    "contract_for",
    "price",
]


class ContractRefused(ValueError):
    """A ``contract_agreed`` that zpm.md Z5.3 refuses; the message names the contract and the rule."""


class NoPrice(LookupError):
    """No price can be determined: a free (vrij) tariff without a contract amount (rule 3.12k)."""


@attrs.frozen
class Price:
    """The price of one activity: ``amount`` cents, how it was found, and the NZa maximum it was held to.

    ``basis`` is ``nza_max``, ``vast`` or ``contract:<id>``, with ``:capped`` added when the
    contract's price was above the cap of the row in force (Z5.4 step 4). ``max_amount`` is the
    row's amount, None for a free tariff.
    """

    amount: int
    basis: str
    max_amount: int | None


def cap_of(row: TariffRow, max_max: bool) -> int | None:
    """The most a contract may charge for ``row``: its maximum, or ⌊max × 110%⌋ under max-max; None for vrij."""
    if row.tariff_type == "vrij" or row.amount is None:
        return None
    return row.amount * MAX_MAX_BP // FULL_BP if max_max else row.amount


class ContractIndex:
    """Contracts by provider and insurer, so that pricing an activity reads the few of its own pair.

    A ledger's contracts grow by a handful per provider, insurer and year; an ingest prices every
    ZPM activity with them, and a scan of them all would cost each activity more as years pass.
    """

    __slots__ = ("_by_pair",)

    def __init__(self, contracts: Iterable[Contract]) -> None:
        by_pair: dict[tuple[str, str | None], list[Contract]] = {}
        for contract in contracts:
            by_pair.setdefault((contract.provider, contract.insurer), []).append(contract)
        self._by_pair = by_pair

    def contract_for(self, on: date, provider: str, insurer: str | None) -> Contract | None:
        """What :func:`contract_for` finds, from the index."""
        if insurer is not None:
            for contract in self._by_pair.get((provider, insurer), ()):
                if contract.covers(on):
                    return contract
        for contract in self._by_pair.get((provider, None), ()):
            if contract.covers(on):
                return contract
        return None


Contracts = Sequence[Contract] | ContractIndex
"""What prices an activity: the contracts as recorded, or indexed (:class:`ContractIndex`)."""


def contract_for(contracts: Contracts, on: date, provider: str, insurer: str | None) -> Contract | None:
    """The contract that prices care of ``provider`` for ``insurer`` on ``on`` (Z5.4 step 2).

    The provider's contract with that insurer whose period contains ``on``; else the provider's
    own price list (a contract without insurer); else None. Contracts of one provider and insurer
    never overlap (Z5.3), so at most one of them covers a date.
    """
    if isinstance(contracts, ContractIndex):
        return contracts.contract_for(on, provider, insurer)
    own = None
    for contract in contracts:
        if contract.provider != provider or not contract.covers(on):
            continue
        if insurer is not None and contract.insurer == insurer:
            return contract
        if contract.insurer is None:
            own = contract
    return own


def price(found: Found, on: date, provider: str, insurer: str | None, contracts: Contracts) -> Price:
    """The price of an activity on ``on`` priced by ``found``'s row (zpm.md Z5.4 steps 1–4).

    ``vast``: the row's amount. ``vrij``: the contract's amount for the code. ``maximum``: the
    contract's amount for the code, else its percentage of the maximum rounded half up to whole
    cents, else (no contract, or one silent on this code) the maximum; never above the cap.

    Raises NoPrice for a free tariff with no contract amount for its code.
    """
    row = found.row
    if row.tariff_type == "vast":
        assert row.amount is not None  # only vrij rows lack an amount
        return Price(amount=row.amount, basis="vast", max_amount=row.amount)
    return _priced(row, contract_for(contracts, on, provider, insurer))


# A year's ZPM activities name a few hundred rows under a handful of contracts: the price of a row
# under a contract is remembered. Both are values (compared by content, their hashes cached), so
# no registry or contract set is ever given another's answer; NoPrice is raised anew each time.
@functools.lru_cache(maxsize=1 << 14)
def _priced(row: TariffRow, contract: Contract | None) -> Price:
    """Steps 3 and 4 of Z5.4 for a ``maximum`` or ``vrij`` row under ``contract`` (None: no contract)."""
    if row.tariff_type == "vrij":
        agreed = None if contract is None else contract.amount_for(row.code)
        if contract is None or agreed is None:
            raise NoPrice(f"code {row.code} has a free tariff and no contract price")
        return Price(amount=agreed, basis=f"contract:{contract.contract}", max_amount=None)
    assert row.amount is not None
    if contract is None:
        return Price(amount=row.amount, basis="nza_max", max_amount=row.amount)
    amount = contract.amount_for(row.code)
    if amount is None and contract.percentage_bp is not None:
        amount = (row.amount * contract.percentage_bp + FULL_BP // 2) // FULL_BP
    if amount is None:
        return Price(amount=row.amount, basis="nza_max", max_amount=row.amount)
    basis = f"contract:{contract.contract}"
    cap = cap_of(row, contract.max_max)
    if cap is not None and amount > cap:
        # A table loaded after the contract lowered the maximum: the law's ceiling wins.
        return Price(amount=cap, basis=f"{basis}:capped", max_amount=row.amount)
    return Price(amount=amount, basis=basis, max_amount=row.amount)


def check_contract(new: Contract, existing: Sequence[Contract], tariffs: Tariffs) -> None:
    """Refuse a contract that zpm.md Z5.3 forbids, naming the first rule it breaks, in Z5.3's order.

    ``existing`` are the contracts recorded so far (an identical one is not an overlap: repeating
    a record is the service's rule, as is an id used before with other content).

    Raises ContractRefused.
    """
    name = f"contract {new.contract}"
    if new.valid_to < new.valid_from:
        raise ContractRefused(f"{name}: valid_to {new.valid_to} is before valid_from {new.valid_from}")
    if new.valid_to.year != new.valid_from.year:
        raise ContractRefused(
            f"{name}: runs from {new.valid_from} to {new.valid_to}; a contract stays within one calendar year"
        )
    for known in existing:
        if known == new or known.provider != new.provider or known.insurer != new.insurer:
            continue
        if known.valid_from <= new.valid_to and new.valid_from <= known.valid_to:
            whose = f"insurer {new.insurer}" if new.insurer is not None else "no insurer (own price list)"
            raise ContractRefused(
                f"{name}: overlaps contract {known.contract} ({known.valid_from}..{known.valid_to}) "
                f"of provider {new.provider} with {whose}"
            )
    bp = new.percentage_bp
    if bp is not None and not 1 <= bp <= MAX_MAX_BP:
        raise ContractRefused(f"{name}: percentage_bp must be 1 to {MAX_MAX_BP}, got {bp}")
    if bp is not None and bp > FULL_BP and not new.max_max:
        raise ContractRefused(
            f"{name}: percentage_bp {bp} is above {FULL_BP} (the maximum); only a max-max contract "
            "(max_max: true) goes up to 11000"
        )
    if bp is None and new.code_amounts is None:
        raise ContractRefused(f"{name}: needs percentage_bp or code_amounts")
    for code, cents in new.code_amounts or ():
        try:
            row = tariffs.row(code, new.valid_from).row
        except NoTariff:
            raise ContractRefused(
                f"{name}: code {code} has no tariff row in force on {new.valid_from}; load the year's table first"
            ) from None
        if row.tariff_type == "vast":
            raise ContractRefused(f"{name}: code {code} has a fixed (vast) tariff, which no contract changes")
        cap = cap_of(row, new.max_max)
        if cap is not None and cents > cap:
            limit = "the maximum + 10%, max-max" if new.max_max else "the NZa maximum"
            raise ContractRefused(f"{name}: amount {cents} for code {code} is above its cap {cap} ({limit})")
