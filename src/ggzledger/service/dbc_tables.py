"""The DBC tables users loaded, kept in the ledger's database beside the shipped ones (as tariff tables are)."""

from __future__ import annotations

from ggzledger.projections.store import ProjectionStore
from ggzledger.reference.dbc import DbcTable, DbcTables, shipped_dbc_tables
from ggzledger.service.tariff_storage import LoadedTexts

__all__ = ["StoredDbcTables", "TABLE_NAME"]

TABLE_NAME = "dbc_tables"


class StoredDbcTables:
    """Loaded DBC tables, stored as their CSV text in the order they were loaded (later ones win)."""

    def __init__(self, store: ProjectionStore) -> None:
        self.loaded = LoadedTexts(store, TABLE_NAME)

    def tables(self) -> DbcTables:
        """The shipped tables with every stored table laid over them, oldest first; creates nothing."""
        tables = shipped_dbc_tables()
        for version, text in self.loaded.texts(create=False):
            tables = tables.with_table(DbcTable.from_csv(version, text, source=f"stored DBC table {version}"))
        return tables

    def add(self, table: DbcTable, csv_text: str) -> bool:
        """Store a table after the ones loaded before it; False when the same table is there already.

        Raises TariffError when a different table has its version label (a shipped one included).
        """
        known = self.tables()
        if known.with_table(table) is known:
            return False
        self.loaded.append(table.version, csv_text)
        return True
