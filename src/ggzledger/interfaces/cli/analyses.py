"""The analyses' commands: read-only questions of the whole ledger (docs/analyses.md)."""

from __future__ import annotations

import argparse
import re
from pathlib import Path

from ggzledger.interfaces.cli.access import logged_read
from ggzledger.interfaces.cli.console import UsageError, open_ledger, print_json

__all__ = ["cmd_whatif", "cmd_dbc", "cmd_dbc_tables", "cmd_waiting", "cmd_regiobeeld"]


def cmd_whatif(args: argparse.Namespace) -> int:
    """A period's issued declarations re-priced under other tariffs, an uplift or other contracts; writes nothing."""
    from ggzledger.analyses.whatif import DIMENSIONS, WhatIfError, period, whatif
    from ggzledger.analyses.whatif_pricing import OtherContracts, OtherTables, Uplift, parse_percent
    from ggzledger.interfaces.text.whatif import render_whatif
    from ggzledger.reference.tariffs import TariffError

    try:
        period(args.month_from, args.month_to)
    except WhatIfError as error:
        raise UsageError(str(error)) from None
    if args.shift_years and not args.tariffs:
        raise UsageError("--shift-years goes with --tariffs")
    by = [dimension for given in args.by or [] for dimension in given.split(",")] or list(DIMENSIONS)
    for dimension in by:
        if dimension not in DIMENSIONS:
            raise UsageError(f"--by must be one of {', '.join(DIMENSIONS)}, got {dimension!r}")
    what = f"whatif {args.month_from} {args.month_to}"
    with open_ledger(args.db, catch_up=True) as ledger:
        alternative: Uplift | OtherTables | OtherContracts
        try:
            if args.uplift is not None:
                alternative = Uplift(parse_percent(args.uplift))
            elif args.tariffs:
                labels: list[str] = []
                for path in args.tariffs:
                    labels.append(_label(path, labels))
                files = [(label, _read(path), path) for label, path in zip(labels, args.tariffs, strict=True)]
                alternative = OtherTables.from_csv(files, args.shift_years)
            else:
                alternative = OtherContracts.from_jsonl(
                    _read(args.contract), args.contract, ledger.tariffs, ledger.today()
                )
        except (TariffError, ValueError) as error:
            raise UsageError(str(error)) from None
        # Logged as findings are: the unpriced lines name trajectories and their care (an activity on a
        # date). The breakdowns are sums, as totals are; a what-if with every line priced names no one.
        with logged_read(ledger, what, None) as read:
            result = whatif(ledger, args.month_from, args.month_to, alternative, by)
            read(sorted({u.trajectory for u in result.unpriced}))
    if args.json:
        print_json(result.to_json())
    else:
        print(render_whatif(result))
    return 0


def _read(path: str) -> str:
    try:
        return Path(path).read_text(encoding="utf-8-sig")
    except OSError as error:
        raise UsageError(f"cannot read {path}: {error.strerror}") from None
    except UnicodeDecodeError as error:
        raise UsageError(f"{path} is not UTF-8 text (byte {error.start + 1})") from None


def _label(path: str, taken: list[str]) -> str:
    # The table's label in the answer: the file's name without .csv, made an identifier; numbered when repeated.
    stem = re.sub(r"[^A-Za-z0-9._-]+", "-", Path(path).stem).strip("-") or "table"
    label, number = stem, 1
    while label in taken:
        number += 1
        label = f"{stem}~{number}"
    return label


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
    from ggzledger.domain.money import format_euro
    from ggzledger.reference.dbc import DbcTable
    from ggzledger.reference.tariffs import TariffError
    from ggzledger.service.dbc_tables import StoredDbcTables

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
        raise UsageError(
            f"{path} is not {shown} text (byte {error.start + 1}); from Excel on Windows: --encoding cp1252"
        ) from None


def cmd_waiting(args: argparse.Namespace) -> int:
    """Waiting times per trajectory (aanmeld-, behandel- and total wait) as of a date; writes nothing."""
    from datetime import date

    from ggzledger.analyses.waiting import waiting
    from ggzledger.interfaces.plots import PlotError, check_target, plot_waits
    from ggzledger.interfaces.text.waiting import render_waits
    from ggzledger.reference.treeknormen import load_treeknormen

    as_of = args.as_of or date.today()
    try:
        target = None if args.plot is None else check_target(args.plot)
    except PlotError as error:
        raise UsageError(str(error)) from None
    # A read of patients' care (their dates), logged as findings is.
    asked = {"--trajectory": args.trajectory, "--as-of": args.as_of}
    what = " ".join(["waiting", *(f"{option} {value}" for option, value in asked.items() if value)])
    with open_ledger(args.db, catch_up=True) as ledger, logged_read(ledger, what, args.trajectory) as read:
        waits = waiting(ledger, as_of, args.trajectory)
        read([w.trajectory for w in waits])
    if target is not None:
        plot_waits(waits, as_of, target)
    if args.json:
        norm = load_treeknormen().lookup(as_of)
        print_json(
            {
                "as_of": as_of.isoformat(),
                "treeknormen_days": {
                    "aanmeld": norm.aanmeld_days,
                    "behandel": norm.behandel_days,
                    "total": norm.total_days,
                },
                "trajectories": [{**w.to_json(), "waiting": w.waiting_on(as_of)} for w in waits],
            }
        )
    else:
        print(render_waits(waits, as_of))
    return 0


def cmd_regiobeeld(args: argparse.Namespace) -> int:
    """The regiobeeld as of a date, by region, care form and group; writes nothing, names no patient."""
    from ggzledger.analyses.regiobeeld import parse_by, regiobeeld
    from ggzledger.interfaces.plots import PlotError, check_target, plot_volume
    from ggzledger.interfaces.text.waiting import render_regiobeeld

    try:
        by = parse_by(args.by)
        target = None if args.plot is None else check_target(args.plot)
    except (ValueError, PlotError) as error:
        raise UsageError(str(error)) from None
    with open_ledger(args.db, catch_up=True) as ledger:
        beeld = regiobeeld(ledger, args.as_of, by)
    if target is not None:
        plot_volume(beeld, target)
    if args.json:
        print_json(beeld.to_json())
    else:
        print(render_regiobeeld(beeld))
    return 0
