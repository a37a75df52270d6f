"""Versioned tariff tables: effective-dated prices per activity code, and the registry that resolves them."""

from __future__ import annotations

import csv
import functools
import io
import itertools
import re
from collections.abc import Iterable
from datetime import date
from importlib import resources
from typing import Any

import attrs

from ggzledger.domain.text import has_control

__all__ = [
    "CSV_HEADER",
    "UNITS",
    "NoTariff",
    "PricedCode",
    "TariffError",
    "TariffRow",
    "TariffTable",
    "Tariffs",
    "load_tariffs",
    "shipped_tables",
]

UNITS = ("consult", "day", "item")
"""What one amount pays for: a consult, a (stay) day, or one item of another prestatie."""

CSV_HEADER = ("code", "description", "unit", "amount", "valid_from", "valid_to")
"""The header line a tariff CSV starts with, in this order."""

SHIPPED = ("demo-2017", "zpm-2024")
"""The versions of the tables in the package data, oldest first."""

_CENTS = re.compile(r"[0-9]+")
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


class TariffError(ValueError):
    """A tariff table that cannot be used: a bad CSV line, overlapping rows, a clashing version label."""


class NoTariff(LookupError):
    """No loaded tariff table has the code in force on the date (rules.md §3.7 refuses the activity)."""


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


