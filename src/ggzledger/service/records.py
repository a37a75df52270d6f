"""Input records: one JSON object per line, checked against the contract's table of types."""

from __future__ import annotations

import contextlib
import difflib
import functools
import hashlib
import json
import re
from collections.abc import Callable, Iterator, Mapping
from datetime import date
from typing import Any, BinaryIO

import attrs
import orjson

from ggzledger.domain.errors import Malformed, NotAllowed, OutOfOrder
from ggzledger.domain.money import MAX_CENTS
from ggzledger.domain.months import is_month, month_of
from ggzledger.domain.text import bidi_control, has_control, invisible
from ggzledger.domain.values import (
    CARE_FORMS,
    CARE_LEVELS,
    CONSULT_TYPES,
    HONOS_Q,
    PRESTATIES,
    REFERRAL_TARGETS,
    REFERRAL_TYPES,
    ROUTES,
    WITHOUT_REFERRER,
    ZPM_START,
    Scores,
    hoofdgroep_of,
    passes_elfproef,
)
from ggzledger.reference.beroepen import BEROEPEN
from ggzledger.reference.dbc import DIAGNOSIS_GROUPS
from ggzledger.reference.regions import load_regions

__all__ = [
    "Record",
    "bounded_lines",
    "parse_line",
    "parse_object",
    "RECORD_TYPES",
    "MAX_LINE",
    "MAX_ID",
    "MAX_TEXT",
    "MAX_MINUTES",
    "EARLIEST",
    "ZPM_FIELDS",
]

# The limits of docs/input.md. Each one keeps what one line can put in the ledger (and in every
# feed page and invoice that shows it) in proportion to what a real record needs.
MAX_LINE = 16 * 1024
"""The longest input line, in bytes (characters for a str line)."""
MAX_ID = 64
"""The longest identifier (contract.md)."""
MAX_TEXT = 500
"""The longest free text: a region, a referrer, a reason."""
MAX_MINUTES = 24 * 60
"""The most minutes one activity takes: a day."""
EARLIEST = date(1900, 1, 1)
"""The earliest date (and month) accepted: older dates are typing errors, and each open month costs a close."""

# [0-9], not \d: \d also matches other scripts' digits.
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}\Z")
_EARLIEST_MONTH = month_of(EARLIEST)

Check = Callable[[str, Any, date], Any]


def _string(
    most: int, kind: str, forbidden: Callable[[str], str | None], refusal: str
) -> Callable[[str, Any, date | None], str]:
    """The check of a string field: non-empty, at most ``most`` characters, no control characters,
    and none that ``forbidden`` finds (``refusal`` says why, with ``{}`` for the character found)."""

    def check(name: str, value: Any, today: date | None) -> str:
        if type(value) is str and 0 < len(value) <= most and value.isascii() and value.isprintable():
            return value  # the common case: short printable ASCII holds nothing to refuse
        if not isinstance(value, str) or not value:
            raise Malformed(f"field {name!r} must be a non-empty string, got {_show(value)}")
        if len(value) > most:
            raise Malformed(f"field {name!r} is {len(value):,} characters long; {kind} are at most {most}")
        _printable(name, value)
        found = forbidden(value)
        if found:
            raise Malformed(f"field {name!r} contains {refusal.format(found)}")
        return value

    return check


_text = _string(MAX_TEXT, "text fields", bidi_control, "the bidirectional control character {}")
_identifier = _string(MAX_ID, "identifiers", invisible, "the invisible character {}; identifiers may not")


def check_identifier(name: str, value: str) -> str:
    """``value`` when it may be an identifier (a trajectory or activity id, ...); else raises Malformed.

    The one rule for ids, wherever they come in: input lines, HTTP paths, command-line arguments.
    """
    return _identifier(name, value, None)


def _printable(name: str, value: str) -> None:
    if has_control(value):
        raise Malformed(f"field {name!r} contains a control character")


def _digits(count: int) -> Check:
    def check(name: str, value: Any, today: date) -> str:
        if not isinstance(value, str) or len(value) != count or not value.isascii() or not value.isdigit():
            raise Malformed(f"field {name!r} must be a string of {count} digits, got {_show(value)}")
        return value

    return check


def _bsn(name: str, value: Any, today: date) -> str:
    number: str = _digits(9)(name, value, today)
    if not passes_elfproef(number):
        # The number itself is personal data: the message names the rule, not the digits.
        raise Malformed(f"field {name!r} is not a BSN: its nine digits fail the elfproef")
    return number


