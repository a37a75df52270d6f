"""The waiting times and the regiobeeld as text tables for the operator."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from ggzledger.analyses.regiobeeld import Figures, Regiobeeld
from ggzledger.analyses.waiting import KINDS, Wait, exceeded
from ggzledger.reference.treeknormen import load_treeknormen

__all__ = ["render_regiobeeld", "render_waits"]


def _table(header: Sequence[str], rows: Sequence[Sequence[str]], left: int) -> list[str]:
    """Columns as wide as their widest cell; the first ``left`` columns left-aligned, the rest right."""
    widths = [max(len(row[i]) for row in (header, *rows)) for i in range(len(header))]
    lines = []
    for row in (header, *rows):
        cells = [
            cell.ljust(w) if i < left else cell.rjust(w) for i, (cell, w) in enumerate(zip(row, widths, strict=True))
        ]
        lines.append("  ".join(cells).rstrip())
    return lines


def _day(day: date | None) -> str:
    return "-" if day is None else day.isoformat()


def _days(days: int | None) -> str:
    return "-" if days is None else str(days)


def render_waits(waits: Sequence[Wait], as_of: date) -> str:
    """One row per trajectory: its dates, its three waits in days, the norms exceeded, or how long it waits so far."""
    norms = load_treeknormen()
    norm = norms.lookup(as_of)
    rows = []
    for wait in waits:
        over = [kind for kind, _days, _limit in exceeded(wait, norms)]
        note = ("exceeds " + ", ".join(over)) if over else ""
        if wait.waiting_on(as_of) and wait.registered_on is not None:
            note = (note + "; " if note else "") + f"waiting {(as_of - wait.registered_on).days} days"
        rows.append(
            [
                wait.trajectory, wait.region, wait.care_form or "-", _day(wait.registered_on),
                _day(wait.first_assessed_on), _day(wait.first_treated_on),
                *(_days(wait.days(kind)) for kind in KINDS), note,
            ]
        )  # fmt: skip
    header = [
        "trajectory",
        "region",
        "care form",
        "registered",
        "assessed",
        "treated",
        "aanmeld",
        "behandel",
        "total",
        "",
    ]
    lines = [
        f"Waiting times as of {as_of.isoformat()}, in days (Treeknormen: aanmeld {norm.aanmeld_days},"
        f" behandel {norm.behandel_days}, total {norm.total_days})",
        *_table(header, rows, 6),
        f"{len(waits)} trajectory" if len(waits) == 1 else f"{len(waits):,} trajectories",
    ]
    return "\n".join(line.rstrip() for line in lines)


def _share(figures: Figures, kind: str) -> str:
    days = figures.waits[kind]
    return "-" if not days else f"{round(100 * figures.above[kind] / len(days))}%"


def _summary(figures: Figures, kind: str) -> list[str]:
    data = figures.to_json(())["waits"][kind]
    return [str(data["count"]), _days(data["median_days"]), _days(data["p90_days"]), _share(figures, kind)]


def _euros(cents: int) -> str:
    return f"{round(cents / 100):,}".replace(",", ".")


def render_regiobeeld(beeld: Regiobeeld) -> str:
    """The regiobeeld: waiting, in care, complex and the total wait per row; then the amount by month."""
    keys = list(beeld.by)
    rows = [[*key, str(f.waiting), str(f.in_care), str(f.complex), *_summary(f, "total")] for key, f in beeld.rows]
    rows.append(
        ["total", *[""] * (len(keys) - 1), str(beeld.total.waiting), str(beeld.total.in_care),
         str(beeld.total.complex), *_summary(beeld.total, "total")]
    )  # fmt: skip
    header = [*(k.replace("_", " ") for k in keys), "waiting", "in care", "complex", "waits", "median", "p90", "> norm"]
    norms = beeld.norms
    lines = [
        f"Regiobeeld as of {beeld.as_of.isoformat()}: waits (registration -> first treatment) that ended"
        f" {beeld.quarter_from.isoformat()} .. {beeld.as_of.isoformat()}, in days; Treeknorm {norms['total']} days",
        *_table(header, rows, len(keys)),
        "",
        "Amount by month (euro; the activities dated up to the day, not voided)",
    ]
    months = list(beeld.months)
    volume_rows = [[*key, *(_euros(f.volume.get(m, [0, 0])[1]) for m in months)] for key, f in beeld.rows]
    volume_rows.append(
        ["total", *[""] * (len(keys) - 1), *(_euros(beeld.total.volume.get(m, [0, 0])[1]) for m in months)]
    )
    lines += _table([*(k.replace("_", " ") for k in keys), *(m[2:] for m in months)], volume_rows, len(keys))
    return "\n".join(line.rstrip() for line in lines)
