"""The tariff tables users loaded, kept in the ledger's database beside the shipped ones."""

from __future__ import annotations

from ggzledger.projections.store import ProjectionStore
from ggzledger.reference import Tariffs, TariffTable

__all__ = ["StoredTariffTables"]

# Tariff tables that users loaded, in the order they were loaded (later ones win, rules.md §4).
_TABLE = (
    "CREATE TABLE IF NOT EXISTS tariff_tables (version TEXT PRIMARY KEY, csv TEXT NOT NULL, loaded INTEGER NOT NULL)"
)


class StoredTariffTables:
    """Loaded tariff tables, stored as their CSV text in the order they were loaded."""

    def __init__(self, store: ProjectionStore) -> None:
        self.store = store

    def over(self, tariffs: Tariffs, read_only: bool = False) -> Tariffs:
        """``tariffs`` with every stored table laid over them, oldest first (``read_only``: the table exists)."""
        with self.store.transaction(write=not read_only) as c:
            if not read_only:
                c.execute(_TABLE)
            c.execute("SELECT version, csv FROM tariff_tables ORDER BY loaded")
            rows = c.fetchall()
        for version, text in rows:
            tariffs = tariffs.with_table(TariffTable.from_csv(version, text, source=f"stored table {version}"))
        return tariffs

    def add(self, table: TariffTable, csv_text: str) -> None:
        """Store a table after the ones loaded before it."""
        with self.store.transaction(write=True) as c:
            c.execute(_TABLE)
            c.execute(
                "INSERT INTO tariff_tables (version, csv, loaded)"
                " SELECT ?, ?, COALESCE(MAX(loaded), 0) + 1 FROM tariff_tables",
                (table.version, csv_text),
            )
