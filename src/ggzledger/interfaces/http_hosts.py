"""What ``ggzledger serve`` answers whatever the endpoint: only the Host names it serves, and never a cached copy."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable

from starlette.applications import Starlette
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = [
    "LOOPBACK_NAMES", "is_loopback", "server_name", "served_names", "HostCheck", "NoStoreApplication", "json_error",
]  # fmt: skip

LOOPBACK_NAMES = ("localhost", "127.0.0.1", "[::1]")
"""The names a server on a loopback address answers to besides its address (docs/operations.md)."""
_HOSTNAME = re.compile(r"[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*\.?")


def is_loopback(host: str) -> bool:
    """True for addresses only this machine can reach (127.0.0.0/8, ::1, localhost)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def server_name(text: str) -> str:
    """The form a ``Host`` header's name is compared in: lower case, an IPv6 address in brackets.

    ``text`` is a DNS name or an IP address (IPv6 with or without brackets), without
    a port. Raises ValueError for anything else.
    """
    name = text.strip().lower()
    bare = name[1:-1] if name.startswith("[") and name.endswith("]") else name
    try:
        address = ipaddress.ip_address(bare)
    except ValueError:
        if bare != name or len(name) > 253 or not _HOSTNAME.fullmatch(name):
            raise ValueError(f"not a host name or IP address (no port, no scheme): {text[:60]!r}") from None
        return name
    return f"[{address.compressed}]" if address.version == 6 else address.compressed


def served_names(host: str, extra: Iterable[str] = ()) -> frozenset[str]:
    """The ``Host`` names a server bound to ``host`` answers to, in server_name's form.

    The bind address; for a loopback one also LOOPBACK_NAMES; and ``extra`` (the
    ``--server-name`` values, e.g. the name a reverse proxy forwards). Raises
    ValueError naming a value that is not a host name or IP address.
    """
    names = {server_name(host), *(server_name(name) for name in extra)}
    if is_loopback(host):
        names.update(LOOPBACK_NAMES)
    return frozenset(names)


class NoStoreApplication(Starlette):
    """Starlette, with ``Cache-Control: no-store`` on every response it sends, a 500 from its error handler too."""

    def build_middleware_stack(self) -> ASGIApp:
        return _NoStore(super().build_middleware_stack())


class _NoStore:
    """Adds ``Cache-Control: no-store`` to every response: patients' data is kept by no cache or proxy."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != b"cache-control"]
                message = {**message, "headers": [*headers, (b"cache-control", b"no-store")]}
            await send(message)

        await self.app(scope, receive, sending)


class HostCheck:
    """Answers only requests whose ``Host`` names a served host, port aside (DNS rebinding).

    A page on another site whose name was re-pointed at this machine's address reaches
    the server with that site's name as ``Host``: 421 with a JSON error. A missing or
    malformed ``Host`` is a 400.
    """

    def __init__(self, app: ASGIApp, hosts: frozenset[str]) -> None:
        self.app = app
        self.hosts = hosts

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            refusal = self._refusal([value for key, value in scope["headers"] if key == b"host"])
            if refusal is not None:
                await refusal(scope, receive, send)
                return
        await self.app(scope, receive, send)

    def _refusal(self, given: list[bytes]) -> Response | None:
        if len(given) != 1:
            return json_error(400, "a request needs exactly one Host header naming this server")
        try:
            name = server_name(_without_port(given[0].decode("ascii")))
        except (UnicodeDecodeError, ValueError):
            return json_error(400, "the Host header is not a host name or address")
        if name not in self.hosts:
            # Not echoed: the name is the requester's, and the error is read by whoever sent it anyway.
            return json_error(421, "this server does not serve the host named in the Host header")
        return None


def json_error(status: int, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    """The JSON error every refusal of the server is: ``{"error": message}`` with ``status``."""
    return JSONResponse({"error": message}, status_code=status, headers=headers)


def _without_port(host: str) -> str:
    """``host`` of a Host header ``host[:port]`` (``[v6]:port`` too); ValueError for a port that is not digits."""
    head, colon, port = host.rpartition(":")
    if not colon or (head and not head.endswith("]") and ":" in head):
        return host  # no port, or an IPv6 address without brackets
    if not (port.isascii() and port.isdigit() and len(port) <= 5):
        raise ValueError(host)
    return head
