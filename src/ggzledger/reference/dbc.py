"""DBC tables (the model until 2021): a product per diagnosis group and minute band, and the stay day.

Like the tariff tables: versioned, effective-dated, loaded from CSV, the table loaded last wins. They
price nothing in the ledger; only the DBC comparison (``ggzledger dbc``, docs/analyses.md) reads them.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from datetime import date
from importlib import resources
from typing import Any

import attrs

from ggzledger.reference.tariff_rows import TariffError, _cents, _label, _text, csv_lines

__all__ = [
    "DBC_CSV_HEADER",
    "DIAGNOSIS_GROUPS",
    "PRODUCTS",
    "DbcRow",
    "DbcTable",
    "DbcTables",
    "shipped_dbc_tables",
]

DIAGNOSIS_GROUPS: dict[str, str] = {
    "aanpassing": "Aanpassingsstoornissen",
    "adhd": "ADHD",
    "angst": "Angststoornissen",
    "autisme": "Autismespectrumstoornissen",
    "bipolair": "Bipolaire stoornissen",
    "cognitief": "Cognitieve stoornissen",
    "depressie": "Depressie",
    "eetstoornis": "Eetstoornissen",
    "kindertijd": "Andere stoornissen in de kindertijd",
    "persoonlijkheid": "Persoonlijkheidsstoornissen",
    "psychotisch": "Andere psychotische stoornissen",
    "schizofrenie": "Schizofrenie",
    "somatoform": "Somatoforme stoornissen",
    "verslaving": "Verslaving",
    "overig": "Overige problemen als reden voor zorg",
    "restgroep": "Restgroep diagnoses",
}
"""The closed list of DBC diagnosis groups (code -> name) that ``diagnosis_group`` and a table take.

