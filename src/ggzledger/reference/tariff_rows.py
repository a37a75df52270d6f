"""One row of a tariff table (v1 or v2, zpm.md Z5.1) and the rules that rows of one table must keep."""

from __future__ import annotations

import csv
import io
import itertools
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import date
from typing import Any

import attrs

from ggzledger.domain.money import MAX_CENTS
from ggzledger.domain.text import has_control
from ggzledger.reference.beroepen import CATEGORIES
from ggzledger.reference.kinds import (
    BANDS,
    CARE_LEVELS,
    CONSULT_TYPES,
    KEY_COLUMNS,
    KINDS,
    OPTIONAL_COLUMNS,
    REQUIRED_COLUMNS,
    TARIFF_TYPES,
    ZPM_COLUMNS,
)

__all__ = ["UNITS", "TariffError", "TariffRow", "csv_lines"]

UNITS = ("consult", "day", "item")
"""What one amount pays for: a consult, a (stay) day, or one item of another prestatie."""


class TariffError(ValueError):
    """A tariff table that cannot be used: a bad CSV line, overlapping rows, a clashing version label."""


def _label(_instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    # Codes and version labels are identifiers that end up in events and in the feed.
    if not isinstance(value, str) or not value or any(c.isspace() for c in value) or has_control(value):
        raise TariffError(f"{attribute.name} {value!r} must be non-empty text without spaces")


def _text(_instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if not isinstance(value, str) or not value.strip() or has_control(value):
        raise TariffError(f"{attribute.name} {value!r} must be non-empty text without control characters")


def _unit(_instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if value not in UNITS:
        raise TariffError(f"{attribute.name} {value!r} is not one of {', '.join(UNITS)}")


def _cents(_instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    # bool is an int subclass; a price of True cents is a bug, not a tariff.
    if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
        raise TariffError(f"{attribute.name} {value!r} must be a positive integer number of cents")
    if value > MAX_CENTS:
        # A price the store's integers cannot hold would stop every view that copies it (domain.money).
        raise TariffError(f"{attribute.name} {value} is more than {MAX_CENTS:,} cents, the most a price may be")


def _day(_instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    # datetime is a date subclass, but comparing one with a plain date raises TypeError later.
    if type(value) is not date:
        raise TariffError(f"{attribute.name} {value!r} must be a date")


def _one_of(options: tuple[str, ...]) -> Any:
    def check(_instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
        if value is not None and value not in options:
            raise TariffError(f"{attribute.name} {value!r} is not one of {', '.join(options)}")

    return check


def _whole(low: int, high: int | None = None) -> Any:
    def check(_instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
        if value is None:
            return
        if not isinstance(value, int) or isinstance(value, bool) or value < low or (high is not None and value > high):
            span = f"{low} to {high}" if high is not None else f"at least {low}"
            raise TariffError(f"{attribute.name} {value!r} must be a whole number {span}")

    return check


def _optional_label(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if value is not None:
        _label(instance, attribute, value)


@attrs.frozen(cache_hash=True)  # a key of pricing's memo: hashed once
class TariffRow:
    """The price of one code over one period: ``amount`` cents per ``unit``, valid_from..valid_to.

    A version 2 row (zpm.md Z5.1) also says its tariff type and, for a ZPM prestatie, its ``kind``
    and the key columns a record is matched against; a v1 row leaves them at their defaults.
    ``amount`` is None only for a ``vrij`` (free) tariff.

    Raises TariffError for a bad field, a valid_to before valid_from, a missing amount on a tariff
    that is not free, or a key column that the row's kind needs and is empty or forbids and is filled.
    """

    code: str = attrs.field(validator=_label)
    description: str = attrs.field(validator=_text)
    unit: str = attrs.field(validator=_unit)
    amount: int | None = attrs.field(validator=attrs.validators.optional(_cents))
    valid_from: date = attrs.field(validator=_day)
    valid_to: date | None = attrs.field(default=None, validator=attrs.validators.optional(_day))
    tariff_type: str = attrs.field(default="maximum", kw_only=True, validator=_one_of(TARIFF_TYPES))
    kind: str | None = attrs.field(default=None, kw_only=True, validator=_one_of(KINDS))
    consult_type: str | None = attrs.field(default=None, kw_only=True, validator=_one_of(CONSULT_TYPES))
    setting: int | None = attrs.field(default=None, kw_only=True, validator=_whole(1, 8))
    beroep_category: str | None = attrs.field(default=None, kw_only=True, validator=_one_of(CATEGORIES))
    min_minutes: int | None = attrs.field(default=None, kw_only=True, validator=_whole(1))
    group_size: int | None = attrs.field(default=None, kw_only=True, validator=_whole(2))
    unit_minutes: int | None = attrs.field(default=None, kw_only=True, validator=_whole(1))
    care_level: str | None = attrs.field(default=None, kw_only=True, validator=_one_of(CARE_LEVELS))
    security_level: int | None = attrs.field(default=None, kw_only=True, validator=_whole(1, 4))
    surcharge_type: str | None = attrs.field(default=None, kw_only=True, validator=_optional_label)

    def __attrs_post_init__(self) -> None:
        if self.valid_to is not None and self.valid_to < self.valid_from:
            raise TariffError(f"valid_to {self.valid_to} is before valid_from {self.valid_from}")
        if self.amount is None and self.tariff_type != "vrij":
            raise TariffError(f"amount is empty; only a vrij tariff has no amount, this one is {self.tariff_type}")
        required = REQUIRED_COLUMNS.get(self.kind or "", frozenset())
        allowed = required | OPTIONAL_COLUMNS.get(self.kind or "", frozenset())
        for column in ZPM_COLUMNS:
            filled = getattr(self, column) is not None
            if column in required and not filled:
                raise TariffError(f"kind {self.kind} needs {column}")
            if filled and column not in allowed:
                raise TariffError(f"{column} must be empty for kind {self.kind or '(none)'}")
        bands = BANDS.get(self.kind or "")
        if bands is not None and self.min_minutes not in bands:
            # Z4.3's band rule would never choose such a row.
            raise TariffError(
                f"min_minutes {self.min_minutes} is not a band of {self.kind} ({', '.join(map(str, bands))})"
            )

    def in_force(self, day: date) -> bool:
        """Whether the row prices activities on ``day``: valid_from <= day <= valid_to (if any)."""
        return self.valid_from <= day and (self.valid_to is None or day <= self.valid_to)

    @property
    def period(self) -> str:
        """The validity as people write it: "2024-01-01..2024-12-31", or "2016-01-01.." with no end."""
        return f"{self.valid_from}..{self.valid_to or ''}"

    @property
    def key(self) -> tuple[object, ...] | None:
        """(kind, key columns…, min_minutes): one key gives one code on one date; None for v1 and other rows."""
        if self.kind is None or self.kind == "other":
            return None
        return (self.kind, *(getattr(self, column) for column in KEY_COLUMNS[self.kind]), self.min_minutes)

    @property
    def title(self) -> str:
        """What the row prices, as refusals name it: "consult diagnostiek vanaf 45 min", "group …"."""
        if self.kind is None:
            return f"a code without a prestatie kind ({self.description})"
        parts = [self.kind]
        if self.consult_type is not None:
            parts.append(self.consult_type)
        if self.surcharge_type is not None:
            parts.append(self.surcharge_type)
        if self.kind in ("group",):
            parts.append(f"{self.beroep_category} group size {self.group_size}")
        if self.kind == "stay":
            parts.append(f"setting {self.setting} care level {self.care_level}")
        if self.min_minutes is not None:
            parts.append(f"vanaf {self.min_minutes} min")
        return " ".join(parts)


def _first_overlap(
    rows: Iterable[TariffRow], key: Callable[[TariffRow], object] = lambda row: row.code
) -> tuple[int, int] | None:
    """Indexes (earlier, later) of two rows of one code (or ``key``) whose periods overlap, or None.

    Rows whose key is None are never compared. Of several clashes it picks the one whose later row
    comes first, so a CSV error names the first line a reader would have to fix.
    """
    by_code: dict[object, list[tuple[int, TariffRow]]] = {}
    for index, row in enumerate(rows):
        if (value := key(row)) is not None:
            by_code.setdefault(value, []).append((index, row))
    clashes = []
    for entries in by_code.values():
        entries.sort(key=lambda entry: entry[1].valid_from)
        for (i, earlier), (j, later) in itertools.pairwise(entries):
            if earlier.valid_to is None or earlier.valid_to >= later.valid_from:
                clashes.append((min(i, j), max(i, j)))
    return min(clashes, key=lambda pair: (pair[1], pair[0])) if clashes else None


def _first_mixed_surcharge(rows: Sequence[TariffRow]) -> tuple[int, int] | None:
    """Indexes (earlier, later) of two rows of one surcharge type, one with min_minutes and one without.

    Such a table leaves open whether the type's band rule applies (zpm.md Z4.3).
    """
    seen: dict[tuple[str | None, bool], int] = {}
    for index, row in enumerate(rows):
        if row.kind != "surcharge":
            continue
        banded = row.min_minutes is not None
        other = seen.get((row.surcharge_type, not banded))
        if other is not None:
            return other, index
        seen.setdefault((row.surcharge_type, banded), index)
    return None


def _key_text(row: TariffRow) -> str:
    extra = []
    if row.setting is not None and row.kind != "stay":
        extra.append(f"setting {row.setting}")
    if row.beroep_category is not None and row.kind == "consult":
        extra.append(f"beroepscategorie {row.beroep_category}")
    return ", ".join([row.title, *extra])


def _as_rows(rows: Iterable[TariffRow]) -> tuple[TariffRow, ...]:
    return tuple(rows)


def _key_problem(rows: Sequence[TariffRow], name: Callable[[int], str]) -> tuple[int, str] | None:
    """(index, what is wrong) of the first row that clashes with an earlier one on its key, or None.

    Two rows with one kind, key and band in overlapping periods would give one record two codes;
    a surcharge type with and without bands leaves open whether the band rule applies (zpm.md Z5.1).
    ``name`` says how the message names the other row (its line, its code).
    """
    found: list[tuple[int, str]] = []
    overlap = _first_overlap(rows, key=lambda row: row.key)
    if overlap is not None:
        earlier, later = overlap
        found.append(
            (
                later,
                f"code {rows[later].code!r} ({rows[later].period}) has the same kind, key and band as "
                f"{name(earlier)} (code {rows[earlier].code!r}, {rows[earlier].period}): {_key_text(rows[later])}",
            )
        )
    mixed = _first_mixed_surcharge(rows)
    if mixed is not None:
        earlier, later = mixed
        found.append(
            (
                later,
                f"surcharge {rows[later].surcharge_type} has rows with and without min_minutes "
                f"(code {rows[later].code!r} and {name(earlier)}, code {rows[earlier].code!r})",
            )
        )
    return min(found) if found else None


def csv_lines(text: str, source: str) -> Iterator[tuple[int, tuple[str, ...]]]:
    """Each non-blank line of a table's CSV text as (line number, cells stripped); a byte-order mark ignored.

    The one reading of a CSV table, for the tariff tables and the DBC tables alike. Raises
    TariffError naming ``source`` and the line where the CSV itself is malformed.
    """
    reader = csv.reader(io.StringIO(text.removeprefix("\ufeff"), newline=""), strict=True)
    while True:
        line = reader.line_num + 1
        try:
            record = next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            raise TariffError(f"{source} line {reader.line_num}: {error}") from None
        cells = tuple(cell.strip() for cell in record)
        if any(cells):
            yield line, cells
