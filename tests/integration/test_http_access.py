"""Who may read what over HTTP: tokens and roles on loopback too, the integrator's feed, and the access log."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from starlette.testclient import TestClient

from builders import HENK
from event_examples import trajectory_events
from ggzledger import Ledger, ingest
from ggzledger.audit.access_log import AccessLog
from ggzledger.feed.public import TOPICS, Feed, line
from ggzledger.interfaces.http import create_app
from ggzledger.interfaces.http_access import RULES
from ggzledger.service.tokens import ROLES, Tokens

LOCAL = "http://127.0.0.1"
# One request per endpoint, each naming T-HENK where it can.
REQUESTS = {
    "/feed": "/feed?limit=1000",
    "/trajectories/{trajectory}/declarations/{month}": "/trajectories/T-HENK/declarations/2017-02",
    "/months/{month}/declarations": "/months/2017-02/declarations",
    "/trajectories/{trajectory}/history": "/trajectories/T-HENK/history",
    "/findings": "/findings?trajectory=T-HENK",
    "/totals": "/totals",
    "/analyses/waiting": "/analyses/waiting?trajectory=T-HENK&as_of=2017-03-01",
    "/analyses/regiobeeld": "/analyses/regiobeeld?as_of=2017-03-01&by=region,care_form,group",
    "/analyses/whatif": "/analyses/whatif?month_from=2016-11&month_to=2017-02&uplift=10",
    "/analyses/dbc/{trajectory}": "/analyses/dbc/T-HENK",
    "/analyses/dbc": "/analyses/dbc?month=2017-02",
    "/status": "/status",
    "/openapi.json": "/openapi.json",
    # The web view (tests/integration/test_web*.py holds its pages): a browser's requests.
    "/ui/": "/ui/",
    "/ui/login": "/ui/login",
    "/ui/logout": "/ui/logout",
    "/ui/static/ggzledger.css": "/ui/static/ggzledger.css",
    "/ui/months": "/ui/months?month=2017-02",
    "/ui/months/{month}": "/ui/months/2017-02",
    "/ui/trajectories/{trajectory}/nota/{month}": "/ui/trajectories/T-HENK/nota/2017-02",
    "/ui/trajectories/{trajectory}/timeline": "/ui/trajectories/T-HENK/timeline",
    "/ui/reviews": "/ui/reviews?as_of=2017-02-01",
}
# The API's endpoints: JSON errors (the web view's refusals are pages).
API = {path: request for path, request in REQUESTS.items() if not path.startswith("/ui/")}


@pytest.fixture
def henk(ledger: Ledger) -> Ledger:
    ingest(ledger, HENK.read_bytes().splitlines(), lambda n, m: None)
    return ledger


@pytest.fixture
def tokens(henk: Ledger) -> dict[str, str]:
    return {role: Tokens(henk.store).add(role, role) for role in ROLES}


@pytest.fixture
def client(henk: Ledger, tokens: dict[str, str]) -> Iterator[TestClient]:
    with TestClient(create_app(henk), base_url=LOCAL) as test_client:
        yield test_client


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_the_rules_cover_every_endpoint_of_the_app(client: TestClient) -> None:
    assert set(RULES) == set(REQUESTS) == {route.path for route in client.app.routes}  # type: ignore[attr-defined]


def test_without_a_valid_token_every_endpoint_is_a_json_401_on_loopback_too(client: TestClient) -> None:
    for path in [*API.values(), "/nowhere"]:
        for headers in ({}, auth("not-a-token"), {"Authorization": "Basic dXNlcjpwdw=="}, {"Authorization": "Bearer"}):
            refused = client.get(path, headers=headers)
            assert refused.status_code == 401, (path, headers)
            assert refused.headers["www-authenticate"] == 'Bearer realm="ggzledger"'
            assert refused.json()["error"] in ("a bearer token is required", "the bearer token is not valid")


def test_each_role_reaches_exactly_the_endpoints_its_rule_names(client: TestClient, tokens: dict[str, str]) -> None:
    for role, token in tokens.items():
        for path, rule in RULES.items():
            response = client.get(REQUESTS[path], headers=auth(token))
            if role in rule.roles:
                assert response.status_code == 200, (role, path, response.text)
            else:
                assert response.status_code == 403, (role, path)
                message = f"the role {role} may not use this endpoint ({' or '.join(rule.roles)} may)"
                if path.startswith("/ui/"):  # a page, with the same words
                    assert message in response.text and "T-HENK" not in response.text
                else:
                    assert response.json() == {"error": message}
    # The matrix the docs show: the integrator reads the feed only, the auditor everything but the feed.
    assert [p for p, r in RULES.items() if "integrator" in r.roles] == [
        "/feed", "/status", "/openapi.json", "/ui/", "/ui/login", "/ui/logout", "/ui/static/ggzledger.css",
    ]  # fmt: skip
    assert [p for p, r in RULES.items() if "auditor" not in r.roles] == ["/feed"]
    # ... and the analyses are the auditor's alone: the back office reaches every other endpoint.
    assert [p for p, r in RULES.items() if "backoffice" not in r.roles] == [
        "/analyses/waiting", "/analyses/regiobeeld", "/analyses/whatif", "/analyses/dbc/{trajectory}", "/analyses/dbc",
    ]  # fmt: skip


def test_a_revoked_token_is_refused_by_the_running_server_within_two_seconds(
    client: TestClient, henk: Ledger, tokens: dict[str, str]
) -> None:
    assert client.get("/status", headers=auth(tokens["auditor"])).status_code == 200

    Tokens(henk.store).revoke("auditor")
    revoked = time.monotonic()
    while client.get("/status", headers=auth(tokens["auditor"])).status_code == 200:
        assert time.monotonic() - revoked < 2, "the revoked token still works"
        time.sleep(0.05)

    assert client.get("/status", headers=auth(tokens["backoffice"])).status_code == 200


def test_the_integrators_feed_has_every_personal_field_null_and_the_rest_as_the_back_office_sees_it(
    client: TestClient, tokens: dict[str, str]
) -> None:
    full = client.get("/feed?limit=1000", headers=auth(tokens["backoffice"])).json()["events"]
    sealed = client.get("/feed?limit=1000", headers=auth(tokens["integrator"])).json()["events"]

    assert [line["position"] for line in sealed] == [line["position"] for line in full]
    personal = {"patient", "referrer", "referrer_agb", "referral_date", "honos", "assessor", "total", "cluster",
                "hoofdgroep", "professional", "reason"}  # fmt: skip
    for open_line, closed_line in zip(full, sealed, strict=True):
        hidden = {key for key, value in closed_line["data"].items() if value != open_line["data"][key]}
        assert hidden <= personal, open_line["type"]
        if open_line["type"] != "month_closed":  # its total is the month's, not a patient's
            assert all(closed_line["data"].get(key, None) is None for key in personal), closed_line
    assert any(line["data"].get("patient") for line in full)
    assert any(line["data"].get("honos") for line in full)


def test_every_personal_field_of_every_event_class_is_a_field_of_its_feed_line() -> None:
    # A field named in PERSONAL_FIELDS that the line calls otherwise would be left in clear silently.
    for event in trajectory_events():
        if type(event).TOPIC not in TOPICS:
            continue
        full, sealed = line(1, event), line(1, event, personal=False)
        assert set(sealed["data"]) == set(full["data"]), type(event).__name__
        for name in type(event).PERSONAL_FIELDS:
            shown = {"scores": "honos"}.get(name, name)
            assert shown in full["data"], (type(event).__name__, name)
            assert sealed["data"][shown] is None


def log_rows(henk: Ledger) -> list[tuple[Any, ...]]:
    return [(row.who, row.what, row.trajectory, row.outcome) for row in AccessLog(henk.store).rows()]


def test_every_read_of_a_patients_data_is_in_the_access_log_with_who_what_and_outcome(
    client: TestClient, henk: Ledger, tokens: dict[str, str]
) -> None:
    auditor, integrator = auth(tokens["auditor"]), auth(tokens["integrator"])
    client.get("/trajectories/T-HENK/declarations/2017-02", headers=auditor)
    client.get("/trajectories/T-HENK/declarations/2010-01", headers=auditor)
    client.get("/trajectories/T-NOBODY/history", headers=auditor)
    client.get("/months/2017-01/declarations", headers=auditor)
    client.get("/trajectories/T-HENK/history", headers=auditor)
    client.get("/findings?trajectory=T-HENK", headers=auditor)
    client.get("/trajectories/T-HENK/history", headers=integrator)
    client.get("/trajectories/T-HENK/history")
    client.get("/totals", headers=auditor)  # no patient's data: not logged
    client.get("/status", headers=integrator)  # nor this
    page = client.get("/feed?limit=5", headers=integrator).json()["events"]

    assert log_rows(henk) == [
        ("auditor", "GET /trajectories/T-HENK/declarations/2017-02", "T-HENK", "allowed"),
        ("auditor", "GET /trajectories/T-HENK/declarations/2010-01", "T-HENK", "not found"),
        ("auditor", "GET /trajectories/T-NOBODY/history", "T-NOBODY", "not found"),
        ("auditor", "GET /months/2017-01/declarations", "T-HENK", "allowed"),
        ("auditor", "GET /trajectories/T-HENK/history", "T-HENK", "allowed"),
        ("auditor", "GET /findings?trajectory=T-HENK", "T-HENK", "allowed"),
        ("integrator", "GET /trajectories/T-HENK/history", "T-HENK", "refused 403"),
        ("-", "GET /trajectories/T-HENK/history", "T-HENK", "refused 401"),
        ("integrator", f"GET /feed?limit=5 positions 1-{page[-1]['position']}", "T-HENK", "allowed"),
    ]
    assert AccessLog(henk.store).verify().id is None


def test_a_feed_page_is_logged_once_per_trajectory_in_it_and_an_empty_page_not_at_all(
    client: TestClient, henk: Ledger, tokens: dict[str, str]
) -> None:
    feed = Feed(henk.recorder, henk.mapper)
    head = feed.head()

    client.get(f"/feed?after={head}", headers=auth(tokens["backoffice"]))
    client.get("/feed?limit=1000", headers=auth(tokens["backoffice"]))

    trajectories = list(dict.fromkeys(line["trajectory"] for line in feed.lines() if "trajectory" in line))
    assert [row[2] for row in log_rows(henk)] == trajectories


def test_the_access_log_names_the_first_row_that_was_altered_inserted_or_deleted(henk: Ledger) -> None:
    from ggzledger.audit.access_log import Entry

    log = AccessLog(henk.store)
    log.create()
    log.append([Entry("auditor", f"GET /trajectories/T-{n}/history", f"T-{n}", "allowed") for n in range(1, 6)])
    assert log.verify().id is None
    assert log.verify().rows == 5

    with henk.store.transaction(write=True) as c:
        c.execute("UPDATE access_log SET who = 'someone-else' WHERE id = 3")
    assert log.verify().id == 3
    with henk.store.transaction(write=True) as c:
        c.execute("UPDATE access_log SET who = 'auditor' WHERE id = 3")
        c.execute("DELETE FROM access_log WHERE id = 2")
    assert log.verify().id == 3  # the gap: row 3 follows row 1
