"""What the web view's pages show, held to the ledger's own answers: declarations, histories, closes, worklists."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest
from starlette.testclient import TestClient

from builders import HONOS, ZPM_EXAMPLE, Clerk, assessed, care_need, delivered, henk_lines, opened, reviewed
from ggzledger import Ledger, ingest
from ggzledger.audit import findings, reports
from ggzledger.domain.money import format_euro
from ggzledger.interfaces.cli.writes import close_anchors
from ggzledger.interfaces.http import create_app
from ggzledger.interfaces.text.declaration import dutch_date
from ggzledger.service.tokens import Tokens
from html_pages import data_elements, table

LOCAL = "http://127.0.0.1"
# A second trajectory beside Henk's: another insurer, care that steps up and sideways, still open.
STAP = [
    {**opened("T-STAP", "2016-11-01"), "insurer": "8401"},
    *care_need("T-STAP", "2016-11-01", 3)[1:],
    reviewed("2016-12-01", 4, "T-STAP", honos={**HONOS, "7": 3}),
    reviewed("2017-01-10", 10, "T-STAP"),
    assessed("2017-02-01", "T-STAP", {**HONOS, "7": 2, "1": 1}),
    delivered("S-0203", "2017-02-03", number="T-STAP", care_form="outreach"),
    delivered("S-0206", "2017-02-06", number="T-STAP"),
]


@pytest.fixture
def ledger_and_anchors(ledger: Ledger) -> tuple[Ledger, list[str]]:
    """Henk and T-STAP recorded, months closed through 2017-02; the anchor lines ``close`` printed."""
    clerk = Clerk(ledger)
    ingest(ledger, henk_lines(closes=False), lambda n, m: None)
    clerk.given(*STAP)
    return ledger, close_anchors(ledger, ledger.close_month("2017-02"))


@pytest.fixture
def client(ledger_and_anchors: tuple[Ledger, list[str]]) -> Iterator[TestClient]:
    ledger = ledger_and_anchors[0]
    headers = {"Authorization": f"Bearer {Tokens(ledger.store).add('auditor', 'auditor')}"}
    with TestClient(create_app(ledger), base_url=LOCAL, headers=headers) as test_client:
        yield test_client


def nota_rows(declaration: dict[str, Any]) -> list[list[str]]:
    """The rows the nota's table must show, made from the declaration's JSON."""
    rows = [["Datum", "Code", "Omschrijving", "Bedrag"]]
    for line in declaration["lines"]:
        marks = (["creditering"] if line["kind"] == "credit" else []) + (["nagekomen"] if line["late"] else [])
        text = line["description"] + (f" ({', '.join(marks)})" if marks else "")
        rows.append([dutch_date(line["date"]), line["code"], text, format_euro(line["amount"])])
    totals = (
        declaration["total"],
        declaration["previously_declared"],
        declaration["total"] + declaration["previously_declared"],
    )
    labels = ("Totaal deze maand", "Eerder gedeclareerd", "Totaal gedeclareerd")
    return rows + [[label, format_euro(amount)] for label, amount in zip(labels, totals, strict=True)]


def without_delivered(rows: list[list[str]], declaration: dict[str, Any]) -> list[list[str]]:
    """The nota's rows with each ZPM line's 'door … minuten' taken off its description cell."""
    for row, line in zip(rows[1:], declaration["lines"], strict=False):
        if "prestatie" in line:
            row[2] = row[2].rsplit(" door ", 1)[0]
    return rows


def test_the_zorgnota_shows_every_line_and_total_as_the_declaration_says(
    client: TestClient, ledger_and_anchors: tuple[Ledger, list[str]]
) -> None:
    ledger = ledger_and_anchors[0]
    for trajectory, month in [("T-HENK", "2017-02"), ("T-HENK", "2016-11"), ("T-STAP", "2017-02")]:
        declaration = ledger.declaration(trajectory, month)
        assert declaration is not None

        page = client.get(f"/ui/trajectories/{trajectory}/nota/{month}")

        assert page.status_code == 200
        assert table(page.text, ".lines") == nota_rows(declaration)
        assert f"volgnummer {declaration['sequence']}" in page.text
        assert f"Zorgcluster</dt><dd>{declaration['cluster']['code']} {declaration['cluster']['name']}" in page.text
        assert f"<code>{declaration['digest']}</code>" in page.text and "verzonden" in page.text


def test_a_draft_nota_says_it_is_a_draft_and_has_no_digest(client: TestClient, ledger: Ledger) -> None:
    Clerk(ledger).given(delivered("S-0301", "2017-03-01", number="T-STAP"))
    draft = ledger.declaration("T-STAP", "2017-03")
    assert draft is not None and draft["status"] == "draft"

    page = client.get("/ui/trajectories/T-STAP/nota/2017-03")

    assert table(page.text, ".lines") == nota_rows(draft)
    assert "concept: de maand is nog niet afgesloten" in page.text and "digest" not in page.text


def test_a_zpm_nota_under_a_privacy_statement_names_who_delivered_what_and_no_zorgvraagtype(
    ledger: Ledger,
) -> None:
    ingest(ledger, ZPM_EXAMPLE.read_bytes().splitlines(), lambda n, m: None)
    headers = {"Authorization": f"Bearer {Tokens(ledger.store).add('auditor', 'auditor')}"}
    declaration = ledger.declaration("T-ZPM1", "2024-11")
    assert declaration is not None and declaration["privacy"]

    with TestClient(create_app(ledger), base_url=LOCAL, headers=headers) as client:
        page = client.get("/ui/trajectories/T-ZPM1/nota/2024-11").text

    rows = table(page, ".lines")
    assert without_delivered([list(row) for row in rows], declaration) == nota_rows(declaration)
    for row, line in zip(rows[1:], declaration["lines"], strict=False):
        assert row[2].endswith(f"door {line['practitioner']} ({line['beroep']}), {line['minutes']} minuten")
    assert "Privacyverklaring</dt><dd>ja" in page and "Zorgvraagtype" not in page
    assert f"Regiebehandelaar</dt><dd>{declaration['regiebehandelaar']['practitioner']}" in page
    assert "nagekomen: zorg uit een eerdere maand" in page  # a late line is explained


def test_the_month_shows_its_declarations_totals_by_insurer_and_care_form_and_the_anchor_close_printed(
    client: TestClient, ledger_and_anchors: tuple[Ledger, list[str]]
) -> None:
    ledger, anchors = ledger_and_anchors
    declarations = ledger.declarations("2017-02")
    records = [json.loads(line) for line in henk_lines(closes=False)] + STAP
    insurer = {r["trajectory"]: r["insurer"] for r in records if r["type"] == "trajectory_opened"}
    care_form = {r["activity"]: r.get("care_form", "none") for r in records if r["type"] == "activity_delivered"}
    by_insurer: Counter[str] = Counter()
    by_form: Counter[str] = Counter()
    for d in declarations:
        by_insurer[insurer[d["trajectory"]]] += d["total"]
        for line in d["lines"]:
            by_form[care_form[line["activity"]]] += line["amount"]

    page = client.get("/ui/months/2017-02").text

    total = format_euro(sum(d["total"] for d in declarations))
    assert table(page, ".declarations")[1:] == [
        [d["trajectory"], str(d["sequence"]), str(len(d["lines"])), format_euro(d["total"]), "zorgverloop"]
        for d in declarations
    ]
    assert table(page, "#per-verzekeraar")[1:] == [
        *([key, format_euro(amount)] for key, amount in sorted(by_insurer.items())),
        ["Totaal", total],
    ]
    assert sorted(table(page, "#per-zorgvorm")[1:-1]) == sorted([key, format_euro(v)] for key, v in by_form.items())
    assert len(anchors) == 4 and anchors[-1].endswith("# close of 2017-02")
    assert f'<code id="anker">{anchors[-1]}</code>' in page
    for line in anchors[:-1]:
        month = line.rsplit(" ", 1)[1]
        assert f'<code id="anker">{line}</code>' in client.get(f"/ui/months/{month}").text


def test_an_open_month_shows_drafts_and_no_anchor(client: TestClient, ledger: Ledger) -> None:
    Clerk(ledger).given(delivered("S-0301", "2017-03-01", number="T-STAP", care_form="outreach"))

    page = client.get("/ui/months/2017-03").text

    assert "concepten" in page and 'id="anker"' not in page
    assert table(page, "#per-zorgvorm")[1:] == [["outreach", "€ 100,00"], ["Totaal", "€ 100,00"]]


def test_the_timelines_points_are_the_historys_honos_totals_and_its_table_the_same_data(
    client: TestClient, ledger: Ledger
) -> None:
    for trajectory in ("T-HENK", "T-STAP"):
        entries = reports.history(ledger, trajectory)

        page = client.get(f"/ui/trajectories/{trajectory}/timeline").text

        points = data_elements(page, "circle", "honos-point")
        assert [(p["data-on"], int(p["data-honos"] or -1)) for p in points] == [
            (e.on.isoformat(), e.honos_total) for e in entries if e.honos_total is not None
        ]
        rows = table(page, ".history")[1:]
        assert [(row[0], row[4]) for row in rows] == [(dutch_date(e.on), str(e.honos_total)) for e in entries]
        reviews = data_elements(page, "line", "mark-review")
        assert [m["data-on"] for m in reviews] == [e.on.isoformat() for e in entries if e.event == "reviewed"]
        steps = data_elements(page, "text", "step-label")
        assert [int(s["data-cluster"] or -1) for s in steps] == [e.to_cluster for e in entries if e.to_cluster]
        assert 'role="img"' in page and '<title id="grafiek-titel">' in page and "<desc" in page


def test_history_findings_are_marked_on_the_chart_and_listed(client: TestClient, ledger: Ledger) -> None:
    entries = reports.history(ledger, "T-STAP")
    flagged = [(e.on.isoformat(), name) for e in entries for name in e.findings]
    assert flagged  # 4 -> 10 is an unlikely transition

    page = client.get("/ui/trajectories/T-STAP/timeline").text

    marks = [(m["data-on"], m["data-kind"]) for m in data_elements(page, "line", "mark-finding")]
    assert marks == [(on, "finding") for on, _ in flagged] + [
        (row["date"], "finding") for row in findings.findings(ledger, trajectory="T-STAP")
    ]
    assert all(name.replace("_", " ") in page for _, name in flagged)


def test_the_worklist_is_the_reviews_due_as_of_the_date_asked(client: TestClient, ledger: Ledger) -> None:
    # Henk's review is never due (he is referred back first); T-STAP's cluster 10 is due a year on.
    for as_of in ("2017-01-01", "2017-06-01", "2018-02-01"):
        due = reports.worklist(ledger, date.fromisoformat(as_of))

        page = client.get(f"/ui/reviews?as_of={as_of}").text

        rows = [row for row in table(page, ".worklist")[1:] if len(row) == 4]
        assert [(row[0], row[1], row[2]) for row in rows] == [
            (d.trajectory, str(d.cluster), dutch_date(d.review_due)) for d in due
        ]
        assert f'value="{as_of}"' in page
    assert rows, "the last date has a review due"


def test_the_index_lists_the_closed_months_and_the_open_one(client: TestClient) -> None:
    page = client.get("/ui/").text

    links = [f'href="/ui/months/{month}"' for month in ("2017-03", "2017-02", "2017-01", "2016-12", "2016-11")]
    assert all(link in page for link in links)
    assert [page.index(link) for link in links] == sorted(page.index(link) for link in links)
    answer = client.get("/ui/months?month=2017-01", follow_redirects=False)
    assert (answer.status_code, answer.headers["location"]) == (303, "/ui/months/2017-01")
