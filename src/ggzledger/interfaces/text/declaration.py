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


def render_declaration(d: dict[str, Any]) -> str:
    """A declaration (contract JSON shape) as a readable zorgnota."""
    cluster = d["cluster"]
    status = "concept (draft: month not closed)" if d["status"] == "draft" else "verzonden (issued)"
    width = 66
    rows = [
        f"Zorgnota {d['trajectory']}".ljust(width - 16) + f"volgnummer {d['sequence']}".rjust(16),
        f"Declaratie {dutch_month(d['month'])}  -  {status}",
        "=" * width,
        f"{'Zorgcluster':<22}{'-' if cluster is None else str(cluster['code']) + '  ' + cluster['name']}",
        f"{'Startdatum':<22}{dutch_date(d['start_date'])}",
        f"{'Einddatum':<22}{dutch_date(d['end_date'])}",
        f"{'Review uiterlijk':<22}{dutch_date(d['review_due'])}",
        "-" * width,
        f"{'Datum':<12}{'Code':<11}{'Omschrijving':<22}{'Bedrag':>21}",
    ]
    for line in d["lines"]:
        note = " (credit)" if line["kind"] == "credit" else (" (na)" if line["late"] else "")
        day = date.fromisoformat(line["date"]).strftime("%d-%m-%Y")
        description = (line["description"] + note)[:21]
        rows.append(f"{day:<12}{line['code']:<11}{description:<22}{format_euro(line['amount']):>21}")
    rows += [
        "-" * width,
        f"{'Totaal deze maand':<45}{format_euro(d['total']):>21}",
        f"{'Eerder gedeclareerd':<45}{format_euro(d['previously_declared']):>21}",
        f"{'Totaal gedeclareerd':<45}{format_euro(d['previously_declared'] + d['total']):>21}",
    ]
    if d.get("digest"):
        rows.append(f"digest {d['digest']}")
    return "\n".join(rows)
