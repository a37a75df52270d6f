"""The DBC comparison: what the DBC model (until 2021) would have billed for a trajectory's recorded facts.

Pure arithmetic on a trajectory's facts (:class:`Facts`) and the DBC tables: the DBCs a trajectory
falls into, their products and every claim with its date. Set beside the declarations the ledger
issued it is a :class:`Comparison`, month by month. ``analyses.dbc_ledger`` reads both from a ledger.
docs/analyses.md ("DBC comparison") gives the rules and why.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, timedelta
from typing import Any

import attrs

from ggzledger.domain.months import last_day, month_of, months_between
from ggzledger.reference.dbc import DIAGNOSIS_GROUPS, DbcTables

__all__ = [
    "DBC_DAYS", "Claim", "Comparison", "Dbc", "Declared", "Delivery", "Facts", "Month", "compare", "dbcs", "claims",
]  # fmt: skip

DBC_DAYS = 365
"""A DBC covers at most this many days: it closes on its 365th day at the latest."""


@attrs.frozen
class Delivery:
    """A non-voided activity as the DBC model reads it: its date, the minutes it counts, whether it is a stay day."""

    activity: str
    on: date
    minutes: int
    stay: bool


@attrs.frozen
class Facts:
    """What the DBC model needs of one trajectory: its span, its deliveries and its diagnosis groups.

    ``groups`` are the diagnosis groups given on its clusterings, (date, group) in the order recorded.
    """

    trajectory: str
    opened_on: date
    ended_on: date | None
    deliveries: tuple[Delivery, ...]
    groups: tuple[tuple[date, str], ...] = ()


@attrs.frozen
class Dbc:
    """One DBC: its span, what closed it, its minutes and the product they fall into.

    ``closed_by`` is ``referred_back``, ``365_days`` or ``open`` (not closed as of the day asked:
    ``end`` is then the latest day it can close and ``claimed_on`` None). ``amount`` is None when no
    product can be derived; ``problem`` says why.
    """

    number: int
    start: date
    end: date
    closed_by: str
    minutes: int
    group: str | None
    product: str | None
    amount: int | None
    table: str | None
    problem: str | None

    @property
    def claimed_on(self) -> date | None:
        """The day the DBC is claimed: its close; None while it is open."""
        return None if self.closed_by == "open" else self.end

    def to_json(self) -> dict[str, Any]:
        return {
            "number": self.number,
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "closed_by": self.closed_by,
            "claimed_on": None if self.claimed_on is None else self.claimed_on.isoformat(),
            "minutes": self.minutes,
            "diagnosis_group": self.group,
            "product": self.product,
            "amount": self.amount,
            "table": self.table,
            "problem": self.problem,
        }


@attrs.frozen
class Claim:
    """One claim under the DBC model: a DBC at its close, or a month's stay days of one DBC.

    ``on`` is the day it would have been claimed; ``days`` the stay days it holds (none for a DBC).
    ``amount`` is None when the table has no price for it (``problem`` says why); a DBC still open is
    not claimed, so it has no claim.
    """

    on: date
    kind: str
    dbc: int
    description: str
    amount: int | None
    days: tuple[date, ...] = ()
    problem: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "date": self.on.isoformat(),
            "kind": self.kind,
            "dbc": self.dbc,
            "description": self.description,
            "amount": self.amount,
            "days": [day.isoformat() for day in self.days],
            "problem": self.problem,
        }


@attrs.frozen
class Declared:
    """One declaration of the trajectory as the ledger has it: its month, status, volgnummer and total."""

    month: str
    status: str
    sequence: int
    total: int

    def to_json(self) -> dict[str, Any]:
        return {"month": self.month, "status": self.status, "sequence": self.sequence, "total": self.total}


@attrs.frozen
class Month:
    """One month side by side: what the DBC model claims in it and what the ledger declared for it."""

    month: str
    dbc: int
    declared: int
    status: str | None

    @property
    def difference(self) -> int:
        """DBC model minus declared."""
        return self.dbc - self.declared

    def to_json(self) -> dict[str, Any]:
        return {
            "month": self.month,
            "dbc": self.dbc,
            "declared": self.declared,
            "declared_status": self.status,
            "difference": self.difference,
        }


@attrs.frozen
class Comparison:
    """A trajectory under the DBC model beside its declarations (docs/analyses.md, DBC comparison)."""

    trajectory: str
    start: date
    end: date | None
    dbcs: tuple[Dbc, ...]
    claims: tuple[Claim, ...]
    declarations: tuple[Declared, ...]
    months: tuple[Month, ...]

    @property
    def complete(self) -> bool:
        """True when every DBC and stay day has a price: only then are the totals and difference whole."""
        return all(dbc.amount is not None for dbc in self.dbcs) and all(c.amount is not None for c in self.claims)

    @property
    def dbc_total(self) -> int:
        """Every claim the DBC model makes (the priced ones), stay days included."""
        return sum(claim.amount or 0 for claim in self.claims)

    @property
    def declared_total(self) -> int:
        """The totals of the issued declarations."""
        return sum(d.total for d in self.declarations if d.status == "issued")

    @property
    def draft_total(self) -> int:
        """The totals of the drafts of months not yet closed."""
        return sum(d.total for d in self.declarations if d.status != "issued")

    @property
    def difference(self) -> int | None:
        """DBC model minus everything declared or drafted; None while a DBC or stay day has no price."""
        return self.dbc_total - self.declared_total - self.draft_total if self.complete else None

    def closing_claim(self, dbc: Dbc) -> int | None:
        """What is claimed on a closed DBC's day of close: its product and the stay days claimed with it."""
        if dbc.claimed_on is None:
            return None
        return sum(c.amount or 0 for c in self.claims if c.dbc == dbc.number and c.on == dbc.claimed_on)

    def to_json(self) -> dict[str, Any]:
        return {
            "trajectory": self.trajectory,
            "start_date": self.start.isoformat(),
            "end_date": None if self.end is None else self.end.isoformat(),
            "dbcs": [{**dbc.to_json(), "closing_claim": self.closing_claim(dbc)} for dbc in self.dbcs],
            "claims": [claim.to_json() for claim in self.claims],
            "declarations": [d.to_json() for d in self.declarations],
            "months": [month.to_json() for month in self.months],
            "complete": self.complete,
            "dbc_total": self.dbc_total,
            "declared_total": self.declared_total,
            "draft_total": self.draft_total,
            "difference": self.difference,
        }


