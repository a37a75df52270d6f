"""What-if tariffs: a period's issued declarations re-priced under another table, an uplift or other contracts.

Nothing is written: the lines are read as they were declared, each activity is priced again from the
facts its event holds (zpm.md Z5.4) under the alternative, and the two are summed side by side by
the dimensions of the totals (rules.md §6). docs/analyses.md describes the question and the answer.
"""

from __future__ import annotations

import bisect
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import attrs

from ggzledger.analyses.whatif_pricing import (
    Alternative,
    Delivered,
    OtherContracts,
    OtherTables,
    Unpriceable,
    Uplift,
    price_under_contracts,
    price_under_tables,
    uplifted,
)
from ggzledger.domain import Contract, ContractBook
from ggzledger.domain.months import is_month, months_between
from ggzledger.projections.totals import sort_rows
from ggzledger.reference.pricing import ContractIndex
from ggzledger.service.ledger import Ledger

__all__ = ["DIMENSIONS", "MAX_MONTHS", "Repriced", "Row", "Unpriced", "WhatIf", "WhatIfError", "period", "whatif"]

DIMENSIONS = ("month", "insurer", "provider", "group", "cluster", "care_form")
"""What the difference is broken down by: the totals' dimensions of the same names (``cluster``: the
cluster or zorgvraagtype; ``group``: its cluster group)."""

MAX_MONTHS = 36
"""The longest period one what-if covers."""

_PAGE = 5000
_P = "ggzledger.Trajectory."
_DELIVERED = (_P + "ActivityDelivered", _P + "PrestatieDelivered")


class WhatIfError(ValueError):
    """A what-if that cannot be asked as given (a period backwards or too long); the message says why."""


def period(month_from: str, month_to: str) -> list[str]:
    """The months from ``month_from`` through ``month_to``; raises WhatIfError for a bad or too long period."""
    for name, month in (("month_from", month_from), ("month_to", month_to)):
        if not is_month(month):
            raise WhatIfError(f"{name} must be a month YYYY-MM, got {month!r}")
    if month_to < month_from:
        raise WhatIfError(f"the period runs backwards: {month_from} to {month_to}")
    months = list(months_between(month_from, month_to))
    if len(months) > MAX_MONTHS:
        raise WhatIfError(f"{month_from} to {month_to} is {len(months)} months; at most {MAX_MONTHS} at once")
    return months


@attrs.frozen
class Row:
    """One key of a breakdown: what was declared, what the alternative gives (cents)."""

    key: str
    declared: int
    alternative: int

    @property
    def difference(self) -> int:
        return self.alternative - self.declared

    def to_json(self) -> dict[str, Any]:
        return {
            "key": self.key, "declared": self.declared, "alternative": self.alternative, "difference": self.difference,
        }  # fmt: skip


@attrs.frozen
class Unpriced:
    """A declared line whose activity has no price under the alternative: it counts 0 there, and why."""

    month: str
    trajectory: str
    activity: str
    code: str
    date: str
    kind: str
    declared: int
    why: str

    def to_json(self) -> dict[str, Any]:
        return attrs.asdict(self)


@attrs.frozen
class Repriced:
    """One declared line and its amount under the alternative (None: unpriced)."""

    month: str
    trajectory: str
    activity: str
    kind: str
    declared: int
    alternative: int | None


@attrs.frozen
class WhatIf:
    """The answer: the period, the alternative, the totals declared and re-priced, by dimension, and the unpriced.

    ``months`` are the closed months of the period (only they have issued declarations); ``sections``
    one tuple of rows per dimension asked for, in reading order. ``repriced`` holds every line when
    asked for (``whatif(..., lines=True)``), else nothing.
    """

    month_from: str
    month_to: str
    alternative: Alternative
    months: tuple[str, ...]
    lines: int
    declared: int
    total: int
    sections: tuple[tuple[str, tuple[Row, ...]], ...]
    unpriced: tuple[Unpriced, ...]
    repriced: tuple[Repriced, ...] = ()

    @property
    def difference(self) -> int:
        return self.total - self.declared

    def to_json(self) -> dict[str, Any]:
        """The shape docs/analyses.md documents: amounts in integer cents."""
        return {
            "month_from": self.month_from,
            "month_to": self.month_to,
            "months": list(self.months),
            "alternative": self.alternative.to_json(),
            "lines": self.lines,
            "declared": self.declared,
            "alternative_total": self.total,
            "difference": self.difference,
            "by": {dimension: [row.to_json() for row in rows] for dimension, rows in self.sections},
            "unpriced": {
                "lines": len(self.unpriced),
                "activities": len({u.activity for u in self.unpriced}),
                "declared": sum(u.declared for u in self.unpriced),
                "items": [u.to_json() for u in self.unpriced],
            },
        }


