"""The analyses' commands: read-only questions of the whole ledger (docs/analyses.md)."""

from __future__ import annotations

import argparse
from pathlib import Path

from ggzledger.interfaces.cli.access import logged_read
from ggzledger.interfaces.cli.console import UsageError, open_ledger, print_json

__all__ = ["cmd_dbc", "cmd_dbc_tables"]


def cmd_dbc(args: argparse.Namespace) -> int:
    """A trajectory (or every trajectory referred back in --month) under the DBC model beside its declarations."""
    from ggzledger.analyses.dbc_ledger import comparison, comparisons
    from ggzledger.interfaces.text.dbc import month_json, render_comparison, render_month

    if (args.trajectory is None) == (args.month is None):
        raise UsageError("dbc needs a TRAJECTORY or --month YYYY-MM (one of them)")
    # Logged as history is: the comparison shows a patient's care (minutes, stay days, diagnosis group).
    with open_ledger(args.db, catch_up=True) as ledger:
        if args.trajectory is not None:
            with logged_read(ledger, f"dbc {args.trajectory}", args.trajectory) as read:
                found = comparison(ledger, args.trajectory)
                read(found)
            if args.json:
                print_json(found.to_json())
            else:
                print(render_comparison(found))
            return 0
        with logged_read(ledger, f"dbc --month {args.month}", None) as read:
            every = comparisons(ledger, args.month)
            read([c.trajectory for c in every])
    if args.json:
        print_json(month_json(args.month, every))
    else:
        print(render_month(args.month, every))
    return 0


def cmd_dbc_tables(args: argparse.Namespace) -> int:
    """List the DBC tables, or load one from a CSV file (docs/analyses.md)."""
    from ggzledger.analyses.dbc_tables import StoredDbcTables
    from ggzledger.domain.money import format_euro
    from ggzledger.reference.dbc import DbcTable
    from ggzledger.reference.tariffs import TariffError

    if args.action == "list":
        if args.file or args.version:
            raise UsageError("dbc-tables list takes no FILE or --version")
        with open_ledger(args.db) as ledger:
            tables = StoredDbcTables(ledger.store).tables()
        for table in tables.tables:
            for row in table.rows:
                what = "stay day" if row.product == "stay" else f"{row.diagnosis_group} {row.band}"
                until = row.valid_to.isoformat() if row.valid_to else "(open)"
                print(f"{table.version}  {what:<24}  {row.description:<28}  {format_euro(row.amount):>12}"
                      f"  {row.valid_from.isoformat()} .. {until}")  # fmt: skip
        return 0
    if not args.file or not args.version:
        raise UsageError("dbc-tables load needs FILE and --version LABEL")
    text = _read_csv(args.file, args.encoding)
    with open_ledger(args.db, create=True) as ledger:
        try:
            table = DbcTable.from_csv(args.version, text, source=args.file)
            added = StoredDbcTables(ledger.store).add(table, text)
        except TariffError as error:
            raise UsageError(str(error)) from None
    rows = f"{len(table.rows)} {'row' if len(table.rows) == 1 else 'rows'}"
    print(f"{'loaded' if added else 'already loaded:'} DBC table {table.version}: {rows}")
    return 0


def _read_csv(path: str, encoding: str) -> str:
    try:
        return Path(path).read_text(encoding=encoding)
    except OSError as error:
        raise UsageError(f"cannot read {path}: {error.strerror}") from None
    except UnicodeDecodeError as error:
        shown = "UTF-8" if encoding == "utf-8-sig" else encoding
        raise UsageError(f"{path} is not {shown} text (byte {error.start + 1}); from Excel on Windows: --encoding cp1252") from None
