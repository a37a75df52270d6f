"""Text for people: the zorgnota and the close summary, in Dutch notation like the seed's nota."""

from __future__ import annotations

from datetime import date
from typing import Any

from ggzledger.domain.money import format_euro

__all__ = ["dutch_date", "render_declaration", "MONTHS_NL"]

MONTHS_NL = (
    "januari", "februari", "maart", "april", "mei", "juni",
    "juli", "augustus", "september", "oktober", "november", "december",
)  # fmt: skip


def dutch_date(value: str | date | None) -> str:
    """'2017-02-21' as '21 februari 2017'; '-' for none."""
    if value is None:
        return "-"
    day = date.fromisoformat(value) if isinstance(value, str) else value
    return f"{day.day} {MONTHS_NL[day.month - 1]} {day.year}"


def dutch_month(month: str) -> str:
    """'2017-02' as 'februari 2017'."""
    return f"{MONTHS_NL[int(month[5:7]) - 1]} {month[:4]}"


# How a line that is not a plain debit of this month is marked, in words a patient reads.
_CREDIT = "creditering"
_LATE = "nagekomen"
_LATE_NOTE = "nagekomen: zorg uit een eerdere maand, na het afsluiten daarvan vastgelegd"


def render_declaration(d: dict[str, Any]) -> str:
    """A declaration (contract JSON shape) as a zorgnota in Dutch; nothing in it is ever cut short.

    The description column, and with it the frame, is as wide as the longest description; a credit
    line says ``creditering``, a line for care of an earlier month ``nagekomen`` (explained below).
    """
    cluster = d["cluster"]
    status = "concept: de maand is nog niet afgesloten" if d["status"] == "draft" else "verzonden"
    described = [_described(line) for line in d["lines"]]
    amounts = [format_euro(line["amount"]) for line in d["lines"]]
    totals = [format_euro(d["total"]), format_euro(d["previously_declared"]),
              format_euro(d["previously_declared"] + d["total"])]  # fmt: skip
    money = max(len(text) for text in [*amounts, *totals, "Bedrag"]) + 2
    text = max([len(text) for text in described] + [len("Omschrijving")]) + 2
    cluster_text = "-" if cluster is None else f"{cluster['code']}  {cluster['name']}"
    width = max(66, 12 + 11 + text + money, 22 + len(cluster_text))
    label = width - money
    rows = [
        f"Zorgnota {d['trajectory']}".ljust(width - 16) + f"volgnummer {d['sequence']}".rjust(16),
        f"Declaratie {dutch_month(d['month'])}  -  {status}",
        "=" * width,
        f"{'Zorgcluster':<22}{cluster_text}",
        f"{'Startdatum':<22}{dutch_date(d['start_date'])}",
        f"{'Einddatum':<22}{dutch_date(d['end_date'])}",
        f"{'Review uiterlijk':<22}{dutch_date(d['review_due'])}",
        "-" * width,
        f"{'Datum':<12}{'Code':<11}{'Omschrijving':<{label - 23}}{'Bedrag':>{money}}",
    ]
    for line, description, amount in zip(d["lines"], described, amounts, strict=True):
        day = date.fromisoformat(line["date"]).strftime("%d-%m-%Y")
        rows.append(f"{day:<12}{line['code']:<11}{description:<{label - 23}}{amount:>{money}}")
    rows += [
        "-" * width,
        f"{'Totaal deze maand':<{label}}{totals[0]:>{money}}",
        f"{'Eerder gedeclareerd':<{label}}{totals[1]:>{money}}",
        f"{'Totaal gedeclareerd':<{label}}{totals[2]:>{money}}",
    ]
    if any(line["late"] for line in d["lines"]):
        rows.append(_LATE_NOTE)
    if d.get("digest"):
        rows.append(f"digest {d['digest']}")
    return "\n".join(rows)


def _described(line: dict[str, Any]) -> str:
    marks = ([_CREDIT] if line["kind"] == "credit" else []) + ([_LATE] if line["late"] else [])
    description: str = line["description"]
    return description + (f" ({', '.join(marks)})" if marks else "")
