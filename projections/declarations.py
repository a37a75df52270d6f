"""The arithmetic of a monthly declaration (zorgnota), as pure functions over plain facts."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from typing import Any, NamedTuple, Protocol, TypeVar

import attrs
import orjson

from ggzledger.domain.months import last_day, month_of
from ggzledger.reference import Catalogue

__all__ = [
    "Activity",
    "Assignment",
    "Clustering",
    "Line",
    "Declaration",
    "Prestatie",
    "PrivacyEvent",
    "Referral",
    "TrajectoryFacts",
    "in_force",
    "privacy_in_force",
    "declare",
    "canonical",
    "digest_of",
    "financial",
    "financial_content",
    "chain_digest",
    "line_minutes",
]


@attrs.frozen
class Clustering:
    """A Clustered or Reviewed event: the cluster typed on a date, at a ledger position."""

    on: date
    position: int
    cluster: int | None  # None once erased with the patient's data


@attrs.frozen
class Assignment:
    """A RegiebehandelaarAssigned event: who is regiebehandelaar from a date, at a ledger position."""

    on: date
    position: int
    practitioner: str
    beroep: str


@attrs.frozen
class PrivacyEvent:
    """A privacy statement signed (``signed``) or withdrawn on a date, at a ledger position."""

    on: date
    position: int
    signed: bool


@attrs.frozen
class Referral:
    """The referral a trajectory was opened with (zpm.md Z3.1)."""

    type: str
    referrer_agb: str | None
    date: date | None

    def to_json(self) -> dict[str, Any]:
        return {
            "type": self.type,
            "referrer_agb": self.referrer_agb,
            "date": None if self.date is None else self.date.isoformat(),
        }


class Prestatie(NamedTuple):
    """What a ZPM activity's declaration lines show beside the v1 fields (zpm.md Z6.2), as recorded."""

    prestatie: str
    practitioner: str | None
    beroep: str | None
    setting: int | None
    start: str | None
    linked_activity: str | None
    minutes: int | None
    max_amount: int | None
    price_basis: str | None


def line_minutes(prestatie: str, minutes: int | None, effective_minutes: int | None) -> int | None:
    """The minutes a ZPM line shows: the effective minutes of a consult (Z4.2), none for a stay day."""
    if prestatie == "consult":
        return effective_minutes
    return None if prestatie == "stay" else minutes


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
    # Read only for a declaration with ZPM lines (zpm.md Z6.3, Z6.4).
    referral: Referral | None = None
    regiebehandelaars: tuple[Assignment, ...] = ()
    privacy_events: tuple[PrivacyEvent, ...] = ()
    # The ZPM facts of the trajectory's activities recorded with a prestatie, by activity id (at
    # least those of the pending lines); an activity not in it bills as a v1 line.
    prestaties: Mapping[str, Prestatie] = attrs.field(factory=dict, eq=False)
    # Who bills whom: in the financial digest (form 2), not on the declaration body.
    provider: str | None = None
    insurer: str | None = None


