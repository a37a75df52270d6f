"""Findings for the insurer's material check (zpm.md Z8): what an auditor would ask about the ZPM lines.

Computed from the event log each time they are asked for, never stored, and nothing is
written: the stored states are decoded by topic (as the views read them) and judged by
the pure :func:`find`. A finding never blocks a close.
"""

from __future__ import annotations

import calendar
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import date, timedelta
from itertools import combinations
from typing import Any

import attrs

from ggzledger.analyses.waiting import exceeded, waits_from_states
from ggzledger.domain.errors import UnknownTrajectory
from ggzledger.domain.months import month_of
from ggzledger.reference.treeknormen import load_treeknormen
from ggzledger.service.ledger import Ledger

__all__ = ["FINDINGS", "TOPICS", "DIAGNOSTIEK_DAYS", "Finding", "find", "findings", "select"]

DIAGNOSTIEK_DAYS = 90
"""How long after the first behandeling consult a diagnostiek consult is a finding (zpm.md Z13 #15)."""

# Z8's margins: a consult starting within this many minutes of another's end may be one split contact;
# the regiebehandelaar must have seen the patient within this many days once more than this many consults took place.
_CONSECUTIVE_MINUTES = 60
_REGIE_DAYS = 42
_REGIE_CONSULTS = 4
# The psychodiagnostiek surcharge exists from 2024 (zpm.md Z2.9).
_PSYCHODIAGNOSTIEK_FROM = date(2024, 1, 1)

FINDINGS = (
    "overlapping_consults",
    "consecutive_consults",
    "stay_on_discharge_day",
    "stay_outside_admission",
    "duplicate_stay_day",
    "zorgvraagtype_missing",
    "typing_older_than_12_months",
    "group_size_inconsistent",
    "diagnostiek_after_treatment",
    "regiebehandelaar_missing",
    "regiebehandelaar_not_involved",
    "referral_missing",
    "referral_older_than_9_months",
    "referrer_agb_missing",
    "overleg_without_treatment",
    "psychodiagnostiek_surcharge_missing",
    "duration_unverifiable",
    "price_capped",
    "treeknorm_exceeded",
)
"""Every finding of zpm.md Z8, in the spec's order, then the Treeknormen's (docs/analyses.md)."""

_P = "ggzledger.Trajectory."
_OPENED = _P + "Opened"
_CLUSTERED = _P + "Clustered"
_REVIEWED = _P + "Reviewed"
_LEGACY = _P + "ActivityDelivered"
_PRESTATIE = _P + "PrestatieDelivered"
_VOIDED = _P + "ActivityVoided"
_REGIE = _P + "RegiebehandelaarAssigned"
_SIGNED = _P + "PrivacyStatementSigned"
_WITHDRAWN = _P + "PrivacyStatementWithdrawn"
_ADMITTED = _P + "Admitted"
_DISCHARGED = _P + "Discharged"
_ERASED = _P + "PersonalDataErased"
_CLOSED = "ggzledger.BillingCalendar.MonthClosed"
_REGISTERED = _P + "Registered"
_ASSESSED = _P + "Assessed"
_REFERRED = _P + "ReferredBack"

TOPICS: tuple[str, ...] = (
    _OPENED, _CLUSTERED, _REVIEWED, _LEGACY, _PRESTATIE, _VOIDED, _REGIE, _SIGNED, _WITHDRAWN, _ADMITTED,
    _DISCHARGED, _ERASED, _CLOSED, _REGISTERED, _ASSESSED, _REFERRED,
)  # fmt: skip
"""The stored topics the findings read."""

State = tuple[int, str, dict[str, Any]]
"""A stored event as the findings read it: position, topic, decoded state (dates as ISO text)."""

SurchargeInForce = Callable[[str, date], bool]
"""Whether the loaded tables have a row of this surcharge type in force on a date."""

MinMinutes = Callable[[str, date], "int | None"]
"""The ``min_minutes`` of a code's row in force on a date (None: no band, or no row)."""


@attrs.frozen
class Finding:
    """One finding on one line: the contract's row ``{trajectory, activity, date, code, finding, detail}``."""

    trajectory: str
    activity: str
    date: date
    code: str
    finding: str
    detail: str

    def to_json(self) -> dict[str, Any]:
        return {
            "trajectory": self.trajectory,
            "activity": self.activity,
            "date": self.date.isoformat(),
            "code": self.code,
            "finding": self.finding,
            "detail": self.detail,
        }


