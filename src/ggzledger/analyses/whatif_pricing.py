"""The what-if's pure arithmetic: the alternatives, and one activity priced again under one of them."""

from __future__ import annotations

import calendar
import re
from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

import attrs

from ggzledger.domain import Contract
from ggzledger.domain.contracts import FULL_BP
from ggzledger.domain.errors import Refused
from ggzledger.reference.pricing import ContractRefused, Contracts, NoPrice, check_contract, price
from ggzledger.reference.tariffs import Found, NoTariff, Tariffs, TariffTable
from ggzledger.service.commands import contract_of
from ggzledger.service.records import parse_line

__all__ = [
    "PERCENT_MAX", "PERCENT_MIN", "SHIFT_MAX", "Alternative", "Delivered", "OtherContracts", "OtherTables", "Unpriceable",
    "Uplift", "format_percent", "parse_percent", "price_under_contracts", "price_under_tables", "shifted", "uplifted",
]  # fmt: skip

PERCENT_MIN = -100
PERCENT_MAX = 1000
"""The uplift a what-if takes, in percent (both included): from -100 (everything free) to +1000."""

SHIFT_MAX = 10
"""The most years ``--shift-years`` moves a row lookup, either way."""

_PERCENT = re.compile(r"[+-]?[0-9]{1,4}(\.[0-9]{1,2})?")


class Unpriceable(LookupError):
    """An activity the alternative gives no price: its message says why (no row, a free tariff without a contract)."""


def parse_percent(text: str) -> int:
    """A percentage (``10``, ``2.5``, ``-3.25``: at most two decimals) in basis points (1000, 250, -325).

    Raises ValueError naming the rule for anything else, or a value outside PERCENT_MIN..PERCENT_MAX.
    """
    if not (text.isascii() and _PERCENT.fullmatch(text)):
        shown = repr(text) if len(text) <= 30 else repr(text[:27]) + "..."
        raise ValueError(f"uplift must be a percentage with at most two decimals, e.g. 10 or 2.5; got {shown}")
    whole, _, fraction = text.lstrip("+-").partition(".")
    points = int(whole) * 100 + int(fraction.ljust(2, "0") or "0")
    points = -points if text.startswith("-") else points
    if not PERCENT_MIN * 100 <= points <= PERCENT_MAX * 100:
        raise ValueError(f"uplift must be {PERCENT_MIN} to {PERCENT_MAX} percent, got {text}")
    return points


def format_percent(points: int) -> str:
    """Basis points as the percentage people write: 1000 -> ``10``, 250 -> ``2.5``, -325 -> ``-3.25``."""
    sign = "-" if points < 0 else ""
    whole, rest = divmod(abs(points), 100)
    return f"{sign}{whole}" + (f".{rest:02d}".rstrip("0") if rest else "")