def whatif(
    ledger: Ledger,
    month_from: str,
    month_to: str,
    alternative: Alternative,
    by: Sequence[str] = DIMENSIONS,
    *,
    lines: bool = False,
) -> WhatIf:
    """The issued declarations of the closed months from ``month_from`` through ``month_to``, re-priced.

    Every debit, credit and late line is priced again under ``alternative``: a credit as the negated
    price of its activity, so that a void still nets to zero. A line whose activity has no price
    under it counts 0 in the alternative and is listed. Breakdowns are the totals' own (the cluster
    in force on the line's date, ``privacy`` under a privacy statement). Reads only; records nothing.

    Raises WhatIfError for a bad period and ValueError for a dimension that is not in DIMENSIONS.
    """
    months = period(month_from, month_to)
    unknown = [dimension for dimension in by if dimension not in DIMENSIONS]
    if unknown:
        raise ValueError(f"unknown dimension {unknown[0]!r}; one of {', '.join(DIMENSIONS)}")
    projector = ledger.projector
    projector.catch_up()
    billing, totals = projector.views.billing, projector.views.totals
    declared: Counter[tuple[str, str]] = Counter()
    alternative_counts: Counter[tuple[str, str]] = Counter()
    unpriced: list[Unpriced] = []
    kept: list[Repriced] = []
    count = 0
    with ledger.store.transaction(write=False) as c:
        closes = billing.closes_between(c, months[0], months[-1])
        issued = [(month, up_to, billing.declarations(c, month)) for month, up_to in closes]
        activities = [line["activity"] for _, _, ds in issued for d in ds for line in d["lines"]]
        parties = billing.activity_parties(c, activities) if not isinstance(alternative, Uplift) else {}
        price_of = _pricer(ledger, alternative, parties)
        for month, up_to, declarations in issued:
            repriced = [_reprice(month, d, price_of, unpriced, kept if lines else None) for d in declarations]
            count += sum(len(d["lines"]) for d in declarations)
            # update(), not +=: a Counter's + drops the negative sums that credits can make.
            declared.update(totals.count(c, declarations, up_to))
            alternative_counts.update(totals.count(c, repriced, up_to))
    sections = tuple((dimension, _rows(dimension, declared, alternative_counts)) for dimension in by)
    return WhatIf(
        month_from=month_from,
        month_to=month_to,
        alternative=alternative,
        months=tuple(month for month, _ in closes),
        lines=count,
        declared=sum(total for (dimension, _), total in declared.items() if dimension == "month"),
        total=sum(total for (dimension, _), total in alternative_counts.items() if dimension == "month"),
        sections=sections,
        unpriced=tuple(unpriced),
        repriced=tuple(kept),
    )


PriceOf = Callable[[Mapping[str, Any]], int]
"""A declared line's activity's price under the alternative (its debit's sign); raises Unpriceable."""


def _repriced(line: Mapping[str, Any], price_of: PriceOf) -> tuple[int, str | None]:
    """(alternative amount, None) of a declared line, or (0, why) when its activity has no price."""
    try:
        price = price_of(line)
    except Unpriceable as error:
        return 0, str(error)
    # A credit takes back its debit: the negated price of the same activity (rules.md §5).
    return (-price if line["kind"] == "credit" else price), None


def _reprice(
    month: str,
    declaration: Mapping[str, Any],
    price_of: PriceOf,
    unpriced: list[Unpriced],
    kept: list[Repriced] | None,
) -> dict[str, Any]:
    """The declaration with every line's amount the alternative's; unpriced lines added to ``unpriced``."""
    trajectory, new_lines = declaration["trajectory"], []
    for line in declaration["lines"]:
        amount, why = _repriced(line, price_of)
        if why is not None:
            unpriced.append(_unpriced(month, trajectory, line, why))
        if kept is not None:
            shown = None if why is not None else amount
            kept.append(Repriced(month, trajectory, line["activity"], line["kind"], line["amount"], shown))
        new_lines.append({**line, "amount": amount})
    return {**declaration, "lines": new_lines}


