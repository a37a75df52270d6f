"""The bench's results as a table for people."""

from __future__ import annotations

from typing import Any

__all__ = ["render"]


def render(results: dict[str, Any]) -> str:
    """A plain-text table of a run's figures, with the ratios the targets are stated in."""
    get = results.get
    ingest = get("ingest_events_per_s", 0.0)
    rebuild = get("rebuild_events_per_s", 0.0)
    rows: list[tuple[str, str, str]] = [
        ("ingest (the real ingest path)", f"{ingest:,.0f} events/s", ""),
        (
            f"library baseline (first {get('baseline_records', 0):,} lines)",
            f"{get('baseline_library_events_per_s', 0.0):,.0f} events/s",
            _ratio("ingest", ingest, get("baseline_library_events_per_s")),
        ),
        (
            "raw SQLite insert (the ingest ceiling)",
            f"{get('raw_sqlite_rows_per_s', 0.0):,.0f} rows/s",
            _share("ingest", ingest, get("raw_sqlite_rows_per_s")),
        ),
        ("rebuild every view", f"{rebuild:,.0f} events/s", "after the ingest"),
        (
            "rebuild, closes recomputed",
            f"{get('rebuild_with_closes_events_per_s', 0.0):,.0f} events/s",
            f"{get('closes_recomputed', 0)} closes",
        ),
        (
            "raw read + decode (the rebuild ceiling)",
            f"{get('raw_read_decode_rows_per_s', 0.0):,.0f} rows/s",
            _share("rebuild", rebuild, get("raw_read_decode_rows_per_s")),
        ),
        (
            f"close one month ({get('close_month', '?')})",
            f"{get('close_month_s', 0.0):,.2f} s",
            f"{get('close_month_declarations', 0):,} declarations",
        ),
        (
            "reconstruct one declaration",
            f"{results['reconstruct_ms']:,.1f} ms" if "reconstruct_ms" in results else "n/a",
            "median" if "reconstruct_ms" in results else "no audit module",
        ),
        ("read the whole feed", f"{get('feed_events_per_s', 0.0):,.0f} events/s", ""),
        ("peak memory (RSS)", f"{get('peak_rss_mb', 0.0):,.0f} MB", "with the rebuild's child processes"),
    ]
    width = max(len(row[0]) for row in rows)
    head = (
        f"ggzledger bench: {get('events', 0):,} events, {get('trajectories', 0):,} trajectories, "
        f"{get('store', '?')}, seed {get('seed', '?')}"
    )
    body = [f"  {name:<{width}}  {value:>18}  {note}".rstrip() for name, value, note in rows]
    return "\n".join([head, *body])


def _ratio(what: str, value: float, other: float | None) -> str:
    return f"{what} is {value / other:,.1f}x this" if other else ""


def _share(what: str, value: float, other: float | None) -> str:
    return f"{what} reaches {value / other:.0%} of this" if other else ""
