"""The month close on the billing tables: pending lines read, declarations computed, the close stored."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from typing import Any, NamedTuple

import attrs

from ggzledger.domain import GENESIS_DIGEST
from ggzledger.domain.months import last_day
from ggzledger.projections.declarations import (
    Activity,
    Assignment,
    Clustering,
    Declaration,
    Prestatie,
    PrivacyEvent,
    Referral,
    TrajectoryFacts,
    chain_digest,
    declare,
)
from ggzledger.projections.store import Cursor
from ggzledger.reference import Catalogue
from ggzledger.store.sql import chunked, placeholders

__all__ = [
    "CREDIT_WAITING",
    "DEBIT_WAITING",
    "PENDING_CREDIT",
    "PENDING_DEBIT",
    "ComputedClose",
    "RecordedClose",
    "compute_closes",
    "last_digest",
    "store_close",
]

# The one SQL form of Activity.pending_debit and Activity.pending_credit (declarations.py), for
# billing_activities rows: what a close reads and then marks, and what its partial indexes serve.
# Parameters: month end (ISO), up_to, up_to; and up_to.
DEBIT_WAITING = "declared_month IS NULL"
CREDIT_WAITING = "declared_month IS NOT NULL AND credited_month IS NULL AND voided_position IS NOT NULL"
PENDING_DEBIT = (
    f"{DEBIT_WAITING} AND on_date <= ? AND position <= ? AND (voided_position IS NULL OR voided_position > ?)"
)
PENDING_CREDIT = f"{CREDIT_WAITING} AND voided_position <= ?"

_COLUMNS = (
    "activity, trajectory, on_date, code, description, amount, care_form, position, voided_position,"
    " declared_month, credited_month"
)


class RecordedClose(NamedTuple):
    """What a MonthClosed event recorded, as the view reads it from the event's state, with its position.

    Beside it: :class:`ComputedClose`, what closing a month computes from the views (before
    the event is recorded, or for a draft), and ``replay.ReplayedClose``, a close computed
    again from the log beside what its event recorded (verification).
    """

    position: int
    month: str
    up_to: int
    declarations: int
    total: int
    digest: str
    recorded_at: str
    # The digest form the close used (trust.md §3): a close recorded before forms existed used 1.
    digest_form: int = 1


@attrs.frozen
class ComputedClose:
    """The declarations closing a month issues, computed from the views, and the chained digest over them."""

    month: str
    up_to: int
    declarations: tuple[Declaration, ...]
    digest: str

    @property
    def total(self) -> int:
        """The sum of the declarations' totals, in cents."""
        return sum(declaration.total for declaration in self.declarations)


def last_digest(c: Cursor) -> str | None:
    """The recorded digest of the latest close, or None before the first."""
    c.execute("SELECT digest FROM billing_closes ORDER BY month DESC LIMIT 1")
    row = c.fetchone()
    return None if row is None else row[0]


def compute_closes(
    c: Cursor,
    catalogue: Catalogue,
    months: Sequence[str],
    up_to: int,
    previous_digest: str | None = None,
    only: str | None = None,
    status: str = "issued",
    form: int = 2,
) -> list[ComputedClose]:
    """The declarations that closing ``months`` in order would issue, as of position ``up_to``.

    Reads only pending lines and the facts of the trajectories they belong
    to. ``only`` restricts the work to one trajectory (a draft). ``form``: the
    digest form (a new close 2; a close recorded in form 1 is recomputed in it).
    """
    if not months:
        return []
    debits, credits = _pending(c, last_day(months[-1]), up_to, only)
    facts = _facts(c, set(debits) | set(credits), up_to, _prestaties(c, debits, credits))
    digest = previous_digest or last_digest(c) or GENESIS_DIGEST
    results = []
    for index, month in enumerate(months):
        month_end = last_day(month)
        issued = []
        for trajectory in sorted(set(debits) | (set(credits) if index == 0 else set())):
            due = debits.get(trajectory, [])
            cut = 0
            while cut < len(due) and due[cut].on <= month_end:
                cut += 1
            pending_credits = credits.get(trajectory, []) if index == 0 else []
            declaration = declare(facts[trajectory], month, due[:cut], pending_credits, catalogue, status, form)
            if declaration is None:
                continue
            issued.append(declaration)
            facts[trajectory] = attrs.evolve(
                facts[trajectory],
                declarations=facts[trajectory].declarations + 1,
                declared_total=facts[trajectory].declared_total + declaration.total,
            )
            if cut == len(due):
                debits.pop(trajectory, None)
            else:
                debits[trajectory] = due[cut:]
        digest = chain_digest(digest, (d.digest for d in issued))
        results.append(ComputedClose(month, up_to, tuple(issued), digest))
    return results


def _pending(
    c: Cursor, until: date, up_to: int, only: str | None
) -> tuple[dict[str, list[Activity]], dict[str, list[Activity]]]:
    where_one = " AND trajectory = ?" if only else ""
    extra = (only,) if only else ()
    c.execute(
        f"SELECT {_COLUMNS} FROM billing_activities WHERE {PENDING_DEBIT}{where_one}"
        " ORDER BY trajectory, on_date, activity",
        (until.isoformat(), up_to, up_to, *extra),
    )
    debits: dict[str, list[Activity]] = defaultdict(list)
    for row in c.fetchall():
        debits[row[1]].append(_activity(row))
    c.execute(
        f"SELECT {_COLUMNS} FROM billing_activities WHERE {PENDING_CREDIT}{where_one} ORDER BY trajectory, activity",
        (up_to, *extra),
    )
    credits: dict[str, list[Activity]] = defaultdict(list)
    for row in c.fetchall():
        credits[row[1]].append(_activity(row))
    return dict(debits), dict(credits)


