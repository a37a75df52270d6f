"""From a ZPM record to its prestatie: the code the table gives, the price, and the rules 3.12d–k that refuse it."""

from __future__ import annotations

import functools
from collections.abc import Mapping
from datetime import date
from typing import Any, Protocol

import attrs

from ggzledger.domain.errors import NotAllowed
from ggzledger.reference import NoTariff, Tariffs
from ggzledger.reference.beroepen import category_of
from ggzledger.reference.kinds import BANDS
from ggzledger.reference.pricing import Contracts, NoPrice, price
from ggzledger.reference.tariffs import Found, TariffRow

__all__ = ["Derived", "check_legacy", "derive", "effective_minutes"]

PLANNING_MARGIN = 15
"""Planning = realisatie: the planned duration counts while the real one is within 15 minutes (Z4.2)."""


class _Trajectory(Protocol):
    # What derive reads of the Trajectory; activities are DeliveredActivity values (on, voided,
    # prestatie, consult_type, band, surcharges).
    @property
    def number(self) -> str: ...

    @property
    def provider(self) -> str: ...

    @property
    def insurer(self) -> str | None: ...

    @property
    def activities(self) -> Mapping[str, Any]: ...


@attrs.frozen
class Derived:
    """What a ZPM record's event holds beyond its input: the chosen row, its table, the price (Z5.4).

    ``band`` is the chosen row's min_minutes (None for a kind without bands); ``effective_minutes``
    is ``m`` of zpm.md Z4.2 for a consult, None for the other kinds (their minutes are as given).
    """

    code: str
    description: str
    unit: str
    amount: int
    tariff: str
    tariff_type: str
    max_amount: int | None
    price_basis: str
    beroep_category: str | None
    effective_minutes: int | None
    band: int | None


def effective_minutes(minutes: int, planned_minutes: int | None) -> int:
    """``m`` of zpm.md Z4.2: the planned minutes when given and within 15 of the real ones, else the real ones."""
    if planned_minutes is not None and abs(minutes - planned_minutes) <= PLANNING_MARGIN:
        return planned_minutes
    return minutes


def derive(fields: Mapping[str, Any], trajectory: _Trajectory, tariffs: Tariffs, contracts: Contracts) -> Derived:
    """The prestatie of an ``activity_delivered`` with ``prestatie`` (zpm.md Z4, Z5.4).

    ``fields`` are the record's parsed fields (``date`` a date); the record's own shape (Z3.2's
    required and refused fields) was checked when it was read.

    Raises NotAllowed, judged in the order of Z4.8: a consult under 5 minutes (d), an overleg
    under 5 minutes (e), no row for the key or band (g), a group unit of the wrong length (f), a
    given code other than the derived one (h), a surcharge's bad link (j), no price (k).
    """
    activity = fields["activity"]
    on: date = fields["date"]
    kind: str = fields["prestatie"]
    minutes: int | None = fields.get("minutes")
    beroep = fields.get("beroep")
    category = category_of(beroep) if beroep is not None else None
    m = None
    if kind == "consult":
        m = effective_minutes(_needs(fields, kind, "minutes"), fields.get("planned_minutes"))
        if m < BANDS["consult"][0]:
            raise NotAllowed(f"activity {activity}: a consult of {m} minutes is under 5 minutes and cannot be declared")
    if kind == "overleg" and _needs(fields, kind, "minutes") < BANDS["overleg"][0]:
        raise NotAllowed(f"activity {activity}: an intercollegiaal overleg of {minutes} minutes is under 5 minutes")
    found = _row(fields, kind, on, tariffs, category, m if kind == "consult" else minutes)
    row = found.row
    if kind == "group":
        _check_unit(activity, row, _needs(fields, kind, "minutes"))
    given = fields.get("code")
    if given is not None and kind != "other" and given != row.code:
        if row.min_minutes is not None:
            cause = f"{m if kind == 'consult' else minutes} minutes give"
        elif kind == "group":
            cause = f"group size {fields.get('group_size')} gives"
        else:
            cause = "this record gives"
        raise NotAllowed(f"activity {activity}: {_other_code(given, on, tariffs)}; {cause} {row.code}")
    if kind == "surcharge":
        _check_link(fields, row, trajectory)
    try:
        priced = price(found, on, trajectory.provider, trajectory.insurer, contracts)
    except NoPrice as error:
        raise NotAllowed(f"activity {activity}: {error}") from None
    return Derived(
        code=row.code,
        description=row.description,
        unit=row.unit,
        amount=priced.amount,
        tariff=found.table,
        tariff_type=row.tariff_type,
        max_amount=priced.max_amount,
        price_basis=priced.basis,
        beroep_category=category,
        effective_minutes=m,
        band=row.min_minutes,
    )


def check_legacy(fields: Mapping[str, Any], on: date, tariffs: Tariffs) -> None:
    """Refuse a record without ``prestatie`` whose code's band contradicts its minutes (zpm.md Z4.6, 3.12i).

    Only a code whose row in force has a kind and a min_minutes, on a record with ``minutes``, is
    checked: the row the band rule picks for ``m`` (with ``planned_minutes``) must be that code.
    A code with no row in force is left to the v1 tariff rule (3.7).

    Raises NotAllowed with the text of 3.12h (or d, e, g when the minutes select no band or no row).
    """
    minutes = fields.get("minutes")
    if minutes is None:
        return
    refusal = _legacy_refusal(tariffs, fields["code"], on, minutes, fields.get("planned_minutes"))
    if refusal is not None:
        raise NotAllowed(f"activity {fields['activity']}: {refusal}")


