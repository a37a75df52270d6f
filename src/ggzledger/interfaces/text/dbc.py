"""The DBC comparison as text for people: the headline, the DBCs, the claims, and month by month."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from ggzledger.analyses.dbc import Comparison, Dbc
from ggzledger.domain.money import format_euro
from ggzledger.reference.dbc import DIAGNOSIS_GROUPS

__all__ = ["render_comparison", "render_month", "month_json"]

_MONTHS = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)  # fmt: skip
_CLOSED_BY = {"referred_back": "referred back", "365_days": "365 days", "open": "open"}


def _long(day: date) -> str:
    return f"{day.day} {_MONTHS[day.month - 1]} {day.year}"


def _short(day: date) -> str:
    return f"{day:%d-%m-%Y}"


def _money(cents: int | None) -> str:
    return "no price" if cents is None else format_euro(cents)


def _headline(c: Comparison, dbc: Dbc) -> str:
    if dbc.amount is None:
        return f"DBC {dbc.number}: no product ({dbc.problem})"
    if dbc.claimed_on is None:
        return (
            f"DBC {dbc.number} is open: claimed at its close, on {_long(dbc.end)} at the latest"
            f" ({_thousands(dbc.minutes)} minutes so far: {dbc.product}, {format_euro(dbc.amount)})"
        )
    closing = c.closing_claim(dbc) or 0
    stays = [claim for claim in c.claims if claim.dbc == dbc.number and claim.on == dbc.claimed_on and claim.days]
    parts = [f"{dbc.product} {format_euro(dbc.amount)}"]
    parts += [f"{len(s.days)} stay {'day' if len(s.days) == 1 else 'days'} {_money(s.amount)}" for s in stays]
    return (
        f"DBC model: {format_euro(closing)} claimed on {_long(dbc.claimed_on)}, at the close of DBC {dbc.number}"
        f" ({' + '.join(parts)})"
    )


def _declared_line(c: Comparison) -> str:
    issued = [d for d in c.declarations if d.status == "issued"]
    drafts = [d for d in c.declarations if d.status != "issued"]
    notas = f"{len(issued)} {'nota' if len(issued) == 1 else 'notas'}"
    span = f", {issued[0].month} through {issued[-1].month}" if len(issued) > 1 else ""
    line = f"Declared:  {format_euro(c.declared_total)} in {notas}{span}"
    if drafts:
        line += f"; {format_euro(c.draft_total)} in {len(drafts)} draft(s) of months not yet closed"
    return line


def render_comparison(c: Comparison) -> str:
    """One trajectory's comparison: the headline (each DBC's closing claim, what was declared), the DBCs,
    every claim of the DBC model, and the months side by side with their difference."""
    end = f"{_long(c.end)} (referred back)" if c.end is not None else "open"
    out = [
        f"DBC comparison of {c.trajectory}: what the DBC model (until 2021) would have billed for the same facts",
        f"Trajectory {_long(c.start)} - {end}",
        "",
        *(_headline(c, dbc) for dbc in c.dbcs),
        _declared_line(c),
        "",
        f"{'DBC':<5}{'start':<12}{'end':<12}{'closed by':<15}{'minutes':>8}  {'diagnosis group':<17}"
        f"{'product':<27}{'amount':>12}  table",
    ]
    for dbc in c.dbcs:
        group = DIAGNOSIS_GROUPS.get(dbc.group, "-") if dbc.group else "-"
        out.append(
            f"{dbc.number:<5}{_short(dbc.start):<12}{_short(dbc.end):<12}{_CLOSED_BY[dbc.closed_by]:<15}"
            f"{_thousands(dbc.minutes):>8}  {group:<17}{dbc.product or '-':<27}{_money(dbc.amount):>12}"
            f"  {dbc.table or '-'}"
        )
    out += ["", "Claims under the DBC model", f"{'date':<12}{'DBC':<5}{'claim':<32}{'amount':>13}"]
    for claim in c.claims:
        out.append(f"{_short(claim.on):<12}{claim.dbc:<5}{claim.description:<32}{_money(claim.amount):>13}")
    if not c.claims:
        out.append("(none yet: no DBC closed and no stay day)")
    out += [
        "",
        "Month by month: what the DBC model claims in the month, what the ledger declared for it",
        f"{'month':<10}{'DBC model':>14}{'declared':>14}{'difference':>14}{'cumulative':>14}",
    ]
    running = 0
    for month in c.months:
        running += month.difference
        status = "  draft" if month.status == "draft" else ""
        out.append(
            f"{month.month:<10}{format_euro(month.dbc):>14}{format_euro(month.declared):>14}"
            f"{format_euro(month.difference):>14}{format_euro(running):>14}{status}"
        )
    declared = c.declared_total + c.draft_total
    difference = "incomplete" if c.difference is None else format_euro(c.difference)
    out.append(f"{'total':<10}{format_euro(c.dbc_total):>14}{format_euro(declared):>14}{difference:>14}")
    early = [claim for claim in c.claims if claim.days and not _on_a_close(c, claim.on, claim.dbc)]
    if early:
        days = sum(len(claim.days) for claim in early)
        out += [
            "",
            f"The DBC model's total counts every stay day: {days} of them were claimed month by month before"
            f" their DBC closed ({format_euro(sum(claim.amount or 0 for claim in early))}).",
        ]
    if not c.complete:
        out += ["", "Incomplete: " + "; ".join(_problems(c)) + "."]
    return "\n".join(out)


def _thousands(number: int) -> str:
    return f"{number:,}".replace(",", ".")


def _on_a_close(c: Comparison, on: date, number: int) -> bool:
    return any(dbc.number == number and dbc.claimed_on == on for dbc in c.dbcs)


def _problems(c: Comparison) -> list[str]:
    found = [f"DBC {dbc.number}: {dbc.problem}" for dbc in c.dbcs if dbc.problem]
    found += [f"stay days: {claim.problem}" for claim in c.claims if claim.problem and claim.kind == "stay"]
    return found


def month_json(month: str, found: Sequence[Comparison]) -> dict[str, Any]:
    """The ``dbc --month --json`` shape: every comparison and their sums."""
    complete = all(c.complete for c in found)
    dbc, declared, draft = (sum(c.dbc_total for c in found), sum(c.declared_total for c in found),
                            sum(c.draft_total for c in found))  # fmt: skip
    return {
        "month": month,
        "trajectories": [c.to_json() for c in found],
        "complete": complete,
        "dbc_total": dbc,
        "declared_total": declared,
        "draft_total": draft,
        "difference": dbc - declared - draft if complete else None,
    }


def render_month(month: str, found: Sequence[Comparison]) -> str:
    """Every trajectory referred back in a month, each compared, then their sums."""
    if not found:
        return f"no trajectory was referred back in {month}"
    sums = month_json(month, found)
    parts = [render_comparison(c) for c in found]
    difference = "incomplete" if sums["difference"] is None else format_euro(sums["difference"])
    incomplete = [c.trajectory for c in found if not c.complete]
    summary = (
        f"{len(found)} {'trajectory' if len(found) == 1 else 'trajectories'} referred back in {month}:"
        f" DBC model {format_euro(sums['dbc_total'])}, declared"
        f" {format_euro(sums['declared_total'] + sums['draft_total'])}, difference {difference}"
    )
    if incomplete:
        summary += f" ({len(incomplete)} without a price for everything: {', '.join(incomplete)})"
    return "\n\n".join([*parts, summary])
