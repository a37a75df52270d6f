"""Text for people: the zorgnota and the close summary, in Dutch notation like the seed's nota."""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from datetime import date
from typing import Any

from ggzledger.domain.money import format_euro

__all__ = [
    "dutch_date", "dutch_month", "render_declaration", "MONTHS_NL", "LATE_NOTE", "status_text", "described",
    "delivered", "regiebehandelaar_text", "referral_text",
]  # fmt: skip

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
LATE_NOTE = "nagekomen: zorg uit een eerdere maand, na het afsluiten daarvan vastgelegd"


def status_text(d: dict[str, Any]) -> str:
    """A declaration's status as the nota says it: sent, or a draft of a month not yet closed."""
    return "concept: de maand is nog niet afgesloten" if d["status"] == "draft" else "verzonden"


def render_declaration(d: dict[str, Any]) -> str:
    """A declaration (contract JSON shape) as a zorgnota in Dutch; nothing in it is ever cut short.

    The description column, and with it the frame, is as wide as the longest description; a credit
    line says ``creditering``, a line for care of an earlier month ``nagekomen`` (explained below).
    A declaration with ZPM lines (it has the header field ``privacy``) is laid out for one page
    instead: see :func:`_render_zpm`.
    """
    if "privacy" in d:
        return _render_zpm(d)
    cluster = d["cluster"]
    status = status_text(d)
    texts = [described(line) for line in d["lines"]]
    amounts = [format_euro(line["amount"]) for line in d["lines"]]
    totals = [format_euro(d["total"]), format_euro(d["previously_declared"]),
              format_euro(d["previously_declared"] + d["total"])]  # fmt: skip
    money = max(len(text) for text in [*amounts, *totals, "Bedrag"]) + 2
    text = max([len(text) for text in texts] + [len("Omschrijving")]) + 2
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
    for line, description, amount in zip(d["lines"], texts, amounts, strict=True):
        day = date.fromisoformat(line["date"]).strftime("%d-%m-%Y")
        rows.append(f"{day:<12}{line['code']:<11}{description:<{label - 23}}{amount:>{money}}")
    return "\n".join(rows + _footer(d, totals, width, label, money))


def described(line: dict[str, Any]) -> str:
    """A line's description, with ``(creditering)`` or ``(nagekomen)`` when it is a credit or late."""
    marks = ([_CREDIT] if line["kind"] == "credit" else []) + ([_LATE] if line["late"] else [])
    description: str = line["description"]
    return description + (f" ({', '.join(marks)})" if marks else "")


# The ZPM nota (zpm.md Z6.6) is printed on one page: 80 columns, long descriptions wrapped, never cut.
_PAGE = 80
_DATE, _CODE = 12, 11


def _render_zpm(d: dict[str, Any]) -> str:
    """A declaration with ZPM lines as the patient's nota (zpm.md Z6.6), in Dutch, 80 columns wide.

    Header: regiebehandelaar, referral and privacy (with a privacy statement no zorgvraagtype is
    shown); per ZPM line its date, code, the table's description, then who delivered it (practitioner,
    beroep) and for how many minutes, and its amount.
    """
    status = status_text(d)
    amounts = [format_euro(line["amount"]) for line in d["lines"]]
    totals = [format_euro(d["total"]), format_euro(d["previously_declared"]),
              format_euro(d["previously_declared"] + d["total"])]  # fmt: skip
    money = max(len(text) for text in [*amounts, *totals, "Bedrag"]) + 2
    label = _PAGE - money
    room = label - _DATE - _CODE
    rows = [
        f"Zorgnota {d['trajectory']}".ljust(_PAGE - 16) + f"volgnummer {d['sequence']}".rjust(16),
        f"Declaratie {dutch_month(d['month'])}  -  {status}",
        "=" * _PAGE,
    ]
    if d["privacy"]:
        rows.append("Privacyverklaring: ja")
    else:
        cluster = d["cluster"]
        typed = "-" if cluster is None else f"{cluster['code']}  {cluster['name']}"
        rows.append(f"{'Zorgvraagtype':<22}{typed}")
    rows += [
        f"{'Regiebehandelaar':<22}{regiebehandelaar_text(d['regiebehandelaar'])}",
        f"{'Verwijzing':<22}{referral_text(d['referral'])}",
        f"{'Startdatum':<22}{dutch_date(d['start_date'])}",
        f"{'Einddatum':<22}{dutch_date(d['end_date'])}",
    ]
    if not d["privacy"]:
        rows.append(f"{'Review uiterlijk':<22}{dutch_date(d['review_due'])}")
    rows += ["-" * _PAGE, f"{'Datum':<{_DATE}}{'Code':<{_CODE}}{'Omschrijving':<{room}}{'Bedrag':>{money}}"]
    for line, amount in zip(d["lines"], amounts, strict=True):
        day = date.fromisoformat(line["date"]).strftime("%d-%m-%Y")
        # The first row shares its width with the amount; the rows under it have the page to the edge.
        wrapped = _wrap(described(line), room - 1, _PAGE - _DATE - _CODE)
        if "prestatie" in line:
            wrapped += _wrap(delivered(line), _PAGE - _DATE - _CODE, _PAGE - _DATE - _CODE)
        rows.append(f"{day:<{_DATE}}{line['code']:<{_CODE}}{wrapped[0]:<{room}}{amount:>{money}}")
        rows += [" " * (_DATE + _CODE) + more for more in wrapped[1:]]
    return "\n".join(rows + _footer(d, totals, _PAGE, label, money))