def _integer(name: str, value: Any, today: date) -> int:
    # bool is a subclass of int and 4.0 is a float: JSON integers only.
    if type(value) is not int:
        raise Malformed(f"field {name!r} must be a JSON integer, got {_show(value)}")
    return value


def _minutes(name: str, value: Any, today: date) -> int:
    # Only the upper bound here: a minutes of 0 or less is the ledger's rule (rules.md §3.7), with its message.
    number = _integer(name, value, today)
    if number > MAX_MINUTES:
        raise Malformed(f"field {name!r} is {number:,}; an activity takes at most {MAX_MINUTES} minutes (a day)")
    return number


def _ranged(low: int, high: int) -> Check:
    def check(name: str, value: Any, today: date) -> int:
        number = _integer(name, value, today)
        if not low <= number <= high:
            raise Malformed(f"field {name!r} must be an integer {low}..{high}, got {number}")
        return number

    return check


def _choice(options: tuple[str, ...], listed_in: str | None = None) -> Check:
    """The check of a closed list; a long list (``listed_in`` names where it is written out) is not
    repeated in the message, which names the closest options instead."""

    def check(name: str, value: Any, today: date) -> str:
        if value not in options or not isinstance(value, str):
            if listed_in is None:
                raise Malformed(f"field {name!r} must be one of {', '.join(options)}; got {_show(value)}")
            closest = difflib.get_close_matches(value, options, n=3, cutoff=0.5) if isinstance(value, str) else []
            hint = f" (closest: {', '.join(closest)})" if closest else ""
            raise Malformed(
                f"field {name!r} must be one of the {len(options)} codes {listed_in}{hint}; got {_show(value)}"
            )
        return value

    return check


# Dates already read: an input names the same few hundred days over and over.
_DAYS: dict[str, date] = {}


def _date(name: str, value: Any, today: date) -> date:
    day = _any_date(name, value, today)
    if day > today:
        raise Malformed(f"field {name!r} is {value}, after today ({today})")
    return day


def _any_date(name: str, value: Any, today: date) -> date:
    """A real date from EARLIEST on; later than today too (a contract's period may lie ahead)."""
    day = _DAYS.get(value) if type(value) is str else None
    if day is None:
        if not isinstance(value, str) or not _DATE.match(value):
            raise Malformed(f"field {name!r} must be a date YYYY-MM-DD, got {_show(value)}")
        try:
            day = date.fromisoformat(value)
        except ValueError:
            raise Malformed(f"field {name!r} is not a real date: {value}") from None
        if day < EARLIEST:
            raise Malformed(f"field {name!r} is {value}, before {EARLIEST}, the earliest date accepted")
        if len(_DAYS) < 100_000:
            _DAYS[value] = day
    return day


def _month(name: str, value: Any, today: date) -> str:
    if not is_month(value):
        raise Malformed(f"field {name!r} must be a month YYYY-MM, got {_show(value)}")
    if value < _EARLIEST_MONTH:
        raise Malformed(f"field {name!r} is {value}, before {_EARLIEST_MONTH}, the earliest month accepted")
    return str(value)


def _honos(name: str, value: Any, today: date) -> dict[str, Any]:
    # The items are judged with the record's date and route, by _judge_scores.
    if not isinstance(value, dict):
        raise Malformed(f"field {name!r} must be an object of HoNOS+ item -> score, got {_show(value)}")
    return value


def _boolean(name: str, value: Any, today: date) -> bool:
    if type(value) is not bool:
        raise Malformed(f"field {name!r} must be true or false, got {_show(value)}")
    return value


def _at_least(low: int) -> Check:
    def check(name: str, value: Any, today: date) -> int:
        number = _integer(name, value, today)
        if number < low:
            raise Malformed(f"field {name!r} must be an integer of at least {low}, got {number}")
        return number

    return check


def _planned(name: str, value: Any, today: date) -> int:
    number = _minutes(name, value, today)
    if number <= 0:
        raise Malformed(f"field {name!r} must be a positive integer, got {number}")
    return number


_CLOCK = re.compile(r"([01][0-9]|2[0-3]):[0-5][0-9]\Z")


def _start(name: str, value: Any, today: date) -> str:
    if not isinstance(value, str) or not _CLOCK.match(value):
        raise Malformed(f"field {name!r} must be a time HH:MM, 00:00 to 23:59, got {_show(value)}")
    return value


