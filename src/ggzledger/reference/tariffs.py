"""Versioned tariff tables: effective-dated prices per activity code, and the registry that resolves them."""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from datetime import date
from importlib import resources
from typing import Any

import attrs

from ggzledger.reference.kinds import BANDS, KEY_COLUMNS, KINDS, ZPM_COLUMNS, band_of
from ggzledger.reference.tariff_rows import (
    UNITS,
    TariffError,
    TariffRow,
    _as_rows,
    _cents,
    _first_overlap,
    _key_problem,
    _label,
    _text,
    _unit,
    csv_lines,
)

__all__ = [
    "CSV_HEADER",
    "CSV_HEADER_V2",
    "UNITS",
    "Found",
    "NoTariff",
    "PricedCode",
    "TariffError",
    "TariffRow",
    "TariffTable",
    "Tariffs",
    "load_tariffs",
    "shipped_tables",
]


CSV_HEADER = ("code", "description", "unit", "amount", "valid_from", "valid_to")
"""The header line a version 1 tariff CSV starts with, in this order."""

CSV_HEADER_V2 = (*CSV_HEADER, "tariff_type", "kind", *ZPM_COLUMNS)
"""The header of a version 2 tariff CSV (zpm.md Z5.1): v1's columns, tariff type, kind and key columns."""

SHIPPED = ("demo-2017", "zpm-2024", "zpm-2024b", "zpm-2025")
"""The versions of the tables in the package data, oldest first."""

_CENTS = re.compile(r"[0-9]+")
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


class NoTariff(LookupError):
    """No loaded tariff table has the code in force on the date (rules.md §3.7 refuses the activity)."""


@attrs.frozen
class TariffTable:
    """One version of a tariff table (e.g. ``zpm-2024``): rows whose periods never overlap per code.

    Raises TariffError for a version label with spaces, a row that is not a TariffRow, or two rows
    of one code whose periods overlap.
    """

    version: str = attrs.field(validator=_label)
    rows: tuple[TariffRow, ...] = attrs.field(converter=_as_rows)
    _by_code: dict[str, tuple[TariffRow, ...]] = attrs.field(init=False, repr=False, eq=False)
    _by_key: dict[tuple[object, ...], tuple[TariffRow, ...]] = attrs.field(init=False, repr=False, eq=False)

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
        problem = _key_problem(self.rows, lambda index: f"row {index + 1}")
        if problem is not None:
            raise TariffError(f"table {self.version}: {problem[1]}")
        by_key: dict[tuple[object, ...], list[TariffRow]] = {}
        for row in self.rows:
            if row.kind is not None:
                # The band (min_minutes) is left out: a find picks it among the key's rows.
                by_key.setdefault((row.kind, *(getattr(row, c) for c in KEY_COLUMNS[row.kind])), []).append(row)
        object.__setattr__(self, "_by_code", {code: tuple(rows) for code, rows in by_code.items()})
        object.__setattr__(self, "_by_key", {key: tuple(rows) for key, rows in by_key.items()})

    def lookup(self, code: str, on: date) -> TariffRow | None:
        """The row for ``code`` in force on ``on``, or None when this table has none."""
        for row in self._by_code.get(code, ()):
            if row.in_force(on):
                return row
        return None

    def keyed(self, kind: str, *key: object) -> tuple[TariffRow, ...]:
        """The rows of ``kind`` whose key columns (KEY_COLUMNS order) equal ``key``, every band and period."""
        return self._by_key.get((kind, *key), ())

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
        header: tuple[str, ...] | None = None
        rows: list[TariffRow] = []
        lines: list[int] = []
        for line, cells in csv_lines(text, source):
            if header is None:
                header = cells
                if header not in (CSV_HEADER, CSV_HEADER_V2):
                    raise TariffError(
                        f"{source} line {line}: header must be {','.join(CSV_HEADER)} (version 1) or "
                        f"{','.join(CSV_HEADER_V2)} (version 2), not {','.join(cells)}"
                    )
                continue
            try:
                rows.append(_row_from_cells(cells, header))
            except TariffError as error:
                raise TariffError(f"{source} line {line}: {error}") from None
            lines.append(line)
        if header is None:
            raise TariffError(f"{source}: empty, expected the header {','.join(CSV_HEADER)} or its version 2")
        if not rows:
            raise TariffError(f"{source}: no tariff rows after the header")
        overlap = _first_overlap(rows)
        if overlap is not None:
            earlier, later = overlap
            raise TariffError(
                f"{source} line {lines[later]}: code {rows[later].code!r} {rows[later].period} overlaps "
                f"line {lines[earlier]} ({rows[earlier].period})"
            )
        problem = _key_problem(rows, lambda index: f"line {lines[index]}")
        if problem is not None:
            raise TariffError(f"{source} line {lines[problem[0]]}: {problem[1]}")
        return cls(version=version, rows=rows)


