"""The tables users loaded (tariff tables, DBC tables), kept as CSV text in the ledger's database."""

from __future__ import annotations

from typing import Any

from ggzledger.projections.store import ProjectionStore
from ggzledger.reference import Tariffs, TariffTable

__all__ = ["LoadedTexts", "StoredTariffTables"]


class LoadedTexts:
    """One table of loaded CSV texts: (version, csv, loaded), in the order they were loaded (later ones win).

    ``name`` is one of the project's own table names (``tariff_tables``, ``dbc_tables``), never input.
    """

    def __init__(self, store: ProjectionStore, name: str) -> None:
        self.store = store
        self.name = name
        self.create = (
            f"CREATE TABLE IF NOT EXISTS {name} (version TEXT PRIMARY KEY, csv TEXT NOT NULL, loaded INTEGER NOT NULL)"
        )

    def texts(self, create: bool = True) -> list[tuple[str, str]]:
        """(version, csv) of every loaded table, oldest first; ``create`` False: a read that creates nothing."""
        with self.store.transaction(write=create) as c:
            if create:
                c.execute(self.create)
            elif not self._exists(c):
                return []
            c.execute(f"SELECT version, csv FROM {self.name} ORDER BY loaded")
            return [(version, text) for version, text in c.fetchall()]

    def append(self, version: str, csv_text: str) -> None:
        """Store a table's text after the ones loaded before it."""
        with self.store.transaction(write=True) as c:
            c.execute(self.create)
            c.execute(
                f"INSERT INTO {self.name} (version, csv, loaded) SELECT ?, ?, COALESCE(MAX(loaded), 0) + 1 FROM {self.name}",
                (version, csv_text),
            )

    def _exists(self, c: Any) -> bool:
        if self.store.dialect == "postgresql":
            c.execute(f"SELECT to_regclass('{self.name}') IS NOT NULL")
        else:
            c.execute("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?", (self.name,))
        return bool(c.fetchone()[0])


class StoredTariffTables:
    """Loaded tariff tables (rules.md §4: the table loaded last wins)."""

    def __init__(self, store: ProjectionStore) -> None:
        self.loaded = LoadedTexts(store, "tariff_tables")

    def over(self, tariffs: Tariffs, read_only: bool = False) -> Tariffs:
        """``tariffs`` with every stored table laid over them, oldest first (``read_only``: the table exists)."""
        for version, text in self.loaded.texts(create=not read_only):
            tariffs = tariffs.with_table(TariffTable.from_csv(version, text, source=f"stored table {version}"))
        return tariffs

    def add(self, table: TariffTable, csv_text: str) -> None:
        """Store a table after the ones loaded before it."""
        self.loaded.append(table.version, csv_text)
