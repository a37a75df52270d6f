"""The web view as a person uses it: headless Chromium against a real `ggzledger serve` on the demo ledgers."""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from e2e.test_serve import add_token, served
from ggzledger.domain.money import format_euro
from processes import run_cli

CHROMIUM = shutil.which("chromium")
pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="Debian's chromium is not installed (.ci/run installs it; browsers are not downloaded)"
)

if CHROMIUM is not None:
    from playwright.sync_api import Browser, Page, sync_playwright


class Served:
    """A demo ledger served by a real server: its file, base URL and an auditor's token."""

    def __init__(self, db: str, url: str, token: str) -> None:
        self.db, self.url, self.token = db, url, token

    def cli_json(self, *args: str) -> Any:
        """What the command line answers, as JSON: the ledger's own word, to hold the pages to."""
        result = run_cli("--db", self.db, *args, "--json")
        assert result.returncode == 0, result.stderr
        return json.loads(result.stdout)


def _demo(tmp: Path, *which: str) -> Iterator[Served]:
    db = str(tmp / "demo.db")
    made = run_cli("--db", db, "demo", *which)
    assert made.returncode == 0, made.stderr
    token = add_token(db, "auditor")
    with served(db) as url:
        yield Served(db, url, token)


@pytest.fixture(scope="module")
def henk(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    yield from _demo(tmp_path_factory.mktemp("henk"))


@pytest.fixture(scope="module")
def zpm(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    yield from _demo(tmp_path_factory.mktemp("zpm"), "zpm")


@pytest.fixture(scope="module")
def chromium() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield browser
        browser.close()


@pytest.fixture
def page(chromium: Browser) -> Iterator[Page]:
    """A fresh browser context (no cookie), one tab, a desktop window."""
    context = chromium.new_context(viewport={"width": 1100, "height": 900})
    yield context.new_page()
    context.close()


def log_in(page: Page, served_at: Served, path: str = "/ui/") -> None:
    """Open ``path``, follow the 401 page's link to the form, give the token: the way a person gets in."""
    page.goto(served_at.url + path)
    page.get_by_role("link", name="Aanmelden").click()
    page.get_by_label("Token").fill(served_at.token)
    with page.expect_navigation():
        page.get_by_role("button", name="Aanmelden").click()
    assert page.url == served_at.url + path, page.inner_text("main")


def cells(page: Page, selector: str) -> list[list[str]]:
    """The text of each body row's cells (th and td) of a table, as shown."""
    rows: list[list[str]] = page.eval_on_selector_all(
        f"{selector} tbody tr",
        "rows => rows.map(r => Array.from(r.querySelectorAll('th, td')).map(c => c.innerText.trim()))",
    )
    return rows


def test_without_a_token_the_browser_sees_a_login_page_and_nothing_of_the_ledger(
    henk: Served, page: Page, tmp_path: Path
) -> None:
    for path in ("/ui/", "/ui/months/2017-02", "/ui/trajectories/T-HENK/nota/2017-02", "/ui/reviews"):
        answer = page.goto(henk.url + path)
        assert answer is not None and answer.status == 401, path
        shown = page.inner_text("body")
        assert "Aanmelden nodig" in shown
        assert "€" not in shown and "volgnummer" not in shown and "HoNOS" not in shown
    page.screenshot(path=str(tmp_path / "web-401.png"))


def test_the_zorgnota_shows_the_amounts_the_declaration_says_and_prints_as_one_page(
    henk: Served, page: Page, tmp_path: Path
) -> None:
    declaration = henk.cli_json("invoice", "T-HENK", "2017-02")
    log_in(page, henk, "/ui/trajectories/T-HENK/nota/2017-02")

    rows = cells(page, "table.lines")
    assert [row[-1] for row in rows] == [format_euro(line["amount"]) for line in declaration["lines"]]
    assert [row[1] for row in rows] == [line["code"] for line in declaration["lines"]]
    totals = page.eval_on_selector_all("table.lines tfoot td", "cells => cells.map(c => c.innerText.trim())")
    previous = declaration["previously_declared"]
    assert totals == [format_euro(v) for v in (declaration["total"], previous, previous + declaration["total"])]
    assert totals == ["€ 1.300,00", "€ 7.400,00", "€ 8.700,00"]  # the seed's worked example, as the README says
    page.screenshot(path=str(tmp_path / "web-nota.png"), full_page=True)

    page.emulate_media(media="print")
    assert not page.is_visible("header.site") and not page.is_visible("nav.related")
    assert page.is_visible("table.lines")
    pdf = page.pdf(format="A4")
    assert pdf.startswith(b"%PDF") and len(re.findall(rb"/Type\s*/Page\b(?!s)", pdf)) == 1  # one A4 page


def test_the_zpm_nota_names_who_delivered_each_line_and_its_amount(zpm: Served, page: Page, tmp_path: Path) -> None:
    declaration = zpm.cli_json("invoice", "T-ZPM1", "2024-11")
    log_in(page, zpm, "/ui/trajectories/T-ZPM1/nota/2024-11")

    rows = cells(page, "table.lines")
    assert [row[-1] for row in rows] == [format_euro(line["amount"]) for line in declaration["lines"]]
    for row, line in zip(rows, declaration["lines"], strict=True):
        assert f"door {line['practitioner']} ({line['beroep']}), {line['minutes']} minuten" in row[2]
    assert page.inner_text("table.lines tfoot tr.total-month td") == format_euro(declaration["total"])
    assert "Privacyverklaring" in page.inner_text("dl.fields")
    page.screenshot(path=str(tmp_path / "web-nota-zpm.png"), full_page=True)


def test_the_charts_points_are_the_historys_honos_totals(henk: Served, zpm: Served, page: Page, tmp_path: Path) -> None:
    for served_at, trajectory in ((henk, "T-HENK"), (zpm, "T-ZPM1")):
        history = served_at.cli_json("history", trajectory)["entries"]
        page.context.clear_cookies()
        log_in(page, served_at, f"/ui/trajectories/{trajectory}/timeline")

        points = page.eval_on_selector_all(
            "svg.timeline circle.honos-point", "ps => ps.map(p => [p.dataset.on, Number(p.dataset.honos)])"
        )
        assert points == [[e["on"], e["honos_total"]] for e in history if e["honos_total"] is not None]
        chart = page.get_by_role("img", name=f"Zorgverloop van {trajectory}")
        assert chart.is_visible()
        shown = [row[4] for row in cells(page, "table.history")]
        assert shown == [str(e["honos_total"]) for e in history]
        page.screenshot(path=str(tmp_path / f"web-timeline-{trajectory}.png"), full_page=True)


def test_the_month_shows_its_total_and_an_anchor_that_verify_accepts(henk: Served, page: Page, tmp_path: Path) -> None:
    declarations = henk.cli_json("invoices", "2017-02")
    log_in(page, henk, "/ui/months/2017-02")

    assert page.inner_text("#maandtotaal") == format_euro(sum(d["total"] for d in declarations))
    assert [row[0] for row in cells(page, "table.declarations")] == [d["trajectory"] for d in declarations]
    by_insurer = cells(page, "#per-verzekeraar")
    assert by_insurer == [["3311", format_euro(sum(d["total"] for d in declarations))]]
    anchor = page.inner_text("#anker")
    assert anchor.endswith("# close of 2017-02")
    _, position, digest = anchor.split("#")[0].split()
    verified = run_cli("--db", henk.db, "verify", "--anchor", f"{position}:{digest}")
    assert verified.returncode == 0, verified.stdout + verified.stderr
    page.screenshot(path=str(tmp_path / "web-month.png"), full_page=True)


def test_the_worklists_date_field_shows_the_reviews_due_then(zpm: Served, page: Page, tmp_path: Path) -> None:
    expected = zpm.cli_json("reviews", "--as-of", "2025-05-01")["rows"]
    assert expected, "the example's review is due by then"
    log_in(page, zpm, "/ui/reviews")

    page.get_by_label("Peildatum").fill("2025-05-01")
    with page.expect_navigation():
        page.get_by_role("button", name="Tonen").click()

    assert page.url.endswith("/ui/reviews?as_of=2025-05-01")
    rows = cells(page, "table.worklist")
    assert [(row[0], row[1]) for row in rows] == [(r["trajectory"], str(r["cluster"])) for r in expected]
    page.screenshot(path=str(tmp_path / "web-reviews.png"), full_page=True)


def test_the_keyboard_reaches_every_link_and_shows_where_it_is(henk: Served, page: Page, tmp_path: Path) -> None:
    log_in(page, henk)
    links = page.eval_on_selector_all("a[href]", "links => links.map(a => a.getAttribute('href'))")

    reached, styles = [], set()
    for _ in range(len(links) + 5):
        page.keyboard.press("Tab")
        focused = page.evaluate(
            "() => { const e = document.activeElement; const s = getComputedStyle(e);"
            " return [e.tagName, e.getAttribute('href'), s.outlineStyle, s.outlineWidth]; }"
        )
        if focused[0] == "A":
            reached.append(focused[1])
            styles.add((focused[2], focused[3]))
    assert reached[0] == "#inhoud"  # the skip link comes first
    assert set(links) <= set(reached)
    assert styles == {("solid", "3px")}  # focus is visible on every link
    page.screenshot(path=str(tmp_path / "web-index.png"))


def test_logging_out_in_the_browser_ends_the_session(henk: Served, page: Page) -> None:
    log_in(page, henk)
    page.get_by_role("link", name="Afmelden").click()
    with page.expect_navigation():
        page.get_by_role("main").get_by_role("button", name="Afmelden").click()

    assert page.url == henk.url + "/ui/login"
    answer = page.goto(henk.url + "/ui/months/2017-02")
    assert answer is not None and answer.status == 401
