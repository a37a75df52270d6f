"""Who may call which endpoint of ``ggzledger serve``: bearer tokens, roles, and the refusals' access log."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Protocol, TypeVar

import attrs
from eventsourcing.persistence import PersistenceError
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Match
from starlette.types import ASGIApp, Receive, Scope, Send

from ggzledger.audit.access_log import AccessLog, Entry, refused
from ggzledger.domain.errors import Malformed
from ggzledger.interfaces.http_hosts import json_error
from ggzledger.service.records import check_identifier
from ggzledger.service.tokens import ROLES, Caller, TokenCheck

__all__ = [
    "Rule", "RULES", "ANONYMOUS", "Pages", "Guard", "caller_of", "what_of", "asked_trajectory", "store_unavailable",
]  # fmt: skip

T = TypeVar("T")
Run = Callable[[Callable[[], T]], Awaitable[T]]

ANONYMOUS = "-"
"""The access log's ``who`` of a request without a valid token."""
_CHALLENGE = {"WWW-Authenticate": 'Bearer realm="ggzledger"'}
# How much of a request's target the access log keeps: enough for every real path and query.
_WHAT_MAX = 300


@attrs.frozen
class Rule:
    """The roles that may call an endpoint, and whether it reads a patient's data (then it is logged).

    ``open``: it needs no token at all (the web view's login form, its stylesheet, logout).
    """

    roles: tuple[str, ...]
    patient: bool
    open: bool = False


_READERS = ("auditor", "backoffice")
RULES: dict[str, Rule] = {
    "/feed": Rule(("integrator", "backoffice"), patient=True),
    "/trajectories/{trajectory}/declarations/{month}": Rule(_READERS, patient=True),
    "/months/{month}/declarations": Rule(_READERS, patient=True),
    "/trajectories/{trajectory}/history": Rule(_READERS, patient=True),
    "/findings": Rule(_READERS, patient=True),
    "/totals": Rule(_READERS, patient=False),
    # Waiting times name trajectories and their dates: a read of patients' data. The regiobeeld counts
    # by region, care form and group and names none, as /totals (docs/analyses.md).
    "/analyses/waiting": Rule(("auditor",), patient=True),
    "/analyses/regiobeeld": Rule(("auditor",), patient=False),
    # An auditor's question of the whole ledger; logged as /findings, since its unpriced lines name trajectories.
    "/analyses/whatif": Rule(("auditor",), patient=True),
    # One patient's care under the DBC model (minutes, stay days, diagnosis group): logged as the history is.
    "/analyses/dbc/{trajectory}": Rule(("auditor",), patient=True),
    "/analyses/dbc": Rule(("auditor",), patient=True),
    # No patient's data: every role may watch the lag and read the API's description.
    "/status": Rule(ROLES, patient=False),
    "/openapi.json": Rule(ROLES, patient=False),
    # The web view (docs/web.md): its pages read what the API endpoints beside them read; the integrator
    # sees only the index, which shows no patient's data. Logging in and out needs no token yet.
    "/ui/": Rule(ROLES, patient=False),
    "/ui/login": Rule(ROLES, patient=False, open=True),
    "/ui/logout": Rule(ROLES, patient=False, open=True),
    "/ui/static/ggzledger.css": Rule(ROLES, patient=False, open=True),
    "/ui/months": Rule(_READERS, patient=False),
    "/ui/months/{month}": Rule(_READERS, patient=True),
    "/ui/trajectories/{trajectory}/nota/{month}": Rule(_READERS, patient=True),
    "/ui/trajectories/{trajectory}/timeline": Rule(_READERS, patient=True),
    "/ui/reviews": Rule(_READERS, patient=True),
}
"""Each path's rule; docs/operations.md has the same table."""


class Pages(Protocol):
    """What the guard asks of the web view for the requests it owns: the session cookie, and refusals as pages."""

    def owns(self, scope: Scope) -> bool:
        """True for a request of the web view."""

    def token(self, scope: Scope) -> str | None:
        """The token of the request's session cookie, if any."""

    def refusal(self, scope: Scope, status: int, message: str) -> Response:
        """The page that refuses the request with ``status``."""


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
    (a worker thread, behind the SQLite read lock); a database that is away is a 503. A request
    the web view (``pages``) owns may bring its token in the session cookie instead, and is
    refused with a page; an open Rule's endpoint is let through without a token.
    """

    def __init__(
        self,
        app: ASGIApp,
        check: TokenCheck,
        log: AccessLog,
        routes: Sequence[BaseRoute],
        run: Run[Any],
        pages: Pages | None = None,
    ) -> None:
        self.app = app
        self.check = check
        self.log = log
        self.routes = routes
        self.run = run
        self.pages = pages

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        pages = self.pages if self.pages is not None and self.pages.owns(scope) else None
        given = [value for key, value in scope["headers"] if key == b"authorization"]
        token = _bearer(given)
        if pages is not None and not given:
            # A browser sends no Authorization header when it follows a link: the cookie of /ui/login.
            token = pages.token(scope)
        path, params = self._route(scope)
        rule = RULES.get(path) if path is not None else None
        if rule is not None and rule.open:
            await self.app(scope, receive, send)
            return

        def refusal(status: int, message: str, headers: dict[str, str] | None = None) -> Response:
            if pages is not None:
                return pages.refusal(scope, status, message)
            return json_error(status, message, headers)

        try:
            caller = None if token is None else await self.run(lambda: self.check.caller(token))
            if caller is None:
                message = "the bearer token is not valid" if given or token else "a bearer token is required"
                await self._refuse(scope, rule, params, ANONYMOUS, 401)
                await refusal(401, message, _CHALLENGE)(scope, receive, send)
                return
            if rule is not None and caller.role not in rule.roles:
                await self._refuse(scope, rule, params, caller.name, 403)
                allowed = " or ".join(rule.roles)
                await refusal(403, f"the role {caller.role} may not use this endpoint ({allowed} may)")(
                    scope, receive, send
                )
                return
        except PersistenceError as error:
            unavailable: Response = store_unavailable(error)
            if pages is not None:
                unavailable = pages.refusal(scope, 503, "the database is not available")
            await unavailable(scope, receive, send)
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
