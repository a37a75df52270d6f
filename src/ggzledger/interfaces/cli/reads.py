"""The commands that read: declarations, the auditor's reports, verify and rebuild."""

from __future__ import annotations

import argparse
import sys
import time
from typing import Any

from ggzledger.interfaces.cli.access import logged_read
from ggzledger.interfaces.cli.console import UsageError, open_ledger, position_bar, print_json, print_listing
from ggzledger.interfaces.text.declaration import render_declaration

__all__ = [
    "cmd_invoice", "cmd_invoices", "cmd_history", "cmd_reviews", "cmd_totals", "cmd_audit", "cmd_verify",
    "cmd_rebuild", "cmd_findings",
]  # fmt: skip


def cmd_invoice(args: argparse.Namespace) -> int:
    """One declaration, as a zorgnota or as JSON; exit 1 when there is none."""
    with (
        open_ledger(args.db, catch_up=True) as ledger,
        logged_read(ledger, f"invoice {args.trajectory} {args.month}", args.trajectory) as read,
    ):
        declaration = ledger.declaration(args.trajectory, args.month)
        read(declaration)
    if declaration is None:
        print(f"ggzledger: trajectory {args.trajectory} has no declaration for {args.month}", file=sys.stderr)
        return 1
    if args.json:
        print_json(declaration)
    else:
        print(render_declaration(declaration))
    return 0


def cmd_invoices(args: argparse.Namespace) -> int:
    """Every declaration of a month."""
    with open_ledger(args.db, catch_up=True) as ledger, logged_read(ledger, f"invoices {args.month}", None) as read:
        declarations = ledger.declarations(args.month)
        read([declaration["trajectory"] for declaration in declarations])
    if args.json:
        print_json(declarations)
        return 0
    if not declarations:
        print(f"no declarations for {args.month}")
    for declaration in declarations:
        print(render_declaration(declaration))
        print()
    return 0


def cmd_history(args: argparse.Namespace) -> int:
    """A trajectory's care-need history with its findings."""
    from ggzledger.audit.reports import history
    from ggzledger.interfaces.text.audit import render_history

    with (
        open_ledger(args.db, catch_up=True) as ledger,
        logged_read(ledger, f"history {args.trajectory}", args.trajectory) as read,
    ):
        entries = history(ledger, args.trajectory)
        read(entries)
        catalogue = ledger.catalogue
    if args.json:
        print_json({"trajectory": args.trajectory, "entries": [entry.to_json() for entry in entries]})
    else:
        print(render_history(args.trajectory, entries, catalogue))
    return 0


def cmd_reviews(args: argparse.Namespace) -> int:
    """The review worklist."""
    from ggzledger.audit.reports import worklist
    from ggzledger.interfaces.text.audit import render_worklist

    with open_ledger(args.db, catch_up=True) as ledger:
        as_of = args.as_of or ledger.today()
        rows = worklist(ledger, as_of)
    if args.json:
        print_json({"as_of": as_of.isoformat(), "rows": [row.to_json() for row in rows]})
    else:
        print(render_worklist(as_of, rows))
    return 0


def cmd_totals(args: argparse.Namespace) -> int:
    """Cumulative totals by one dimension."""
    from ggzledger.audit.reports import totals
    from ggzledger.interfaces.text.audit import render_totals

    with open_ledger(args.db, catch_up=True) as ledger:
        result = totals(ledger, args.by, drafts=args.drafts)
    if args.json:
        print_json(result.to_json())
    else:
        print(render_totals(result))
    return 0


def cmd_audit(args: argparse.Namespace) -> int:
    """Reconstruct an issued declaration from the log and compare; exit 1 when they differ."""
    from ggzledger.audit.reconstruction import NotIssued, audit
    from ggzledger.interfaces.text.audit import render_audit

    # The reconstruction shows the patient's declaration: a read of their data, logged as invoice is.
    with (
        open_ledger(args.db) as ledger,
        logged_read(ledger, f"audit {args.trajectory} {args.month}", args.trajectory) as read,
    ):
        try:
            result = audit(ledger, args.trajectory, args.month)
        except NotIssued as error:
            raise UsageError(str(error)) from None
        read(result.recorded or result.reconstructed)
    print(render_audit(result))
    return 0 if result.equal and result.reconstructed is not None else 1


def cmd_findings(args: argparse.Namespace) -> int:
    """The findings for the insurer's material check (zpm.md Z8); exit 0 whether or not there are any."""
    from ggzledger.audit.findings import findings

    # A trajectory never opened is refused (exit 1), as for history. Logged as GET /findings is: a
    # finding tells of a patient's care (a consult, a stay), so it is a read of the patient's data.
    asked = {"--trajectory": args.trajectory, "--month": args.month}
    what = " ".join(["findings", *(f"{option} {value}" for option, value in asked.items() if value)])
    with open_ledger(args.db) as ledger, logged_read(ledger, what, args.trajectory) as read:
        rows = findings(ledger, trajectory=args.trajectory, month=args.month)
        read([row["trajectory"] for row in rows])
    print_listing(rows, args.json, _finding_line, "finding")
    return 0


def _finding_line(row: dict[str, Any]) -> str:
    return f"{row['trajectory']}  {row['date']}  {row['activity']}  {row['code']}  {row['finding']}: {row['detail']}"


def cmd_verify(args: argparse.Namespace) -> int:
    """Recompute every close and its digest chain; exit 1 naming what differs."""
    from ggzledger.audit.verification import verify
    from ggzledger.interfaces.text.audit import render_verification
    from ggzledger.store.chain import AnchorError, read_anchors

    anchors = list(args.anchor)
    if args.anchors is not None:
        try:
            anchors += read_anchors(args.anchors)
        except AnchorError as error:
            raise UsageError(str(error)) from None
    with open_ledger(args.db) as ledger, position_bar("verify") as bar:
        result = verify(ledger, bar, anchors)
    print(render_verification(result))
    return 0 if result.ok else 1


def cmd_rebuild(args: argparse.Namespace) -> int:
    """Drop every view and rebuild it from position 0; exit 1 when a close is no longer reproduced."""
    from ggzledger.service.rebuild import rebuild

    with open_ledger(args.db) as ledger, position_bar("rebuild") as bar:
        started = time.perf_counter()
        result = rebuild(ledger, bar)
        took = time.perf_counter() - started
    rate = f" ({result.position / took:,.0f} events/s)" if took > 0 and result.position else ""
    print(f"rebuilt every view from position 0 to {result.position} in {took:.1f} s{rate}")
    if result.unreproduced:
        print(
            f"ggzledger: the log no longer gives the declarations issued at the close of"
            f" {', '.join(result.unreproduced)}:"
            " a stored event was altered; run ggzledger verify",
            file=sys.stderr,
        )
        return 1
    return 0
