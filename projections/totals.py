"""Cumulative totals of issued declarations (rules.md §6): one running sum per dimension and key."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from typing import Any

import attrs
import orjson

from ggzledger.domain import BillingCalendar, Trajectory
from ggzledger.projections.declarations import Clustering, in_force
from ggzledger.projections.store import Cursor
from ggzledger.projections.view import Recorded, TableView
from ggzledger.reference import Catalogue
from ggzledger.store.sql import chunked, placeholders

__all__ = [
    "DIMENSIONS", "CLUSTER_DIMENSIONS", "ERASED", "NONE", "PRIVACY", "UNCLUSTERED", "Parties", "TotalsView",
    "breakdown", "sort_rows",
]  # fmt: skip

DIMENSIONS = (
    "month", "insurer", "provider", "region", "cluster", "group", "supercluster", "care_form", "trajectory",
    "setting", "beroep", "prestatie",
)  # fmt: skip
"""What totals can be broken down by (the contract's DIM, and zpm.md Z7's setting, beroep and prestatie)."""

# The dimensions read from a ZPM line's own fields (zpm.md Z6.2); a line without one counts under ``none``.
_LINE_FIELDS = ("setting", "beroep", "prestatie")

NONE = "none"
"""The key of a region or care form that is absent."""

UNCLUSTERED = "unclustered"
"""The cluster, group and supercluster key of a line with no cluster in force on its date."""

PRIVACY = "privacy"
"""The cluster, group and supercluster key of a line on a declaration under a privacy statement (zpm.md Z6.4)."""

ERASED = "erased"
"""The cluster, group and supercluster key of a line whose cluster in force was erased with its patient's data."""

CLUSTER_DIMENSIONS = frozenset({"cluster", "group", "supercluster"})
"""The dimensions an erasure moves (the rest hold no personal data and stay as they are)."""

_SCHEMA = (
    """CREATE TABLE IF NOT EXISTS totals_by (
        dimension TEXT NOT NULL, key TEXT NOT NULL, total BIGINT NOT NULL, PRIMARY KEY (dimension, key))""",
)
_MONTH_CLOSED = BillingCalendar.MonthClosed.TOPIC
_ERASED = Trajectory.PersonalDataErased.TOPIC


@attrs.frozen
class Parties:
    """Who a trajectory's money goes between: its insurer, provider and region."""

    insurer: str
    provider: str
    region: str | None


Counts = Counter[tuple[str, str]]


def breakdown(
    declaration: Mapping[str, Any],
    parties: Parties,
    clusterings: Sequence[Clustering],
    care_forms: Mapping[str, str | None],
    catalogue: Catalogue,
) -> Counts:
    """What one declaration (contract JSON shape) adds to each (dimension, key).

    Every line counts once in every dimension: toward the declaration's month,
    the trajectory and its parties, the cluster in force on the line's own date
    (with its group and supercluster), and the activity's care form
    (``care_forms`` by activity id), and the setting, beroep and prestatie
    of a ZPM line. A line of a declaration under a privacy statement counts
    under ``privacy`` for cluster, group and supercluster. So every dimension
    sums to the declaration's total.
    """
    # Per line only the cluster, care form and ZPM fields vary; the rest adds up the declaration's total.
    by_cluster: dict[int | str | None, int] = {}
    by_form: dict[str, int] = {}
    # One sum per (setting, beroep, prestatie): a v1 line has none of them, so a v1 declaration has one.
    by_fields: dict[tuple[Any, Any, Any], int] = {}
    private = bool(declaration.get("privacy"))
    total = 0
    for line in declaration["lines"]:
        amount = line["amount"]
        total += amount
        code: int | str | None
        if private:
            code = PRIVACY
        else:
            shown = in_force(clusterings, date.fromisoformat(line["date"]))
            code = None if shown is None else ERASED if shown.cluster is None else shown.cluster
        by_cluster[code] = by_cluster.get(code, 0) + amount
        form = care_forms.get(line["activity"]) or NONE
        by_form[form] = by_form.get(form, 0) + amount
        fields = (line.get("setting"), line.get("beroep"), line.get("prestatie"))
        by_fields[fields] = by_fields.get(fields, 0) + amount
    counts: Counts = Counter()
    for key in (
        ("month", declaration["month"]),
        ("insurer", parties.insurer),
        ("provider", parties.provider),
        ("region", parties.region or NONE),
        ("trajectory", declaration["trajectory"]),
    ):
        counts[key] += total
    for code, amount in by_cluster.items():
        if code is None:
            cluster = group = supercluster = UNCLUSTERED
        elif isinstance(code, str):
            cluster = group = supercluster = code
        else:
            typed = catalogue.lookup(code)
            cluster, group, supercluster = str(typed.code), typed.group, typed.supercluster_key
        counts["cluster", cluster] += amount
        counts["group", group] += amount
        counts["supercluster", supercluster] += amount
    for form, amount in by_form.items():
        counts["care_form", form] += amount
    for fields, amount in by_fields.items():
        for dimension, value in zip(_LINE_FIELDS, fields, strict=True):
            counts[dimension, NONE if value is None else str(value)] += amount
    return counts


