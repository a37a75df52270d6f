"""The public event feed: every public event in position order, as versioned JSON with stable names.

docs/feed.md is the contract; the JSON Schemas of every line type ship in
``ggzledger/feed/schemas/``. Nothing here names a Python class to the outside:
each stored topic maps to an external type name and a function that turns the
event (already upcast to its current class version) into the line's ``data``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import UTC, date
from functools import cache
from importlib import resources
from typing import Any

from eventsourcing.persistence import Mapper

from ggzledger.domain import BillingCalendar, Trajectory
from ggzledger.feed.follow import Follower
from ggzledger.store.protocol import LedgerRecorder, head_of

__all__ = ["VERSION", "TYPES", "TOPICS", "FEED_NAMES", "Feed", "line", "personal_names", "schema"]

VERSION = 1
"""The version of every line's shape; bumped (with both served side by side) only for a breaking change."""

_T = Trajectory

# The fields PrestatieDelivered adds to an activity (docs/feed.md), in the event's order.
_ZPM_FIELDS = (
    "prestatie", "consult_type", "beroep", "beroep_category", "practitioner", "planned_minutes", "start",
    "group_size", "care_level", "security_level", "surcharge_type", "linked_activity", "effective_minutes", "band",
    "tariff_type", "max_amount", "price_basis",
)  # fmt: skip


def _day(value: date | None) -> str | None:
    return None if value is None else value.isoformat()


def _opened(e: Any) -> dict[str, Any]:
    return {
        "id": e.record_id,
        "patient": e.patient,
        "provider": e.provider,
        "insurer": e.insurer,
        "date": e.opened_on.isoformat(),
        "region": e.region,
        "referrer": e.referrer,
        "referral_type": getattr(e, "referral_type", None),
        "referrer_agb": getattr(e, "referrer_agb", None),
        "referral_date": _day(getattr(e, "referral_date", None)),
        "bsn": getattr(e, "bsn", None),
        "member_number": getattr(e, "member_number", None),
        "birth_date": _day(getattr(e, "birth_date", None)),
    }


def _assessed(e: Any) -> dict[str, Any]:
    return {
        "id": e.record_id,
        "date": e.on.isoformat(),
        "honos": None if e.scores is None else dict(e.scores),  # None once erased
        "total": e.total,
        "assessor": e.assessor,
        "route": getattr(e, "route", None),
    }


def _clustered(e: Any) -> dict[str, Any]:
    return {
        "id": e.record_id,
        "date": e.on.isoformat(),
        "cluster": e.cluster,
        "hoofdgroep": getattr(e, "hoofdgroep", None),
        "diagnosis_group": getattr(e, "diagnosis_group", None),
    }


def _delivered(e: Any) -> dict[str, Any]:
    return {
        "id": e.record_id,
        "activity": e.activity,
        "date": e.on.isoformat(),
        "code": e.code,
        "description": e.description,
        "unit": e.unit,
        "amount": e.amount,
        "tariff": e.tariff,
        "minutes": e.minutes,
        "professional": e.professional,
        "setting": e.setting,
        "care_form": e.care_form,
        # The ZPM fields (zpm.md Z9): null on activities recorded without them, so every line has every field.
        **{name: getattr(e, name, None) for name in _ZPM_FIELDS},
    }


def _voided(e: Any) -> dict[str, Any]:
    return {"id": e.record_id, "activity": e.activity, "date": e.on.isoformat(), "reason": e.reason}


def _reviewed(e: Any) -> dict[str, Any]:
    honos = None if e.scores is None else dict(e.scores)
    return {
        "id": e.record_id,
        "date": e.on.isoformat(),
        "cluster": e.cluster,
        "honos": honos,
        "total": e.total,
        "route": getattr(e, "route", None),
        "hoofdgroep": getattr(e, "hoofdgroep", None),
    }


def _referred(e: Any) -> dict[str, Any]:
    return {"id": e.record_id, "date": e.on.isoformat(), "to": e.to, "reason": e.reason}


