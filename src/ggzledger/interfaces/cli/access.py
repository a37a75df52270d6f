"""Who may read: the token commands, the access log, and the log rows of the command line's patient reads."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from ggzledger.audit.access_log import ALLOWED, NOT_FOUND, AccessLog, Entry, Row, entries, os_user
from ggzledger.domain.errors import UnknownTrajectory
from ggzledger.interfaces.cli.console import UsageError, counted, open_ledger, print_listing
from ggzledger.service.ledger import Ledger
from ggzledger.service.tokens import TokenError, TokenRow, Tokens

__all__ = ["cmd_token", "cmd_access_log", "log_read", "logged_read"]


def cmd_token(args: argparse.Namespace) -> int:
    """token add NAME --role ROLE (prints the token once), token revoke NAME, token list."""
    if args.action in ("add", "revoke") and not args.name:
        raise UsageError(f"token {args.action} needs a NAME (e.g. ggzledger token {args.action} billing-export)")
    if args.action == "add" and not args.role:
        raise UsageError("token add needs --role integrator, auditor or backoffice")
    with open_ledger(args.db, create=args.action == "add") as ledger:
        tokens = Tokens(ledger.store)
        if args.action == "add":
            # Made with the first token, so that a read-only role can be granted INSERT on it (docs/operations.md).
            AccessLog(ledger.store).create()
        try:
            if args.action == "add":
                token = tokens.add(args.name, args.role)
            elif args.action == "revoke":
                tokens.revoke(args.name)
            else:
                tokens.create()
                rows = tokens.rows()
        except TokenError as error:
            raise UsageError(str(error)) from None
    if args.action == "add":
        print(token)
        print(f"token {args.name} ({args.role}) added: keep it now, it is stored only hashed", file=sys.stderr)
    elif args.action == "revoke":
        print(f"token {args.name} revoked")
    else:
        print_listing(rows, args.json, _token_line, "token", to_json=TokenRow.to_json)
    return 0


def _token_line(row: TokenRow) -> str:
    return f"{row.name}  {row.role}  created {row.created}  {'revoked ' + row.revoked if row.revoked else 'active'}"


def cmd_access_log(args: argparse.Namespace) -> int:
    """The access log, oldest first; --verify recomputes its chain (exit 1 naming the first bad row)."""
    with open_ledger(args.db) as ledger:
        log = AccessLog(ledger.store)
        log.create()
        if args.verify or args.anchor:
            broken = log.verify()
            if broken.id is not None:
                print(
                    f"ggzledger: the access log is broken at row {broken.id}: it was altered, or a row before it"
                    f" was inserted or deleted ({counted(broken.rows, 'row')} before it verify)",
                    file=sys.stderr,
                )
                return 1
            print(f"access log verified: {counted(broken.rows, 'row')}, each chained to the one before")
            if broken.head is not None:
                # Kept with the ledger's anchors, it shows later that no row was removed from the end.
                print(f"access-log anchor {broken.rows} {broken.head}")
            missed = [kept for kept in args.anchor if kept[1] != log.hash_of(kept[0])]
            for rows, digest in missed:
                print(f"ggzledger: the access log no longer passes through anchor {rows} {digest}", file=sys.stderr)
            return 1 if missed else 0
        rows = log.rows(args.trajectory, args.since)
    print_listing(rows, args.json, _access_line, "access", "accesses", to_json=Row.to_json)
    return 0


def _access_line(row: Row) -> str:
    return f"{row.id}  {row.at}  {row.who}  {row.outcome}  {row.trajectory or '-'}  {row.what}"


def access_anchor(text: str) -> tuple[int, str]:
    """An access-log anchor ``ROWS:HASH`` (as ``access-log --verify`` prints it); ValueError otherwise."""
    rows, colon, digest = text.partition(":")
    if not colon or not rows.isdigit() or len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
        raise ValueError(f"not an access-log anchor ROWS:HASH (64 hex digits): {text[:80]!r}")
    return int(rows), digest


def log_read(ledger: Ledger, what: str) -> None:
    """Log a command's read of every patient's data at once (``os:USER``; no trajectory named)."""
    log = AccessLog(ledger.store)
    log.create()
    log.append(entries(os_user(), what, [], ALLOWED))


@contextmanager
def logged_read(ledger: Ledger, what: str, asked: str | None) -> Iterator[Callable[[Any], None]]:
    """Log a command's read of a patient's data once it has read (``os:USER`` as who).

    The block calls the yielded function with the trajectories it read (for a command that
    names none), or with None when nothing was found. A trajectory never opened is logged
    as not found before UnknownTrajectory goes on.
    """
    log = AccessLog(ledger.store)
    log.create()
    who, rows = os_user(), []

    def read(found: Any) -> None:
        if asked is not None:
            rows.append(Entry(who, what, asked, ALLOWED if found is not None else NOT_FOUND))
        elif found:
            rows.extend(entries(who, what, found, ALLOWED))

    try:
        yield read
    except UnknownTrajectory:
        log.append([Entry(who, what, asked, NOT_FOUND)])
        raise
    log.append(rows)