class Line(NamedTuple):
    """One line of a declaration: a debit for an activity, or a credit for a voided one."""

    date: date
    code: str
    description: str
    amount: int
    kind: str
    activity: str
    late: bool
    # The fields of zpm.md Z6.2, on the line of a ZPM activity only.
    zpm: dict[str, Any] | None = None

    def to_json(self) -> dict[str, Any]:
        shown = {
            "date": self.date.isoformat(),
            "code": self.code,
            "description": self.description,
            "amount": self.amount,
            "kind": self.kind,
            "activity": self.activity,
            "late": self.late,
        }
        if self.zpm is not None:
            shown.update(self.zpm)
        return shown


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
    # The header fields of zpm.md Z6.3, on a declaration with at least one ZPM line only
    # (``privacy`` is None on every other declaration, which keeps its v1 form).
    privacy: bool | None = None
    regiebehandelaar: Assignment | None = None
    referral: Referral | None = None
    provider: str | None = None
    insurer: str | None = None
    # Which digest its close records (trust.md §3): 2 since the chain; 1 for the closes before it.
    digest_form: int = 2
    # The canonical form and its digest, computed once when the declaration is made.
    canonical_json: bytes = attrs.field(init=False, eq=False, repr=False)
    digest: str = attrs.field(init=False, eq=False, repr=False)

    def __attrs_post_init__(self) -> None:
        body = self.canonical_body()
        raw = canonical(body)
        object.__setattr__(self, "canonical_json", raw)
        object.__setattr__(self, "digest", digest_of(body, self.digest_form, self.provider, self.insurer))

    def to_json(self) -> dict[str, Any]:
        """The contract's JSON shape, with the digest when the declaration is issued."""
        body: dict[str, Any] = orjson.loads(self.canonical_json)
        if self.status == "issued":
            body["digest"] = self.digest
        return body

    def canonical_body(self) -> dict[str, Any]:
        """The declaration's fields without digest: what is stored, and (see :func:`financial`) digested."""
        body: dict[str, Any] = {
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
        if self.privacy is not None:
            body["privacy"] = self.privacy
            body["regiebehandelaar"] = (
                None
                if self.regiebehandelaar is None
                else {"practitioner": self.regiebehandelaar.practitioner, "beroep": self.regiebehandelaar.beroep}
            )
            body["referral"] = None if self.referral is None else self.referral.to_json()
        return body


class _Dated(Protocol):
    @property
    def on(self) -> date: ...

    @property
    def position(self) -> int: ...


_D = TypeVar("_D", bound=_Dated)


def in_force(clusterings: Iterable[_D], day: date) -> _D | None:
    """The event in force on a day (a clustering, an assignment): latest date on or before it, the later
    recorded on a tie."""
    best: _D | None = None
    for clustering in clusterings:
        if clustering.on <= day and (best is None or (clustering.on, clustering.position) > (best.on, best.position)):
            best = clustering
    return best


def privacy_in_force(events: Iterable[PrivacyEvent]) -> bool:
    """True when the privacy event with the latest date (the later recorded on a tie) is a statement
    (zpm.md Z6.4): judged per declaration over every such event its close covers, whatever their dates."""
    latest = max(events, key=lambda e: (e.on, e.position), default=None)
    return latest is not None and latest.signed


def declare(
    facts: TrajectoryFacts,
    month: str,
    debits: Sequence[Activity],
    credits: Sequence[Activity],
    catalogue: Catalogue,
    status: str = "issued",
    form: int = 2,
) -> Declaration | None:
    """The declaration of a trajectory for a month from its pending lines; None when there are none.

    ``debits`` and ``credits`` are the pending activities (see
    :meth:`Activity.pending_debit` and :meth:`Activity.pending_credit`); facts
    hold what was recorded up to the close's position. A declaration with at
    least one line of a ZPM activity carries the fields of zpm.md Z6.2 and Z6.3;
    any other has exactly the v1 form (rules.md §5).
    """
    if not debits and not credits:
        return None
    month_end = last_day(month)
    known = facts.prestaties
    zpm = bool(known) and (any(a.activity in known for a in debits) or any(a.activity in known for a in credits))
    privacy = privacy_in_force(facts.privacy_events) if zpm else None
    if zpm:
        lines = [
            Line(a.on, a.code, a.description, a.amount, "debit", a.activity, month_of(a.on) < month,
                 _zpm_line(a, facts, bool(privacy), debit=True))
            for a in debits
        ] + [
            Line(a.on, a.code, a.description, -a.amount, "credit", a.activity, False,
                 _zpm_line(a, facts, bool(privacy), debit=False))
            for a in credits
        ]  # fmt: skip
    else:
        lines = [
            Line(a.on, a.code, a.description, a.amount, "debit", a.activity, month_of(a.on) < month) for a in debits
        ] + [Line(a.on, a.code, a.description, -a.amount, "credit", a.activity, False) for a in credits]
    # By date, then activity id; a debit before a credit of the same activity.
    lines.sort(key=lambda line: (line.date, line.activity, line.kind != "debit"))
    end_date = facts.ended_on if facts.ended_on is not None and facts.ended_on <= month_end else None
    # Under a privacy statement the header shows no type either (Z6.4).
    shown = None if privacy else in_force(facts.clusterings, end_date or month_end)
    cluster = catalogue.lookup(shown.cluster) if shown is not None and shown.cluster is not None else None
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
        privacy=privacy,
        regiebehandelaar=in_force(facts.regiebehandelaars, end_date or month_end) if zpm else None,
        referral=facts.referral if zpm else None,
        provider=facts.provider,
        insurer=facts.insurer,
        digest_form=form,
    )


