"""Text for people: the care-need timeline, the review worklist, totals, and audit and verify reports."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from ggzledger.audit.reconstruction import Audit
from ggzledger.audit.reports import Due, Totals
from ggzledger.audit.verification import Verification
from ggzledger.domain.money import format_euro
from ggzledger.projections.care_need import Entry
from ggzledger.reference import Catalogue

__all__ = ["render_history", "render_worklist", "render_totals", "render_audit", "render_verification"]

# One glance at the change column tells where care grew or shrank.
ARROWS = {
    "initial": "•", "unchanged": "=", "step_up": "↑", "step_down": "↓", "lateral": "→", "ended": "■", "erased": "×",
}  # fmt: skip
_LEVELS = 5


def _need(catalogue: Catalogue, code: int | None) -> str:
    """The need level as a small bar: ``███··  3``; blank after the end, ``n/a`` for cluster 0."""
    if code is None:
        return ""
    level = catalogue.lookup(code).need_level
    if level is None:
        return f"{'':{_LEVELS}}  n/a"
    return f"{'█' * level}{'·' * (_LEVELS - level)}  {level}"


def _signed(value: int | None) -> str:
    return "" if value is None else f"({value:+d})"


def render_history(trajectory: str, entries: Sequence[Entry], catalogue: Catalogue) -> str:
    """A trajectory's care-need history as a timeline with need-level bars, arrows and findings."""
    if not entries:
        return f"Care-need history of {trajectory}: no clustering recorded yet."
    rows = [
        f"Care-need history of {trajectory}",
        "  ↑ step up  ↓ step down  → lateral  = unchanged  • initial  ■ ended  × erased;  need level 1-5 as a bar",
        "",
        f"  {'date':<12}{'event':<15}{'cluster':<10}{'need':<10}   {'change':<28}{'HoNOS':>5}  {'':6} findings",
    ]
    findings = 0
    for e in entries:
        arrow = ARROWS[e.change]
        source = "·" if e.from_cluster is None else str(e.from_cluster)
        target = "end" if e.to_cluster is None else str(e.to_cluster)
        if e.change == "erased":
            # The patient's personal data was erased: the clusters and scores are gone, the dates stay.
            source, target = "erased", ""
        change = e.change.replace("_", " ")
        if e.likelihood is not None:
            change += f" ({e.likelihood.replace('_', ' ')})"
        total = "" if e.honos_total is None else str(e.honos_total)
        marks = ", ".join(f.replace("_", " ") for f in e.findings)
        findings += len(e.findings)
        rows.append(
            f"  {e.on.isoformat():<12}{e.event.replace('_', ' '):<15}{source + (' → ' + target if target else ''):<10}"
            f"{_need(catalogue, e.to_cluster):<10}   {arrow} {change:<26}{total:>5}  {_signed(e.honos_delta):<6}"
            f"{' ! ' + marks if marks else ''}".rstrip()
        )
    codes = sorted({c for e in entries for c in (e.from_cluster, e.to_cluster) if c is not None})
    rows.append("")
    for code in codes:
        cluster = catalogue.lookup(code)
        rows.append(f"  cluster {code:>2}: {cluster.name_nl} ({cluster.group}, review every {cluster.review_term})")
    rows.append(f"  {findings} finding{'s' if findings != 1 else ''} in {len(entries)} entries")
    return "\n".join(rows)


def render_worklist(as_of: date, rows: Sequence[Due]) -> str:
    """The review worklist as a table, the longest overdue first."""
    head = f"Review worklist as of {as_of.isoformat()}: {len(rows)} trajector{'y' if len(rows) == 1 else 'ies'} due"
    if not rows:
        return head
    lines = [head, f"  {'trajectory':<22}{'cluster':>7}  {'review due':<12}overdue"]
    for row in rows:
        late = (as_of - row.review_due).days
        overdue = "due today" if late == 0 else f"{late} day{'s' if late != 1 else ''}"
        lines.append(f"  {row.trajectory:<22}{row.cluster:>7}  {row.review_due.isoformat():<12}{overdue}")
    return "\n".join(lines)


def render_totals(totals: Totals) -> str:
    """Totals by one dimension in Dutch money; drafts, when asked for, in a column of their own."""
    drafts = totals.drafts
    keys = [key for key, _ in totals.rows]
    if drafts is not None:
        keys += [key for key, _ in drafts.rows if key not in dict(totals.rows)]
    width = max([len(key) for key in keys] + [12]) + 2
    issued, draft = dict(totals.rows), {} if drafts is None else dict(drafts.rows)
    if drafts is None:
        lines = [f"Totals by {totals.by}: issued declarations", ""]
        lines += [f"  {key:<{width}}{format_euro(total):>18}" for key, total in totals.rows]
        lines += [f"  {'-' * (width + 18)}", f"  {'total':<{width}}{format_euro(totals.total):>18}"]
        return "\n".join(lines)
    lines = [
        f"Totals by {totals.by}: issued declarations, and drafts of open months (not issued) apart",
        "",
        f"  {'':<{width}}{'issued':>18}{'draft':>18}",
    ]
    for key in keys:
        shown_draft = format_euro(draft[key]) if key in draft else ""
        lines.append(f"  {key:<{width}}{format_euro(issued.get(key, 0)):>18}{shown_draft:>18}")
    lines += [
        f"  {'-' * (width + 36)}",
        f"  {'total':<{width}}{format_euro(totals.total):>18}{format_euro(drafts.total):>18}",
    ]
    months = totals.draft_months
    span = "none" if not months else months[0] if len(months) == 1 else f"{months[0]} .. {months[-1]}"
    lines.append(f"  drafts: what closing the open months would issue now ({span}); not declared")
    return "\n".join(line.rstrip() for line in lines)


def render_audit(result: Audit) -> str:
    """The outcome of an audit: equal, or every difference found."""
    where = f"audit {result.trajectory} {result.month}"
    rebuilt = result.reconstructed
    if result.equal:
        if rebuilt is None:
            return f"{where}: no declaration was issued, and the log gives none"
        return (
            f"{where}: the reconstruction from the log equals the issued declaration\n"
            f"  total {format_euro(rebuilt.total)}, {len(rebuilt.lines)} lines, digest {rebuilt.digest}"
        )
    lines = [f"{where}: the reconstruction from the log DIFFERS from the issued declaration"]
    lines += [f"  - {difference}" for difference in result.differences]
    lines.append(f"  digest recorded      {result.recorded_digest or '-'}")
    lines.append(f"  digest reconstructed {'-' if rebuilt is None else rebuilt.digest}")
    return "\n".join(lines)


def render_verification(result: Verification) -> str:
    """The outcome of verify: a summary line, then each difference on a line of its own."""
    done = f"{result.events} events, {result.closes} closes, {result.declarations} declarations recomputed"
    if result.anchors:
        done += f", {result.anchors} anchor{'s' if result.anchors != 1 else ''} checked"
    notes = [f"  note: {note}" for note in result.notes]
    if result.ok:
        # The head's anchor only for a ledger that verifies: an auditor keeps it outside the database.
        head = [str(result.head)] if result.head.position else []
        return "\n".join([f"verify: {done}; the chain holds and every digest matches", *notes, *head])
    count = len(result.differences)
    lines = [f"verify: {done}; {count} difference{'s' if count != 1 else ''}"]
    lines += [f"  {difference}" for difference in result.differences]
    return "\n".join(lines + notes)
