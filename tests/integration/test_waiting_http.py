"""GET /analyses/waiting and /analyses/regiobeeld: the auditor's, the first access-logged, the second not."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from starlette.testclient import TestClient

from builders import HENK
from ggzledger import Ledger, ingest
from ggzledger.audit.access_log import AccessLog
from ggzledger.interfaces.http import create_app
from ggzledger.service.tokens import Tokens

LOCAL = "http://127.0.0.1"


@pytest.fixture
def client(ledger: Ledger) -> Iterator[tuple[TestClient, dict[str, str]]]:
    ingest(ledger, HENK.read_bytes().splitlines(), lambda n, m: None)
    auditor = {"Authorization": f"Bearer {Tokens(ledger.store).add('auditor', 'auditor')}"}
    with TestClient(create_app(ledger), base_url=LOCAL) as test_client:
        yield test_client, auditor


def test_waiting_reads_a_trajectorys_waits_and_logs_the_read(
    client: tuple[TestClient, dict[str, str]], ledger: Ledger
) -> None:
    http, auditor = client

    found = http.get("/analyses/waiting?trajectory=T-HENK&as_of=2017-03-01", headers=auditor)
    missing = http.get("/analyses/waiting?trajectory=T-NOBODY&as_of=2017-03-01", headers=auditor)
    http.get("/analyses/regiobeeld?as_of=2017-03-01", headers=auditor)

    assert found.status_code == 200
    [henk] = found.json()["trajectories"]
    # Henk's old "Utrecht" reads as ZK11; his first consult after the assessment of 1 November is on the 3rd.
    assert (henk["region"], henk["first_assessed_on"], henk["first_treated_on"]) == ("ZK11", "2016-11-01", "2016-11-03")
    assert missing.status_code == 404
    rows = [(row.who, row.what, row.trajectory, row.outcome) for row in AccessLog(ledger.store).rows()]
    assert rows == [
        ("auditor", "GET /analyses/waiting?trajectory=T-HENK&as_of=2017-03-01", "T-HENK", "allowed"),
        ("auditor", "GET /analyses/waiting?trajectory=T-NOBODY&as_of=2017-03-01", "T-NOBODY", "not found"),
    ]


def test_regiobeeld_answers_by_the_dimensions_asked(client: tuple[TestClient, dict[str, str]]) -> None:
    http, auditor = client

    found = http.get("/analyses/regiobeeld?as_of=2017-01-31&by=group", headers=auditor).json()

    assert found["by"] == ["group"]
    assert [(row["group"], row["in_care"], row["complex"]) for row in found["rows"]] == [("I.a", 1, 1)]


@pytest.mark.parametrize(
    ("query", "error"),
    [
        ("/analyses/regiobeeld", "as_of is required: a date YYYY-MM-DD"),
        ("/analyses/regiobeeld?as_of=2017-13-01", "as_of must be a date YYYY-MM-DD, got '2017-13-01'"),
        ("/analyses/regiobeeld?as_of=2017-01-31&by=insurer", "by: 'insurer' is not one of region, care_form, group"),
        ("/analyses/waiting?as_of=yesterday", "as_of must be a date YYYY-MM-DD, got 'yesterday'"),
    ],
)
def test_a_bad_parameter_is_a_400_saying_why(client: tuple[TestClient, dict[str, str]], query: str, error: str) -> None:
    http, auditor = client

    response = http.get(query, headers=auditor)

    assert (response.status_code, response.json()) == (400, {"error": error})