def _zpm_line(a: Activity, facts: TrajectoryFacts, privacy: bool, debit: bool) -> dict[str, Any] | None:
    """The Z6.2 fields of an activity's line; None for an activity without a prestatie (v1 line)."""
    z = facts.prestaties.get(a.activity)
    if z is None:
        return None
    role = None
    if z.practitioner is not None:
        regie = in_force(facts.regiebehandelaars, a.on)
        role = "02" if regie is not None and regie.practitioner == z.practitioner else "01"
    typed = None if privacy or not debit else in_force(facts.clusterings, a.on)
    return {
        "prestatie": z.prestatie,
        "practitioner": z.practitioner,
        "beroep": z.beroep,
        "setting": z.setting,
        "start": z.start,
        "linked_activity": z.linked_activity,
        "minutes": z.minutes,
        "role": role,
        "zorgvraagtype": None if typed is None else typed.cluster,
        "privacy": privacy,
        "max_amount": z.max_amount,
        "price_basis": z.price_basis,
    }


# What zpm.md Z6.7 leaves out of a ZPM declaration's digest: the fields that are not financial.
_NOT_DIGESTED_IN_LINES = frozenset(
    {"practitioner", "beroep", "minutes", "role", "zorgvraagtype", "privacy", "start", "setting"}
)
_NOT_DIGESTED_IN_HEADER = frozenset({"regiebehandelaar", "referral", "privacy"})


def financial(body: dict[str, Any]) -> dict[str, Any]:
    """The part of a declaration body that its digest covers (zpm.md Z6.7).

    A body with ZPM lines (it has the header field ``privacy``) without the
    non-financial fields; any other body as it is, so that every v1 digest
    stays what it was.
    """
    if "privacy" not in body:
        return body
    kept = {key: value for key, value in body.items() if key not in _NOT_DIGESTED_IN_HEADER}
    kept["lines"] = [
        {key: value for key, value in line.items() if key not in _NOT_DIGESTED_IN_LINES} for line in body["lines"]
    ]
    return kept


def canonical(body: dict[str, Any]) -> bytes:
    """The one canonical JSON form: keys sorted, compact, UTF-8."""
    return orjson.dumps(body, option=orjson.OPT_SORT_KEYS)


def financial_content(body: dict[str, Any], provider: str | None, insurer: str | None) -> dict[str, Any]:
    """What digest form 2 covers (trust.md §3): who bills whom, which lines, how much; no health or identity data.

    Trajectory, month, sequence, provider, insurer, total, previously declared, and per line (in
    the declaration's order) activity, kind, code, date and amount. Amounts in cents, dates ISO.
    """
    return {
        "trajectory": body["trajectory"],
        "month": body["month"],
        "sequence": body["sequence"],
        "provider": provider,
        "insurer": insurer,
        "total": body["total"],
        "previously_declared": body["previously_declared"],
        "lines": [{key: line[key] for key in ("activity", "kind", "code", "date", "amount")} for line in body["lines"]],
    }


def digest_of(body: dict[str, Any], form: int = 1, provider: str | None = None, insurer: str | None = None) -> str:
    """A declaration's digest from its body (as stored, without digest): SHA-256 hex of its canonical form.

    Form 1 covers :func:`financial` (the whole v1 body); form 2 :func:`financial_content`, which
    also needs the trajectory's provider and insurer (they are not on the body).
    """
    if form == 1:
        return hashlib.sha256(canonical(financial(body))).hexdigest()
    return hashlib.sha256(canonical(financial_content(body, provider, insurer))).hexdigest()


def chain_digest(previous: str, declaration_digests: Iterable[str]) -> str:
    """A close's digest: SHA-256 over the previous close's digest, then its declarations' digests.

    The declaration digests must come in trajectory order.
    """
    hasher = hashlib.sha256(previous.encode())
    for digest in declaration_digests:
        hasher.update(digest.encode())
    return hasher.hexdigest()