def _prestaties(c: Cursor, *pending: dict[str, list[Activity]]) -> dict[str, dict[str, Prestatie]]:
    """The ZPM facts (billing_prestaties) of the pending activities recorded with a prestatie:
    trajectory -> activity id -> facts."""
    found: dict[str, dict[str, Prestatie]] = defaultdict(dict)
    c.execute("SELECT 1 FROM billing_prestaties LIMIT 1")
    if c.fetchone() is None:  # a ledger of v1 activities only: nothing to look up
        return found
    by_position = {a.position: a for lines in pending for activities in lines.values() for a in activities}
    for chunk in chunked(sorted(by_position)):
        c.execute(
            "SELECT position, prestatie, practitioner, beroep, setting, start, linked_activity, minutes, max_amount,"
            f" price_basis FROM billing_prestaties WHERE position IN ({placeholders(len(chunk))})",
            chunk,
        )
        for row in c.fetchall():
            a = by_position[row[0]]
            found[a.trajectory][a.activity] = Prestatie(*row[1:])
    return found


def _facts(
    c: Cursor, trajectories: Iterable[str], up_to: int, prestaties: Mapping[str, Mapping[str, Prestatie]]
) -> dict[str, TrajectoryFacts]:
    facts: dict[str, TrajectoryFacts] = {}
    clusterings: dict[str, list[Clustering]] = defaultdict(list)
    assignments: dict[str, list[Assignment]] = defaultdict(list)
    privacy: dict[str, list[PrivacyEvent]] = defaultdict(list)
    for chunk in chunked(sorted(trajectories)):
        marks = placeholders(len(chunk))
        c.execute(
            f"SELECT trajectory, position, on_date, cluster FROM billing_clusterings"
            f" WHERE trajectory IN ({marks}) AND position <= ?",
            (*chunk, up_to),
        )
        for trajectory, position, on_date, cluster in c.fetchall():
            clusterings[trajectory].append(Clustering(date.fromisoformat(on_date), position, cluster))
        c.execute(
            f"SELECT trajectory, position, on_date, practitioner, beroep FROM billing_regiebehandelaars"
            f" WHERE trajectory IN ({marks}) AND position <= ?",
            (*chunk, up_to),
        )
        for trajectory, position, on_date, practitioner, beroep in c.fetchall():
            assignments[trajectory].append(Assignment(date.fromisoformat(on_date), position, practitioner, beroep))
        c.execute(
            f"SELECT trajectory, position, on_date, signed FROM billing_privacy"
            f" WHERE trajectory IN ({marks}) AND position <= ?",
            (*chunk, up_to),
        )
        for trajectory, position, on_date, signed in c.fetchall():
            privacy[trajectory].append(PrivacyEvent(date.fromisoformat(on_date), position, bool(signed)))
        c.execute(
            f"SELECT trajectory, opened_on, ended_on, ended_position, declarations, declared_total, referral_type,"
            f" referrer_agb, referral_date, provider, insurer FROM billing_trajectories WHERE trajectory IN ({marks})",
            chunk,
        )
        for row in c.fetchall():
            trajectory, opened_on, ended_on, ended_position, count, declared, kind, agb, referred = row[:9]
            ended = date.fromisoformat(ended_on) if ended_on and ended_position <= up_to else None
            referral = None if kind is None else Referral(kind, agb, date.fromisoformat(referred) if referred else None)
            facts[trajectory] = TrajectoryFacts(
                trajectory, date.fromisoformat(opened_on), ended, (), count, declared, referral,
                provider=row[9], insurer=row[10],
            )  # fmt: skip
    return {
        t: attrs.evolve(
            f,
            clusterings=tuple(clusterings.get(t, ())),
            regiebehandelaars=tuple(assignments.get(t, ())),
            privacy_events=tuple(privacy.get(t, ())),
            prestaties=prestaties.get(t, {}),
        )
        for t, f in facts.items()
    }


def store_close(c: Cursor, e: RecordedClose, result: ComputedClose) -> None:
    """Store a recorded close's declarations and mark the lines they bill as declared or credited."""
    declarations = result.declarations
    c.executemany(
        "INSERT INTO billing_declarations (trajectory, month, sequence, total, digest, body) VALUES (?, ?, ?, ?, ?, ?)",
        [(d.trajectory, d.month, d.sequence, d.total, d.digest, d.canonical_json.decode()) for d in declarations],
    )
    # Every pending line as of up_to is on this close's declarations (a trajectory
    # with pending lines always gets one), so marking them is one set-based
    # update each instead of one per line.
    c.execute(
        f"UPDATE billing_activities SET declared_month = ? WHERE {PENDING_DEBIT}",
        (e.month, last_day(e.month).isoformat(), e.up_to, e.up_to),
    )
    c.execute(f"UPDATE billing_activities SET credited_month = ? WHERE {PENDING_CREDIT}", (e.month, e.up_to))
    c.executemany(
        "UPDATE billing_trajectories SET declarations = declarations + 1, declared_total = declared_total + ?"
        " WHERE trajectory = ?",
        [(d.total, d.trajectory) for d in declarations],
    )
    c.execute(
        "INSERT INTO billing_closes (month, position, up_to, declarations, total, digest, computed_digest,"
        " recorded_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (e.month, e.position, e.up_to, e.declarations, e.total, e.digest, result.digest, e.recorded_at),
    )


def _activity(row: Sequence[Any]) -> Activity:
    return Activity(row[0], row[1], date.fromisoformat(row[2]), *row[3:11])