def _regie(e: Any) -> dict[str, Any]:
    return {"id": e.record_id, "date": e.on.isoformat(), "practitioner": e.practitioner, "beroep": e.beroep}


def _erased(e: Any) -> dict[str, Any]:
    return {"subject": e.subject, "basis": e.basis, "date": e.erased_at.date().isoformat()}


def _dated(e: Any) -> dict[str, Any]:
    return {"id": e.record_id, "date": e.on.isoformat()}


def _admitted(e: Any) -> dict[str, Any]:
    return {"id": e.record_id, "date": e.on.isoformat(), "after_20h": e.after_20h}


def _registered(e: Any) -> dict[str, Any]:
    return {"id": e.record_id, "date": e.on.isoformat(), "region": e.region, "care_form": e.care_form}


def _contract(e: Any) -> dict[str, Any]:
    amounts = None if e.code_amounts is None else dict(e.code_amounts)
    return {
        "id": e.record_id,
        "contract": e.contract,
        "provider": e.provider,
        "insurer": e.insurer,
        "valid_from": e.valid_from.isoformat(),
        "valid_to": e.valid_to.isoformat(),
        "percentage_bp": e.percentage_bp,
        "code_amounts": amounts,
        "max_max": e.max_max,
    }


def _closed(e: Any) -> dict[str, Any]:
    return {
        "id": e.record_id,
        "month": e.month,
        "up_to": e.up_to,
        "declarations": e.declarations,
        "total": e.total,
        "digest": e.digest,
    }


def _claim(e: Any) -> dict[str, Any]:
    return {name: getattr(e, name) for name in ("insurer", "provider", "month", "message", "lines", "total", "again")}


Data = Callable[[Any], dict[str, Any]]

# Stored topic -> (external type, data). Internal events (the calendar's Started) are absent: never published.
_PUBLIC: dict[str, tuple[str, Data]] = {
    _T.Opened.TOPIC: ("trajectory_opened", _opened),
    _T.Assessed.TOPIC: ("assessed", _assessed),
    _T.Clustered.TOPIC: ("clustered", _clustered),
    _T.ActivityDelivered.TOPIC: ("activity_delivered", _delivered),
    _T.ActivityVoided.TOPIC: ("activity_voided", _voided),
    _T.Reviewed.TOPIC: ("reviewed", _reviewed),
    _T.ReferredBack.TOPIC: ("referred_back", _referred),
    # A ZPM activity is an activity like any other to a consumer: the same type, with its fields filled.
    # The ZPM events' topics as the design fixes them (zpm.md Z9).
    f"{_T.TOPIC}.PrestatieDelivered": ("activity_delivered", _delivered),
    f"{_T.TOPIC}.RegiebehandelaarAssigned": ("regiebehandelaar_assigned", _regie),
    f"{_T.TOPIC}.PrivacyStatementSigned": ("privacy_statement", _dated),
    f"{_T.TOPIC}.PrivacyStatementWithdrawn": ("privacy_withdrawn", _dated),
    f"{_T.TOPIC}.Admitted": ("admitted", _admitted),
    f"{_T.TOPIC}.Discharged": ("discharged", _dated),
    _T.Registered.TOPIC: ("registered", _registered),
    # Tells integrators to delete what they hold of the trajectory's personal data (AVG art. 19).
    _T.PersonalDataErased.TOPIC: ("personal_data_erased", _erased),
    BillingCalendar.MonthClosed.TOPIC: ("month_closed", _closed),
    "ggzledger.ContractBook.ContractAgreed": ("contract_agreed", _contract),
    "ggzledger.ClaimBook.ClaimExported": ("claim_exported", _claim),
}

TYPES: tuple[str, ...] = tuple(dict.fromkeys(kind for kind, _ in _PUBLIC.values()))
"""The external type names, in the order docs/feed.md lists them."""

TOPICS: tuple[str, ...] = tuple(_PUBLIC)
"""The stored topics of public events (the feed's SQL filter)."""

