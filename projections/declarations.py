"""The arithmetic of a monthly declaration (zorgnota), as pure functions over plain facts."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from datetime import date
from typing import Any, NamedTuple

import attrs
import orjson

from ggzledger.domain.months import last_day, month_of
from ggzledger.reference import Catalogue

__all__ = [
    "Activity",
    "Clustering",
    "Line",
    "Declaration",
    "TrajectoryFacts",
    "in_force",
    "declare",
    "canonical",
    "digest_of",
    "chain_digest",
]


@attrs.frozen
class Clustering:
    """A Clustered or Reviewed event: the cluster typed on a date, at a ledger position."""

    on: date
    position: int
    cluster: int


class Activity(NamedTuple):
    """What billing knows of one activity; declared/credited say in which month it was billed.

    A named tuple rather than an attrs class: a close of a large ledger builds
    one per pending line, and tuples are several times cheaper to make.
    """

    activity: str
    trajectory: str
    on: date
    code: str
    description: str
    amount: int
    care_form: str | None
    position: int
    voided_position: int | None = None
    declared_month: str | None = None
    credited_month: str | None = None

    def pending_debit(self, month_end: date, up_to: int) -> bool:
        """Not declared yet, dated by month_end, recorded by up_to and not voided by then."""
        return (
            self.declared_month is None
            and self.on <= month_end
            and self.position <= up_to
            and (self.voided_position is None or self.voided_position > up_to)
        )

    def pending_credit(self, up_to: int) -> bool:
        """Declared earlier and voided (by up_to) since, with no credit yet."""
        return (
            self.declared_month is not None
            and self.credited_month is None
            and self.voided_position is not None
            and self.voided_position <= up_to
        )


@attrs.frozen
class TrajectoryFacts:
    """A trajectory's billing facts as of one ledger position."""

    trajectory: str
    opened_on: date
    ended_on: date | None
    clusterings: tuple[Clustering, ...]
    declarations: int = 0
    declared_total: int = 0


class Line(NamedTuple):
    """One line of a declaration: a debit for an activity, or a credit for a voided one."""

    date: date
    code: str
    description: str
    amount: int
    kind: str
    activity: str
    late: bool

    def to_json(self) -> dict[str, Any]:
        return {
            "date": self.date.isoformat(),
            "code": self.code,
            "description": self.description,
            "amount": self.amount,
            "kind": self.kind,
            "activity": self.activity,
            "late": self.late,
        }


@attrs.frozen
class Declaration:
    """A zorgnota: what one trajectory is billed at one month close (rules.md §5)."""

    trajectory: str
    month: str
    status: str
    sequence: int
    cluster: int | None
    cluster_name: str | None
    start_date: date
    end_date: date | None
    review_due: date | None
    previously_declared: int
    total: int
    lines: tuple[Line, ...]
    # The canonical form and its digest, computed once when the declaration is made.
    canonical_json: bytes = attrs.field(init=False, eq=False, repr=False)
    digest: str = attrs.field(init=False, eq=False, repr=False)

    def __attrs_post_init__(self) -> None:
        raw = canonical(self.canonical_body())
        object.__setattr__(self, "canonical_json", raw)
        object.__setattr__(self, "digest", hashlib.sha256(raw).hexdigest())

    def to_json(self) -> dict[str, Any]:
        """The contract's JSON shape, with the digest when the declaration is issued."""
        body: dict[str, Any] = orjson.loads(self.canonical_json)
        if self.status == "issued":
            body["digest"] = self.digest
        return body

    def canonical_body(self) -> dict[str, Any]:
        """The declaration's fields without digest: the object the digest is taken over."""
        return {
            "trajectory": self.trajectory,
            "month": self.month,
            "status": self.status,
            "sequence": self.sequence,
            "cluster": None if self.cluster is None else {"code": self.cluster, "name": self.cluster_name},
            "start_date": self.start_date.isoformat(),
            "end_date": None if self.end_date is None else self.end_date.isoformat(),
            "review_due": None if self.review_due is None else self.review_due.isoformat(),
            "previously_declared": self.previously_declared,
            "total": self.total,
            "lines": [line.to_json() for line in self.lines],
        }


def in_force(clusterings: Iterable[Clustering], day: date) -> Clustering | None:
    """The clustering in force on a day: latest date on or before it, the later recorded on a tie."""
    best: Clustering | None = None
    for clustering in clusterings:
        if clustering.on <= day and (best is None or (clustering.on, clustering.position) > (best.on, best.position)):
            best = clustering
    return best


def declare(
    facts: TrajectoryFacts,
    month: str,
    debits: Sequence[Activity],
    credits: Sequence[Activity],
    catalogue: Catalogue,
    status: str = "issued",
) -> Declaration | None:
    """The declaration of a trajectory for a month from its pending lines; None when there are none.

    ``debits`` and ``credits`` are the pending activities (see
    :meth:`Activity.pending_debit` and :meth:`Activity.pending_credit`); facts
    hold what was recorded up to the close's position.
    """
    if not debits and not credits:
        return None
    month_end = last_day(month)
    lines = [
        Line(a.on, a.code, a.description, a.amount, "debit", a.activity, month_of(a.on) < month) for a in debits
    ] + [Line(a.on, a.code, a.description, -a.amount, "credit", a.activity, False) for a in credits]
    # By date, then activity id; a debit before a credit of the same activity.
    lines.sort(key=lambda line: (line.date, line.activity, line.kind != "debit"))
    end_date = facts.ended_on if facts.ended_on is not None and facts.ended_on <= month_end else None
    shown = in_force(facts.clusterings, end_date or month_end)
    cluster = catalogue.lookup(shown.cluster) if shown is not None else None
    return Declaration(
        trajectory=facts.trajectory,
        month=month,
        status=status,
        sequence=facts.declarations + 1,
        cluster=None if cluster is None else cluster.code,
        cluster_name=None if cluster is None else cluster.name_nl,
        start_date=facts.opened_on,
        end_date=end_date,
        review_due=None if shown is None or cluster is None else cluster.review_term.add_to(shown.on),
        previously_declared=facts.declared_total,
        total=sum(line.amount for line in lines),
        lines=tuple(lines),
    )


def canonical(body: dict[str, Any]) -> bytes:
    """The one canonical JSON form: keys sorted, compact, UTF-8."""
    return orjson.dumps(body, option=orjson.OPT_SORT_KEYS)


def digest_of(body: dict[str, Any]) -> str:
    """SHA-256 hex of a declaration body's canonical form."""
    return hashlib.sha256(canonical(body)).hexdigest()


def chain_digest(previous: str, declaration_digests: Iterable[str]) -> str:
    """A close's digest: SHA-256 over the previous close's digest, then its declarations' digests.

    The declaration digests must come in trajectory order.
    """
    hasher = hashlib.sha256(previous.encode())
    for digest in declaration_digests:
        hasher.update(digest.encode())
    return hasher.hexdigest()
