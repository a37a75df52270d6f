"""Every row of a ledger's read models, for comparing the views that two ways of building them give."""

from __future__ import annotations

from typing import Any

from ggzledger import Ledger


def view_rows(ledger: Ledger) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every view table (billing_, history_, totals_ and the tracking positions), sorted."""
    with ledger.store.transaction(write=False) as c:
        if ledger.store.dialect == "sqlite":
            c.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        else:
            c.execute("SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")
        tables = sorted(
            name for (name,) in c.fetchall()
            if name.startswith(("billing_", "history_", "totals_")) or name == "projection_positions"
        )  # fmt: skip
        rows = {}
        for table in tables:
            c.execute(f"SELECT * FROM {table}")
            rows[table] = sorted((tuple(row) for row in c.fetchall()), key=repr)
    return rows