@attrs.frozen
class _Line:
    """A non-voided delivered activity, with the fields the findings judge."""

    position: int
    trajectory: str
    activity: str
    on: date
    code: str
    prestatie: str | None
    consult_type: str | None
    practitioner: str | None
    start: int | None  # minutes after midnight
    minutes: int | None
    group_size: int | None
    band: int | None
    surcharge_type: str | None
    linked_activity: str | None
    price_basis: str | None

    @property
    def interval(self) -> tuple[int, int] | None:
        """[start, start + realised minutes), only when both are known (Z8)."""
        if self.start is None or self.minutes is None:
            return None
        return self.start, self.start + self.minutes

    @property
    def diagnostiek(self) -> bool:
        return self.prestatie == "consult" and self.consult_type == "diagnostiek"

    @property
    def treats(self) -> bool:
        """A consult or a group unit: the lines that count as seeing the patient."""
        return self.prestatie in ("consult", "group")

    @classmethod
    def from_state(cls, position: int, state: dict[str, Any]) -> _Line:
        start = state.get("start")
        return cls(
            position=position,
            trajectory=state["trajectory"],
            activity=state["activity"],
            on=date.fromisoformat(state["on"]),
            code=state["code"],
            prestatie=state.get("prestatie"),
            consult_type=state.get("consult_type"),
            practitioner=state.get("practitioner"),
            start=None if start is None else int(start[:2]) * 60 + int(start[3:5]),
            minutes=state.get("minutes"),
            group_size=state.get("group_size"),
            band=state.get("band"),
            surcharge_type=state.get("surcharge_type"),
            linked_activity=state.get("linked_activity"),
            price_basis=state.get("price_basis"),
        )


@attrs.define
class _Trajectory:
    """What the findings need of one trajectory besides its lines."""

    opened_on: date | None = None
    referral_type: str | None = None
    referrer_agb: str | None = None
    referral_date: date | None = None
    typings: list[tuple[date, int, int]] = attrs.Factory(list)  # (on, position, cluster)
    regie: list[tuple[date, int, str]] = attrs.Factory(list)  # (on, position, practitioner)
    privacy: list[tuple[date, int, bool]] = attrs.Factory(list)  # (on, position, signed)
    admissions: list[tuple[date, bool, date | None]] = attrs.Factory(list)  # (admitted, after_20h, discharged)
    discharges: set[date] = attrs.Factory(set)
    # The patient's personal data was erased: the referrer's AGB code, the referral date and the
    # clusters read None, unreadable rather than missing (the referral type and the dates stay plain).
    erased: bool = False