FEED_NAMES = {"scores": "honos", "on": "date", "opened_on": "date"}
"""An event field's name in a line's ``data`` where the two differ (the rest keep their names)."""


def personal_names(event_class: type) -> tuple[str, ...]:
    """The ``data`` fields of an event class's line that hold personal data (its PERSONAL_FIELDS, as named there)."""
    return tuple(FEED_NAMES.get(name, name) for name in getattr(event_class, "PERSONAL_FIELDS", ()))


def line(position: int, event: Any, personal: bool = True) -> dict[str, Any]:
    """The public JSON line of one stored event at ``position``.

    ``personal`` False: every field that holds personal data is null (what an
    integrator is served, docs/feed.md). Raises KeyError for an internal event,
    which has no public form.
    """
    # The class's own TOPIC, not the stored one: an event stored under an old, registered topic reads the same.
    kind, data = _PUBLIC[type(event).TOPIC]
    out: dict[str, Any] = {"position": position, "type": kind, "version": VERSION}
    trajectory = getattr(event, "trajectory", None)
    if trajectory is not None:
        out["trajectory"] = trajectory
    recorded = event.timestamp.astimezone(UTC).isoformat(timespec="microseconds")
    out["recorded_at"] = recorded.replace("+00:00", "Z")
    out["data"] = data(event)
    if not personal:
        out["data"].update(dict.fromkeys(personal_names(type(event))))
    return out


class Feed:
    """Pages of the public feed from a ledger's recorder, through its mapper (so upcasters run)."""

    def __init__(self, recorder: LedgerRecorder, mapper: Mapper[Any]) -> None:
        self.recorder = recorder
        self.mapper = mapper

    def head(self) -> int:
        """The ledger's latest position, public or not (0 when empty)."""
        return head_of(self.recorder)

    def page(
        self, after: int = 0, limit: int = 1000, stop: int | None = None, personal: bool = True
    ) -> list[dict[str, Any]]:
        """Up to ``limit`` public events with positions after ``after`` (and up to ``stop``), in order.

        ``personal`` False: personal fields null (see :func:`line`).
        """
        if limit <= 0:
            return []
        notifications = self.recorder.select_notifications(
            start=after, limit=limit, stop=stop, topics=TOPICS, inclusive_of_start=False
        )
        return [line(n.id, self.mapper.to_domain_event(n), personal) for n in notifications]

    def lines(self, after: int = 0, stop: int | None = None, page_size: int = 1000) -> Iterator[dict[str, Any]]:
        """Every public event after ``after`` and up to ``stop`` (default: the head now), a page at a time."""
        stop = self.head() if stop is None else stop
        while after < stop:
            lines = self.page(after, page_size, stop)
            if not lines:
                return
            yield from lines
            after = lines[-1]["position"]

    def follow(
        self,
        follower: Follower,
        after: int = 0,
        page_size: int = 1000,
        on_idle: Callable[[], object] | None = None,
    ) -> Iterator[dict[str, Any]]:
        """Every public event after ``after``, then each new one as it is recorded, until ``follower`` stops.

        Each round reads up to the head seen before it, then waits for the
        head to pass that: internal events move the head without producing
        lines and must not make the loop spin. ``on_idle`` is called before
        each wait (to flush output, say).
        """
        while not follower.stopped:
            head = self.head()
            for item in self.lines(after, head, page_size):
                yield item
                after = item["position"]
                if follower.stopped:
                    return
            if on_idle is not None:
                on_idle()
            follower.wait(head)


@cache
def schema(kind: str) -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of one public line type, as shipped in ``feed/schemas/``.

    Raises KeyError for a name that is not a public type.
    """
    if kind not in TYPES:
        raise KeyError(kind)
    text = resources.files("ggzledger.feed").joinpath("schemas", f"{kind}.v{VERSION}.json").read_text("utf-8")
    return json.loads(text)  # type: ignore[no-any-return]
