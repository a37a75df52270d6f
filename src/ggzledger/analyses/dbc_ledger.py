"""The DBC comparison read from a ledger: a trajectory's facts from its events, its declarations, the tables.

Nothing is written: the events are read as the audit's reconstruction reads them (the trajectory's
stream, decoded by the ledger's mapper), the declarations as ``invoice`` reads them.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any

from ggzledger.analyses.dbc import Comparison, Declared, Delivery, Facts, compare
from ggzledger.domain import Trajectory, trajectory_id
from ggzledger.domain.errors import UnknownTrajectory
from ggzledger.domain.months import first_day, last_day, month_of, months_between, next_month
from ggzledger.reference.dbc import DbcTables
from ggzledger.service.dbc_tables import StoredDbcTables
from ggzledger.service.ledger import Ledger

__all__ = ["comparison", "comparisons", "ended_in", "facts_of", "tables_of"]

_PAGE = 5000


def tables_of(ledger: Ledger) -> DbcTables:
    """The shipped DBC tables and those loaded into this ledger."""
    return StoredDbcTables(ledger.store).tables()


def comparison(ledger: Ledger, trajectory: str, tables: DbcTables | None = None) -> Comparison:
    """One trajectory under the DBC model beside its declarations, as of the ledger's today.

    Raises UnknownTrajectory for a trajectory that was never opened.
    """
    facts = facts_of(ledger, trajectory)
    declared = _declared(ledger, [facts])
    return compare(facts, tables or tables_of(ledger), declared[trajectory], ledger.today())


def comparisons(ledger: Ledger, month: str) -> list[Comparison]:
    """Every trajectory referred back in ``month`` (YYYY-MM), in trajectory order, each as :func:`comparison`."""
    tables = tables_of(ledger)
    found = [facts_of(ledger, number) for number in ended_in(ledger, month)]
    declared = _declared(ledger, found)
    today = ledger.today()
    return [compare(facts, tables, declared[facts.trajectory], today) for facts in found]


def ended_in(ledger: Ledger, month: str) -> list[str]:
    """The trajectories whose referral back is dated in ``month``, sorted."""
    first, last = first_day(month), last_day(month)
    return sorted(
        state["trajectory"]
        for state in _states(ledger, Trajectory.ReferredBack.TOPIC)
        if first <= _day(state["on"]) <= last
    )


def _day(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(value)


def _states(ledger: Ledger, topic: str) -> Iterator[dict[str, Any]]:
    mapper, position = ledger.mapper, 0
    while True:
        page = ledger.recorder.select_notifications(
            start=position, limit=_PAGE, topics=(topic,), inclusive_of_start=False
        )
        for notification in page:
            yield mapper.current_state(notification.topic, mapper.decode_state(notification.state))
        if len(page) < _PAGE:
            return
        position = page[-1].id


def facts_of(ledger: Ledger, trajectory: str) -> Facts:
    """What the DBC model reads of a trajectory's events; raises UnknownTrajectory when it was never opened."""
    stored = ledger.recorder.select_stream_with_positions(trajectory_id(trajectory))
    events = [ledger.mapper.to_domain_event(event) for _position, event in stored]
    if not events:
        raise UnknownTrajectory(f"trajectory {trajectory} was never opened")
    opened_on: date | None = None
    ended_on: date | None = None
    delivered: dict[str, Delivery] = {}
    groups: list[tuple[date, str]] = []
    for event in events:
        if isinstance(event, Trajectory.Opened):
            opened_on = event.opened_on
        elif isinstance(event, Trajectory.Clustered) and event.diagnosis_group is not None:
            groups.append((event.on, event.diagnosis_group))
        elif isinstance(event, Trajectory.ActivityDelivered):
            delivered[event.activity] = _delivery(event)
        elif isinstance(event, Trajectory.ActivityVoided):
            delivered.pop(event.activity, None)
        elif isinstance(event, Trajectory.ReferredBack):
            ended_on = event.on
    assert opened_on is not None, trajectory
    return Facts(trajectory, opened_on, ended_on, tuple(delivered.values()), tuple(groups))


def _delivery(event: Trajectory.ActivityDelivered) -> Delivery:
    """The minutes an activity counts toward its DBC, and whether it is a stay day (docs/analyses.md).

    Every recorded minute counts, a stay's too; a ZPM surcharge's minutes are travel, not time with
    the patient, and count none; a group's minutes are shared by its group (rounded down).
    """
    prestatie = getattr(event, "prestatie", None)
    minutes = event.minutes or 0
    if prestatie == "surcharge":
        minutes = 0
    elif prestatie == "group" and getattr(event, "group_size", None):
        minutes //= event.group_size  # type: ignore[attr-defined]
    stay = prestatie == "stay" or (prestatie is None and event.unit == "day")
    return Delivery(event.activity, event.on, minutes, stay)


def _declared(ledger: Ledger, found: list[Facts]) -> dict[str, list[Declared]]:
    """Each trajectory's declarations, issued or (for a month not yet closed) the draft, from its first month on.

    The months run through the later of the month after the last close (not past this month) and the
    month of the trajectory's last fact: a late line or a credit comes in a later month's declaration.
    """
    declared: dict[str, list[Declared]] = {facts.trajectory: [] for facts in found}
    if not found:
        return declared
    closed = ledger.calendar().closed
    ends = [month_of(max([facts.opened_on, *(d.on for d in facts.deliveries)])) for facts in found]
    if closed:
        # The month after the last close holds, as a draft, what was recorded late for months closed before.
        ends.append(min(next_month(closed[-1]), month_of(ledger.today())) if closed[-1] < "9999-12" else closed[-1])
    first = min(month_of(facts.opened_on) for facts in found)
    last = max(ends)
    for month in months_between(first, last):
        if len(found) == 1:
            one = ledger.declaration(found[0].trajectory, month)
            rows = [] if one is None else [one]
        else:
            rows = [row for row in ledger.declarations(month) if row["trajectory"] in declared]
        for row in rows:
            declared[row["trajectory"]].append(Declared(month, row["status"], row["sequence"], row["total"]))
    return declared