def _code_amounts(name: str, value: Any, today: date) -> dict[str, int]:
    if not isinstance(value, dict) or not value:
        raise Malformed(f"field {name!r} must be an object of code -> cents, got {_show(value)}")
    for code, cents in value.items():
        _text(f"{name}: code", code, today)
        if type(cents) is not int or cents <= 0:
            raise Malformed(
                f"field {name!r}: code {code} must have a positive JSON integer of cents, got {_show(cents)}"
            )
        if cents > MAX_CENTS:
            # A vrij code has no cap (zpm.md Z5.3): without this bound an amount the store cannot hold
            # would be recorded, and every view that copies it would fail from then on.
            raise Malformed(f"field {name!r}: code {code} is {cents:,} cents; an amount is at most {MAX_CENTS:,}")
    return dict(value)


def _show(value: Any) -> str:
    text = orjson.dumps(value).decode() if _jsonable(value) else repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _jsonable(value: Any) -> bool:
    try:
        orjson.dumps(value)
    except TypeError:
        return False
    return True


_setting = _ranged(1, 8)


def _region(name: str, value: Any, today: date) -> str:
    """A code of the zorgkantoorregio list; a region's name is refused with its code named."""
    regions = load_regions()
    if isinstance(value, str) and value in regions.codes:
        return value
    named = regions.named(value) if isinstance(value, str) else None
    if named is not None:
        raise Malformed(f"field {name!r} must be a region code: {_show(value)} is the name of region {named.code}")
    return str(_choice(regions.codes, "of docs/input.md's region list")(name, value, today))


_beroep = _choice(tuple(BEROEPEN), "of docs/input.md's beroepen table")
_practitioner = _digits(8)

# type -> (required fields, optional fields); every type also takes "id".
RECORD_TYPES: dict[str, tuple[dict[str, Check], dict[str, Check]]] = {
    "trajectory_opened": (
        {
            "trajectory": _identifier,
            "patient": _identifier,
            "provider": _digits(8),
            "insurer": _digits(4),
            "date": _date,
        },
        {
            "region": _text,
            "referrer": _text,
            "referral_type": _choice(REFERRAL_TYPES),
            "referrer_agb": _digits(8),
            "referral_date": _date,
            "bsn": _bsn,
            "member_number": _identifier,
            "birth_date": _date,
        },
    ),
    "assessed": (
        {"trajectory": _identifier, "date": _date, "honos": _honos},
        {"assessor": _text, "route": _choice(ROUTES)},
    ),
    "clustered": (
        {"trajectory": _identifier, "date": _date, "cluster": _integer},
        {"hoofdgroep": _choice(("X", "Y", "Z")), "diagnosis_group": _choice(tuple(DIAGNOSIS_GROUPS))},
    ),
    # A v1 (legacy) activity; one with "prestatie" is read by _parse_prestatie against ZPM_FIELDS.
    "activity_delivered": (
        {"trajectory": _identifier, "activity": _identifier, "date": _date, "code": _text},
        {
            "minutes": _minutes,
            "professional": _text,
            "setting": _setting,
            "care_form": _choice(CARE_FORMS),
            # The one ZPM field a legacy record takes: the duration check of zpm.md Z4.6 reads it.
            "planned_minutes": _planned,
        },
    ),
    "activity_voided": (
        {"trajectory": _identifier, "activity": _identifier, "date": _date},
        {"reason": _text},
    ),
    "reviewed": (
        {"trajectory": _identifier, "date": _date, "cluster": _integer},
        {"honos": _honos, "route": _choice(ROUTES), "hoofdgroep": _choice(("X", "Y", "Z"))},
    ),
    "referred_back": (
        {"trajectory": _identifier, "date": _date, "to": _choice(REFERRAL_TARGETS)},
        {"reason": _text},
    ),
    "month_closed": (
        {"month": _month},
        {},
    ),
    "regiebehandelaar_assigned": (
        {"trajectory": _identifier, "date": _date, "practitioner": _practitioner, "beroep": _beroep},
        {},
    ),
    "privacy_statement": ({"trajectory": _identifier, "date": _date}, {}),
    "privacy_withdrawn": ({"trajectory": _identifier, "date": _date}, {}),
    "admitted": ({"trajectory": _identifier, "date": _date}, {"after_20h": _boolean}),
    "discharged": ({"trajectory": _identifier, "date": _date}, {}),
    # The patient's registration with the provider (docs/input.md): after its trajectory's opening in the
    # input, dated on or before it; the region a code of reference.regions.
    "registered": (
        {"trajectory": _identifier, "date": _date, "region": _region},
        {"patient": _identifier, "provider": _digits(8), "care_form": _choice(CARE_FORMS)},
    ),
    "contract_agreed": (
        {"contract": _identifier, "provider": _digits(8), "valid_from": _any_date, "valid_to": _any_date},
        {"insurer": _digits(4), "percentage_bp": _integer, "code_amounts": _code_amounts, "max_max": _boolean},
    ),
}