def _row_from_cells(cells: tuple[str, ...], header: tuple[str, ...]) -> TariffRow:
    if len(cells) != len(header):
        raise TariffError(f"expected {len(header)} fields, found {len(cells)}")
    code, description, unit, amount, valid_from, valid_to = cells[:6]
    if amount and not _CENTS.fullmatch(amount):
        raise TariffError(f"amount {amount!r} is not an integer number of cents")
    if not amount and len(header) == len(CSV_HEADER):
        raise TariffError(f"amount {amount!r} is not an integer number of cents")
    zpm: dict[str, Any] = {}
    if len(header) == len(CSV_HEADER_V2):
        values = dict(zip(header[6:], cells[6:], strict=True))
        zpm["tariff_type"] = values.pop("tariff_type") or "maximum"
        zpm["kind"] = values.pop("kind") or None
        for column, text in values.items():
            zpm[column] = (_parse_whole(column, text) if column in _WHOLE_COLUMNS else text) if text else None
    return TariffRow(
        code=code,
        description=description,
        unit=unit,
        amount=int(amount) if amount else None,
        valid_from=_parse_date("valid_from", valid_from),
        valid_to=_parse_date("valid_to", valid_to) if valid_to else None,
        **zpm,
    )


_WHOLE_COLUMNS = frozenset({"setting", "min_minutes", "group_size", "unit_minutes", "security_level"})


def _parse_whole(field: str, text: str) -> int:
    if not _CENTS.fullmatch(text):
        raise TariffError(f"{field} {text!r} is not a whole number")
    return int(text)


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
        if row.amount is None:
            raise NoTariff(f"code {row.code!r} has a free tariff (vrij) and no amount; only a contract prices it")
        return cls(code=row.code, description=row.description, unit=row.unit, amount=row.amount, table=table)


@attrs.frozen
class Found:
    """The row that prices a record, and the version label of the table it came from."""

    row: TariffRow
    table: str


