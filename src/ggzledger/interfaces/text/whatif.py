"""The what-if as a terminal shows it: one table per dimension, declared beside re-priced, then the unpriced."""

from __future__ import annotations

from ggzledger.analyses.whatif import WhatIf
from ggzledger.domain.money import format_euro

__all__ = ["SHOWN_UNPRICED", "render_whatif"]

SHOWN_UNPRICED = 20
"""How many unpriced lines the text lists; ``--json`` lists them all."""

_TITLES = {
    "month": "month", "insurer": "insurer", "provider": "provider", "group": "cluster group",
    "cluster": "cluster / zorgvraagtype", "care_form": "care form",
}  # fmt: skip
_AMOUNT = 16


def render_whatif(result: WhatIf) -> str:
    """The what-if's report: the question, a table per dimension asked for, the unpriced lines."""
    lines = [
        f"What-if {result.month_from} through {result.month_to}: {result.alternative.describe()}",
        _covered(result),
    ]
    rows = [(row.key, row.declared, row.alternative) for _, section in result.sections for row in section]
    width = max([len("total"), *(len(key) for key, _, _ in rows)]) + 2
    for dimension, section in result.sections:
        lines += ["", f"By {_TITLES.get(dimension, dimension)}", _header(width)]
        lines += [_line(row.key, row.declared, row.alternative, width) for row in section]
        lines += [f"  {'-' * (width + 3 * _AMOUNT)}", _line("total", result.declared, result.total, width)]
    if not result.sections:
        lines += ["", _header(width), _line("total", result.declared, result.total, width)]
    lines += ["", *_unpriced(result)]
    return "\n".join(lines)


def _covered(result: WhatIf) -> str:
    if not result.months:
        return "No closed month in the period: nothing was declared in it yet."
    closed = len(result.months)
    span = result.months[0] if closed == 1 else f"{result.months[0]}..{result.months[-1]}"
    lines = f"{result.lines:,}".replace(",", ".")
    return f"Issued declarations of {closed} closed month{'s' if closed != 1 else ''} ({span}): {lines} lines"


def _header(width: int) -> str:
    return f"  {'':<{width}}{'declared':>{_AMOUNT}}{'what-if':>{_AMOUNT}}{'difference':>{_AMOUNT}}"


def _line(key: str, declared: int, alternative: int, width: int) -> str:
    return (
        f"  {key:<{width}}{format_euro(declared):>{_AMOUNT}}{format_euro(alternative):>{_AMOUNT}}"
        f"{format_euro(alternative - declared):>{_AMOUNT}}"
    )


def _unpriced(result: WhatIf) -> list[str]:
    unpriced = result.unpriced
    if not unpriced:
        return ["Every line has a price under the alternative."]
    activities = len({u.activity for u in unpriced})
    declared = sum(u.declared for u in unpriced)
    out = [
        f"{len(unpriced)} line{'s' if len(unpriced) != 1 else ''} ({activities} "
        f"activit{'ies' if activities != 1 else 'y'}) have no price under the alternative: they count as"
        f" {format_euro(0)} in the what-if total (declared {format_euro(declared)}).",
    ]
    for u in unpriced[:SHOWN_UNPRICED]:
        out.append(f"  {u.month}  {u.trajectory}  {u.activity}  {u.code}  {u.date}  {u.kind}  {u.why}")
    if len(unpriced) > SHOWN_UNPRICED:
        out.append(f"  ... and {len(unpriced) - SHOWN_UNPRICED} more (--json lists them all)")
    return out