# The fields of a ZPM activity (one with "prestatie") beside trajectory, activity, date and prestatie,
# in the order they are judged, with what each prestatie does with them (zpm.md Z3.2): R required,
# o allowed, - refused. "professional" and "care_form" are v1's, allowed with every prestatie.
_ZPM_TABLE = """
                   consult group overleg stay surcharge other
consult_type       R       -     -       -    -         -
beroep             R       R     R       o    o         o
practitioner       R       R     R       o    o         o
setting            R       -     R       R    -         o
minutes            R       R     R       -    o         o
planned_minutes    o       -     -       -    -         -
start              o       o     o       -    -         o
group_size         -       R     -       -    -         -
care_level         -       -     -       R    -         -
security_level     -       -     -       o    -         -
surcharge_type     -       -     -       -    R         -
linked_activity    -       -     -       -    R         -
code               o       o     o       o    o         R
professional       o       o     o       o    o         o
care_form          o       o     o       o    o         o
"""
ZPM_FIELDS: dict[str, Check] = {
    "consult_type": _choice(CONSULT_TYPES),
    "beroep": _beroep,
    "practitioner": _practitioner,
    "setting": _setting,
    "minutes": _minutes,
    "planned_minutes": _planned,
    "start": _start,
    "group_size": _at_least(2),
    "care_level": _choice(CARE_LEVELS),
    "security_level": _ranged(1, 4),
    "surcharge_type": _text,
    "linked_activity": _identifier,
    "code": _text,
    "professional": _text,
    "care_form": _choice(CARE_FORMS),
}
"""The checks of a ZPM activity's fields beside trajectory, activity, date and prestatie."""


def _zpm_columns() -> dict[str, dict[str, str]]:
    header, *rows = _ZPM_TABLE.split("\n")[1:-1]
    kinds = header.split()
    assert tuple(kinds) == PRESTATIES
    table = {kind: {} for kind in kinds}  # type: dict[str, dict[str, str]]
    for row in rows:
        name, *marks = row.split()
        for kind, mark in zip(kinds, marks, strict=True):
            table[kind][name] = mark
    assert {name for columns in table.values() for name in columns} == ZPM_FIELDS.keys()
    return table


_ZPM_COLUMNS = _zpm_columns()
_ZPM_BASE: dict[str, Check] = {
    "trajectory": _identifier,
    "activity": _identifier,
    "date": _date,
    "prestatie": _choice(PRESTATIES),
}
_ZPM_ALLOWED = frozenset((*_ZPM_BASE, *ZPM_FIELDS, "type", "id"))


@attrs.frozen
class Record:
    """One accepted-for-judging input record: its type, parsed fields, source id and fingerprint.

    ``fingerprint`` is a digest of the record's canonical JSON without ``id``:
    two records with the same fingerprint are the same record (rules.md §3.8).
    """

    type: str
    fields: Mapping[str, Any]
    record_id: str | None
    fingerprint: str

    @property
    def trajectory(self) -> str | None:
        """The trajectory number, or None for a month_closed record."""
        return self.fields.get("trajectory")

    def get(self, name: str) -> Any:
        """A field's parsed value, or None when absent."""
        return self.fields.get(name)


def bounded_lines(stream: BinaryIO, limit: int = MAX_LINE) -> Iterator[bytes]:
    """The lines of a binary stream, none held longer than ``limit + 1`` bytes.

    A longer line is cut there (:func:`parse_line` refuses it for its length) and the
    rest of it is read past in pieces, so that a file holding one huge line is refused
    by line number without ever being in memory whole.
    """
    readline = stream.readline
    while line := readline(limit + 1):
        if len(line) > limit and not line.endswith(b"\n"):
            while (rest := readline(1 << 16)) and not rest.endswith(b"\n"):
                pass
        yield line


def parse_line(line: str | bytes, today: date) -> Record:
    """Parse one input line; raises Malformed saying what is wrong.

    A line longer than MAX_LINE is refused before it is parsed, and so is an
    object that gives a field twice (a JSON parser keeps the last one silently).
    """
    if len(line) > MAX_LINE:
        raise Malformed(f"the line is longer than {MAX_LINE:,} bytes, the most a line may hold")
    try:
        obj = orjson.loads(line)
    except orjson.JSONDecodeError as error:
        raise Malformed(f"not JSON ({error})") from None
    if isinstance(obj, dict) and _may_repeat(line, obj):
        _refuse_repeated_fields(line)
    return parse_object(obj, today)


