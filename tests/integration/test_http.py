"""The HTTP interface through Starlette's test client: feed pages, declarations, the Host check, the OpenAPI document."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from typing import Any

import jsonschema
import pytest
from eventsourcing.persistence import OperationalError
from starlette.routing import Route
from starlette.testclient import TestClient

from builders import HENK, HENK_EXPECTED
from ggzledger import Ledger, ingest
from ggzledger.feed.public import Feed
from ggzledger.interfaces.http import create_app, is_loopback, served_names
from ggzledger.service.records import parse_line
from ggzledger.service.tokens import Tokens

# The Host a loopback server answers to (the test client's own "testserver" is refused).
LOCAL = "http://127.0.0.1"


def bearer(ledger: Ledger, role: str = "backoffice", name: str | None = None) -> dict[str, str]:
    """The Authorization header of a new token with ``role``."""
    return {"Authorization": f"Bearer {Tokens(ledger.store).add(name or f'test-{role}', role)}"}


@pytest.fixture
def henk(ledger: Ledger) -> Ledger:
    ingest(ledger, HENK.read_bytes().splitlines(), lambda n, m: None)
    return ledger


@pytest.fixture
def client(henk: Ledger) -> Iterator[TestClient]:
    with TestClient(create_app(henk), base_url=LOCAL, headers=bearer(henk)) as test_client:
        yield test_client


def test_feed_pages_resume_exactly_after_the_given_position(client: TestClient, henk: Ledger) -> None:
    everything = list(Feed(henk.recorder, henk.mapper).lines())

    pages, after = [], 0
    while True:
        body = client.get("/feed", params={"after": after, "limit": 5}).json()
        assert body["after"] == after
        if not body["events"]:
            assert body["last_position"] == after
            break
        assert body["last_position"] == body["events"][-1]["position"]
        pages.append(body["events"])
        after = body["last_position"]

    assert [line for page in pages for line in page] == everything
    assert all(len(page) == 5 for page in pages[:-1])
    middle = everything[10]["position"]
    assert client.get("/feed", params={"after": middle, "limit": 1000}).json()["events"] == everything[11:]


def test_a_long_poll_returns_as_soon_as_an_event_is_recorded(client: TestClient, henk: Ledger) -> None:
    head = henk.projector.head()
    late = (
        b'{"type": "activity_delivered", "trajectory": "T-HENK", "activity": "LONG-POLL", "date": "2017-02-20",'
        b' "code": "CONSULT"}'
    )
    writer = threading.Timer(0.5, lambda: henk.record([parse_line(late, henk.today())]))
    started = time.monotonic()
    writer.start()

    body = client.get("/feed", params={"after": head, "wait": 20}).json()

    writer.join()
    assert 0.4 < time.monotonic() - started < 10
    assert [line["data"]["activity"] for line in body["events"]] == ["LONG-POLL"]


def test_a_long_poll_with_nothing_new_returns_an_empty_page_after_the_wait(client: TestClient, henk: Ledger) -> None:
    head = henk.projector.head()
    started = time.monotonic()

    body = client.get("/feed", params={"after": head, "wait": 1}).json()

    assert body == {"after": head, "events": [], "last_position": head}
    assert time.monotonic() - started >= 0.9


def test_a_declaration_is_the_contract_json_and_a_missing_one_is_a_json_404(client: TestClient) -> None:
    expected = {(d["trajectory"], d["month"]): d for d in json.loads(HENK_EXPECTED.read_text())}

    got = client.get("/trajectories/T-HENK/declarations/2017-02")
    assert got.status_code == 200
    body = got.json()
    assert len(body.pop("digest")) == 64
    assert body == expected[("T-HENK", "2017-02")]

    for path, words in [
        ("/trajectories/T-HENK/declarations/2016-10", "has no declaration for 2016-10"),
        ("/trajectories/T-NOBODY/declarations/2017-02", "never opened"),
    ]:
        missing = client.get(path)
        assert missing.status_code == 404
        assert missing.headers["content-type"] == "application/json"
        assert words in missing.json()["error"]


def test_a_month_lists_its_declarations(client: TestClient) -> None:
    body = client.get("/months/2017-01/declarations").json()

    assert body["month"] == "2017-01"
    assert [(d["trajectory"], d["status"], d["sequence"]) for d in body["declarations"]] == [("T-HENK", "issued", 3)]


def test_history_and_totals_are_the_cli_json(client: TestClient) -> None:
    history = client.get("/trajectories/T-HENK/history").json()
    totals = client.get("/totals", params={"by": "month"}).json()

    assert [(e["event"], e["change"]) for e in history["entries"]] == [
        ("clustered", "initial"),
        ("referred_back", "ended"),
    ]
    assert totals["total"] == sum(row["total"] for row in totals["rows"]) == 870000
    assert client.get("/trajectories/T-NOBODY/history").status_code == 404
    assert client.get("/totals", params={"by": "colour"}).status_code == 400


def test_bad_parameters_are_a_json_400(client: TestClient) -> None:
    for path in ("/feed?after=-1", "/feed?limit=0", "/feed?limit=5000", "/feed?wait=x", "/months/2017-13/declarations"):
        response = client.get(path)
        assert response.status_code == 400, path
        assert "error" in response.json()
    assert client.get("/nowhere").json() == {"error": "Not Found"}


@pytest.mark.parametrize(
    "query",
    [
        "after=99999999999999999999999",
        "after=%C2%B2",
        "after=9223372036854775808",
        "limit=%EF%BC%95",
        "wait=%D9%A3",
        "after=+1",
        "after=1_0",
        "after=%201",
        "after=",
    ],
)
def test_a_number_that_is_not_ascii_digits_within_bounds_is_a_json_400_naming_it(
    client: TestClient, query: str
) -> None:
    response = client.get(f"/feed?{query}")

    assert response.status_code == 400
    assert response.json()["error"].startswith(f"{query.split('=')[0]} must be a whole number ")


def test_the_last_feed_position_a_store_can_hold_is_a_valid_after(client: TestClient) -> None:
    body = client.get("/feed", params={"after": str(2**63 - 1)}).json()

    assert body == {"after": 2**63 - 1, "events": [], "last_position": 2**63 - 1}


@pytest.mark.parametrize("month", ["0000-01", "10000-01", "2024-13", "%D9%A2%D9%A0%D9%A2%D9%A4-01", "%00"])
def test_a_month_outside_0001_01_through_9999_12_is_a_json_400(client: TestClient, month: str) -> None:
    for path in (f"/months/{month}/declarations", f"/trajectories/T-HENK/declarations/{month}"):
        response = client.get(path)
        assert response.status_code == 400, path
        assert "is not a month YYYY-MM" in response.json()["error"]


def test_a_draft_that_would_close_thousands_of_months_first_is_refused_at_once(client: TestClient) -> None:
    # T-HENK's ledger is closed through 2017-02: a draft of 9999-12 would first close 95,794 open months.
    for path in ("/months/9999-12/declarations", "/trajectories/T-HENK/declarations/9999-12"):
        response = client.get(path)
        assert response.status_code == 400
        assert response.json()["error"] == (
            "cannot draft 9999-12, which would first close 2017-03 through 9999-12: "
            "95,794 months, more than the 2,400 allowed at once"
        )
    # The server still answers afterwards: nothing was left holding the read lock.
    assert client.get("/months/2017-01/declarations").status_code == 200


def test_status_reports_the_head_and_the_projection_lag(client: TestClient, henk: Ledger) -> None:
    henk.projector.catch_up()
    body = client.get("/status").json()

    assert body["head"] == henk.projector.head()
    assert body["lag"] == 0
    assert set(body["projections"]) >= {"billing"}


def test_only_loopback_addresses_count_as_local() -> None:
    assert all(is_loopback(host) for host in ("127.0.0.1", "127.1.2.3", "::1", "localhost"))
    assert not any(is_loopback(host) for host in ("0.0.0.0", "::", "192.168.1.10", "example.org"))


def test_the_openapi_document_lists_every_endpoint_and_the_feed_schemas(client: TestClient, henk: Ledger) -> None:
    document: dict[str, Any] = client.get("/openapi.json").json()
    routes = [route for route in client.app.routes if isinstance(route, Route)]  # type: ignore[attr-defined]
    # The web view's pages (/ui/, docs/web.md) are HTML for people, not part of the JSON API it describes.
    app_paths = {route.path for route in routes if not route.path.startswith("/ui/")}

    assert document["openapi"].startswith("3.1")
    assert set(document["paths"]) == app_paths
    assert {"/feed", "/trajectories/{trajectory}/declarations/{month}", "/months/{month}/declarations"} <= app_paths
    # Real responses validate against the document's own schemas.
    components = document["components"]["schemas"]

    def check(instance: Any, name: str) -> None:
        wrapper = {"$ref": f"#/components/schemas/{name}", "components": document["components"]}
        jsonschema.Draft202012Validator(wrapper, format_checker=jsonschema.FormatChecker()).validate(instance)

    check(client.get("/feed", params={"limit": 1000}).json(), "FeedPage")
    check(client.get("/trajectories/T-HENK/declarations/2017-02").json(), "Declaration")
    check(client.get("/status").json(), "Status")
    check(client.get("/trajectories/T-HENK/history").json(), "History")
    check(client.get("/totals", params={"by": "cluster", "drafts": "true"}).json(), "Totals")
    assert "FeedLine" in components


def test_a_database_that_went_away_is_a_json_503(henk: Ledger, monkeypatch: pytest.MonkeyPatch) -> None:
    def unreachable(month: str) -> None:
        raise OperationalError("server closed the connection unexpectedly\n\tThis probably means ...")

    monkeypatch.setattr(henk, "declarations", unreachable)
    with TestClient(create_app(henk), base_url=LOCAL, headers=bearer(henk)) as client:
        response = client.get("/months/2017-01/declarations")

    assert response.status_code == 503
    assert response.json() == {"error": "the database is not available: server closed the connection unexpectedly"}


def test_a_trajectory_longer_than_an_identifier_or_with_invisible_characters_is_a_json_400(client: TestClient) -> None:
    for trajectory in ("T" * 65, "T-%E2%80%AEKNEH", "T-%00", "T-%E2%80%8BHENK"):
        for path in (f"/trajectories/{trajectory}/history", f"/trajectories/{trajectory}/declarations/2017-02"):
            response = client.get(path)
            assert response.status_code == 400, path
            assert response.json() == {
                "error": "not a trajectory number: at most 64 characters, no control or invisible ones"
            }


def test_every_response_errors_included_carries_no_store(henk: Ledger) -> None:
    backoffice, integrator = bearer(henk), bearer(henk, "integrator")
    with TestClient(create_app(henk), base_url=LOCAL, raise_server_exceptions=False) as client:
        answers = [
            client.get("/feed", headers=backoffice),  # 200
            client.get("/trajectories/T-HENK/declarations/2015-01", headers=backoffice),  # 404
            client.get("/totals?by=nothing", headers=backoffice),  # 400
            client.get("/feed"),  # 401
            client.get("/totals", headers=integrator),  # 403
            client.get("/feed", headers={**backoffice, "Host": "rebound.example"}),  # 421
            client.get("/nowhere", headers=backoffice),  # 404 of the router
        ]
        assert [answer.status_code for answer in answers] == [200, 404, 400, 401, 403, 421, 404]
        assert all(answer.headers["cache-control"] == "no-store" for answer in answers)


def test_an_unexpected_error_is_a_500_with_no_store_too(henk: Ledger, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(month: str) -> None:
        raise RuntimeError("a bug")

    monkeypatch.setattr(henk, "declarations", broken)
    with TestClient(create_app(henk), base_url=LOCAL, raise_server_exceptions=False, headers=bearer(henk)) as client:
        response = client.get("/months/2017-01/declarations")

    assert response.status_code == 500
    assert response.headers["cache-control"] == "no-store"


def test_a_host_the_server_does_not_serve_is_refused_with_a_json_421(client: TestClient) -> None:
    for host in ("rebound.example", "rebound.example:8080", "localhost.", "127.0.0.2", "[::2]", "ggzledger"):
        response = client.get("/trajectories/T-HENK/history", headers={"Host": host})
        assert response.status_code == 421, host
        assert response.json() == {"error": "this server does not serve the host named in the Host header"}


def test_a_host_header_that_is_not_a_host_is_a_json_400(client: TestClient) -> None:
    for host in ("", "localhost:http", "local host", "exa_mple.org", "a/b", "[::1", "user@localhost"):
        response = client.get("/feed", headers={"Host": host})
        assert response.status_code == 400, host
        assert response.json() == {"error": "the Host header is not a host name or address"}


def test_the_loopback_names_are_served_with_any_port_and_in_any_case(client: TestClient) -> None:
    for host in ("localhost", "LocalHost:8080", "127.0.0.1", "127.0.0.1:1", "[::1]", "[::1]:8080", "[0:0::1]"):
        assert client.get("/status", headers={"Host": host}).status_code == 200, host


def test_further_names_are_served_beside_the_bind_address(henk: Ledger) -> None:
    names = served_names("127.0.0.1", ["Ledger.Example.NL", "10.0.0.5", "::ffff:10.0.0.6"])
    with TestClient(create_app(henk, hosts=names), base_url="http://ledger.example.nl", headers=bearer(henk)) as client:
        for host in ("ledger.example.nl", "ledger.example.nl:443", "10.0.0.5:8080", "localhost", "[::ffff:a00:6]"):
            assert client.get("/status", headers={"Host": host}).status_code == 200, host
        assert client.get("/status", headers={"Host": "other.example.nl"}).status_code == 421


def test_a_server_on_every_address_serves_only_the_names_it_is_given() -> None:
    assert served_names("0.0.0.0") == {"0.0.0.0"}
    assert served_names("::", ["ledger.example.nl"]) == {"[::]", "ledger.example.nl"}
    assert served_names("127.0.0.2") == {"127.0.0.2", "localhost", "127.0.0.1", "[::1]"}
    assert served_names("::1") == {"localhost", "127.0.0.1", "[::1]"}
    for bad in ("ledger.example.nl:443", "https://ledger.example.nl", "", "a b", "*.example.nl"):
        with pytest.raises(ValueError):
            served_names("127.0.0.1", [bad])
