"""`ggzledger serve` as users run it: a real uvicorn process on 127.0.0.1, with a token of `ggzledger token add`."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from builders import HENK
from processes import run_cli


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def get(url: str, token: str | None = None) -> tuple[int, Any]:
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"} if token else {})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as error:
        return error.code, json.load(error)


def serving(db: str, port: int, *more: str, umask: int = 0o022) -> subprocess.Popen[bytes]:
    env = {key: value for key, value in os.environ.items() if key not in ("GGZLEDGER_DB", "GGZLEDGER_TOKEN")}
    server = subprocess.Popen(
        [sys.executable, "-m", "ggzledger", "--db", db, "serve", "--port", str(port), *more],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
        preexec_fn=lambda: os.umask(umask),
    )
    deadline = time.monotonic() + 30
    while True:
        assert server.poll() is None, server.communicate()[1].decode()
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return server
        except OSError:
            assert time.monotonic() < deadline, "the server did not come up"
            time.sleep(0.1)


def add_token(db: str, role: str = "backoffice") -> str:
    """A new token of ``role`` for the ledger in ``db``, made as users make one."""
    added = run_cli("--db", db, "token", "add", f"test-{role}", "--role", role)
    assert added.returncode == 0, added.stderr
    return added.stdout.strip()


def stop(server: subprocess.Popen[bytes], how: signal.Signals = signal.SIGINT) -> bytes:
    """Stop the server with a signal, as a terminal (SIGINT) or systemd (SIGTERM) does; its standard error."""
    server.send_signal(how)
    _, err = server.communicate(timeout=30)
    assert server.returncode == 0, err.decode()
    return err


@contextmanager
def served(db: str, *more: str) -> Iterator[str]:
    """``ggzledger serve`` on a free loopback port while the block runs; its base URL. Stopped with SIGINT."""
    port = free_port()
    server = serving(db, port, *more)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        stop(server)


@pytest.fixture
def henk_served(tmp_path: Path) -> Iterator[tuple[str, str]]:
    """Henk's ledger served as users serve it: the base URL and a backoffice token."""
    db = str(tmp_path / "ledger.db")
    assert run_cli("--db", db, "ingest", str(HENK)).returncode == 0
    secret = add_token(db)
    with served(db) as url:
        yield url, secret


def test_serve_answers_on_127_0_0_1_and_stops_cleanly_on_sigint(henk_served: tuple[str, str]) -> None:
    url, secret = henk_served
    status, page = get(f"{url}/feed?limit=3", secret)
    assert status == 200
    assert [line["position"] for line in page["events"]] == [1, 2, 3]
    status, declaration = get(f"{url}/trajectories/T-HENK/declarations/2017-02", secret)
    assert (status, declaration["total"]) == (200, 130000)
    status, missing = get(f"{url}/trajectories/T-HENK/declarations/2015-01", secret)
    assert status == 404 and "error" in missing


@pytest.mark.parametrize("how", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_serve_stops_with_exit_status_0_on_sigint_and_sigterm(tmp_path: Path, how: signal.Signals) -> None:
    port = free_port()
    secret = add_token(str(tmp_path / "ledger.db"))
    server = serving(str(tmp_path / "ledger.db"), port)
    assert get(f"http://127.0.0.1:{port}/status", secret)[0] == 200

    err = stop(server, how)

    assert b"Traceback" not in err
    assert b"Finished server process" in err  # shut down gracefully, not killed


def test_a_port_in_use_is_one_line_and_exit_status_2(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]

        result = run_cli("--db", str(tmp_path / "ledger.db"), "serve", "--port", str(port))

    assert result.returncode == 2
    assert result.stderr.splitlines() == [f"ggzledger: cannot listen on 127.0.0.1:{port}: Address already in use"]
    assert not (tmp_path / "ledger.db").exists()  # refused before the ledger is opened


def test_a_real_server_refuses_requests_without_a_valid_token_on_loopback(henk_served: tuple[str, str]) -> None:
    url, secret = henk_served
    assert get(f"{url}/feed")[0] == 401
    assert get(f"{url}/feed", token="wrong")[0] == 401
    assert get(f"{url}/feed", token=secret)[0] == 200


def raw_request(port: int, request: bytes) -> tuple[int, dict[str, str], Any]:
    """Send ``request`` as it is (e.g. HTTP/1.0 without Host); the status, headers and JSON body."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as connection:
        connection.sendall(request)
        received = b""
        while chunk := connection.recv(65536):
            received += chunk
    head, _, body = received.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = dict(line.lower().split(": ", 1) for line in lines[1:])
    return int(lines[0].split()[1]), headers, json.loads(body)


def test_every_response_of_a_real_server_says_no_store(henk_served: tuple[str, str]) -> None:
    url, secret = henk_served
    port = int(url.rsplit(":", 1)[1])
    for path, expected in [
        ("/trajectories/T-HENK/declarations/2017-02", 200),
        ("/trajectories/T-HENK/declarations/2015-01", 404),
        ("/totals?by=nothing", 400),
    ]:
        request = (
            f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nAuthorization: Bearer {secret}\r\n"
            "Connection: close\r\n\r\n"
        )
        status, headers, _ = raw_request(port, request.encode())
        assert (status, headers["cache-control"]) == (expected, "no-store"), path


def test_a_real_server_refuses_a_foreign_host_and_answers_its_own_names(tmp_path: Path) -> None:
    port = free_port()
    secret = add_token(str(tmp_path / "ledger.db"))
    server = serving(str(tmp_path / "ledger.db"), port, "--server-name", "ledger.example.nl")
    try:

        def status_for(host_line: str, version: str = "1.1") -> tuple[int, dict[str, str], Any]:
            bearer = f"Authorization: Bearer {secret}\r\n"
            return raw_request(
                port, f"GET /status HTTP/{version}\r\n{host_line}{bearer}Connection: close\r\n\r\n".encode()
            )

        # A page of rebound.example whose name now points at 127.0.0.1 (DNS rebinding) reads nothing.
        status, headers, body = status_for(f"Host: rebound.example:{port}\r\n")
        assert (status, headers["cache-control"]) == (421, "no-store")
        assert body == {"error": "this server does not serve the host named in the Host header"}
        status, _, body = status_for("", version="1.0")  # no Host at all
        assert (status, body) == (400, {"error": "a request needs exactly one Host header naming this server"})
        for host in (f"localhost:{port}", f"127.0.0.1:{port}", "[::1]", "ledger.example.nl", "LEDGER.example.nl:443"):
            status, _, body = status_for(f"Host: {host}\r\n")
            assert status == 200 and "head" in body, host
    finally:
        stop(server)


def test_a_server_name_that_is_not_a_host_name_is_one_line_and_exit_status_2(tmp_path: Path) -> None:
    result = run_cli(
        "--db", str(tmp_path / "ledger.db"), "serve", "--port", str(free_port()), "--server-name", "https://x.nl/"
    )

    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        "ggzledger: --server-name: not a host name or IP address (no port, no scheme): 'https://x.nl/'"
    ]