def _may_repeat(line: str | bytes, obj: dict[str, Any]) -> bool:
    """False when ``line`` certainly gives no field twice; cheap enough for every line.

    Every key in the text is followed by a colon, so the text holds at least as many
    colons as keys, and more than the objects read hold when a key repeats. As many
    colons as keys read (the record's and those of the objects a record nests: HoNOS
    scores, a contract's code amounts) plus the colon of a ZPM ``start`` time leave no
    room for a repeat; any other line gets the exact check.
    """
    keys = len(obj)
    honos = obj.get("honos")
    if type(honos) is dict:
        keys += len(honos)
    if len(obj) > 9:  # only ZPM records are this long: their start time and code amounts hold colons
        start = obj.get("start")
        if type(start) is str:
            keys += start.count(":")
        amounts = obj.get("code_amounts")
        if type(amounts) is dict:
            keys += len(amounts)
    colons = line.count(b":") if isinstance(line, bytes) else line.count(":")
    return colons != keys


def _refuse_repeated_fields(line: str | bytes) -> None:
    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        seen: set[str] = set()
        for key, _ in items:
            if key in seen:
                raise Malformed(f"field {key!r} is given twice; give each field once")
            seen.add(key)
        return dict(items)

    # Only for the rare line with a colon in a string or a repeat: the standard parser reports every pair.
    # Read by orjson already: whatever this parser dislikes is judged by the checks that follow.
    with contextlib.suppress(json.JSONDecodeError, RecursionError):
        json.loads(line, object_pairs_hook=pairs)


def parse_object(obj: Any, today: date) -> Record:
    """Check a decoded JSON object against the contract; raises Malformed saying what is wrong."""
    if not isinstance(obj, dict):
        raise Malformed(f"not a JSON object: {_show(obj)}")
    kind = obj.get("type")
    # Test the type first: a list or object as "type" is unhashable for the lookup.
    if not isinstance(kind, str) or kind not in RECORD_TYPES:
        if kind is None:
            raise Malformed("missing field 'type'")
        raise Malformed(f"unknown type {_show(kind)} (types: {', '.join(RECORD_TYPES)})")
    if kind == "activity_delivered" and "prestatie" in obj:
        fields = _prestatie_fields(obj, today)
    else:
        required, optional = RECORD_TYPES[kind]
        if not _allowed(kind).issuperset(obj):
            _refuse_unknown(kind, obj)
        fields = {}
        for name, check in required.items():
            if name not in obj:
                raise Malformed(f"{kind}: missing field {name!r}")
            fields[name] = check(name, obj[name], today)
        for name, check in optional.items():
            if name in obj:
                fields[name] = check(name, obj[name], today)
        judge = _JUDGES.get(kind)
        if judge is not None:
            judge(fields)
    record_id = _identifier("id", obj["id"], today) if "id" in obj else None
    canonical = obj
    if record_id is not None:
        canonical = dict(obj)
        del canonical["id"]
    fingerprint = hashlib.blake2b(orjson.dumps(canonical, option=orjson.OPT_SORT_KEYS), digest_size=16).hexdigest()
    return Record(kind, fields, record_id, fingerprint)


@functools.cache
def _allowed(kind: str) -> frozenset[str]:
    """Every field a record of this type may carry."""
    required, optional = RECORD_TYPES[kind]
    return frozenset((*required, *optional, "type", "id"))


def _refuse_unknown(kind: str, obj: dict[str, Any]) -> None:
    allowed = _allowed(kind)
    unknown = [name for name in obj if name not in allowed]
    if kind == "activity_delivered" and unknown[0] in ZPM_FIELDS:
        # Our choice (docs/zpm.md): a ZPM field on a record that does not say which prestatie it is.
        raise Malformed(f"{_activity_of(obj)}: field {unknown[0]!r} needs 'prestatie'")
    raise Malformed(f"{kind}: unknown field {unknown[0]!r}")


def _activity_of(obj: dict[str, Any]) -> str:
    activity = obj.get("activity")
    if isinstance(activity, str) and 0 < len(activity) <= MAX_ID and activity.isascii() and activity.isprintable():
        return f"activity {activity}"
    return "activity_delivered"


