"""ggzledger export: a closed month's declarations as an insurer's claim message (GDS801) or a FHIR bundle."""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

from ggzledger.audit.access_log import ALLOWED, AccessLog, entries, os_user
from ggzledger.exports.claiming import ClaimRefused, prepare, record
from ggzledger.exports.fhir import export
from ggzledger.exports.fhir_json import decimal
from ggzledger.interfaces.cli.console import UsageError, counted, open_ledger

__all__ = ["cmd_export", "write_out", "FORMATS"]

FORMATS: dict[str, Callable[[argparse.Namespace], int]] = {}


def cmd_export(args: argparse.Namespace) -> int:
    """export FORMAT ...: dispatch to the format's own command."""
    return FORMATS[args.format](args)


def _gds801(args: argparse.Namespace) -> int:
    if args.insurer is None:
        raise UsageError("export gds801 needs --insurer UZOVI (the message goes to one insurer)")
    out = _checked_out(args.out)
    with open_ledger(args.db, catch_up=True) as ledger:
        try:
            claim = prepare(
                ledger, args.month, args.insurer, provider=args.provider, again=args.again,
                today=ledger.today(), test=args.test,
            )  # fmt: skip
        except ClaimRefused as refused:
            # Every broken rule, one line each, then the refusal: the message is not written.
            for violation in refused.violations:
                print(f"ggzledger: {violation}", file=sys.stderr)
            raise
        # The message holds the patients' BSN and birth dates, opened for it: a read of their data.
        log = AccessLog(ledger.store)
        log.create()
        what = f"export gds801 {args.month} {args.insurer}"
        log.append(entries(os_user(), what, list(claim.trajectories), ALLOWED))
        # Written, then recorded, then put in place: a failed record leaves no file that claims to be sent.
        write_out(claim.xml, out, lambda: record(ledger, claim))
    export = claim.export
    print(
        f"message {export.message}: {export.lines} lines, total {export.total / 100:.2f} EUR"
        f" to insurer {export.insurer}{' (again)' if export.again else ''}" + (f", written to {out}" if out else ""),
        file=sys.stderr,
    )
    return 0


FORMATS["gds801"] = _gds801


def _fhir(args: argparse.Namespace) -> int:
    given = [flag for flag, value in (("--insurer", args.insurer), ("--provider", args.provider),
             ("--again", args.again), ("--test", args.test)) if value]  # fmt: skip
    if given:
        raise UsageError(
            f"export fhir takes no {', '.join(given)}: the bundle holds every declaration of the month and is"
            " no claim sent (those flags are gds801's)"
        )
    out = _checked_out(args.out)
    with open_ledger(args.db, catch_up=True) as ledger:
        bundle = export(ledger, args.month)
        # The bundle names the patients (BSN or member number), opened for it: a read of their data.
        # Nothing else is recorded: a FHIR bundle is not a claim sent to an insurer.
        log = AccessLog(ledger.store)
        log.create()
        log.append(entries(os_user(), f"export fhir {args.month}", list(bundle.trajectories), ALLOWED))
        write_out(bundle.json, out, lambda: None)
    print(
        f"bundle {bundle.month}: {counted(bundle.invoices, 'invoice')}, {counted(bundle.charge_items, 'charge item')},"
        f" {counted(bundle.claims, 'claim')}, total {decimal(bundle.total)} EUR"
        + (f", written to {out}" if out else ""),
        file=sys.stderr,
    )
    return 0


FORMATS["fhir"] = _fhir


def _checked_out(out: str | None) -> Path | None:
    """--out: a new file in an existing directory; an existing file is never overwritten (it may have been sent)."""
    if out is None:
        return None
    path = Path(out)
    if path.exists():
        raise UsageError(f"--out {out} exists: a written export is not overwritten; choose another name")
    if not path.parent.is_dir():
        raise UsageError(f"--out {out}: the directory {path.parent} does not exist")
    return path


def write_out(data: bytes, out: Path | None, then: Callable[[], None]) -> None:
    """Write ``data`` to ``out`` (standard output when None), calling ``then`` before it is in place.

    To a file: into a temporary file beside it, synced, ``then``, and linked into place, so that the
    file appears only once ``then`` succeeded; it is readable by its owner only (it holds BSNs). A
    directory that cannot be written is a UsageError before ``then``; a link that fails after it keeps
    the temporary file and names it. To standard output: written, then ``then``.
    """
    if out is None:
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
        then()
        return
    temporary = ""
    try:
        handle, temporary = tempfile.mkstemp(prefix=f".{out.name}.", dir=out.parent)
        with os.fdopen(handle, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
    except OSError as error:
        if temporary:
            Path(temporary).unlink(missing_ok=True)
        raise UsageError(f"--out {out}: cannot write there: {error.strerror}; nothing was recorded") from None
    keep = False
    try:
        then()
        # A link, not a rename: it fails rather than replace a file that appeared meanwhile.
        try:
            os.link(temporary, out)
        except OSError as error:
            keep = True
            raise UsageError(
                f"the export was recorded, but the message could not be put at {out} ({error.strerror});"
                f" it is in {temporary}"
            ) from None
    finally:
        if not keep:
            Path(temporary).unlink(missing_ok=True)
