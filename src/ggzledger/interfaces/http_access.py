"""Who may call which endpoint of ``ggzledger serve``: bearer tokens, roles, and the refusals' access log."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar

import attrs
from eventsourcing.persistence import PersistenceError
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import BaseRoute, Match
from starlette.types import ASGIApp, Receive, Scope, Send

from ggzledger.audit.access_log import AccessLog, Entry, refused
from ggzledger.domain.errors import Malformed
from ggzledger.interfaces.http_hosts import json_error
from ggzledger.service.records import check_identifier
from ggzledger.service.tokens import ROLES, Caller, TokenCheck

__all__ = ["Rule", "RULES", "ANONYMOUS", "Guard", "caller_of", "what_of", "asked_trajectory", "store_unavailable"]

T = TypeVar("T")
Run = Callable[[Callable[[], T]], Awaitable[T]]

ANONYMOUS = "-"
"""The access log's ``who`` of a request without a valid token."""
_CHALLENGE = {"WWW-Authenticate": 'Bearer realm="ggzledger"'}
# How much of a request's target the access log keeps: enough for every real path and query.
_WHAT_MAX = 300


@attrs.frozen
class Rule:
    """The roles that may call an endpoint, and whether it reads a patient's data (then it is logged)."""

    roles: tuple[str, ...]
    patient: bool


_READERS = ("auditor", "backoffice")
RULES: dict[str, Rule] = {
    "/feed": Rule(("integrator", "backoffice"), patient=True),
    "/trajectories/{trajectory}/declarations/{month}": Rule(_READERS, patient=True),
    "/months/{month}/declarations": Rule(_READERS, patient=True),
    "/trajectories/{trajectory}/history": Rule(_READERS, patient=True),
    "/findings": Rule(_READERS, patient=True),
    "/totals": Rule(_READERS, patient=False),
    # No patient's data: every role may watch the lag and read the API's description.
    "/status": Rule(ROLES, patient=False),
    "/openapi.json": Rule(ROLES, patient=False),
}
"""Each path's rule; docs/operations.md has the same table."""


def store_unavailable(error: Exception) -> JSONResponse:
    """503 with the database's own first line."""
    reason = (str(error).strip().splitlines() or [type(error).__name__])[0]
    return json_error(503, f"the database is not available: {reason}")


def caller_of(request: Request) -> Caller:
    """The caller the guard let through."""
    caller: Caller = request.scope["state"]["caller"]
    return caller


def what_of(scope: Scope) -> str:
    """The request as the access log keeps it: method, path and query as sent, escaped, at most 300 characters."""
    target = scope.get("raw_path") or scope["path"].encode("utf-8", "surrogateescape")
    query = scope.get("query_string", b"")
    if query:
        target = target + b"?" + query
    return f"{scope['method']} {target.decode('ascii', 'backslashreplace')}"[:_WHAT_MAX]


def asked_trajectory(path_params: dict[str, Any], query: bytes = b"") -> str | None:
    """The trajectory a request names (path, or /findings' ``trajectory=``), if it is a valid identifier."""
    text = path_params.get("trajectory")
    if text is None and query:
        from urllib.parse import parse_qs

        values = parse_qs(query.decode("latin-1")).get("trajectory")
        text = values[0] if values else None
    if not isinstance(text, str):
        return None
    try:
        return check_identifier("trajectory", text)
    except Malformed:
        return None


class Guard:
    """Lets a request through only with a valid bearer token whose role may call the endpoint.

    Without ``Authorization: Bearer <token>``, or with a token that is unknown or revoked: 401
    with a JSON error and ``WWW-Authenticate``. A role the endpoint's Rule does not name: 403.
    A refused request for a patient's data is logged. The token table is read through ``run``
    (a worker thread, behind the SQLite read lock); a database that is away is a 503.
    """

    def __init__(
        self, app: ASGIApp, check: TokenCheck, log: AccessLog, routes: Sequence[BaseRoute], run: Run[Any]
    ) -> None:
        self.app = app
        self.check = check
        self.log = log
        self.routes = routes
        self.run = run

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = [value for key, value in scope["headers"] if key == b"authorization"]
        token = _bearer(given)
        path, params = self._route(scope)
        rule = RULES.get(path) if path is not None else None
        try:
            caller = None if token is None else await self.run(lambda: self.check.caller(token))
            if caller is None:
                message = "the bearer token is not valid" if given else "a bearer token is required"
                await self._refuse(scope, rule, params, ANONYMOUS, 401)
                await json_error(401, message, _CHALLENGE)(scope, receive, send)
                return
            if rule is not None and caller.role not in rule.roles:
                await self._refuse(scope, rule, params, caller.name, 403)
                allowed = " or ".join(rule.roles)
                await json_error(403, f"the role {caller.role} may not use this endpoint ({allowed} may)")(
                    scope, receive, send
                )
                return
        except PersistenceError as error:
            await store_unavailable(error)(scope, receive, send)
            return
        scope.setdefault("state", {})["caller"] = caller
        await self.app(scope, receive, send)

    def _route(self, scope: Scope) -> tuple[str | None, dict[str, Any]]:
        for route in self.routes:
            match, child = route.matches(scope)
            if match == Match.FULL:
                return getattr(route, "path", None), dict(child.get("path_params", {}))
        return None, {}

    async def _refuse(self, scope: Scope, rule: Rule | None, params: dict[str, Any], who: str, status: int) -> None:
        if rule is None or not rule.patient:
            return
        entry = Entry(who, what_of(scope), asked_trajectory(params, scope.get("query_string", b"")), refused(status))
        await self.run(lambda: self.log.append([entry]))


def _bearer(given: list[bytes]) -> str | None:
    """The token of exactly one ``Authorization: Bearer <token>`` header, else None."""
    if len(given) != 1:
        return None
    scheme, _, token = given[0].partition(b" ")
    if scheme.lower() != b"bearer" or not token or not token.isascii():
        return None
    return token.decode("ascii").strip() or None