def _prestatie_fields(obj: dict[str, Any], today: date) -> dict[str, Any]:
    """The fields of an activity with ``prestatie`` (zpm.md Z3.2); raises Malformed (3.11, 3.12a-c).

    Judged in the order of Z4.8: the record's own fields, then the date (a), then which
    fields the prestatie requires and refuses (b), then each value (c).
    """
    if not _ZPM_ALLOWED.issuperset(obj):
        unknown = [name for name in obj if name not in _ZPM_ALLOWED]
        raise Malformed(f"activity_delivered: unknown field {unknown[0]!r}")
    fields: dict[str, Any] = {}
    for name, check in _ZPM_BASE.items():
        if name not in obj:
            raise Malformed(f"activity_delivered: missing field {name!r}")
        fields[name] = check(name, obj[name], today)
    activity, on, prestatie = fields["activity"], fields["date"], fields["prestatie"]
    if on < ZPM_START:
        raise Malformed(f"activity {activity}: the zorgprestatiemodel applies from {ZPM_START}, not on {on}")
    for name, mark in _ZPM_COLUMNS[prestatie].items():
        if mark == "R" and name not in obj:
            raise Malformed(f"activity {activity}: prestatie {prestatie} requires {name!r}")
        if mark == "-" and name in obj:
            raise Malformed(f"activity {activity}: prestatie {prestatie} does not take {name!r}")
    if prestatie == "surcharge" and obj.get("surcharge_type") == "reistijd" and "minutes" not in obj:
        # The travel surcharge's band follows from its minutes (Z4.7): required here, so refused under b.
        raise Malformed(f"activity {activity}: prestatie surcharge reistijd requires 'minutes'")
    for name, check in ZPM_FIELDS.items():
        if name in obj:
            fields[name] = check(name, obj[name], today)
    return fields


def _judge_opening(fields: dict[str, Any]) -> None:
    """Rule 3.19: the referral of a trajectory_opened record."""
    referral_type = fields.get("referral_type")
    number, opened_on = fields["trajectory"], fields["date"]
    if referral_type in WITHOUT_REFERRER:
        for name in ("referrer_agb", "referral_date"):
            if name in fields:
                raise NotAllowed(f"trajectory {number}: referral type {referral_type} has no referrer, so no {name!r}")
    birth_date = fields.get("birth_date")
    if birth_date is not None and birth_date > opened_on:
        raise OutOfOrder(f"trajectory {number}: the birth date lies after the opening date {opened_on}")
    referral_date = fields.get("referral_date")
    if referral_date is not None and referral_date > opened_on:
        raise OutOfOrder(
            f"trajectory {number}: the referral date {referral_date} lies after the opening date {opened_on}"
        )


def _judge_scores(fields: dict[str, Any]) -> None:
    """Rules 3.6 and 3.14: the HoNOS+ items, read with the record's date and route."""
    scores = fields.get("honos")
    if scores is not None:
        item_q = HONOS_Q in scores and fields["date"] >= ZPM_START
        fields["honos"] = Scores.from_mapping(scores, item_q=item_q, dynamic=fields.get("route") == "dynamic").items


def _judge_typing(fields: dict[str, Any], kind: str) -> None:
    """Rule 3.13: no cluster 0 under the zorgprestatiemodel; a hoofdgroep that matches the type."""
    cluster, on = fields["cluster"], fields["date"]
    if cluster == 0 and on >= ZPM_START:
        raise NotAllowed(
            f"{kind} on {on}: cluster 0 is not a zorgvraagtype; from {ZPM_START} the typing is one of 1..8, 10..21"
        )
    hoofdgroep = fields.get("hoofdgroep")
    if hoofdgroep is not None and (cluster == 0 or hoofdgroep_of(cluster) not in (None, hoofdgroep)):
        raise NotAllowed(
            f"{kind} on {on}: hoofdgroep {hoofdgroep} does not match zorgvraagtype {cluster}"
            " (X is 1..8, Y 10..17, Z 18..21)"
        )


def _judge_clustered(fields: dict[str, Any]) -> None:
    _judge_typing(fields, "clustered")


def _judge_reviewed(fields: dict[str, Any]) -> None:
    _judge_scores(fields)
    _judge_typing(fields, "reviewed")


# Rules a record of the type breaks on its own, judged once its fields are read.
_JUDGES: dict[str, Callable[[dict[str, Any]], None]] = {
    "trajectory_opened": _judge_opening,
    "assessed": _judge_scores,
    "clustered": _judge_clustered,
    "reviewed": _judge_reviewed,
}