def _day(_instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    # datetime is a date subclass, but comparing one with a plain date raises TypeError later.
    if type(value) is not date:
        raise TariffError(f"{attribute.name} {value!r} must be a date")


@attrs.frozen
class TariffRow:
    """The price of one code over one period: ``amount`` cents per ``unit``, valid_from..valid_to.

    Raises TariffError for a bad field or a valid_to before valid_from.
    """

    code: str = attrs.field(validator=_label)
    description: str = attrs.field(validator=_text)
    unit: str = attrs.field(validator=_unit)
    amount: int = attrs.field(validator=_cents)
    valid_from: date = attrs.field(validator=_day)
    valid_to: date | None = attrs.field(default=None, validator=attrs.validators.optional(_day))

    def __attrs_post_init__(self) -> None:
        if self.valid_to is not None and self.valid_to < self.valid_from:
            raise TariffError(f"valid_to {self.valid_to} is before valid_from {self.valid_from}")

    def in_force(self, day: date) -> bool:
        """Whether the row prices activities on ``day``: valid_from <= day <= valid_to (if any)."""
        return self.valid_from <= day and (self.valid_to is None or day <= self.valid_to)

    @property
    def period(self) -> str:
        """The validity as people write it: "2024-01-01..2024-12-31", or "2016-01-01.." with no end."""
        return f"{self.valid_from}..{self.valid_to or ''}"


def _first_overlap(rows: Iterable[TariffRow]) -> tuple[int, int] | None:
    """Indexes (earlier, later) of two rows of one code whose periods overlap, or None if none do.

    Of several clashes it picks the one whose later row comes first, so a CSV error names the first
    line a reader would have to fix.
    """
    by_code: dict[str, list[tuple[int, TariffRow]]] = {}
    for index, row in enumerate(rows):
        by_code.setdefault(row.code, []).append((index, row))
    clashes = []
    for entries in by_code.values():
        entries.sort(key=lambda entry: entry[1].valid_from)
        for (i, earlier), (j, later) in itertools.pairwise(entries):
            if earlier.valid_to is None or earlier.valid_to >= later.valid_from:
                clashes.append((min(i, j), max(i, j)))
    return min(clashes, key=lambda pair: (pair[1], pair[0])) if clashes else None


def _as_rows(rows: Iterable[TariffRow]) -> tuple[TariffRow, ...]:
    return tuple(rows)


@attrs.frozen
class TariffTable:
    """One version of a tariff table (e.g. ``zpm-2024``): rows whose periods never overlap per code.

    Raises TariffError for a version label with spaces, a row that is not a TariffRow, or two rows
    of one code whose periods overlap.
    """

    version: str = attrs.field(validator=_label)
    rows: tuple[TariffRow, ...] = attrs.field(converter=_as_rows)
    _by_code: dict[str, tuple[TariffRow, ...]] = attrs.field(init=False, repr=False, eq=False)

    def __attrs_post_init__(self) -> None:
        by_code: dict[str, list[TariffRow]] = {}
        for row in self.rows:
            if not isinstance(row, TariffRow):
                raise TariffError(f"table {self.version}: {row!r} is not a TariffRow")
            by_code.setdefault(row.code, []).append(row)
        overlap = _first_overlap(self.rows)
        if overlap is not None:
            earlier, later = (self.rows[index] for index in overlap)
            raise TariffError(f"table {self.version}: code {later.code!r} {later.period} overlaps {earlier.period}")
        object.__setattr__(self, "_by_code", {code: tuple(rows) for code, rows in by_code.items()})

    def lookup(self, code: str, on: date) -> TariffRow | None:
        """The row for ``code`` in force on ``on``, or None when this table has none."""
        for row in self._by_code.get(code, ()):
            if row.in_force(on):
                return row
        return None

    @property
    def codes(self) -> frozenset[str]:
        """Every code that has a row in this table."""
        return frozenset(self._by_code)

    @classmethod
    def from_csv(cls, version: str, text: str, source: str = "<csv>") -> TariffTable:
        """A table read from CSV text, as users load it and the package ships it.

        The first line is the header ``code,description,unit,amount,valid_from,valid_to``; each
        further line is a row: unit one of consult, day, item; amount a positive integer number of
        cents (``15970``, not ``159,70``); dates YYYY-MM-DD; valid_to (inclusive) may be empty for no
        end. Blank lines are skipped; a byte-order mark is ignored.

        Raises TariffError naming ``source``, the line and what is wrong: a wrong header, a wrong
        number of fields, a bad value, a valid_to before its valid_from, two rows of one code whose
        periods overlap, or no rows at all.
        """
        reader = csv.reader(io.StringIO(text.removeprefix("\ufeff"), newline=""), strict=True)
        header: tuple[str, ...] | None = None
        rows: list[TariffRow] = []
        lines: list[int] = []
        while True:
            line = reader.line_num + 1
            try:
                record = next(reader)
            except StopIteration:
                break
            except csv.Error as error:
                raise TariffError(f"{source} line {reader.line_num}: {error}") from None
            cells = tuple(cell.strip() for cell in record)
            if not any(cells):
                continue
            if header is None:
                header = cells
                if header != CSV_HEADER:
                    raise TariffError(
                        f"{source} line {line}: header must be {','.join(CSV_HEADER)}, not {','.join(cells)}"
                    )
                continue
            try:
                rows.append(_row_from_cells(cells))
            except TariffError as error:
                raise TariffError(f"{source} line {line}: {error}") from None
            lines.append(line)
        if header is None:
            raise TariffError(f"{source}: empty, expected the header {','.join(CSV_HEADER)}")
        if not rows:
            raise TariffError(f"{source}: no tariff rows after the header")
        overlap = _first_overlap(rows)
        if overlap is not None:
            earlier, later = overlap
            raise TariffError(
                f"{source} line {lines[later]}: code {rows[later].code!r} {rows[later].period} overlaps "
                f"line {lines[earlier]} ({rows[earlier].period})"
            )
        return cls(version=version, rows=rows)


def _row_from_cells(cells: tuple[str, ...]) -> TariffRow:
    if len(cells) != len(CSV_HEADER):
        raise TariffError(f"expected {len(CSV_HEADER)} fields, found {len(cells)}")
    code, description, unit, amount, valid_from, valid_to = cells
    if not _CENTS.fullmatch(amount):
        raise TariffError(f"amount {amount!r} is not an integer number of cents")
    return TariffRow(
        code=code,
        description=description,
        unit=unit,
        amount=int(amount),
        valid_from=_parse_date("valid_from", valid_from),
        valid_to=_parse_date("valid_to", valid_to) if valid_to else None,
    )


def _parse_date(field: str, text: str) -> date:
    # fromisoformat alone also takes "20240101" and week dates; the format is YYYY-MM-DD only.
    try:
        if _ISO_DATE.fullmatch(text):
            return date.fromisoformat(text)
    except ValueError:
        pass
    raise TariffError(f"{field} {text!r} is not a YYYY-MM-DD date")


@attrs.frozen
class PricedCode:
    """A code priced for one date: the facts an ActivityDelivered event records, table version included.

    Raises TariffError for a bad field.
    """

    code: str = attrs.field(validator=_label)
    description: str = attrs.field(validator=_text)
    unit: str = attrs.field(validator=_unit)
    amount: int = attrs.field(validator=_cents)
    table: str = attrs.field(validator=_label)

    @classmethod
    def from_row(cls, row: TariffRow, table: str) -> PricedCode:
        """The priced code that ``row`` of the table with version label ``table`` gives."""
        return cls(code=row.code, description=row.description, unit=row.unit, amount=row.amount, table=table)


class Tariffs:
    """The loaded tariff tables, in the order they were added; a later table overrides an earlier one.

    Version labels are unique: an event names the table it was priced from, so two different
    tables under one label would make that record ambiguous.
    """

    __slots__ = ("_tables", "_priced")

    def __init__(self, tables: Iterable[TariffTable]) -> None:
        """A registry of ``tables``, the last one winning where several price a code on a date.

        Raises TypeError for something that is not a TariffTable, TariffError when two different
        tables share a version label (an identical table given twice counts once, where it came first).
        """
        kept: list[TariffTable] = []
        for table in tables:
            if not isinstance(table, TariffTable):
                raise TypeError(f"{table!r} is not a TariffTable")
            same = [known for known in kept if known.version == table.version]
            if same and same[0] != table:
                raise TariffError(f"tariff table {table.version!r} is loaded already, with other rows")
            if not same:
                kept.append(table)
        self._tables = tuple(kept)
        # (code, date) -> PricedCode: the registry never changes, and an ingest prices the same
        # few codes on the same days over and over.
        self._priced: dict[tuple[str, date], PricedCode] = {}

    @property
    def tables(self) -> tuple[TariffTable, ...]:
        """The tables, first added first."""
        return self._tables

    def lookup(self, code: str, on: date) -> PricedCode:
        """The price of ``code`` on ``on``, from the last-added table that has it in force then.

        A user-loaded table thus overrides a shipped one for the dates it covers, and the shipped
        one still prices the dates it does not.

        Raises NoTariff when no table has the code in force on that date.
        """
        priced = self._priced.get((code, on))
        if priced is None:
            priced = self._priced[(code, on)] = self._lookup(code, on)
        return priced

    def _lookup(self, code: str, on: date) -> PricedCode:
        for table in reversed(self._tables):
            row = table.lookup(code, on)
            if row is not None:
                return PricedCode.from_row(row, table.version)
        raise NoTariff(f"no tariff for code {code!r} in force on {on.isoformat()}")

    def with_table(self, table: TariffTable) -> Tariffs:
        """A new registry with ``table`` added last, so that it wins; this registry is unchanged.

        A table equal to one already loaded (same label, same rows) changes nothing.

        Raises TariffError when a different table with the same version label is loaded already.
        """
        return Tariffs((*self._tables, table))

    def __repr__(self) -> str:
        return f"Tariffs({[table.version for table in self._tables]!r})"


@functools.cache
def shipped_tables() -> tuple[TariffTable, ...]:
    """The tables shipped as package data: ``demo-2017`` and ``zpm-2024`` (rules.md §4), read once.

    Raises TariffError when the package data is damaged.
    """
    data = resources.files("ggzledger.reference") / "data"
    return tuple(
        TariffTable.from_csv(version, (data / f"{version}.csv").read_text("utf-8"), source=f"{version}.csv")
        for version in SHIPPED
    )


def load_tariffs() -> Tariffs:
    """A registry of the shipped tables, to which users' tables are added with Tariffs.with_table."""
    return Tariffs(shipped_tables())