After the diagnosis groups of the DBC-GGZ product structure; the codes are this project's own.
"""

PRODUCTS = ("dbc", "stay")
"""A row prices a DBC product (a diagnosis group's minute band) or one stay day."""

DBC_CSV_HEADER = (
    "product", "diagnosis_group", "min_minutes", "max_minutes", "description", "amount", "valid_from", "valid_to",
)  # fmt: skip
"""The header line a DBC table's CSV starts with, in this order."""

SHIPPED = ("dbc-demo",)
"""The versions of the DBC tables in the package data, oldest first."""


def _product(_instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if value not in PRODUCTS:
        raise TariffError(f"{attribute.name} {value!r} is not one of {', '.join(PRODUCTS)}")


def _group(instance: DbcRow, attribute: attrs.Attribute[Any], value: object) -> None:
    if instance.product == "stay":
        if value is not None:
            raise TariffError(f"a stay row has no {attribute.name}, got {value!r}")
    elif value not in DIAGNOSIS_GROUPS:
        raise TariffError(f"{attribute.name} {value!r} is not a DBC diagnosis group ({', '.join(DIAGNOSIS_GROUPS)})")


def _minutes(instance: DbcRow, attribute: attrs.Attribute[Any], value: object) -> None:
    if instance.product == "stay":
        if value is not None:
            raise TariffError(f"a stay row has no {attribute.name}, got {value!r}")
        return
    if value is None and attribute.name == "max_minutes":
        return
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise TariffError(f"{attribute.name} {value!r} must be a whole number of minutes, 0 or more")


@attrs.frozen
class DbcRow:
    """One row: a DBC product's band [min_minutes, max_minutes] (None: no upper end), or the stay day.

    Raises TariffError for a product outside PRODUCTS, an unknown diagnosis group, a band whose end
    lies before its start, a stay row with a group or band, a non-positive amount, or a valid_to
    before its valid_from.
    """

    product: str = attrs.field(validator=_product)
    diagnosis_group: str | None = attrs.field(validator=_group)
    min_minutes: int | None = attrs.field(validator=_minutes)
    max_minutes: int | None = attrs.field(validator=_minutes)
    description: str = attrs.field(validator=_text)
    amount: int = attrs.field(validator=_cents)
    valid_from: date
    valid_to: date | None = None

    def __attrs_post_init__(self) -> None:
        if self.max_minutes is not None and self.min_minutes is not None and self.max_minutes < self.min_minutes:
            raise TariffError(f"max_minutes {self.max_minutes} lies before min_minutes {self.min_minutes}")
        if self.valid_to is not None and self.valid_to < self.valid_from:
            raise TariffError(f"valid_to {self.valid_to} lies before valid_from {self.valid_from}")

    def in_force(self, on: date) -> bool:
        """True when ``on`` lies in [valid_from, valid_to]."""
        return self.valid_from <= on and (self.valid_to is None or on <= self.valid_to)

    def holds(self, minutes: int) -> bool:
        """True when ``minutes`` lies in this row's band (a stay row holds none)."""
        if self.min_minutes is None:
            return False
        return self.min_minutes <= minutes and (self.max_minutes is None or minutes <= self.max_minutes)

    @property
    def band(self) -> str:
        """The band as people write it: ``3000-5999``, ``18000+``."""
        return f"{self.min_minutes}+" if self.max_minutes is None else f"{self.min_minutes}-{self.max_minutes}"

    def _clashes(self, other: DbcRow) -> bool:
        if self.product != other.product or self.diagnosis_group != other.diagnosis_group:
            return False
        if self.valid_to is not None and self.valid_to < other.valid_from:
            return False
        if other.valid_to is not None and other.valid_to < self.valid_from:
            return False
        if self.product == "stay":
            return True
        low = max(self.min_minutes or 0, other.min_minutes or 0)
        return self.holds(low) and other.holds(low)


def _as_rows(rows: Iterable[DbcRow]) -> tuple[DbcRow, ...]:
    return tuple(rows)


@attrs.frozen
class DbcTable:
    """One version of a DBC table: rows whose bands and periods never overlap per group.

    Raises TariffError for a bad version label, or two rows of one group (or two stay rows) that
    are both in force on some day for some number of minutes.
    """

    version: str = attrs.field(validator=_label)
    rows: tuple[DbcRow, ...] = attrs.field(converter=_as_rows)

    def __attrs_post_init__(self) -> None:
        for index, row in enumerate(self.rows):
            if not isinstance(row, DbcRow):
                raise TariffError(f"table {self.version}: {row!r} is not a DbcRow")
            for earlier in self.rows[:index]:
                if row._clashes(earlier):
                    raise TariffError(f"table {self.version}: {_named(row)} overlaps {_named(earlier)}")

    def product(self, group: str, minutes: int, on: date) -> DbcRow | None:
        """The row of ``group`` whose band holds ``minutes``, in force on ``on``; None when none."""
        for row in self.rows:
            if row.product == "dbc" and row.diagnosis_group == group and row.in_force(on) and row.holds(minutes):
                return row
        return None

    def stay(self, on: date) -> DbcRow | None:
        """The stay-day row in force on ``on``; None when none."""
        return next((row for row in self.rows if row.product == "stay" and row.in_force(on)), None)

    @classmethod
    def from_csv(cls, version: str, text: str, source: str = "<csv>") -> DbcTable:
        """A table read from CSV text with the header DBC_CSV_HEADER.

        Each further line is a row: product ``dbc`` (a diagnosis group of DIAGNOSIS_GROUPS,
        min_minutes, max_minutes inclusive or empty for no upper end) or ``stay`` (group and
        minutes empty); a description; amount a positive integer number of cents; dates
        YYYY-MM-DD, valid_to (inclusive) may be empty. Blank lines are skipped; a byte-order
        mark is ignored. Raises TariffError naming ``source``, the line and what is wrong.
        """
        header: tuple[str, ...] | None = None
        rows: list[DbcRow] = []
        lines: list[int] = []
        for line, cells in csv_lines(text, source):
            if header is None:
                header = cells
                if header != DBC_CSV_HEADER:
                    raise TariffError(f"{source} line {line}: header must be {','.join(DBC_CSV_HEADER)}")
                continue
            try:
                row = _row(cells)
                clash = next((i for i, earlier in enumerate(rows) if row._clashes(earlier)), None)
            except TariffError as error:
                raise TariffError(f"{source} line {line}: {error}") from None
            if clash is not None:
                raise TariffError(f"{source} line {line}: {_named(row)} overlaps line {lines[clash]}")
            rows.append(row)
            lines.append(line)
        if header is None:
            raise TariffError(f"{source}: empty, expected the header {','.join(DBC_CSV_HEADER)}")
        if not rows:
            raise TariffError(f"{source}: no rows after the header")
        try:
            return cls(version=version, rows=rows)
        except TariffError as error:
            raise TariffError(f"{source}: {error}") from None


def _named(row: DbcRow) -> str:
    until = row.valid_to.isoformat() if row.valid_to else "no end"
    what = "the stay day" if row.product == "stay" else f"{row.diagnosis_group} {row.band} minutes"
    return f"{what} {row.valid_from.isoformat()}..{until}"


def _row(cells: tuple[str, ...]) -> DbcRow:
    if len(cells) != len(DBC_CSV_HEADER):
        raise TariffError(f"expected {len(DBC_CSV_HEADER)} fields, found {len(cells)}")
    product, group, low, high, description, amount, valid_from, valid_to = cells
    return DbcRow(
        product=product,
        diagnosis_group=group or None,
        min_minutes=_whole("min_minutes", low) if low else None,
        max_minutes=_whole("max_minutes", high) if high else None,
        description=description,
        amount=_whole("amount", amount),
        valid_from=_date("valid_from", valid_from),
        valid_to=_date("valid_to", valid_to) if valid_to else None,
    )


def _whole(field: str, text: str) -> int:
    if not text.isascii() or not text.isdigit():
        raise TariffError(f"{field} {text!r} is not a whole number")
    return int(text)


def _date(field: str, text: str) -> date:
    try:
        if len(text) == 10:
            return date.fromisoformat(text)
    except ValueError:
        pass
    raise TariffError(f"{field} {text!r} is not a date YYYY-MM-DD")


def _as_tables(tables: Iterable[DbcTable]) -> tuple[DbcTable, ...]:
    return tuple(tables)


@attrs.frozen
class DbcTables:
    """The DBC tables in force: the shipped ones, then those users loaded; the table loaded last wins."""

    tables: tuple[DbcTable, ...] = attrs.field(converter=_as_tables)

    def with_table(self, table: DbcTable) -> DbcTables:
        """These tables and ``table`` after them. Raises TariffError when another table has its version."""
        same = next((t for t in self.tables if t.version == table.version), None)
        if same is not None and same != table:
            raise TariffError(f"a different DBC table {table.version} is loaded already")
        return self if same is not None else DbcTables((*self.tables, table))

    def product(self, group: str, minutes: int, on: date) -> tuple[str, DbcRow] | None:
        """(table version, row) of the product of ``group`` at ``minutes`` in force on ``on``; None when none."""
        return _last((t.version, t.product(group, minutes, on)) for t in self.tables)

    def stay(self, on: date) -> tuple[str, DbcRow] | None:
        """(table version, row) of the stay day in force on ``on``; None when none."""
        return _last((t.version, t.stay(on)) for t in self.tables)


def _last(found: Iterable[tuple[str, DbcRow | None]]) -> tuple[str, DbcRow] | None:
    last = None
    for version, row in found:
        if row is not None:
            last = (version, row)
    return last


@functools.cache
def shipped_dbc_tables() -> DbcTables:
    """The DBC tables in the package data (``dbc-demo``: illustrative, docs/analyses.md)."""
    data = resources.files("ggzledger.reference") / "data"
    return DbcTables(
        DbcTable.from_csv(version, (data / f"{version}.csv").read_text("utf-8"), source=f"{version}.csv")
        for version in SHIPPED
    )