def _clock(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def _add_months(day: date, months: int) -> date:
    """``day`` plus (or minus) calendar months; a day the target month lacks becomes its last (rules.md §5)."""
    year, index = divmod(day.year * 12 + day.month - 1 + months, 12)
    return date(year, index + 1, min(day.day, calendar.monthrange(year, index + 1)[1]))


def _latest(events: Iterable[tuple[date, int, Any]], on: date | None = None, up_to: int | None = None) -> Any:
    """The event in force: latest by date (on or before ``on``), ties the later recorded; None if none."""
    chosen = None
    for event in events:
        in_view = (on is None or event[0] <= on) and (up_to is None or event[1] <= up_to)
        if in_view and (chosen is None or event[:2] > chosen[:2]):
            chosen = event
    return chosen


class _Ledger:
    """The decoded events sorted into lines and trajectory facts."""

    def __init__(self, states: Iterable[State]) -> None:
        self.trajectories: dict[str, _Trajectory] = defaultdict(_Trajectory)
        self.closes: list[tuple[str, int]] = []  # (month, up_to), in position order
        lines: list[_Line] = []
        voided: set[str] = set()
        for position, topic, state in sorted(states, key=lambda s: s[0]):
            if topic == _CLOSED:
                self.closes.append((state["month"], state["up_to"]))
                continue
            facts = self.trajectories[state["trajectory"]]
            if topic == _ERASED:
                facts.erased = True
                continue
            on = date.fromisoformat(state["opened_on"] if topic == _OPENED else state["on"])
            if topic in (_LEGACY, _PRESTATIE):
                lines.append(_Line.from_state(position, state))
            elif topic == _VOIDED:
                voided.add(state["activity"])
            elif topic == _OPENED:
                facts.opened_on = on
                facts.referral_type = state.get("referral_type")
                facts.referrer_agb = state.get("referrer_agb")
                referral = state.get("referral_date")
                facts.referral_date = None if referral is None else date.fromisoformat(referral)
            elif topic in (_CLUSTERED, _REVIEWED):
                facts.typings.append((on, position, state["cluster"]))
            elif topic == _REGIE:
                facts.regie.append((on, position, state["practitioner"]))
            elif topic in (_SIGNED, _WITHDRAWN):
                facts.privacy.append((on, position, topic == _SIGNED))
            elif topic == _ADMITTED:
                facts.admissions.append((on, bool(state.get("after_20h")), None))
            elif topic == _DISCHARGED:
                # Rule 3.17 lets a discharge follow only an open admission: it ends the latest one.
                facts.discharges.add(on)
                if facts.admissions and facts.admissions[-1][2] is None:
                    admitted, after_20h, _ = facts.admissions[-1]
                    facts.admissions[-1] = (admitted, after_20h, on)
        alive = [line for line in lines if line.activity not in voided]
        self.lines = [line for line in alive if line.prestatie is not None]
        self.legacy = [line for line in alive if line.prestatie is None]
        self.voided = voided

    def carrying_close(self, line: _Line) -> tuple[str, int] | None:
        """The close that declares (or declared) a debit line: the first to cover it and its month; None: not yet."""
        month = month_of(line.on)
        return next((close for close in self.closes if close[1] >= line.position and close[0] >= month), None)


def find(
    states: Iterable[State],
    *,
    surcharge_in_force: SurchargeInForce = lambda kind, on: False,
    min_minutes_of: MinMinutes = lambda code, on: None,
    diagnostiek_days: int = DIAGNOSTIEK_DAYS,
) -> list[Finding]:
    """Every finding of zpm.md Z8 in ``states``, sorted by trajectory, date, activity and finding.

    ``states`` are stored events as (position, topic, state) with the decoded JSON
    state; topics the findings do not read are ignored. ``surcharge_in_force`` and
    ``min_minutes_of`` answer from the loaded tariff tables (the defaults know none).
    """
    read = [s for s in states if s[1] in TOPICS]
    ledger = _Ledger(read)
    found: list[Finding] = list(_treeknorm(read))
    for rule in (_overlaps, _consecutive, _stays, _typing, _group_sizes, _regie, _referral, _overleg, _prices):
        found.extend(rule(ledger))
    found.extend(_diagnostiek(ledger, diagnostiek_days))
    found.extend(_surcharges(ledger, surcharge_in_force))
    found.extend(_durations(ledger, min_minutes_of))
    return sorted(found, key=lambda f: (f.trajectory, f.date, f.activity, f.finding, f.detail))


def select(found: Sequence[Finding], trajectory: str | None = None, month: str | None = None) -> list[Finding]:
    """The findings on ``trajectory``'s lines and on lines dated in ``month`` (None: all)."""
    return [
        f
        for f in found
        if (trajectory is None or f.trajectory == trajectory) and (month is None or month_of(f.date) == month)
    ]


def _on(line: _Line, finding: str, detail: str) -> Finding:
    return Finding(line.trajectory, line.activity, line.on, line.code, finding, detail)


def _other(line: _Line, other: _Line) -> str:
    where = "" if other.trajectory == line.trajectory else f" of trajectory {other.trajectory}"
    return f"{other.activity}{where}"


def _span(line: _Line) -> str:
    interval = line.interval
    assert interval is not None
    return f"{_clock(interval[0])}-{_clock(interval[1])}"


def _pairs(lines: Iterable[_Line], key: Callable[[_Line], Any]) -> Iterator[tuple[_Line, _Line]]:
    """Every pair of lines with the same key (key None: left out)."""
    groups: dict[Any, list[_Line]] = defaultdict(list)
    for line in lines:
        k = key(line)
        if k is not None:
            groups[k].append(line)
    for group in groups.values():
        yield from combinations(sorted(group, key=lambda line: line.activity), 2)


def _overlaps(ledger: _Ledger) -> Iterator[Finding]:
    def key(line: _Line) -> Any:
        if not line.treats or line.practitioner is None or line.interval is None:
            return None
        return line.practitioner, line.on

    for a, b in _pairs(ledger.lines, key):
        (a_start, a_end), (b_start, b_end) = a.interval or (0, 0), b.interval or (0, 0)
        if a.prestatie == b.prestatie == "group" and a_start == b_start:
            continue  # one group session: every patient's unit starts together
        if a_start < b_end and b_start < a_end:
            for line, other in ((a, b), (b, a)):
                yield _on(
                    line,
                    "overlapping_consults",
                    f"{_span(line)} overlaps {_other(line, other)} at {_span(other)},"
                    f" both by practitioner {line.practitioner}",
                )


def _consecutive(ledger: _Ledger) -> Iterator[Finding]:
    def key(line: _Line) -> Any:
        if line.prestatie != "consult" or line.practitioner is None or line.interval is None:
            return None
        return line.practitioner, line.trajectory, line.on

    for a, b in _pairs(ledger.lines, key):
        earlier, later = sorted((a, b), key=lambda line: (line.start, line.activity))
        gap = (later.start or 0) - (earlier.interval or (0, 0))[1]
        if 0 <= gap <= _CONSECUTIVE_MINUTES:
            for line in (earlier, later):
                yield _on(
                    line,
                    "consecutive_consults",
                    f"{earlier.activity} ({_span(earlier)}) and {later.activity} ({_span(later)}) by practitioner"
                    f" {line.practitioner} are {gap} minutes apart: possibly one contact split in two",
                )


def _stays(ledger: _Ledger) -> Iterator[Finding]:
    stays = [line for line in ledger.lines if line.prestatie == "stay"]
    for line in stays:
        facts = ledger.trajectories[line.trajectory]
        if line.on in facts.discharges:
            yield _on(line, "stay_on_discharge_day", f"the patient was discharged on {line.on}: not a stay day")
        if not any(_is_stay_day(line.on, admission) for admission in facts.admissions):
            yield _on(line, "stay_outside_admission", f"{line.on} is not a stay day of any admission")
    for a, b in _pairs(stays, lambda line: (line.trajectory, line.on)):
        for line, other in ((a, b), (b, a)):
            yield _on(line, "duplicate_stay_day", f"{other.activity} is a stay day on the same date")


def _is_stay_day(day: date, admission: tuple[date, bool, date | None]) -> bool:
    """The stay-day rule of Z7: ``a <= day < d``, without ``a`` itself when admitted after 20:00."""
    admitted, after_20h, discharged = admission
    if day < admitted or (day == admitted and after_20h):
        return False
    return discharged is None or day < discharged


def _typing(ledger: _Ledger) -> Iterator[Finding]:
    for line in ledger.lines:
        facts = ledger.trajectories[line.trajectory]
        close = ledger.carrying_close(line)
        # The declaration that carries the line shows what its close saw: the events recorded up to it.
        up_to = None if close is None else close[1]
        where = "not declared yet" if close is None else f"declared at the close of {close[0]}"
        privacy = _latest(facts.privacy, up_to=up_to)
        if privacy is not None and privacy[2]:
            continue  # a privacy declaration shows no type, by the patient's choice
        typing = _latest(facts.typings, on=line.on, up_to=up_to)
        if typing is None:
            if not line.diagnostiek:
                yield _on(line, "zorgvraagtype_missing", f"no zorgvraagtype in force on {line.on} ({where})")
        elif _add_months(typing[0], 12) < line.on:
            yield _on(
                line,
                "typing_older_than_12_months",
                f"zorgvraagtype {'(erased)' if typing[2] is None else typing[2]} was typed on {typing[0]},"
                " more than 12 months before the line",
            )


def _group_sizes(ledger: _Ledger) -> Iterator[Finding]:
    sessions: dict[tuple[str, date, int], list[_Line]] = defaultdict(list)
    for line in ledger.lines:
        if line.prestatie == "group" and line.practitioner is not None and line.start is not None:
            sessions[line.practitioner, line.on, line.start].append(line)
    for (practitioner, on, start), units in sessions.items():
        sizes = sorted({unit.group_size for unit in units if unit.group_size is not None})
        trajectories = len({unit.trajectory for unit in units})
        if len(sizes) > 1 or (sizes and trajectories > sizes[0]):
            shown = ", ".join(map(str, sizes))
            detail = (
                f"the group session of practitioner {practitioner} on {on} at {_clock(start)} has group size"
                f"{'s' if len(sizes) > 1 else ''} {shown} and patients of {trajectories} trajectories"
            )
            for unit in units:
                yield _on(unit, "group_size_inconsistent", detail)


def _diagnostiek(ledger: _Ledger, days: int) -> Iterator[Finding]:
    first: dict[str, date] = {}
    for line in ledger.lines:
        behandeling = line.prestatie == "consult" and line.consult_type == "behandeling"
        if behandeling and (line.trajectory not in first or line.on < first[line.trajectory]):
            first[line.trajectory] = line.on
    for line in ledger.lines:
        started = first.get(line.trajectory)
        if started is not None and line.diagnostiek and (line.on - started).days > days:
            yield _on(
                line,
                "diagnostiek_after_treatment",
                f"diagnostiek {(line.on - started).days} days after the first behandeling consult"
                f" on {started} (more than {days})",
            )


def _regie(ledger: _Ledger) -> Iterator[Finding]:
    treating: dict[str, list[_Line]] = defaultdict(list)
    for line in ledger.lines:
        facts = ledger.trajectories[line.trajectory]
        if _latest(facts.regie, on=line.on) is None:
            yield _on(line, "regiebehandelaar_missing", f"no regiebehandelaar in force on {line.on}")
        if line.treats:
            treating[line.trajectory].append(line)
    for trajectory, lines in treating.items():
        lines.sort(key=lambda line: (line.on, line.activity))
        limit = lines[0].on + timedelta(days=_REGIE_DAYS)
        for count, line in enumerate(lines, start=1):
            regie = _latest(ledger.trajectories[trajectory].regie, on=line.on)
            if count <= _REGIE_CONSULTS or line.on <= limit or regie is None:
                continue
            if not any(seen.practitioner == regie[2] and seen.on <= line.on for seen in lines):
                yield _on(
                    line,
                    "regiebehandelaar_not_involved",
                    f"consult {count} of the trajectory, more than {_REGIE_DAYS} days after the first on"
                    f" {lines[0].on}, and regiebehandelaar {regie[2]} has no consult or group unit on or before it",
                )


def _referral(ledger: _Ledger) -> Iterator[Finding]:
    for line in ledger.lines:
        facts = ledger.trajectories[line.trajectory]
        kind = facts.referral_type
        if kind is None or kind == "05":
            what = "no referral type" if kind is None else "referral type 05 (no referral), not allowed on ZPM claims"
            yield _on(line, "referral_missing", f"trajectory {line.trajectory} has {what}")
        referred, opened = facts.referral_date, facts.opened_on
        if referred is not None and opened is not None and referred < _add_months(opened, -9):
            yield _on(
                line,
                "referral_older_than_9_months",
                f"referral of {referred}, more than 9 months before the opening on {opened}",
            )
        if kind in ("01", "02") and facts.referrer_agb is None and not facts.erased:
            yield _on(line, "referrer_agb_missing", f"referral type {kind} needs the referrer's AGB code")


def _overleg(ledger: _Ledger) -> Iterator[Finding]:
    for line in ledger.lines:
        if line.prestatie != "overleg" or line.practitioner is None:
            continue
        if not any(
            other.treats
            and other.trajectory == line.trajectory
            and other.practitioner == line.practitioner
            and other.on <= line.on
            for other in ledger.lines
        ):
            yield _on(
                line,
                "overleg_without_treatment",
                f"practitioner {line.practitioner} has no consult or group unit in the trajectory on or before it",
            )


def _surcharges(ledger: _Ledger, in_force: SurchargeInForce) -> Iterator[Finding]:
    linked = {
        line.linked_activity
        for line in ledger.lines
        if line.prestatie == "surcharge" and line.surcharge_type == "psychodiagnostiek"
    }
    for line in ledger.lines:
        longest = line.diagnostiek and line.band == 120 and line.on >= _PSYCHODIAGNOSTIEK_FROM
        if longest and line.activity not in linked and in_force("psychodiagnostiek", line.on):
            yield _on(
                line,
                "psychodiagnostiek_surcharge_missing",
                "a diagnostiek consult from 120 minutes without the psychodiagnostiek surcharge the table offers",
            )


def _durations(ledger: _Ledger, min_minutes_of: MinMinutes) -> Iterator[Finding]:
    for line in ledger.legacy:
        if line.minutes is None:
            band = min_minutes_of(line.code, line.on)
            if band is not None:
                yield _on(
                    line,
                    "duration_unverifiable",
                    f"code {line.code} is for {band} minutes or more, and no minutes were recorded",
                )


def _prices(ledger: _Ledger) -> Iterator[Finding]:
    for line in ledger.lines:
        if line.price_basis is not None and line.price_basis.endswith(":capped"):
            yield _on(
                line, "price_capped", f"the price was capped at the maximum the contract allows ({line.price_basis})"
            )


_PAGE = 5000


_WAITS = {"aanmeld": "aanmeldwachttijd", "behandel": "behandelwachttijd", "total": "wachttijd in all"}
_ENDS = {"aanmeld": ("registration", "first assessment"), "behandel": ("first assessment", "first treatment"),
         "total": ("registration", "first treatment")}  # fmt: skip


def _treeknorm(states: Sequence[State]) -> Iterator[Finding]:
    """A wait that ended and took longer than its Treeknorm (docs/analyses.md): on the first treatment
    activity for the behandel- and total wait, on no activity (empty) for the aanmeldwachttijd."""
    norms = load_treeknormen()
    for wait, treated in waits_from_states(states).values():
        for kind, days, limit in exceeded(wait, norms):
            activity, code = treated if kind != "aanmeld" and treated is not None else ("", "")
            start, end = _ENDS[kind]
            started = wait.registered_on if kind != "behandel" else wait.first_assessed_on
            ended = wait.ended(kind)
            assert ended is not None  # exceeded() reports only waits that ended
            detail = (
                f"{_WAITS[kind]} {days} days ({start} {started} -> {end} {ended}) exceeds the Treeknorm of {limit} days"
            )
            yield Finding(wait.trajectory, activity, ended, code, "treeknorm_exceeded", detail)


def _states(ledger: Ledger) -> Iterator[State]:
    """Every stored event of the findings' topics, decoded (and upcast) as the views read them."""
    mapper, position = ledger.mapper, 0
    while True:
        page = ledger.recorder.select_notifications(
            start=position, limit=_PAGE, topics=TOPICS, inclusive_of_start=False
        )
        for notification in page:
            state = mapper.current_state(notification.topic, mapper.decode_state(notification.state))
            yield notification.id, notification.topic, state
        if len(page) < _PAGE:
            return
        position = page[-1].id


def findings(
    ledger: Ledger, trajectory: str | None = None, month: str | None = None, diagnostiek_days: int = DIAGNOSTIEK_DAYS
) -> list[dict[str, Any]]:
    """The findings of every event recorded so far, as the contract's JSON rows (zpm.md Z8).

    ``trajectory`` keeps the findings on that trajectory's lines, ``month`` those on
    lines dated in that month. Raises UnknownTrajectory for a trajectory that was
    never opened.
    """
    states = list(_states(ledger))
    if trajectory is not None and not any(
        topic == _OPENED and state["trajectory"] == trajectory for _, topic, state in states
    ):
        raise UnknownTrajectory(f"trajectory {trajectory} was never opened")
    found = find(
        states,
        surcharge_in_force=lambda kind, on: _surcharge_in_force(ledger, kind, on),
        min_minutes_of=lambda code, on: _min_minutes(ledger, code, on),
        diagnostiek_days=diagnostiek_days,
    )
    return [f.to_json() for f in select(found, trajectory, month)]


def _surcharge_in_force(ledger: Ledger, kind: str, on: date) -> bool:
    try:
        ledger.tariffs.find("surcharge", on, surcharge_type=kind)
    except LookupError:
        return False
    return True


def _min_minutes(ledger: Ledger, code: str, on: date) -> int | None:
    try:
        return ledger.tariffs.row(code, on).row.min_minutes
    except LookupError:
        return None
