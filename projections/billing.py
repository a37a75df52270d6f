"""The billing read model: activities, clusterings and ends per trajectory, and the declarations issued."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

import orjson

from ggzledger.domain import BillingCalendar, Trajectory
from ggzledger.domain.months import month_of, months_between, next_month
from ggzledger.projections.bulk import SCRATCH, Put
from ggzledger.projections.closes import (
    CREDIT_WAITING,
    DEBIT_WAITING,
    ComputedClose,
    RecordedClose,
    compute_closes,
    last_digest,
    store_close,
)
from ggzledger.projections.declarations import line_minutes
from ggzledger.projections.erasure import purge
from ggzledger.projections.store import Cursor
from ggzledger.projections.view import Recorded, TableView
from ggzledger.reference import Catalogue
from ggzledger.store.sql import chunked, placeholders

__all__ = ["BillingView", "ComputedClose"]

_SCHEMA = (
    """CREATE TABLE IF NOT EXISTS billing_trajectories (
        trajectory TEXT PRIMARY KEY, patient TEXT, provider TEXT NOT NULL, insurer TEXT NOT NULL,
        region TEXT, referrer TEXT, opened_on TEXT NOT NULL, ended_on TEXT, ended_position BIGINT,
        declarations INTEGER NOT NULL DEFAULT 0, declared_total BIGINT NOT NULL DEFAULT 0,
        referral_type TEXT, referrer_agb TEXT, referral_date TEXT)""",
    """CREATE TABLE IF NOT EXISTS billing_clusterings (
        trajectory TEXT NOT NULL, position BIGINT NOT NULL, on_date TEXT NOT NULL, cluster INTEGER,
        PRIMARY KEY (trajectory, position))""",
    # What an erasure moves in the totals by cluster, group and supercluster (see purge): written
    # and read back within the transaction that applies the PersonalDataErased event.
    """CREATE TABLE IF NOT EXISTS billing_erased_moves (
        position BIGINT NOT NULL, dimension TEXT NOT NULL, key TEXT NOT NULL, total BIGINT NOT NULL,
        PRIMARY KEY (position, dimension, key))""",
    # Keyed by the position of the ActivityDelivered event: rows are appended in key order.
    # INTEGER PRIMARY KEY is SQLite's rowid itself, no index beside the table (BIGINT would
    # be one); the PostgreSQL store makes it BIGINT.
    """CREATE TABLE IF NOT EXISTS billing_activities (
        position INTEGER PRIMARY KEY, activity TEXT NOT NULL, trajectory TEXT NOT NULL, on_date TEXT NOT NULL,
        code TEXT NOT NULL, description TEXT NOT NULL, amount BIGINT NOT NULL, care_form TEXT,
        voided_position BIGINT, declared_month TEXT, credited_month TEXT)""",
    # The ZPM facts of activities recorded with a prestatie (zpm.md Z6.2), by the position of their
    # billing_activities row. A table beside it rather than columns in it: the v1 rows, most of a
    # ledger, stay as narrow as they were, and a rebuild copies them as before (see spill).
    """CREATE TABLE IF NOT EXISTS billing_prestaties (
        position INTEGER PRIMARY KEY, prestatie TEXT NOT NULL, practitioner TEXT, beroep TEXT, setting INTEGER,
        start TEXT, linked_activity TEXT, minutes INTEGER, max_amount BIGINT, price_basis TEXT)""",
    """CREATE TABLE IF NOT EXISTS billing_regiebehandelaars (
        trajectory TEXT NOT NULL, position BIGINT NOT NULL, on_date TEXT NOT NULL, practitioner TEXT NOT NULL,
        beroep TEXT NOT NULL, PRIMARY KEY (trajectory, position))""",
    # Privacy statements (signed 1) and their withdrawals (signed 0).
    """CREATE TABLE IF NOT EXISTS billing_privacy (
        trajectory TEXT NOT NULL, position BIGINT NOT NULL, on_date TEXT NOT NULL, signed INTEGER NOT NULL,
        PRIMARY KEY (trajectory, position))""",
    # Voids recorded during a rebuild, applied to billing_activities once it is indexed by activity.
    "CREATE TABLE IF NOT EXISTS billing_voids (activity TEXT PRIMARY KEY, position BIGINT NOT NULL)",
    """CREATE TABLE IF NOT EXISTS billing_declarations (
        trajectory TEXT NOT NULL, month TEXT NOT NULL, sequence INTEGER NOT NULL, total BIGINT NOT NULL,
        digest TEXT NOT NULL, body TEXT NOT NULL, PRIMARY KEY (trajectory, month))""",
    """CREATE TABLE IF NOT EXISTS billing_closes (
        month TEXT PRIMARY KEY, position BIGINT NOT NULL, up_to BIGINT NOT NULL, declarations INTEGER NOT NULL,
        total BIGINT NOT NULL, digest TEXT NOT NULL, computed_digest TEXT NOT NULL, recorded_at TEXT NOT NULL)""",
)
_INDEXES = (
    "CREATE UNIQUE INDEX IF NOT EXISTS billing_activities_by_id ON billing_activities (activity)",
    # What the next close must look at: undeclared activities up to the month's end (with the
    # trajectory, so that a draft of one finds its lines in the index), and declared ones voided since.
    f"CREATE INDEX IF NOT EXISTS billing_pending_debits ON billing_activities (on_date, trajectory)"
    f" WHERE {DEBIT_WAITING}",
    f"CREATE INDEX IF NOT EXISTS billing_pending_credits ON billing_activities (voided_position)"
    f" WHERE {CREDIT_WAITING}",
    "CREATE INDEX IF NOT EXISTS billing_declarations_by_month ON billing_declarations (month, trajectory)",
)
_TABLES = (
    "billing_trajectories",
    "billing_clusterings",
    "billing_activities",
    "billing_prestaties",
    "billing_regiebehandelaars",
    "billing_privacy",
    "billing_voids",
    "billing_declarations",
    "billing_closes",
    "billing_erased_moves",
)


# Rows gathered by kind, and the fields of the RecordedClose that ends them (None: the end of the
# events). Plain dicts, lists and tuples: a page prepared in another process is sent by marshal.
Segment = tuple[dict[str, Any], tuple[Any, ...] | None]


# The statements of gathered rows, in the order they are written.
_STATEMENTS = {
    "opened": "INSERT INTO billing_trajectories (trajectory, patient, provider, insurer, region, referrer, opened_on,"
    " referral_type, referrer_agb, referral_date) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    "clustered": "INSERT INTO billing_clusterings (trajectory, position, on_date, cluster) VALUES (?, ?, ?, ?)",
    "delivered": "INSERT INTO billing_activities (position, activity, trajectory, on_date, code, description, amount,"
    " care_form) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
    "prestatie": "INSERT INTO billing_prestaties (position, prestatie, practitioner, beroep, setting, start,"
    " linked_activity, minutes, max_amount, price_basis) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    "regiebehandelaar": "INSERT INTO billing_regiebehandelaars (trajectory, position, on_date, practitioner, beroep)"
    " VALUES (?, ?, ?, ?, ?)",
    "privacy": "INSERT INTO billing_privacy (trajectory, position, on_date, signed) VALUES (?, ?, ?, ?)",
    "referred": "UPDATE billing_trajectories SET ended_on = ?, ended_position = ? WHERE trajectory = ?",
    "voided": "UPDATE billing_activities SET voided_position = ? WHERE activity = ?",
}
# The kinds of rows a segment gathers: those with a statement, then the erasures (applied after them).
_KINDS = (*_STATEMENTS, "erased")
_VOID_LATER = "INSERT INTO billing_voids (position, activity) VALUES (?, ?)"
# Delivered rows a rebuild's child put in the page's scratch database (see spill), copied over.
_COPY_DELIVERED = (
    "INSERT INTO billing_activities (position, activity, trajectory, on_date, code, description, amount, care_form)"
    f" SELECT c0, c1, c2, c3, c4, c5, c6, c7 FROM {SCRATCH}.{{}} WHERE seq BETWEEN ? AND ?"
)
_MONTH_CLOSED = BillingCalendar.MonthClosed.TOPIC
_PRESTATIE_DELIVERED = Trajectory.PrestatieDelivered.TOPIC
_ERASED = Trajectory.PersonalDataErased.TOPIC


# States of events recorded before a field existed lack it: the new fields are read with get().
def _opened(position: int, s: dict[str, Any]) -> tuple[Any, ...]:
    return (
        s["trajectory"], s["patient"], s["provider"], s["insurer"], s["region"], s["referrer"], s["opened_on"],
        s.get("referral_type"), s.get("referrer_agb"), s.get("referral_date"),
    )  # fmt: skip


def _clustered(position: int, s: dict[str, Any]) -> tuple[Any, ...]:
    return (s["trajectory"], position, s["on"], s["cluster"])


def _delivered(position: int, s: dict[str, Any]) -> tuple[Any, ...]:
    return (position, s["activity"], s["trajectory"], s["on"], s["code"], s["description"], s["amount"], s["care_form"])


def _prestatie(position: int, s: dict[str, Any]) -> tuple[Any, ...]:
    prestatie = s["prestatie"]
    minutes = line_minutes(prestatie, s.get("minutes"), s.get("effective_minutes"))
    return (
        position, prestatie, s.get("practitioner"), s.get("beroep"), s.get("setting"), s.get("start"),
        s.get("linked_activity"), minutes, s.get("max_amount"), s.get("price_basis"),
    )  # fmt: skip


def _regiebehandelaar(position: int, s: dict[str, Any]) -> tuple[Any, ...]:
    return (s["trajectory"], position, s["on"], s["practitioner"], s["beroep"])


def _referred(position: int, s: dict[str, Any]) -> tuple[Any, ...]:
    return (s["on"], position, s["trajectory"])


def _voided(position: int, s: dict[str, Any]) -> tuple[Any, ...]:
    return (position, s["activity"])


# For each topic, the kind of row it makes and how the row is made of its state.
_ROWS: dict[str, tuple[str, Any]] = {
    Trajectory.Opened.TOPIC: ("opened", _opened),
    Trajectory.Clustered.TOPIC: ("clustered", _clustered),
    Trajectory.Reviewed.TOPIC: ("clustered", _clustered),
    Trajectory.ActivityDelivered.TOPIC: ("delivered", _delivered),
    Trajectory.ReferredBack.TOPIC: ("referred", _referred),
    Trajectory.ActivityVoided.TOPIC: ("voided", _voided),
    Trajectory.RegiebehandelaarAssigned.TOPIC: ("regiebehandelaar", _regiebehandelaar),
    Trajectory.PrivacyStatementSigned.TOPIC: ("privacy", lambda position, s: (s["trajectory"], position, s["on"], 1)),
    Trajectory.PrivacyStatementWithdrawn.TOPIC: (
        "privacy",
        lambda position, s: (s["trajectory"], position, s["on"], 0),
    ),
}


class BillingView(TableView):
    """Keeps what the month close needs, so that a close reads pending lines instead of replaying.

    Rows carry the ledger position of the event they come from; a close as of
    position P considers only rows recorded by P, which is what makes a close
    reproducible while other writers keep recording.
    """

    name = "billing"
    # 6: personal columns may be NULL (an erased trajectory's), and the erasure's totals move.
    version = 6
    topics = frozenset(
        {
            Trajectory.Opened.TOPIC,
            Trajectory.Clustered.TOPIC,
            Trajectory.Reviewed.TOPIC,
            Trajectory.ActivityDelivered.TOPIC,
            Trajectory.PrestatieDelivered.TOPIC,
            Trajectory.RegiebehandelaarAssigned.TOPIC,
            Trajectory.PrivacyStatementSigned.TOPIC,
            Trajectory.PrivacyStatementWithdrawn.TOPIC,
            Trajectory.ActivityVoided.TOPIC,
            Trajectory.ReferredBack.TOPIC,
            Trajectory.PersonalDataErased.TOPIC,
            BillingCalendar.MonthClosed.TOPIC,
        }
    )
    schema = _SCHEMA
    indexes = _INDEXES
    tables = _TABLES

    def __init__(self, catalogue: Catalogue) -> None:
        self.catalogue = catalogue
        # Closes computed by the close command before it recorded them, keyed by
        # (month, up_to): applying their MonthClosed event stores them as they are.
        self._expected: dict[tuple[str, int], ComputedClose] = {}

    def __getstate__(self) -> dict[str, Any]:
        # A copy sent to another process prepares pages; it needs no expected closes.
        return {**self.__dict__, "_expected": {}}

    # Applying events.

    def prepare(self, events: Sequence[Recorded]) -> list[Segment]:
        """The rows the events add or change, cut at each month close (no database needed).

        Within a segment, new rows are written before the updates of rows (a void
        or a referral back always follows what it changes); a month close comes
        after the rows of every event before it and before any after it.
        """
        segments: list[Segment] = []
        gathered: dict[str, Any] = {kind: [] for kind in _KINDS}
        make = _ROWS
        for position, topic, state in events:
            found = make.get(topic)
            if found is not None:
                gathered[found[0]].append(found[1](position, state))
            elif topic == _MONTH_CLOSED:
                s = state
                close = (
                    position, s["month"], s["up_to"], s["declarations"], s["total"], s["digest"], s["timestamp"],
                    s.get("digest_form", 1),
                )  # fmt: skip
                segments.append((gathered, close))
                gathered = {kind: [] for kind in _KINDS}
            elif topic == _PRESTATIE_DELIVERED:
                # Its v1 row goes with the others (and is spilled with them in a rebuild); its ZPM
                # facts, when it has a prestatie (a legacy record with planned minutes has none), beside it.
                gathered["delivered"].append(_delivered(position, state))
                if state.get("prestatie") is not None:
                    gathered["prestatie"].append(_prestatie(position, state))
            elif topic == _ERASED:
                gathered["erased"].append((state["trajectory"], position, state.get("digests") or ()))
        segments.append((gathered, None))
        return segments

    def spill(self, segments: list[Segment], put: Put) -> list[Segment]:
        """Put each segment's delivered rows aside (four in five events of a ledger are deliveries)."""
        for gathered, _ in segments:
            if gathered["delivered"]:
                gathered["delivered"] = put("activities", gathered["delivered"])
        return segments

    def write(self, c: Cursor, segments: list[Segment]) -> None:
        """Write prepared segments inside the caller's transaction: rows with one executemany per statement."""
        self._write(c, segments, False)

    def write_bulk(self, c: Cursor, segments: list[Segment]) -> None:
        """As :meth:`write`, while rebuilding: voids wait until the table is indexed by activity."""
        self._write(c, segments, True)

    def _write(self, c: Cursor, segments: list[Segment], rebuilding: bool) -> None:
        # The months closed by these events: the totals view counts them after this write, from the
        # clusterings an erasure among them leaves, so that erasure has nothing of theirs to move.
        closed: set[str] = set()
        for gathered, close in segments:
            for kind, rows in gathered.items():
                if isinstance(rows, tuple):  # spilled: (table, first seq, last seq)
                    c.execute(_COPY_DELIVERED.format(rows[0]), rows[1:])
                elif kind == "erased":
                    for trajectory, position, digests in rows:
                        purge(c, trajectory, position, self.catalogue, counted_later=closed, digests=digests)
                elif rows:
                    # While rebuilding there is no index by activity yet: each update
                    # would read the whole table, so voids wait in billing_voids.
                    statement = _VOID_LATER if kind == "voided" and rebuilding else _STATEMENTS[kind]
                    c.executemany(statement, rows)
            if close is not None:
                self._month_closed(c, RecordedClose(*close), rebuilding)
                closed.add(close[1])

    def finish_rebuild(self, c: Cursor, prepared: Any = None) -> None:
        """Create the indexes a rebuild leaves out, and apply the voids it kept aside."""
        self._index(c)

    def _index(self, c: Cursor) -> None:
        """Create the indexes a rebuild leaves out, and apply the voids it kept aside until then."""
        self.create_indexes(c)
        c.execute(
            "UPDATE billing_activities SET voided_position ="
            " (SELECT v.position FROM billing_voids v WHERE v.activity = billing_activities.activity)"
            " WHERE activity IN (SELECT activity FROM billing_voids)"
        )
        c.execute("DELETE FROM billing_voids")

    def _month_closed(self, c: Cursor, close: RecordedClose, rebuilding: bool) -> None:
        if rebuilding:
            # A close reads pending lines by the indexes a rebuild leaves out until its end.
            self._index(c)
        result = self._expected.pop((close.month, close.up_to), None)
        # An expected close is used only when it is the very close recorded: another
        # process may have recorded a close of the same month first.
        if result is None or result.digest != close.digest:
            result = self.compute_closes(c, [close.month], close.up_to, form=close.digest_form)[0]
        store_close(c, close, result)

    # The month close.

    def expect_close(self, result: ComputedClose) -> None:
        """Remember a close computed before recording, so applying its event needs no recomputation."""
        self._expected[(result.month, result.up_to)] = result

    def forget_expected(self) -> None:
        """Drop expected closes whose recording failed."""
        self._expected.clear()

    def last_digest(self, c: Cursor) -> str | None:
        """The recorded digest of the latest close, or None before the first."""
        return last_digest(c)

    def closed_months(self, c: Cursor) -> list[str]:
        """The closed months, oldest first."""
        c.execute("SELECT month FROM billing_closes ORDER BY month")
        return [row[0] for row in c.fetchall()]

    def earliest_activity(self, c: Cursor) -> date | None:
        """The date of the earliest activity recorded, or None when there is none."""
        c.execute("SELECT MIN(on_date) FROM billing_activities")
        row = c.fetchone()
        return None if row is None or row[0] is None else date.fromisoformat(row[0])

    def months_to_close(self, c: Cursor, last_closed: str | None, month: str) -> list[str]:
        """The months that closing (or drafting) up to ``month`` covers, oldest first.

        Those after ``last_closed``; before the first close, from the month of the
        earliest activity (or ``month`` itself, if that comes first or there is none).
        Empty when ``month`` is closed already. Raises SpanTooLong for more months
        than months_between allows.
        """
        if last_closed is not None:
            return list(months_between(next_month(last_closed), month)) if last_closed < month else []
        earliest = self.earliest_activity(c)
        first = min(month_of(earliest), month) if earliest is not None else month
        return list(months_between(first, month))

    def compute_closes(
        self,
        c: Cursor,
        months: Sequence[str],
        up_to: int,
        previous_digest: str | None = None,
        only: str | None = None,
        status: str = "issued",
        form: int = 2,
    ) -> list[ComputedClose]:
        """What closing ``months`` in order would issue as of ``up_to`` (:func:`closes.compute_closes`)."""
        return compute_closes(c, self.catalogue, months, up_to, previous_digest, only, status, form)

    # Reading declarations.

    def declaration(self, c: Cursor, trajectory: str, month: str) -> dict[str, Any] | None:
        """An issued declaration in the contract's JSON shape, or None."""
        c.execute(
            "SELECT body, digest FROM billing_declarations WHERE trajectory = ? AND month = ?", (trajectory, month)
        )
        row = c.fetchone()
        return None if row is None else _with_digest(row)

    def declarations(self, c: Cursor, month: str) -> list[dict[str, Any]]:
        """Every issued declaration of a month, in trajectory order."""
        c.execute("SELECT body, digest FROM billing_declarations WHERE month = ? ORDER BY trajectory", (month,))
        return [_with_digest(row) for row in c.fetchall()]

    def recorded(self, c: Cursor, trajectory: str, month: str) -> tuple[dict[str, Any], str] | None:
        """The declaration stored at the close of ``month`` as it was stored (no digest in it), and its
        recorded digest; None when that close issued the trajectory none. What an audit compares."""
        c.execute(
            "SELECT body, digest FROM billing_declarations WHERE trajectory = ? AND month = ?", (trajectory, month)
        )
        row = c.fetchone()
        return None if row is None else (orjson.loads(row[0]), row[1])

    def recorded_month(self, c: Cursor, month: str) -> dict[str, tuple[str, str]]:
        """Every declaration stored at the close of ``month``: trajectory -> (recorded digest, stored JSON)."""
        c.execute("SELECT trajectory, digest, body FROM billing_declarations WHERE month = ?", (month,))
        return {row[0]: (row[1], row[2]) for row in c.fetchall()}

    def unreproduced(self, c: Cursor) -> list[str]:
        """The closed months whose recomputed chained digest differs from the one their close recorded."""
        c.execute("SELECT month FROM billing_closes WHERE digest <> computed_digest ORDER BY month")
        return [row[0] for row in c.fetchall()]

    def closes_between(self, c: Cursor, first: str, last: str) -> list[tuple[str, int]]:
        """(month, up_to) of every closed month from ``first`` through ``last``, oldest first."""
        c.execute(
            "SELECT month, up_to FROM billing_closes WHERE month >= ? AND month <= ? ORDER BY month", (first, last)
        )
        return [(month, up_to) for month, up_to in c.fetchall()]

    def activity_parties(self, c: Cursor, activities: Sequence[str]) -> dict[str, tuple[int, str, str]]:
        """activity -> (position of its delivery event, provider, insurer of its trajectory), for those recorded."""
        found: dict[str, tuple[int, str, str]] = {}
        for chunk in chunked(sorted(set(activities))):
            c.execute(
                "SELECT a.activity, a.position, t.provider, t.insurer FROM billing_activities a"
                " JOIN billing_trajectories t ON t.trajectory = a.trajectory"
                f" WHERE a.activity IN ({placeholders(len(chunk))})",
                chunk,
            )
            found.update(
                (activity, (position, provider, insurer)) for activity, position, provider, insurer in c.fetchall()
            )
        return found

    def has_trajectory(self, c: Cursor, trajectory: str) -> bool:
        """True when the trajectory was opened."""
        c.execute("SELECT 1 FROM billing_trajectories WHERE trajectory = ?", (trajectory,))
        return c.fetchone() is not None


def _with_digest(row: Sequence[Any]) -> dict[str, Any]:
    body: dict[str, Any] = orjson.loads(row[0])
    body["digest"] = row[1]
    return body