def _unpriced(month: str, trajectory: str, line: Mapping[str, Any], why: str) -> Unpriced:
    return Unpriced(month, trajectory, line["activity"], line["code"], line["date"], line["kind"], line["amount"], why)


def _rows(dimension: str, declared: Counter[tuple[str, str]], alternative: Counter[tuple[str, str]]) -> tuple[Row, ...]:
    keys = {key for d, key in declared if d == dimension} | {key for d, key in alternative if d == dimension}
    ordered = sort_rows((key, 0) for key in keys)
    return tuple(Row(key, declared[dimension, key], alternative[dimension, key]) for key, _ in ordered)


def _pricer(ledger: Ledger, alternative: Alternative, parties: Mapping[str, tuple[int, str, str]]) -> PriceOf:
    """A function from a declared line to its activity's price (a debit's sign) under ``alternative``."""
    if isinstance(alternative, Uplift):
        points = alternative.basis_points
        # The line's own amount, as declared: a credit's size is its debit's, so it mirrors its rounding.
        return lambda line: uplifted(abs(line["amount"]), points)
    facts = _delivered(ledger, sorted(position for position, _, _ in parties.values()))
    contracts = _ContractsAt(_recorded_contracts(ledger), alternative)
    tables = {table.version: table for table in ledger.tariffs.tables}

    def price_of(line: Mapping[str, Any]) -> int:
        position, provider, insurer = parties[line["activity"]]
        delivered = facts[position]
        agreed = contracts.before(position)
        if isinstance(alternative, OtherTables):
            return price_under_tables(
                delivered, alternative.tariffs, agreed, provider, insurer, alternative.shift_years
            )
        return price_under_contracts(delivered, tables, agreed, provider, insurer)

    return price_of


def _delivered(ledger: Ledger, positions: Sequence[int]) -> dict[int, Delivered]:
    """The delivery events at ``positions`` (ascending), as re-pricing reads them."""
    wanted, found = set(positions), {}
    if not positions:
        return {}
    after, last = positions[0] - 1, positions[-1]
    mapper = ledger.mapper
    while after < last:
        page = ledger.recorder.select_notifications(
            start=after, limit=_PAGE, stop=last, topics=_DELIVERED, inclusive_of_start=False
        )
        for notification in page:
            if notification.id in wanted:
                state = mapper.current_state(notification.topic, mapper.decode_state(notification.state))
                found[notification.id] = Delivered.from_state(notification.id, state)
        if len(page) < _PAGE:
            break
        after = page[-1].id
    return found


def _recorded_contracts(ledger: Ledger) -> list[tuple[int, Contract]]:
    """Every contract with the position it was recorded at, in that order."""
    stored = ledger.recorder.select_stream_with_positions(ContractBook.ID)
    positions = [position for position, event in stored if event.topic == ContractBook.ContractAgreed.TOPIC]
    return list(zip(positions, ledger.contracts(), strict=True))


class _ContractsAt:
    """The contracts an activity was priced with (those recorded before it), with the alternative's laid over."""

    def __init__(self, recorded: Sequence[tuple[int, Contract]], alternative: Alternative) -> None:
        self.positions = [position for position, _ in recorded]
        self.recorded = [contract for _, contract in recorded]
        self.over: tuple[Contract, ...] = alternative.contracts if isinstance(alternative, OtherContracts) else ()
        # A file's contracts replace the ledger's of the same provider and insurer (or own list).
        self.replaced = {(contract.provider, contract.insurer) for contract in self.over}
        self.indexes: dict[int, ContractIndex] = {}

    def before(self, position: int) -> ContractIndex:
        known = bisect.bisect_left(self.positions, position)
        index = self.indexes.get(known)
        if index is None:
            kept = [c for c in self.recorded[:known] if (c.provider, c.insurer) not in self.replaced]
            index = self.indexes[known] = ContractIndex([*kept, *self.over])
        return index