class Tariffs:
    """The loaded tariff tables, in the order they were added; a later table overrides an earlier one.

    Version labels are unique: an event names the table it was priced from, so two different
    tables under one label would make that record ambiguous.
    """

    __slots__ = ("_tables", "_priced", "_found", "_rows")

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
        # find's candidate rows, keyed by kind, key and band (not by date: a year's consults name
        # a few hundred keys on every one of its days).
        self._found: dict[tuple[object, ...], tuple[Found, ...]] = {}
        # row's answers (None: no row), keyed by code and date: every legacy record with minutes asks.
        self._rows: dict[tuple[str, date], Found | None] = {}

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
        found = self.row(code, on)
        return PricedCode.from_row(found.row, found.table)

    def row(self, code: str, on: date) -> Found:
        """The row for ``code`` in force on ``on``, from the last-added table that has one then.

        Raises NoTariff when no table has the code in force on that date.
        """
        key = (code, on)
        if key in self._rows:
            found = self._rows[key]
        else:
            found = self._rows[key] = self._row(code, on)
        if found is None:
            raise NoTariff(f"no tariff for code {code!r} in force on {on.isoformat()}")
        return found

    def _row(self, code: str, on: date) -> Found | None:
        for table in reversed(self._tables):
            row = table.lookup(code, on)
            if row is not None:
                return Found(row=row, table=table.version)
        return None

    def prestatie(self, kind: str, on: date, code: str | None = None, **key: Any) -> Found:
        """The row that prices an activity of ``kind`` on ``on``, as it is recorded (zpm.md Z4.3, Z4.4).

        ``other`` is found by its ``code``, which must be a row of kind other; every other kind by
        :meth:`find` with ``key`` (the key columns and ``minutes``). Raises NoTariff naming the date
        and what was looked for: the one lookup of recording and of a re-pricing (whatif).
        """
        if kind != "other":
            return self.find(kind, on, **key)
        try:
            found = self.row(code or "", on)
        except NoTariff:
            found = None
        if found is None or found.row.kind != "other":
            raise NoTariff(f"no prestatie in force on {on.isoformat()} for other, code {code}")
        return found

    def find(
        self,
        prestatie: str,
        on: date,
        *,
        consult_type: str | None = None,
        setting: int | None = None,
        beroep_category: str | None = None,
        group_size: int | None = None,
        care_level: str | None = None,
        security_level: int | None = None,
        surcharge_type: str | None = None,
        minutes: int | None = None,
    ) -> Found:
        """The row that prices a ZPM record of kind ``prestatie`` on ``on`` (zpm.md Z4.3).

        Candidates are the rows in force on ``on`` of that kind whose key columns (KEY_COLUMNS)
        equal the given values; the arguments a kind does not key on are ignored. Where the kind
        has bands (consult, overleg, a surcharge type whose rows have min_minutes), ``minutes``
        selects the band and only the row of that band will do: each band's row comes from the
        last-added table that has one for it in force on ``on``. Otherwise the last-added table
        with a candidate gives it.

        Raises NoTariff, whose text names the date and the key, when no row fits (a consult of
        104 minutes without a 90-minute row is refused, not priced as 60), and ValueError for
        ``other`` (its code is the key: use row) or a prestatie that is not a kind.
        """
        if prestatie not in KINDS or prestatie == "other":
            raise ValueError(f"find looks up consult, group, overleg, stay or surcharge, not {prestatie!r}")
        values = (consult_type, setting, beroep_category, group_size, care_level, security_level, surcharge_type)
        # Every ZPM activity comes by here: its key is picked by position, not through a dict of names.
        key = tuple(values[i] for i in _KEY_POSITIONS[prestatie])
        bands = BANDS.get(prestatie) or (self._surcharge_bands(key, on) if prestatie == "surcharge" else ())
        band = None
        if bands:
            band = None if minutes is None else band_of(minutes, bands)
            if band is None:
                raise NoTariff(_no_prestatie(prestatie, on, dict(zip(_GIVEN, values, strict=True)), minutes))
        memo = (prestatie, key, band)
        candidates = self._found.get(memo)
        if candidates is None:
            candidates = self._found[memo] = self._candidates(prestatie, key, band, banded=bool(bands))
        for found in candidates:
            if found.row.in_force(on):
                return found
        raise NoTariff(_no_prestatie(prestatie, on, dict(zip(_GIVEN, values, strict=True)), minutes))

    def _candidates(self, kind: str, key: tuple[object, ...], band: int | None, *, banded: bool) -> tuple[Found, ...]:
        """Every row of the kind, key and band, of every period, last-added table first: the first in
        force on a date is the one that prices it (a table's rows of one key and band never overlap)."""
        return tuple(
            Found(row=row, table=table.version)
            for table in reversed(self._tables)
            for row in table.keyed(kind, *key)
            if not banded or row.min_minutes == band
        )

    def surcharge_bands(self, surcharge_type: str, on: date) -> tuple[int, ...]:
        """The bands (min_minutes) the rows of a surcharge type in force on ``on`` define; () when it has none
        (a type such as psychodiagnostiek, or one no loaded table knows)."""
        return self._surcharge_bands((surcharge_type,), on)

    def _surcharge_bands(self, key: tuple[object, ...], on: date) -> tuple[int, ...]:
        # A surcharge type's bands are the min_minutes its rows in force define, over every table.
        return tuple(
            sorted(
                {
                    row.min_minutes
                    for table in self._tables
                    for row in table.keyed("surcharge", *key)
                    if row.min_minutes is not None and row.in_force(on)
                }
            )
        )

    def with_table(self, table: TariffTable) -> Tariffs:
        """A new registry with ``table`` added last, so that it wins; this registry is unchanged.

        A table equal to one already loaded (same label, same rows) changes nothing.

        Raises TariffError when a different table with the same version label is loaded already.
        """
        return Tariffs((*self._tables, table))

    def __repr__(self) -> str:
        return f"Tariffs({[table.version for table in self._tables]!r})"


_GIVEN = ("consult_type", "setting", "beroep_category", "group_size", "care_level", "security_level", "surcharge_type")
# The arguments of find, in order; per kind, where its KEY_COLUMNS are among them.
_KEY_POSITIONS = {kind: tuple(_GIVEN.index(column) for column in columns) for kind, columns in KEY_COLUMNS.items()}


def _no_prestatie(kind: str, on: date, given: dict[str, Any], minutes: int | None) -> str:
    # zpm.md Z4.8 g: "no prestatie in force on 2024-10-01 for consult diagnostiek, setting 3, …".
    head = kind if kind != "consult" else f"consult {given['consult_type']}"
    if kind == "surcharge":
        head = f"surcharge {given['surcharge_type']}"
    parts = [head]
    if kind in ("consult", "overleg", "stay"):
        parts.append(f"setting {given['setting']}")
    if kind in ("consult", "group"):
        parts.append(f"beroepscategorie {given['beroep_category']}")
    if kind == "group":
        parts.append(f"group size {given['group_size']}")
    if kind == "stay":
        parts.append(f"care level {given['care_level']}")
        level = given["security_level"]
        parts.append("no security level" if level is None else f"security level {level}")
    if minutes is not None and kind in ("consult", "overleg", "surcharge"):
        parts.append(f"{minutes} minutes")
    return f"no prestatie in force on {on.isoformat()} for {', '.join(parts)}"


@functools.cache
def shipped_tables() -> tuple[TariffTable, ...]:
    """The tables shipped as package data, in SHIPPED's order (rules.md §4, zpm.md Z5.6), read once.

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
