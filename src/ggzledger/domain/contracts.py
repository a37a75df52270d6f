"""Contracts between a provider and an insurer (or the provider's own list): the value the price rules read,
and the ledger's book of them."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

import attrs
from eventsourcing.domain import Aggregate, event

__all__ = ["Contract", "ContractBook", "MAX_MAX_BP", "FULL_BP"]

FULL_BP = 10_000
"""100.00% in basis points: the NZa maximum itself."""
MAX_MAX_BP = 11_000
"""110.00%: the most a written max-max agreement may reach (zpm.md Z2.1, Z5.3)."""


def _frozen_amounts(
    value: Mapping[str, int] | Iterable[tuple[str, int]] | None,
) -> tuple[tuple[str, int], ...] | None:
    # Events hold immutable values; sorted so that equal contracts compare equal. Pairs as an event
    # stores them are taken as they are, a mapping as the input gives it.
    if value is None:
        return None
    pairs = value.items() if isinstance(value, Mapping) else value
    return tuple(sorted((code, cents) for code, cents in pairs))


@attrs.frozen(cache_hash=True)  # a key of pricing's memo: hashed once
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


_CONTRACT_FIELDS = tuple(field.name for field in attrs.fields(Contract))


class ContractBook(Aggregate):
    """The one stream of ContractAgreed events (zpm.md Z5.3): every contract the ledger prices with.

    Contracts are immutable: a contract is agreed once. The rules that refuse one need the
    tariff tables and are the application's (:func:`ggzledger.reference.pricing.check_contract`);
    the book only records what was agreed.
    """

    TOPIC = "ggzledger.ContractBook"
    ID = uuid5(NAMESPACE_URL, "https://ggzledger.invalid/contract-book")

    class Event(Aggregate.Event):
        TOPIC = "ggzledger.ContractBook.Event"

    # Never triggered (the creation event is below). Declared with a topic of its own because the
    # library otherwise derives it from Aggregate.Created, and it would inherit and take over the
    # topic of Event above.
    class Created(Event, Aggregate.Created):
        TOPIC = "ggzledger.ContractBook.Created"

    class Started(Aggregate.Created):
        TOPIC = "ggzledger.ContractBook.Started"

    class ContractAgreed(Event):
        TOPIC = "ggzledger.ContractBook.ContractAgreed"
        record_id: str | None
        fingerprint: str
        contract: str
        provider: str
        insurer: str | None
        valid_from: date
        valid_to: date
        percentage_bp: int | None
        code_amounts: tuple[tuple[str, int], ...] | None
        max_max: bool

        def apply(self, book: ContractBook) -> None:
            # The event holds the Contract's own fields (ContractBook.agree): one field list, not two.
            book.contracts += (Contract(**{name: getattr(self, name) for name in _CONTRACT_FIELDS}),)

    @staticmethod
    def create_id(**_: Any) -> UUID:
        return ContractBook.ID

    @event(Started)
    def __init__(self) -> None:
        self.contracts: tuple[Contract, ...] = ()

    def get(self, contract: str) -> Contract | None:
        """The contract agreed under this id, or None."""
        for agreed in self.contracts:
            if agreed.contract == contract:
                return agreed
        return None

    def agree(self, contract: Contract, *, record_id: str | None, fingerprint: str) -> None:
        """Record a contract the application has judged (Z5.3); its id must be new to the book."""
        if self.get(contract.contract) is not None:
            raise ValueError(f"contract {contract.contract} is in the book already")
        self.trigger_event(
            self.ContractAgreed, record_id=record_id, fingerprint=fingerprint, **attrs.asdict(contract, recurse=False)
        )
