"""Whatever a caller sends the HTTP interface (path segments, query strings, headers, methods), it never gets a 500."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote, urlencode

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.testclient import TestClient

from builders import HENK
from ggzledger import Ledger, ingest
from ggzledger.interfaces.http import create_app
from ggzledger.service.tokens import Tokens

# The Host a loopback server answers to (the test client's own "testserver" is refused).
LOCAL = "http://127.0.0.1"

ROUTES = [
    "/feed",
    "/trajectories/{}/declarations/{}",
    "/months/{}/declarations",
    "/trajectories/{}/history",
    "/totals",
    "/status",
    "/openapi.json",
    "/{}",
]
NAMES = ["after", "limit", "wait", "by", "drafts"]
EDGES = [
    "9999-12",
    "0000-01",
    "0001-01",
    "10000-01",
    "2024-13",
    "2017-02",
    "T-HENK",
    "T-\u202eKNEH",
    "\x00",
    "99999999999999999999999",
    "\u00b2",
    "-1",
    "",
    "%",
    "..",
    "9223372036854775808",
]

segments = st.one_of(st.sampled_from(EDGES), st.text(max_size=70))
values = st.one_of(st.sampled_from(EDGES), st.text(max_size=30), st.integers().map(str))
queries = st.lists(st.tuples(st.one_of(st.sampled_from(NAMES), st.text(max_size=10)), values), max_size=4)
# What an HTTP client can put in a header: Latin-1 without control characters.
latin1 = st.text(st.characters(min_codepoint=0x20, max_codepoint=0xFF, exclude_characters="\x7f"), max_size=40)
headers = st.dictionaries(
    st.sampled_from(
        [
            "Authorization",
            "Accept",
            "Range",
            "Content-Type",
            "If-None-Match",
            "X-Forwarded-For",
            "Cookie",
            "Accept-Encoding",
            "Host",
        ]
    ),
    st.one_of(latin1, st.just("Bearer t0ken"), st.sampled_from(["Bearer integrator", "Bearer backoffice"])),
    max_size=3,
)
methods = st.sampled_from(["GET", "GET", "GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "PATCH"])


@pytest.fixture(scope="module", params=["auditor", "backoffice"])
def client(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest) -> Iterator[TestClient]:
    # One ledger for every example; the requests only read it (and append to the access log).
    ledger = Ledger(str(Path(tmp_path_factory.mktemp("http")) / "ledger.db"))
    ingest(ledger, HENK.read_bytes().splitlines(), lambda n, m: None)
    tokens = {role: Tokens(ledger.store).add(role, role) for role in ("integrator", "backoffice", "auditor")}
    try:
        with TestClient(
            create_app(ledger),
            base_url=LOCAL,
            raise_server_exceptions=False,
            headers=_authorized(tokens, request.param),
        ) as test_client:
            test_client.tokens = tokens  # type: ignore[attr-defined]
            yield test_client
    finally:
        ledger.close()


def _authorized(tokens: dict[str, str], role: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {tokens[role]}"}


def _no_long_poll(query: list[tuple[str, str]]) -> list[tuple[str, str]]:
    # A valid wait of S > 0 seconds holds the request for S seconds when nothing new comes: keep examples quick.
    return [(name, "0" if name == "wait" and value.isascii() and value.isdigit() else value) for name, value in query]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(route=st.sampled_from(ROUTES), first=segments, second=segments, query=queries, sent=headers, method=methods)
def test_no_request_gets_a_server_error(
    client: TestClient,
    route: str,
    first: str,
    second: str,
    query: list[tuple[str, str]],
    sent: dict[str, str],
    method: str,
) -> None:
    path = route.format(quote(first, safe=""), quote(second, safe=""))
    url = f"{path}?{urlencode(_no_long_poll(query))}" if query else path

    # "Bearer integrator" and "Bearer backoffice" stand for those roles' real tokens.
    tokens = client.tokens  # type: ignore[attr-defined]
    sent = {name: f"Bearer {tokens[value[7:]]}" if value[7:] in tokens else value for name, value in sent.items()}
    response = client.request(method, url, headers={name: value.encode("latin-1") for name, value in sent.items()})

    assert response.status_code < 500, (url, response.text)
    assert response.headers["cache-control"] == "no-store", url
    if method != "HEAD":
        assert response.headers["content-type"] == "application/json", url
        assert isinstance(json.loads(response.content), dict)
