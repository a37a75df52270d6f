"""Ingesting JSON lines: parse, judge in batches, report refusals by line number."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor

import attrs

from ggzledger.collector import fewer_collections
from ggzledger.domain.errors import Refused
from ggzledger.service.ledger import Ledger
from ggzledger.service.outcomes import Outcome
from ggzledger.service.records import Record, parse_line

__all__ = ["Summary", "ingest"]

# Records judged and stored per transaction: large enough to amortise the
# commit and the rewrite of the stream index's pages (each batch touches a
# page per trajectory), small enough that a conflict with another writer
# redoes little.
BATCH = 20_000
# On PostgreSQL a batch travels as one pipeline of large array parameters;
# psycopg's pure-Python implementation can hang on very large pipelines
# (psycopg issue 685), so batches there stay smaller.
POSTGRES_BATCH = 5_000


# Records stored in a transaction of their own, after everything before them is stored: a close
# covers the records before it, and a contract prices the activities after it (zpm.md Z5.4).
_OWN_TRANSACTION: dict[str, Callable[[Ledger, Record], Outcome]] = {
    "month_closed": Ledger.close_record,
    "contract_agreed": Ledger.contract_record,
}


@attrs.define
class Summary:
    """What an ingest did: records recorded, unchanged (repeats) and refused."""

    recorded: int = 0
    unchanged: int = 0
    refused: int = 0

    def __str__(self) -> str:
        return f"recorded {self.recorded}, unchanged {self.unchanged}, refused {self.refused}"


def ingest(
    ledger: Ledger,
    lines: Iterable[bytes | str],
    on_refused: Callable[[int, str], None],
    batch_size: int | None = None,
    on_batch: Callable[[int], None] | None = None,
) -> Summary:
    """Record every line in file order; ``on_refused(line_number, message)`` for each refusal.

    Blank lines are skipped. A ``month_closed`` record closes the months up to
    it after everything before it is stored, so it covers those records; a
    ``contract_agreed`` record is stored after them too, and prices the lines after it.
    ``on_batch(lines_read)`` is called after each stored batch (for progress).
    """
    if batch_size is None:
        batch_size = POSTGRES_BATCH if ledger.store.dialect == "postgresql" else BATCH
    summary = Summary()
    today = ledger.today()
    pending: list[tuple[int, Record | Refused]] = []
    read = 0

    def settle(number: int, outcome: Outcome | Refused) -> None:
        if isinstance(outcome, Refused):
            summary.refused += 1
            on_refused(number, str(outcome))
        elif outcome is Outcome.RECORDED:
            summary.recorded += 1
        elif outcome is Outcome.UNCHANGED:
            summary.unchanged += 1

    def flush() -> None:
        if pending:
            outcomes = ledger.record([item for _, item in pending], commit_in=committer)
            for (number, _), outcome in zip(pending, outcomes, strict=True):
                settle(number, outcome)
            pending.clear()
        if on_batch is not None:
            on_batch(read)

    # The commit of a batch (writing the log to disk) runs beside the parsing of the next
    # lines; record() and close_record() wait for it before they judge anything.
    with fewer_collections(), ThreadPoolExecutor(1, thread_name_prefix="ggzledger-commit") as committer:
        try:
            for number, line in enumerate(lines, start=1):
                read = number
                if number == 1:
                    # Spreadsheet exports often start with a byte-order mark; it is not data.
                    line = (
                        line.removeprefix(b"\xef\xbb\xbf") if isinstance(line, bytes) else line.removeprefix("\ufeff")
                    )
                if not line.strip():
                    continue
                try:
                    record: Record | Refused = parse_line(line, today)
                except Refused as refused:
                    record = refused
                if isinstance(record, Record) and record.type in _OWN_TRANSACTION:
                    flush()
                    try:
                        settle(number, _OWN_TRANSACTION[record.type](ledger, record))
                    except Refused as refused:
                        settle(number, refused)
                    continue
                pending.append((number, record))
                if len(pending) >= batch_size:
                    flush()
            flush()
        finally:
            # Whatever happened, the last batch's commit is over (or its error raised) on return.
            ledger.wait_for_commit()
    return summary