def dbcs(facts: Facts, tables: DbcTables, as_of: date) -> tuple[Dbc, ...]:
    """The DBCs of a trajectory as of a day: the first opens with the trajectory, each closes at the referral
    back or on its 365th day, whichever is first; a trajectory that goes on and has an activity after that
    day opens a follow-up DBC the next day. A DBC whose 365th day lies after ``as_of`` and that was not
    ended is open. Each is priced from the table row of its diagnosis group and minutes in force on its
    start (the tariff of its start year)."""
    found: list[Dbc] = []
    start = facts.opened_on
    while True:
        latest = start + timedelta(days=DBC_DAYS - 1)
        if facts.ended_on is not None and facts.ended_on <= latest:
            end, closed_by = facts.ended_on, "referred_back"
        elif latest < as_of:
            end, closed_by = latest, "365_days"
        else:
            end, closed_by = latest, "open"
        found.append(_priced(len(found) + 1, start, end, closed_by, facts, tables))
        if closed_by != "365_days" or not any(d.on > end for d in facts.deliveries):
            return tuple(found)
        start = end + timedelta(days=1)


def _priced(number: int, start: date, end: date, closed_by: str, facts: Facts, tables: DbcTables) -> Dbc:
    minutes = sum(d.minutes for d in facts.deliveries if start <= d.on <= end)
    group = _group_on(facts.groups, end)
    product = amount = table = problem = None
    if group is None:
        problem = f"no diagnosis group recorded on or before {end.isoformat()}"
    else:
        found = tables.product(group, minutes, start)
        if found is None:
            problem = f"no DBC table has a {group} product for {minutes} minutes in force on {start.isoformat()}"
        else:
            table, row = found
            product, amount = row.description, row.amount
    return Dbc(number, start, end, closed_by, minutes, group, product, amount, table, problem)


