"""The DBC tables users loaded, kept in the ledger's database beside the shipped ones (as tariff tables are)."""

from __future__ import annotations

from typing import Any

from ggzledger.projections.store import ProjectionStore
from ggzledger.reference.dbc import DbcTable, DbcTables, shipped_dbc_tables

__all__ = ["StoredDbcTables", "TABLE"]

# DBC tables that users loaded, in the order they were loaded (later ones win, like tariff tables).
TABLE = "CREATE TABLE IF NOT EXISTS dbc_tables (version TEXT PRIMARY KEY, csv TEXT NOT NULL, loaded INTEGER NOT NULL)"


class StoredDbcTables:
    """Loaded DBC tables, stored as their CSV text in the order they were loaded."""

    def __init__(self, store: ProjectionStore) -> None:
        self.store = store

    def tables(self) -> DbcTables:
        """The shipped tables with every stored table laid over them, oldest first; creates nothing."""
        tables = shipped_dbc_tables()
        with self.store.transaction(write=False) as c:
            if not self._exists(c):
                return tables
            c.execute("SELECT version, csv FROM dbc_tables ORDER BY loaded")
            rows = c.fetchall()
        for version, text in rows:
            tables = tables.with_table(DbcTable.from_csv(version, text, source=f"stored DBC table {version}"))
        return tables

    def add(self, table: DbcTable, csv_text: str) -> bool:
        """Store a table after the ones loaded before it; False when the same table is there already.

        Raises TariffError when a different table has its version label (a shipped one included).
        """
        known = self.tables()
        if known.with_table(table) is known:
            return False
        with self.store.transaction(write=True) as c:
            c.execute(TABLE)
            c.execute(
                "INSERT INTO dbc_tables (version, csv, loaded) SELECT ?, ?, COALESCE(MAX(loaded), 0) + 1 FROM dbc_tables",
                (table.version, csv_text),
            )
        return True

    def _exists(self, c: Any) -> bool:
        # A read creates nothing: before the first load there is no table to read.
        if self.store.dialect == "postgresql":
            c.execute("SELECT to_regclass('dbc_tables') IS NOT NULL")
        else:
            c.execute("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'dbc_tables'")
        return bool(c.fetchone()[0])