# Most records of a cluster-model ledger carry minutes, and name the same few codes, minutes and
# days over and over: the verdict is remembered (the registry is immutable, so it is part of the key).
@functools.lru_cache(maxsize=1 << 16)
def _legacy_refusal(tariffs: Tariffs, code: str, on: date, minutes: int, planned: int | None) -> str | None:
    """Why Z4.6 refuses a legacy record naming ``code`` with these minutes (after "activity A1: "), or None."""
    try:
        row = tariffs.row(code, on).row
    except NoTariff:
        return None
    if row.kind is None or row.min_minutes is None:
        return None
    m = effective_minutes(minutes, planned) if row.kind == "consult" else minutes
    if row.kind in BANDS and m < BANDS[row.kind][0]:
        what = "a consult" if row.kind == "consult" else "an intercollegiaal overleg"
        tail = " and cannot be declared" if row.kind == "consult" else ""
        return f"{what} of {m} minutes is under 5 minutes{tail}"
    key = {column: getattr(row, column) for column in _KEYS}
    try:
        chosen = tariffs.find(row.kind, on, minutes=m, **key).row
    except NoTariff as error:
        return str(error)
    if chosen.code != row.code:
        return f"code {row.code} is {row.title}; {m} minutes give {chosen.code}"
    return None


_KEYS = ("consult_type", "setting", "beroep_category", "group_size", "care_level", "security_level", "surcharge_type")


def _needs(fields: Mapping[str, Any], kind: str, field: str) -> int:
    # Z3.2 makes these required, so reading checks them; a surcharge type with bands needs minutes too.
    value: int | None = fields.get(field)
    if value is None:
        raise NotAllowed(f"activity {fields['activity']}: prestatie {kind} requires '{field}'")
    return value


def _row(
    fields: Mapping[str, Any], kind: str, on: date, tariffs: Tariffs, category: str | None, minutes: int | None
) -> Found:
    activity = fields["activity"]
    if kind == "other" and fields.get("code") is None:
        raise NotAllowed(f"activity {activity}: prestatie other requires 'code'")
    try:
        return tariffs.prestatie(
            kind,
            on,
            code=fields.get("code"),
            consult_type=fields.get("consult_type"),
            setting=fields.get("setting"),
            beroep_category=category,
            group_size=fields.get("group_size"),
            care_level=fields.get("care_level"),
            security_level=fields.get("security_level"),
            surcharge_type=fields.get("surcharge_type"),
            minutes=minutes,
        )
    except NoTariff as error:
        if kind == "surcharge" and minutes is None and tariffs.surcharge_bands(fields["surcharge_type"], on):
            # The type's rows have bands, so its travel minutes are needed (3.12b). A type without
            # banded rows (none in force at all, say) is a missing row (3.12g): minutes are optional
            # for a surcharge (zpm.md Z3.2).
            _needs(fields, kind, "minutes")
        raise NotAllowed(f"activity {activity}: {error}") from None


def _check_unit(activity: str, row: TariffRow, minutes: int) -> None:
    # Z4.5: a unit is unit_minutes long, or a remainder of more than half of it.
    unit = row.unit_minutes or 30
    shortest = unit // 2 + 1
    if minutes > unit or minutes < shortest:
        raise NotAllowed(
            f"activity {activity}: a group unit lasts {shortest} to {unit} minutes, got {minutes}; "
            "send one record per unit"
        )


def _other_code(given: str, on: date, tariffs: Tariffs) -> str:
    # 3.12h: "code CO0432 is consult diagnostiek vanaf 45 min; 30 minutes give CO0302".
    try:
        title = tariffs.row(given, on).row.title
    except NoTariff:
        title = f"not in force on {on.isoformat()}"
    return f"code {given} is {title}"


def _check_link(fields: Mapping[str, Any], row: TariffRow, trajectory: _Trajectory) -> None:
    activity, linked, on = fields["activity"], fields.get("linked_activity"), fields["date"]
    need = f"activity {activity}: surcharge needs a consult of trajectory {trajectory.number} on {on.isoformat()}"
    target = trajectory.activities.get(linked) if linked is not None else None
    if target is None:
        raise NotAllowed(f"{need}; {linked} is not an activity of this trajectory")
    if target.voided:
        raise NotAllowed(f"{need}; {linked} is voided")
    if target.on != on:
        raise NotAllowed(f"{need}; {linked} is on {target.on.isoformat()}")
    prestatie = getattr(target, "prestatie", None)
    if prestatie != "consult":
        what = {"group": "a group unit", None: "not a ZPM consult"}.get(prestatie, f"prestatie {prestatie}")
        raise NotAllowed(f"{need}; {linked} is {what}")
    surcharge_type = row.surcharge_type
    if surcharge_type == "psychodiagnostiek" and (target.consult_type != "diagnostiek" or target.band != 120):
        raise NotAllowed(
            f"activity {activity}: a psychodiagnostiek surcharge needs a diagnostiek consult vanaf 120 min; "
            f"{linked} is {target.consult_type} vanaf {target.band} min"
        )
    if surcharge_type in getattr(target, "surcharges", frozenset()):
        raise NotAllowed(f"activity {activity}: consult {linked} has a {surcharge_type} surcharge already")