def _group_on(groups: Sequence[tuple[date, str]], day: date) -> str | None:
    """The diagnosis group of the latest clustering on or before ``day`` that gave one (of a day: the last recorded)."""
    found = None
    for on, group in groups:
        if on <= day and (found is None or on >= found[0]):
            found = (on, group)
    return None if found is None else found[1]


def claims(facts: Facts, found: Sequence[Dbc], tables: DbcTables) -> tuple[Claim, ...]:
    """Every claim of the DBC model, by date: each closed DBC on its day of close, and each month's stay days
    of a DBC at the end of that month, or with the DBC on its day of close when it closes in that month.
    A stay day is priced by the stay row in force on that day."""
    made: list[Claim] = []
    for dbc in found:
        if dbc.claimed_on is not None:
            name = dbc.product or f"DBC {DIAGNOSIS_GROUPS.get(dbc.group or '', 'without diagnosis group')}"
            made.append(Claim(dbc.claimed_on, "dbc", dbc.number, name, dbc.amount, problem=dbc.problem))
        stays = sorted(d.on for d in facts.deliveries if d.stay and dbc.start <= d.on <= dbc.end)
        for month in sorted({month_of(day) for day in stays}):
            days = tuple(day for day in stays if month_of(day) == month)
            on = dbc.end if dbc.claimed_on is not None and month_of(dbc.end) == month else last_day(month)
            made.append(_stays(on, dbc.number, days, tables))
    return tuple(sorted(made, key=lambda c: (c.on, c.dbc, c.kind != "dbc")))


def _stays(on: date, dbc: int, days: tuple[date, ...], tables: DbcTables) -> Claim:
    amount: int | None = 0
    description = "Verblijf"
    unpriced = []
    for day in days:
        found = tables.stay(day)
        if found is None:
            unpriced.append(day)
        else:
            description = found[1].description
            amount = (amount or 0) + found[1].amount
    problem = None
    if unpriced:
        amount = None
        problem = f"no DBC table has a stay-day price in force on {', '.join(day.isoformat() for day in unpriced)}"
    return Claim(on, "stay", dbc, f"{description}, {len(days)} {'day' if len(days) == 1 else 'days'}", amount, days,
                 problem)  # fmt: skip


def compare(facts: Facts, tables: DbcTables, declared: Iterable[Declared], as_of: date) -> Comparison:
    """The trajectory under the DBC model as of ``as_of`` beside its declarations, month by month.

    The months run from the trajectory's first month through the last month of a claim or a
    declaration; a month's DBC column is what the model claims in it (priced claims), its declared
    column the total of that month's declaration (issued, or the draft of a month not yet closed).
    """
    found = dbcs(facts, tables, as_of)
    made = claims(facts, found, tables)
    declarations = tuple(sorted(declared, key=lambda d: d.month))
    by_month: dict[str, int] = {}
    for claim in made:
        by_month[month_of(claim.on)] = by_month.get(month_of(claim.on), 0) + (claim.amount or 0)
    declared_in = {d.month: d for d in declarations}
    last = max([month_of(facts.opened_on), *by_month, *declared_in])
    months = tuple(
        Month(
            month,
            by_month.get(month, 0),
            declared_in[month].total if month in declared_in else 0,
            declared_in[month].status if month in declared_in else None,
        )
        for month in months_between(month_of(facts.opened_on), last)
    )
    return Comparison(facts.trajectory, facts.opened_on, facts.ended_on, found, made, declarations, months)