def uplifted(amount: int, points: int) -> int:
    """``amount`` cents raised by ``points`` basis points, rounded half up to the cent on its size.

    Integer arithmetic: ``(|amount| × (10000 + points) + 5000) // 10000``, with the sign of
    ``amount`` put back, so a credit of -x becomes exactly minus what its debit of x becomes.
    """
    size = (abs(amount) * (FULL_BP + points) + FULL_BP // 2) // FULL_BP
    return -size if amount < 0 else size


@attrs.frozen
class Uplift:
    """Every declared line's amount raised (or lowered) by a percentage, in basis points."""

    basis_points: int

    def to_json(self) -> dict[str, Any]:
        return {"kind": "uplift", "percent": format_percent(self.basis_points), "basis_points": self.basis_points}

    def describe(self) -> str:
        return f"every line {'+' if self.basis_points >= 0 else ''}{format_percent(self.basis_points)}%"


@attrs.frozen(eq=False)
class OtherTables:
    """Other tariff tables instead of those in force; ``tariffs`` holds only them, the last given winning."""

    tariffs: Tariffs
    sources: tuple[str, ...]
    shift_years: int = 0

    @classmethod
    def from_csv(cls, files: Sequence[tuple[str, str, str]], shift_years: int = 0) -> OtherTables:
        """Tables from ``(label, csv text, source)`` in the formats ``tariffs load`` takes (v1 or v2).

        Raises TariffError naming the source and line, as ``tariffs load`` does, and ValueError for
        a ``shift_years`` beyond SHIFT_MAX either way.
        """
        if not -SHIFT_MAX <= shift_years <= SHIFT_MAX:
            raise ValueError(f"shift_years must be -{SHIFT_MAX} to {SHIFT_MAX}, got {shift_years}")
        tables = [TariffTable.from_csv(label, text, source=source) for label, text, source in files]
        return cls(Tariffs(tables), tuple(source for _, _, source in files), shift_years)

    def to_json(self) -> dict[str, Any]:
        tables = [t.version for t in self.tariffs.tables]
        return {"kind": "tariffs", "tables": tables, "sources": list(self.sources), "shift_years": self.shift_years}

    def describe(self) -> str:
        shifted = f", rows looked up {self.shift_years:+d} year(s) from each date" if self.shift_years else ""
        return f"tariff tables {', '.join(t.version for t in self.tariffs.tables)} instead of those in force{shifted}"


@attrs.frozen
class OtherContracts:
    """Other contracts: each replaces the ledger's contracts of its provider and insurer (or own list)."""

    contracts: tuple[Contract, ...]
    source: str

    @classmethod
    def from_jsonl(cls, text: str, source: str, tariffs: Tariffs, today: date) -> OtherContracts:
        """Contracts from JSON lines of ``contract_agreed`` records, as ``ingest`` reads them (zpm.md Z3.3).

        Blank lines are skipped. Each contract is judged as recording would judge it (zpm.md Z5.3),
        against the file's earlier contracts and ``tariffs``, the tables in force. Raises ValueError
        naming ``source`` and the line of the first one that is malformed, of another type, or refused.
        """
        kept: list[Contract] = []
        for number, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                record = parse_line(line, today)
            except Refused as error:
                raise ValueError(f"{source} line {number}: {error}") from None
            if record.type != "contract_agreed":
                raise ValueError(f"{source} line {number}: a {record.type} record; only contract_agreed is read here")
            contract = contract_of(record)
            try:
                check_contract(contract, kept, tariffs)
            except ContractRefused as error:
                raise ValueError(f"{source} line {number}: {error}") from None
            kept.append(contract)
        if not kept:
            raise ValueError(f"{source}: no contract_agreed records")
        return cls(tuple(kept), source)

    def to_json(self) -> dict[str, Any]:
        return {"kind": "contracts", "contracts": [c.contract for c in self.contracts], "source": self.source}

    def describe(self) -> str:
        return f"contracts {', '.join(c.contract for c in self.contracts)} instead of those of their parties"


Alternative = Uplift | OtherTables | OtherContracts


@attrs.frozen
class Delivered:
    """What an activity was priced from when recorded (zpm.md Z5.4): its event's code, date and prestatie key."""

    position: int
    activity: str
    on: date
    code: str
    amount: int
    tariff: str
    prestatie: str | None = None
    consult_type: str | None = None
    setting: int | None = None
    beroep_category: str | None = None
    group_size: int | None = None
    care_level: str | None = None
    security_level: int | None = None
    surcharge_type: str | None = None
    minutes: int | None = None
    effective_minutes: int | None = None

    @classmethod
    def from_state(cls, position: int, state: Mapping[str, Any]) -> Delivered:
        """From a delivery event's decoded state (ActivityDelivered or PrestatieDelivered)."""
        keys = {name: state.get(name) for name in _KEYS}
        return cls(
            position=position,
            activity=state["activity"],
            on=date.fromisoformat(state["on"]),
            code=state["code"],
            amount=state["amount"],
            tariff=state["tariff"],
            **keys,
        )


_KEYS = tuple(field.name for field in attrs.fields(Delivered))[6:]


def price_under_tables(
    delivered: Delivered,
    tariffs: Tariffs,
    contracts: Contracts,
    provider: str,
    insurer: str | None,
    shift_years: int = 0,
) -> int:
    """The activity's price with ``tariffs`` instead of the tables in force, under ``contracts``.

    A record without prestatie: the amount of its code's row in force on its date (rules.md §4). A
    ZPM record: its row found again from its key and minutes (zpm.md Z4.3; ``other`` by its code),
    then priced as Z5.4 (contract percentage or amount, cap, half-up rounding). ``shift_years``
    looks the row up that many years from the activity's date (29 February becomes the 28th):
    next year's table on this year's care. The contract is always the one of the care's own date.

    Raises Unpriceable when no row fits or a free tariff has no contract price.
    """
    on = shifted(delivered.on, shift_years)
    try:
        if delivered.prestatie is None:
            return tariffs.lookup(delivered.code, on).amount
        found = _found(delivered, tariffs, on)
        return price(found, delivered.on, provider, insurer, contracts).amount
    except (NoTariff, NoPrice) as error:
        raise Unpriceable(str(error)) from None


def price_under_contracts(
    delivered: Delivered, tables: Mapping[str, TariffTable], contracts: Contracts, provider: str, insurer: str | None
) -> int:
    """The activity's price under ``contracts``: the row it was priced from (its event's table), priced again.

    A record without prestatie is priced by its row alone, never by a contract: its amount stays.

    Raises Unpriceable when the event's table is not loaded or a free tariff has no contract price.
    """
    if delivered.prestatie is None:
        return delivered.amount
    table = tables.get(delivered.tariff)
    row = None if table is None else table.lookup(delivered.code, delivered.on)
    if row is None:
        raise Unpriceable(f"table {delivered.tariff} with code {delivered.code} on {delivered.on} is not loaded")
    try:
        return price(Found(row, delivered.tariff), delivered.on, provider, insurer, contracts).amount
    except NoPrice as error:
        raise Unpriceable(str(error)) from None


def shifted(day: date, years: int) -> date:
    """``day`` moved by whole years; 29 February to a year without it becomes 28 February."""
    if not years:
        return day
    year = day.year + years
    return (
        day.replace(year=year, day=28)
        if (day.month, day.day) == (2, 29) and not calendar.isleap(year)
        else day.replace(year=year)
    )


def _found(delivered: Delivered, tariffs: Tariffs, on: date) -> Found:
    kind = delivered.prestatie
    assert kind is not None  # a record without prestatie is priced by its code (price_under_tables)
    if kind == "other":
        return tariffs.prestatie(kind, on, code=delivered.code)
    # The minutes the band was chosen by when recorded: a consult's effective minutes (Z4.2).
    minutes = delivered.effective_minutes if kind == "consult" else delivered.minutes
    return tariffs.prestatie(
        kind,
        on,
        consult_type=delivered.consult_type,
        setting=delivered.setting,
        beroep_category=delivered.beroep_category,
        group_size=delivered.group_size,
        care_level=delivered.care_level,
        security_level=delivered.security_level,
        surcharge_type=delivered.surcharge_type,
        minutes=minutes,
    )
