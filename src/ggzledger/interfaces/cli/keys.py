"""The commands of the key store: erase, reconcile-erasures, rotate-kek, seal (docs/sealing.md)."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ggzledger.interfaces.cli.console import (
    UsageError,
    bring_up_to_date,
    check_store,
    counted,
    open_ledger,
    print_json,
)

__all__ = ["add_commands", "cmd_erase", "cmd_reconcile_erasures", "cmd_rotate_kek", "cmd_seal"]

Command = Callable[..., argparse.ArgumentParser]


def add_commands(command: Command, json_flag: Callable[[argparse.ArgumentParser], None]) -> None:
    """Add the key store's commands to the parser (through the parser's own ``command``)."""
    sub = command(
        "erase",
        cmd_erase,
        "erase a patient's personal data: destroy the data key, record personal_data_erased (docs/sealing.md)",
        "ggzledger erase P-12345 --basis AVG17 --dry-run",
        "ggzledger erase P-12345 --basis WGBO455",
        note="Codes, amounts and dates stay (fiscal retention); declarations, totals and verify are unchanged.",
    )
    sub.add_argument("patient", metavar="PATIENT", help="the patient id as the input records gave it")
    sub.add_argument(
        "--basis", required=True, choices=("AVG17", "WGBO455"), help="AVG17 (GDPR art. 17) or WGBO455 (art. 7:455 BW)"
    )
    sub.add_argument("--dry-run", action="store_true", help="say what would be erased; change nothing")
    json_flag(sub)
    sub = command(
        "reconcile-erasures",
        cmd_reconcile_erasures,
        "after a key-store restore (or an interrupted erase): erase again what the log says was erased",
        "ggzledger reconcile-erasures",
    )
    json_flag(sub)
    command(
        "rotate-kek",
        cmd_rotate_kek,
        "wrap every data key again under a new KEK, in one transaction",
        "ggzledger rotate-kek new.kek",
        note="NEW_KEK_FILE holds the new KEK (base64 of 32 bytes); a missing file is made (0600) with a new one.\n"
        "Give it as GGZLEDGER_KEK_FILE from then on, unless the KEK was the generated file beside the key\n"
        "store: that file then gets the new KEK. Destroy the old KEK once no key-store backup needs it.",
    ).add_argument("new_kek_file", metavar="NEW_KEK_FILE", help="a file with the new KEK, made if missing")
    command(
        "seal",
        cmd_seal,
        "copy a plain ledger (recorded before sealing) into a new sealed one: same positions, versions, times",
        "ggzledger --db old.db seal --into sealed.db",
        note="The old ledger is left as it is: destroying it (and its backups) is the operator's (docs/sealing.md).",
    ).add_argument("--into", required=True, metavar="NEW", help="the new ledger: a SQLite path or postgresql:// URL")


def cmd_erase(args: argparse.Namespace) -> int:
    """Erase a patient's personal data, or with --dry-run say what that would erase."""
    from ggzledger.service.erasure import erase

    with open_ledger(args.db) as ledger:
        receipt = erase(ledger, args.patient, args.basis, dry_run=args.dry_run)
    if args.json:
        print_json(receipt.to_json())
        return 0
    verb = "would erase" if receipt.dry_run else "erased"
    print(
        f"{verb} subject {receipt.subject} ({receipt.basis}) at {receipt.erased_at.isoformat(timespec='seconds')}:"
        f" {counted(len(receipt.trajectories), 'trajectory', 'trajectories')}"
    )
    for number in receipt.trajectories:
        print(f"  {number}")
    return 0


def cmd_reconcile_erasures(args: argparse.Namespace) -> int:
    """Delete again the keys the log says are erased; record the erasures a killed erase left unrecorded."""
    from ggzledger.service.erasure import reconcile_erasures

    with open_ledger(args.db) as ledger:
        done = reconcile_erasures(ledger)
    if args.json:
        print_json(done.to_json())
    else:
        print(
            f"{counted(done.subjects, 'erased subject')}: {counted(done.keys_deleted, 'data key')} deleted again,"
            f" {counted(done.tombstones_written, 'tombstone')} written again,"
            f" {counted(done.erasures_recorded, 'erasure')} recorded"
        )
    return 0


def cmd_rotate_kek(args: argparse.Namespace) -> int:
    """Rewrap every data key under the KEK in NEW_KEK_FILE (made when missing)."""
    from ggzledger.service.erasure import key_store_of
    from ggzledger.store.kek import KEK_ENV, KEK_FILE_ENV, load_kek, new_kek_text

    path = Path(args.new_kek_file)
    if not path.exists():
        _write_private(path, new_kek_text() + "\n")
    with open_ledger(args.db) as ledger:
        keys = key_store_of(ledger)
        old = keys.kek
        new = _kek_from(path)
        if new.id == old.id:
            raise UsageError(f"{path} holds the KEK in use (id {old.id}): give a new one")
        data_keys, secrets = keys.rotate(new)
    default = not (os.environ.get(KEK_ENV) or os.environ.get(KEK_FILE_ENV))
    if default and Path(old.source).exists():
        # The generated KEK beside the key store: it gets the new key, so nothing needs configuring.
        temporary = Path(old.source + ".new")
        _write_private(temporary, path.read_text("ascii"), say=False)
        temporary.replace(old.source)
        load_kek(Path(old.source))  # reads back what was written: a torn write shows now, not at the next read
        where = f"{old.source} now holds it"
    else:
        where = f"give it as {KEK_FILE_ENV}={path} from now on"
    print(f"rewrapped {counted(data_keys, 'data key')} and {counted(secrets, 'secret')} from KEK {old.id} to {new.id};")
    print(f"{where}; destroy the old KEK once no key-store backup needs it")
    return 0


def cmd_seal(args: argparse.Namespace) -> int:
    """Copy a plain ledger into a new, sealed one."""
    from ggzledger.service.sealing import seal_into

    check_store(args.into, create=True)  # a mistyped NEW is named, not mistaken for --db
    with open_ledger(args.db) as ledger:
        copied = seal_into(ledger, args.into, progress=_bar())
        with open_ledger(args.into) as new:
            bring_up_to_date(new)
            new.projector.catch_up()
    print(f"sealed {counted(copied.events, 'event')} into {args.into} (head {copied.head});")
    print(f"{counted(copied.subjects, 'patient')} keyed; the old ledger is unchanged: destroy it when you are done")
    return 0


def _bar() -> Any:
    from ggzledger.interfaces.cli.console import position_bar

    return position_bar("sealing")


def _kek_from(path: Path) -> Any:
    from ggzledger.store.kek import KeyStoreError, kek_from_text

    try:
        lines = [line for line in path.read_text("ascii").splitlines() if line.strip()]
    except (OSError, UnicodeDecodeError) as error:
        raise UsageError(f"cannot read the new KEK in {path}: {getattr(error, 'strerror', error)}") from None
    if len(lines) != 1:
        raise UsageError(f"{path} must hold one line: the new KEK, base64 of 32 random bytes")
    try:
        return kek_from_text(lines[0], str(path))
    except KeyStoreError as error:
        raise UsageError(str(error)) from None


def _write_private(path: Path, text: str, say: bool = True) -> None:
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    except OSError as error:
        raise UsageError(f"cannot write {path}: {error.strerror}") from None
    try:
        os.fchmod(descriptor, 0o600)
        os.write(descriptor, text.encode())
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
    if say:
        print(f"ggzledger: wrote a new KEK to {path} (mode 0600)", file=sys.stderr)
