"""The ggzledger command line: one subcommand per task of the contract (entry point ``main``)."""

from __future__ import annotations

import os
import sqlite3
import sys
from collections.abc import Sequence

from eventsourcing.persistence import PersistenceError

from ggzledger.domain.errors import Refused
from ggzledger.domain.months import MonthOutOfRange, SpanTooLong
from ggzledger.interfaces.cli.console import UsageError
from ggzledger.interfaces.cli.parser import build_parser
from ggzledger.store import DEFAULT_DB, StoreError
from ggzledger.store.kek import KeyStoreError

__all__ = ["main", "build_parser"]


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status (docs/operations.md lists them)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    try:
        status = int(args.handler(args))
        # Flushed here, inside the handling below: a reader that left shows up now at the latest.
        sys.stdout.flush()
        return status
    except BrokenPipeError:
        # The reader went away (``| head``): that is its right, not an error. Whatever the command
        # did is done (a close stays closed); only the rest of its output has nowhere to go.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except (UsageError, StoreError, KeyStoreError, MonthOutOfRange, SpanTooLong) as error:
        return _fail(str(error), 2)
    except Refused as error:
        return _fail(str(error), 1)
    except sqlite3.DatabaseError as error:
        where = args.db or os.environ.get("GGZLEDGER_DB") or DEFAULT_DB
        return _fail(f"cannot use the database {where}: {error}", 2)
    except PersistenceError as error:
        return _fail(f"cannot use the database: {error}".splitlines()[0], 2)
    except KeyboardInterrupt:
        return 130


def _fail(message: str, status: int) -> int:
    print(f"ggzledger: {message}", file=sys.stderr)
    return status
