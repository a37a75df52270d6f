"""What an erasure does to the billing view: its personal columns emptied, its totals by cluster moved."""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Iterable, Sequence
from datetime import date
from typing import Any

import orjson

from ggzledger.domain import GENESIS_DIGEST
from ggzledger.projections.declarations import Clustering, chain_digest
from ggzledger.projections.store import Cursor
from ggzledger.projections.totals import CLUSTER_DIMENSIONS, Parties, breakdown
from ggzledger.reference import Catalogue

__all__ = ["purge", "erased_body"]

_NOBODY = Parties("", "", None)


def purge(
    c: Cursor,
    trajectory: str,
    position: int,
    catalogue: Catalogue,
    counted_later: Collection[str] = (),
    digests: Iterable[Sequence[str]] = (),
) -> None:
    """Apply the PersonalDataErased event at ``position``: empty the trajectory's personal columns.

    Its patient, referrer and referral details, its clusters, and in its issued declarations
    the cluster, review date, zorgvraagtypes and referrer become NULL (the amounts, codes,
    dates, sequence and recorded digest stay). Beforehand, what that takes out of the totals
    by cluster, group and supercluster is written to ``billing_erased_moves`` under this
    position: the totals view, applied after this one, moves it under ``erased``, so that
    those totals keep their grand total. ``counted_later``: months whose close the totals view has
    not counted yet (closed by the same page of events): it will count them from the clusterings
    this leaves, under ``erased`` already, so they move nothing. ``digests``: the event's
    (month, digest) of the declarations issued at form-1 closes, stored back as issued (a rebuild
    computed them from the unreadable cluster), each such close's computed chain with them. The
    connection deletes securely (projections/store.py).
    """
    c.execute("SELECT position, on_date, cluster FROM billing_clusterings WHERE trajectory = ?", (trajectory,))
    typed = [Clustering(date.fromisoformat(on), at, cluster) for at, on, cluster in c.fetchall()]
    c.execute("SELECT month, up_to FROM billing_closes")
    up_tos = dict(c.fetchall())
    c.execute("SELECT month, body FROM billing_declarations WHERE trajectory = ?", (trajectory,))
    bodies = [(month, orjson.loads(body)) for month, body in c.fetchall()]
    move: Counter[tuple[str, str]] = Counter()
    for month, body in bodies:
        if month in counted_later:
            continue
        before = [t for t in typed if t.position <= up_tos.get(month, 0)]
        after = [Clustering(t.on, t.position, None) for t in before]
        move.update(_by_cluster(body, after, catalogue))
        move.subtract(_by_cluster(body, before, catalogue))
    c.executemany(
        "INSERT INTO billing_erased_moves (position, dimension, key, total) VALUES (?, ?, ?, ?)",
        [(position, dimension, key, total) for (dimension, key), total in sorted(move.items()) if total],
    )
    c.execute(
        "UPDATE billing_trajectories SET patient = NULL, referrer = NULL, referrer_agb = NULL, referral_date = NULL"
        " WHERE trajectory = ?",
        (trajectory,),
    )
    c.execute("UPDATE billing_clusterings SET cluster = NULL WHERE trajectory = ?", (trajectory,))
    c.executemany(
        "UPDATE billing_declarations SET body = ? WHERE trajectory = ? AND month = ?",
        [(orjson.dumps(erased_body(body), option=orjson.OPT_SORT_KEYS).decode(), trajectory, m) for m, body in bodies],
    )
    for month, digest in digests:
        _restore_issued(c, trajectory, month, digest)


def _restore_issued(c: Cursor, trajectory: str, month: str, digest: str) -> None:
    """Store a form-1 declaration's issued digest, and its close's chained digest recomputed with it."""
    c.execute(
        "UPDATE billing_declarations SET digest = ? WHERE trajectory = ? AND month = ?", (digest, trajectory, month)
    )
    c.execute("SELECT digest FROM billing_closes WHERE month < ? ORDER BY month DESC LIMIT 1", (month,))
    row = c.fetchone()
    previous = GENESIS_DIGEST if row is None else row[0]
    c.execute("SELECT trajectory, digest FROM billing_declarations WHERE month = ?", (month,))
    # Trajectory order as the close chained them (sorted here: a database's collation may differ).
    chained = chain_digest(previous, [d for _t, d in sorted(c.fetchall())])
    c.execute("UPDATE billing_closes SET computed_digest = ? WHERE month = ?", (chained, month))


def erased_body(body: dict[str, Any]) -> dict[str, Any]:
    """A stored declaration body with the erased patient's fields NULL: what a declaration computed
    from the erased events shows, so a rebuild after the erasure stores the same body."""
    body = {**body, "cluster": None, "review_due": None}
    body["lines"] = [{**line, "zorgvraagtype": None} if "zorgvraagtype" in line else line for line in body["lines"]]
    if body.get("referral") is not None:
        body["referral"] = {**body["referral"], "referrer_agb": None, "date": None}
    return body


def _by_cluster(body: dict[str, Any], clusterings: list[Clustering], catalogue: Catalogue) -> Counter[tuple[str, str]]:
    counts = breakdown(body, _NOBODY, clusterings, {}, catalogue)
    return Counter({key: total for key, total in counts.items() if key[0] in CLUSTER_DIMENSIONS})