def sort_rows(rows: Iterable[tuple[str, int]]) -> list[tuple[str, int]]:
    """Rows in the order people read them: numbers by value, then text, ``none``/``privacy``/``unclustered`` last."""

    def order(row: tuple[str, int]) -> tuple[int, int, str]:
        key = row[0]
        if key in (NONE, PRIVACY, UNCLUSTERED, ERASED):
            return (2, 0, key)
        return (0, int(key), key) if key.isdigit() else (1, 0, key)

    return sorted(rows, key=order)


class TotalsView(TableView):
    """Keeps cumulative totals of issued declarations, one row per (dimension, key).

    Depends on the billing view, which the projector applies first in the same
    transaction: when a MonthClosed is applied, this view reads the
    declarations the billing view has just stored for that month, with the
    trajectories' parties, clusterings (as recorded by the close's ``up_to``)
    and care forms from the billing tables. Totals change only at a close, so
    they always agree with the declarations as issued.
    """

    name = "totals"
    # 2: the setting, beroep and prestatie dimensions and the privacy key (zpm.md Z7).
    version = 2
    topics = frozenset({_MONTH_CLOSED, _ERASED})
    schema = _SCHEMA
    tables = ("totals_by",)

    def __init__(self, catalogue: Catalogue) -> None:
        self.catalogue = catalogue

    def prepare(self, events: Sequence[Recorded]) -> list[tuple[str | None, int]]:
        """(month, up_to) of each month close among the events, (None, position) of each erasure."""
        return [
            (state["month"], state["up_to"]) if topic == _MONTH_CLOSED else (None, position)
            for position, topic, state in events
        ]

    def write(self, c: Cursor, closes: list[tuple[str | None, int]]) -> None:
        """Add the declarations of the closes, stored by the billing view just before, to the totals;
        move what each erasure takes out of the totals by cluster under ``erased`` (billing worked it out)."""
        counts: Counts = Counter()
        moved: set[tuple[str, str]] = set()
        for month, up_to in closes:
            if month is None:
                c.execute("SELECT dimension, key, total FROM billing_erased_moves WHERE position = ?", (up_to,))
                move = {(dimension, key): total for dimension, key, total in c.fetchall()}
                counts.update(move)
                moved.update(key for key, total in move.items() if total < 0)
                c.execute("DELETE FROM billing_erased_moves WHERE position = ?", (up_to,))
                continue
            c.execute("SELECT body FROM billing_declarations WHERE month = ?", (month,))
            # update(), not +=: a Counter's + drops the negative sums that credits can make.
            counts.update(self.count(c, [orjson.loads(row[0]) for row in c.fetchall()], up_to))
        if counts:
            c.executemany(
                "INSERT INTO totals_by (dimension, key, total) VALUES (?, ?, ?)"
                " ON CONFLICT (dimension, key) DO UPDATE SET total = totals_by.total + excluded.total",
                [(dimension, key, total) for (dimension, key), total in sorted(counts.items())],
            )
        # A cluster an erasure emptied keeps no row: its key alone would say which cluster it was.
        c.executemany("DELETE FROM totals_by WHERE dimension = ? AND key = ? AND total = 0", sorted(moved))

    def count(self, c: Cursor, declarations: Sequence[Mapping[str, Any]], up_to: int) -> Counts:
        """What declarations (contract JSON) add to the totals, with facts recorded by position ``up_to``."""
        counts: Counts = Counter()
        numbers = sorted({d["trajectory"] for d in declarations})
        activities = sorted({line["activity"] for d in declarations for line in d["lines"]})
        parties: dict[str, Parties] = {}
        clusterings: dict[str, list[Clustering]] = {number: [] for number in numbers}
        care_forms: dict[str, str | None] = {}
        for chunk in chunked(numbers):
            places = placeholders(len(chunk))
            c.execute(
                "SELECT trajectory, insurer, provider, region FROM billing_trajectories"
                f" WHERE trajectory IN ({places})",
                chunk,
            )
            for number, insurer, provider, region in c.fetchall():
                parties[number] = Parties(insurer, provider, region)
            c.execute(
                "SELECT trajectory, position, on_date, cluster FROM billing_clusterings"
                f" WHERE trajectory IN ({places}) AND position <= ?",
                (*chunk, up_to),
            )
            for number, position, on_date, cluster in c.fetchall():
                clusterings[number].append(Clustering(date.fromisoformat(on_date), position, cluster))
        for chunk in chunked(activities):
            c.execute(
                "SELECT activity, care_form FROM billing_activities"
                f" WHERE activity IN ({placeholders(len(chunk))}) AND care_form IS NOT NULL",
                chunk,
            )
            care_forms.update(c.fetchall())
        for declaration in declarations:
            number = declaration["trajectory"]
            counts.update(breakdown(declaration, parties[number], clusterings[number], care_forms, self.catalogue))
        return counts

    def rows(self, c: Cursor, dimension: str) -> list[tuple[str, int]]:
        """The cumulative (key, total) rows of one dimension, in reading order."""
        c.execute("SELECT key, total FROM totals_by WHERE dimension = ?", (dimension,))
        return sort_rows((key, total) for key, total in c.fetchall())