def _footer(d: dict[str, Any], totals: Sequence[str], width: int, label: int, money: int) -> list[str]:
    """The rows under the lines, the same on every nota: the three totals, the late note, the digest."""
    rows = [
        "-" * width,
        f"{'Totaal deze maand':<{label}}{totals[0]:>{money}}",
        f"{'Eerder gedeclareerd':<{label}}{totals[1]:>{money}}",
        f"{'Totaal gedeclareerd':<{label}}{totals[2]:>{money}}",
    ]
    if any(line["late"] for line in d["lines"]):
        rows.append(LATE_NOTE)
    if d.get("digest"):
        rows.append(f"digest {d['digest']}")
    return rows


def _wrap(text: str, first: int, rest: int) -> list[str]:
    """Text in rows of at most ``first`` characters, then ``rest``; split at spaces only (a longer word
    is split where it must be), so no word is cut short."""
    head = textwrap.wrap(text, first, break_on_hyphens=False) or [""]
    if len(head) == 2 and " " not in head[1] and len(head[1]) <= 3 and " " in head[0]:
        # "… setting" over a lone "1" reads badly: the number goes down with the word it belongs to.
        kept, moved = head[0].rsplit(" ", 1)
        head = [kept, f"{moved} {head[1]}"]
    tail = " ".join(head[1:])
    return head[:1] + textwrap.wrap(tail, rest, break_on_hyphens=False)


def delivered(line: dict[str, Any]) -> str:
    """Who delivered a ZPM line and for how long: 'door 11111111 (gz_psycholoog), 45 minuten'."""
    parts = []
    if line.get("practitioner"):
        beroep = f" ({line['beroep']})" if line.get("beroep") else ""
        parts.append(f"door {line['practitioner']}{beroep}")
    elif line.get("beroep"):
        parts.append(f"door {line['beroep']}")
    if line.get("minutes") is not None:
        parts.append(f"{line['minutes']} minuten")
    return ", ".join(parts)


def regiebehandelaar_text(regie: dict[str, Any] | None) -> str:
    """The regiebehandelaar of a ZPM nota's header: '11111111 (gz_psycholoog)', '-' for none."""
    return "-" if regie is None else f"{regie['practitioner']} ({regie['beroep']})"


def referral_text(referral: dict[str, Any] | None) -> str:
    """The referral of a ZPM nota's header: 'type 01, verwijzer 01234567, van 20 september 2024', '-' for none."""
    if referral is None:
        return "-"
    parts = [f"type {referral['type']}"]
    if referral.get("referrer_agb"):
        parts.append(f"verwijzer {referral['referrer_agb']}")
    if referral.get("date"):
        parts.append(f"van {dutch_date(referral['date'])}")
    return ", ".join(parts)
