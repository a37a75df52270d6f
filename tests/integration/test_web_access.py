"""Who sees the web view: the session cookie of /ui/login, roles per page, refusals as pages, and the access log."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from starlette.testclient import TestClient

from builders import HENK
from ggzledger import Ledger, ingest
from ggzledger.audit.access_log import AccessLog
from ggzledger.interfaces.http import create_app
from ggzledger.interfaces.http_access import RULES
from ggzledger.interfaces.web.session import COOKIE
from ggzledger.service.tokens import ROLES, Tokens

LOCAL = "http://127.0.0.1"
SAME_ORIGIN = {"Origin": LOCAL}
# One request per page that shows a patient's data.
PATIENT_PAGES = {
    "/ui/months/{month}": "/ui/months/2017-02",
    "/ui/trajectories/{trajectory}/nota/{month}": "/ui/trajectories/T-HENK/nota/2017-02",
    "/ui/trajectories/{trajectory}/timeline": "/ui/trajectories/T-HENK/timeline",
    "/ui/reviews": "/ui/reviews?as_of=2017-06-01",
}


@pytest.fixture
def henk(ledger: Ledger) -> Ledger:
    ingest(ledger, HENK.read_bytes().splitlines(), lambda n, m: None)
    return ledger


@pytest.fixture
def tokens(henk: Ledger) -> dict[str, str]:
    return {role: Tokens(henk.store).add(role, role) for role in ROLES}


@pytest.fixture
def browser(henk: Ledger, tokens: dict[str, str]) -> Iterator[TestClient]:
    """A client that, like a browser, keeps cookies and sends no Authorization header of its own."""
    with TestClient(create_app(henk), base_url=LOCAL, follow_redirects=False) as client:
        yield client


def log_in(client: TestClient, token: str, next_page: str = "/ui/") -> Any:
    return client.post("/ui/login", data={"token": token, "next": next_page}, headers=SAME_ORIGIN)


def log_rows(ledger: Ledger) -> list[tuple[Any, ...]]:
    return [(row.who, row.what, row.trajectory, row.outcome) for row in AccessLog(ledger.store).rows()]


def test_the_rules_name_every_page_that_shows_a_patients_data() -> None:
    assert {path for path, rule in RULES.items() if path.startswith("/ui/") and rule.patient} == set(PATIENT_PAGES)
    assert {path for path, rule in RULES.items() if rule.open} == {
        "/ui/login",
        "/ui/logout",
        "/ui/static/ggzledger.css",
    }


def test_without_a_token_every_page_is_a_401_page_with_a_way_to_log_in_and_nothing_of_the_ledger(
    browser: TestClient,
) -> None:
    for path in [*PATIENT_PAGES.values(), "/ui/", "/ui/months?month=2017-02", "/ui/nowhere", "/ui"]:
        for cookies in ({}, {COOKIE: "not-a-token"}):
            browser.cookies.clear()
            browser.cookies.update(cookies)
            refused = browser.get(path)
            assert refused.status_code == 401, (path, cookies)
            assert refused.headers["content-type"].startswith("text/html")
            assert refused.headers["cache-control"] == "no-store"
            assert '<html lang="nl">' in refused.text and 'href="/ui/login' in refused.text
            for shown in ("€", "<table", "volgnummer", "3311", "anchor", "HoNOS"):
                assert shown not in refused.text, (path, shown)


def test_a_role_the_page_does_not_name_gets_a_403_page_and_the_integrator_an_index_without_data(
    browser: TestClient, tokens: dict[str, str]
) -> None:
    assert log_in(browser, tokens["integrator"]).status_code == 303
    for path in PATIENT_PAGES.values():
        refused = browser.get(path)
        assert refused.status_code == 403, path
        assert "the role integrator may not use this endpoint (auditor or backoffice may)" in refused.text
        assert "€" not in refused.text
    index = browser.get("/ui/")
    assert index.status_code == 200
    assert "/ui/months/" not in index.text and "Reviewlijst" not in index.text


def test_logging_in_sets_an_http_only_strict_cookie_for_ui_that_the_pages_accept_and_the_api_does_not(
    browser: TestClient, tokens: dict[str, str]
) -> None:
    form = browser.get("/ui/login?next=/ui/reviews")
    assert form.status_code == 200
    assert '<label for="token">' in form.text and 'name="next" value="/ui/reviews"' in form.text

    answer = log_in(browser, tokens["auditor"], "/ui/reviews")

    assert answer.status_code == 303 and answer.headers["location"] == "/ui/reviews"
    cookie = answer.headers["set-cookie"]
    assert cookie.startswith(f"{COOKIE}={tokens['auditor']};")
    attributes = {part.strip().lower() for part in cookie.split(";")[1:]}
    assert {"httponly", "path=/ui", "samesite=strict", "max-age=28800"} <= attributes
    assert "secure" not in attributes  # plain http: a Secure cookie would never come back
    assert browser.get("/ui/reviews").status_code == 200
    assert browser.get("/trajectories/T-HENK/history").status_code == 401  # the API wants its header


def test_over_https_the_cookie_is_secure(henk: Ledger, tokens: dict[str, str]) -> None:
    with TestClient(create_app(henk), base_url="https://127.0.0.1", follow_redirects=False) as client:
        answer = client.post("/ui/login", data={"token": tokens["auditor"]}, headers={"Origin": "https://127.0.0.1"})
    assert answer.status_code == 303
    assert "secure" in {part.strip().lower() for part in answer.headers["set-cookie"].split(";")}


@pytest.mark.parametrize(
    "headers",
    [{}, {"Origin": "http://evil.example"}, {"Origin": "null"}, {"Origin": "http://127.0.0.1:9999"}],
    ids=["no Origin", "another site", "opaque origin", "another port"],
)
def test_a_login_form_not_sent_from_this_servers_page_is_refused(
    browser: TestClient, tokens: dict[str, str], headers: dict[str, str]
) -> None:
    answer = browser.post("/ui/login", data={"token": tokens["auditor"]}, headers=headers)

    assert answer.status_code == 403 and "set-cookie" not in answer.headers


def test_a_wrong_token_shows_the_form_again_with_a_401_and_sets_nothing(browser: TestClient) -> None:
    for token in ("wrong", "", "x" * 500, "é"):
        answer = log_in(browser, token)
        assert answer.status_code == 401, token
        assert "set-cookie" not in answer.headers
        assert 'role="alert"' in answer.text and '<form method="post"' in answer.text
    assert (
        browser.post(
            "/ui/login", content=b"{}", headers={**SAME_ORIGIN, "content-type": "application/json"}
        ).status_code
        == 400
    )


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/ui/", "/feed", "/ui\\..\\x", None])
def test_after_login_only_a_page_of_the_web_view_is_followed(
    browser: TestClient, tokens: dict[str, str], target: str | None
) -> None:
    data = {"token": tokens["auditor"]} if target is None else {"token": tokens["auditor"], "next": target}

    answer = browser.post("/ui/login", data=data, headers=SAME_ORIGIN)

    assert answer.headers["location"] == "/ui/"


def test_logging_out_clears_the_cookie_and_the_pages_ask_for_a_token_again(
    browser: TestClient, tokens: dict[str, str]
) -> None:
    log_in(browser, tokens["backoffice"])
    assert browser.get("/ui/logout").status_code == 200
    assert browser.post("/ui/logout").status_code == 403  # not from this server's page

    answer = browser.post("/ui/logout", headers=SAME_ORIGIN)

    assert answer.status_code == 303 and answer.headers["location"] == "/ui/login"
    assert answer.headers["set-cookie"].startswith(f'{COOKIE}="";')
    assert "max-age=0" in answer.headers["set-cookie"].lower()
    assert COOKIE not in browser.cookies
    assert browser.get("/ui/").status_code == 401


def test_a_revoked_tokens_cookie_is_refused_within_two_seconds(
    browser: TestClient, henk: Ledger, tokens: dict[str, str]
) -> None:
    log_in(browser, tokens["auditor"])
    assert browser.get("/ui/").status_code == 200

    Tokens(henk.store).revoke("auditor")
    revoked = time.monotonic()
    while browser.get("/ui/").status_code == 200:
        assert time.monotonic() - revoked < 2, "the revoked token still works"
        time.sleep(0.05)
    assert browser.get("/ui/").status_code == 401


def test_the_bearer_header_opens_the_pages_too(henk: Ledger, tokens: dict[str, str]) -> None:
    headers = {"Authorization": f"Bearer {tokens['auditor']}"}
    with TestClient(create_app(henk), base_url=LOCAL, headers=headers) as client:
        assert all(client.get(path).status_code == 200 for path in PATIENT_PAGES.values())


def test_every_page_showing_a_patients_data_is_in_the_access_log_as_the_apis_reads_are(
    browser: TestClient, henk: Ledger, tokens: dict[str, str]
) -> None:
    browser.get("/ui/trajectories/T-HENK/nota/2017-02")  # no token yet
    log_in(browser, tokens["integrator"])
    browser.get("/ui/trajectories/T-HENK/timeline")
    log_in(browser, tokens["auditor"])
    browser.get("/ui/")  # no patient's data: not logged
    browser.get("/ui/months?month=2017-02")  # nor this: it only leads to the month's page
    browser.get("/ui/trajectories/T-HENK/nota/2017-02")
    browser.get("/ui/trajectories/T-HENK/nota/2010-01")
    browser.get("/ui/trajectories/T-NOBODY/timeline")
    browser.get("/ui/trajectories/T-HENK/timeline")
    browser.get("/ui/months/2017-01")
    browser.get("/ui/months/2016-01")  # no declarations: nobody's data read
    browser.get("/ui/reviews?as_of=2017-01-01")  # Henk's review is not due yet: nobody listed
    browser.get("/ui/static/ggzledger.css")

    assert log_rows(henk) == [
        ("-", "GET /ui/trajectories/T-HENK/nota/2017-02", "T-HENK", "refused 401"),
        ("integrator", "GET /ui/trajectories/T-HENK/timeline", "T-HENK", "refused 403"),
        ("auditor", "GET /ui/trajectories/T-HENK/nota/2017-02", "T-HENK", "allowed"),
        ("auditor", "GET /ui/trajectories/T-HENK/nota/2010-01", "T-HENK", "not found"),
        ("auditor", "GET /ui/trajectories/T-NOBODY/timeline", "T-NOBODY", "not found"),
        ("auditor", "GET /ui/trajectories/T-HENK/timeline", "T-HENK", "allowed"),
        ("auditor", "GET /ui/months/2017-01", "T-HENK", "allowed"),
    ]
    assert AccessLog(henk.store).verify().id is None


def test_a_worklist_logs_one_row_per_trajectory_it_lists(
    browser: TestClient, henk: Ledger, tokens: dict[str, str]
) -> None:
    log_in(browser, tokens["backoffice"])
    henk_open = browser.get("/ui/reviews?as_of=2017-02-10")  # cluster 4 since 1 November: due 1 May

    assert "T-HENK" not in henk_open.text
    assert log_rows(henk) == []


@pytest.mark.parametrize(
    ("path", "status", "says"),
    [
        ("/ui/months/2017-13", 400, "is not a month YYYY-MM"),
        ("/ui/months?month=feb", 400, "is not a month YYYY-MM"),
        ("/ui/months?month=2017-02%0A", 400, "is not a month YYYY-MM"),
        ("/ui/trajectories/T-HENK/nota/17-02", 400, "is not a month YYYY-MM"),
        ("/ui/trajectories/T%07X/timeline", 400, "not a trajectory number"),
        ("/ui/trajectories/" + "T" * 65 + "/timeline", 400, "not a trajectory number"),
        ("/ui/reviews?as_of=2017-02-30", 400, "is not a date YYYY-MM-DD"),
        ("/ui/reviews?as_of=20170201", 400, "is not a date YYYY-MM-DD"),
        ("/ui/trajectories/T-HENK/nota/2999-01", 400, "cannot draft 2999-01"),
        ("/ui/trajectories/T-NOBODY/nota/2017-02", 404, "trajectory T-NOBODY was never opened"),
        ("/ui/trajectories/T-HENK/nota/2010-01", 404, "trajectory T-HENK has no declaration for 2010-01"),
        ("/ui/nowhere", 404, "Not Found"),
        ("/ui/reviews", 405, "Method Not Allowed"),
    ],
)
def test_a_bad_path_or_date_is_a_clear_page_never_a_traceback(
    browser: TestClient, tokens: dict[str, str], path: str, status: int, says: str
) -> None:
    log_in(browser, tokens["auditor"])

    answer = browser.request("POST" if status == 405 else "GET", path)

    assert answer.status_code == status
    assert answer.headers["content-type"].startswith("text/html")
    assert says in answer.text and "Traceback" not in answer.text


def test_what_a_request_names_is_escaped_on_the_page(browser: TestClient, tokens: dict[str, str]) -> None:
    log_in(browser, tokens["auditor"])

    answer = browser.get("/ui/trajectories/%3Cscript%20src%3Dx%3E/timeline")

    assert answer.status_code == 404
    assert "<script" not in answer.text and "trajectory &lt;script src=x&gt; was never opened" in answer.text


def test_pages_say_no_store_allow_no_script_and_send_no_referrer_to_other_sites(
    browser: TestClient, tokens: dict[str, str]
) -> None:
    log_in(browser, tokens["auditor"])
    for path in [*PATIENT_PAGES.values(), "/ui/", "/ui/login"]:
        answer = browser.get(path)
        assert answer.headers["cache-control"] == "no-store", path
        assert "default-src 'none'" in answer.headers["content-security-policy"], path
        assert answer.headers["referrer-policy"] == "same-origin", path
        assert "<script" not in answer.text, path
    css = browser.get("/ui/static/ggzledger.css")
    assert css.headers["content-type"].startswith("text/css") and "@media print" in css.text
