"""Plots of the analyses as PNG or SVG files (docs/analyses.md); matplotlib is the optional ``plot`` extra."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import Any

from ggzledger.analyses.regiobeeld import Regiobeeld
from ggzledger.analyses.waiting import Wait
from ggzledger.reference.treeknormen import load_treeknormen

__all__ = ["FORMATS", "PlotError", "check_target", "plot_volume", "plot_waits"]

FORMATS = (".png", ".svg")
"""The file types a plot is written as, by the file's suffix."""


class PlotError(ValueError):
    """A plot cannot be written: a suffix that is no format, or matplotlib not installed."""


def check_target(path: str) -> Path:
    """The plot's path when its suffix names a format; raises PlotError otherwise, or when matplotlib is missing."""
    target = Path(path)
    if target.suffix.lower() not in FORMATS:
        raise PlotError(f"--plot {path}: the file must end in .png or .svg")
    _pyplot()
    return target


def _pyplot() -> Any:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise PlotError(
            "--plot needs matplotlib: pip install 'ggzledger[plot]' (or pip install 'matplotlib>=3.8')"
        ) from None
    return plt


def plot_waits(waits: Sequence[Wait], as_of: date, path: Path) -> None:
    """Histograms of the ended aanmeld- and behandelwachttijd and the total wait, in weeks, with their Treeknorm."""
    plt = _pyplot()
    norm = load_treeknormen().lookup(as_of)
    titles = {"aanmeld": "aanmeldwachttijd", "behandel": "behandelwachttijd", "total": "total wait"}
    figure, axes = plt.subplots(1, 3, figsize=(12, 3.8), constrained_layout=True)
    for axis, kind in zip(axes, titles, strict=True):
        days = [d for d in (w.days(kind) for w in waits) if d is not None]
        weeks = [d / 7 for d in days]
        limit = norm.limit(kind) / 7
        # The axis ends past the norm and the 99th percentile; the few longer waits are drawn in the last bin.
        top = int(max(limit * 1.5, sorted(weeks)[int(0.99 * (len(weeks) - 1))] if weeks else 0)) + 1
        axis.hist([min(w, top) for w in weeks], bins=[float(b) for b in range(top + 1)], color="#4c78a8")
        axis.axvline(limit, color="#e45756", linestyle="--", label=f"Treeknorm {limit:g} weeks")
        above = sum(1 for d in days if d > norm.limit(kind))
        share = f", {above / len(days):.0%} above" if days else ""
        axis.set_title(f"{titles[kind]} (n = {len(days)}{share})", fontsize=10)
        axis.set_xlabel("weeks")
        axis.legend(fontsize=8)
    axes[0].set_ylabel("trajectories")
    figure.suptitle(f"Waiting times as of {as_of.isoformat()}", fontsize=11)
    figure.savefig(path, format=path.suffix.lower().lstrip("."))
    plt.close(figure)


def plot_volume(beeld: Regiobeeld, path: Path) -> None:
    """The monthly amount of activities by care form (the whole regiobeeld), one line per care form."""
    plt = _pyplot()
    by_form: dict[str, list[int]] = {}
    forms_seen: dict[str, dict[str, list[int]]] = {}
    if "care_form" in beeld.by:
        index = beeld.by.index("care_form")
        for key, figures in beeld.rows:
            into = forms_seen.setdefault(key[index], {})
            for month, (count, amount) in figures.volume.items():
                cell = into.setdefault(month, [0, 0])
                cell[0] += count
                cell[1] += amount
    else:
        forms_seen["all"] = beeld.total.volume
    for form, volume in forms_seen.items():
        by_form[form] = [volume.get(month, [0, 0])[1] for month in beeld.months]
    figure, axis = plt.subplots(figsize=(10, 4.5), constrained_layout=True)
    months = list(beeld.months)
    for form, amounts in sorted(by_form.items(), key=lambda item: -sum(item[1])):
        axis.plot(months, [a / 100_000 for a in amounts], marker="o", label=form)
    axis.set_ylabel("amount (thousand euro)")
    axis.set_title(f"Monthly volume by care form, 12 months to {beeld.as_of.isoformat()}", fontsize=11)
    axis.tick_params(axis="x", labelrotation=45)
    axis.set_yscale("symlog", linthresh=1)
    axis.legend(fontsize=8, ncol=2)
    figure.savefig(path, format=path.suffix.lower().lstrip("."))
    plt.close(figure)
