"""The HTTP interface (``ggzledger serve``): the public feed and the declarations as JSON for integrators."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import signal
import socket
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterable, Iterator
from datetime import date
from typing import Any

from eventsourcing.persistence import PersistenceError
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ggzledger.analyses import whatif
from ggzledger.audit import findings, reports
from ggzledger.audit.access_log import ALLOWED, NOT_FOUND, AccessLog, Entry, entries
from ggzledger.domain.errors import UnknownTrajectory
from ggzledger.domain.months import SpanTooLong, is_month
from ggzledger.feed.follow import Follower
from ggzledger.feed.public import Feed
from ggzledger.interfaces.http_access import Guard, caller_of, store_unavailable, what_of
from ggzledger.interfaces.http_analyses import whatif_query
from ggzledger.interfaces.http_hosts import (
    LOOPBACK_NAMES,
    HostCheck,
    NoStoreApplication,
    is_loopback,
    json_error,
    served_names,
    server_name,
)
from ggzledger.interfaces.http_outage import Availability, postgres_probe
from ggzledger.interfaces.http_params import month_param, trajectory_param
from ggzledger.interfaces.numbers import POSITION_MAX, parse_count
from ggzledger.interfaces.openapi import document
from ggzledger.interfaces.web import WebPages, error_page
from ggzledger.interfaces.web import routes as web_routes
from ggzledger.service.ledger import Ledger
from ggzledger.service.tokens import TokenCheck, Tokens
from ggzledger.store import store_env

__all__ = [
    "create_app",
    "serve",
    "served_names",
    "server_name",
    "ServeError",
    "is_loopback",
    "LOOPBACK_NAMES",
    "PAGE_DEFAULT",
    "PAGE_MAX",
    "WAIT_MAX",
]

PAGE_DEFAULT = 100
PAGE_MAX = 1000
WAIT_MAX = 30.0
"""The longest a feed request waits for new events (seconds)."""


class ServeError(Exception):
    """The server cannot start as asked (e.g. an address in use, --read-only on SQLite)."""


def serve(
    db: str | None,
    host: str = "127.0.0.1",
    port: int = 8080,
    server_names: Iterable[str] = (),
    read_only: bool = False,
) -> None:
    """Serve the ledger in ``db`` (a --db value) over HTTP until SIGINT or SIGTERM.

    Every request needs a named token (``ggzledger token add``), loopback included, and
    is answered only when its ``Host`` names one of served_names(host, server_names).
    ``read_only``: a PostgreSQL role without write rights (see create_app). Raises
    ServeError, before opening anything, when a server name is not a host name, when
    ``read_only`` is asked of a SQLite ledger, or when the address cannot be listened
    on (in use, not a port, not this machine's). Raises StoreError when the store
    cannot be used.
    """
    try:
        names = served_names(host, server_names)
    except ValueError as error:
        raise ServeError(f"--server-name: {error}") from None
    if read_only and "POSTGRES_DBNAME" not in store_env(db):
        # A SQLite file is written by whoever may open it: only its mode keeps others out (docs/operations.md).
        raise ServeError("--read-only needs a PostgreSQL ledger: a SQLite file has no roles; restrict its mode instead")
    with _listen(host, port) as listening:
        _serve(listening, Ledger(db, read_only=read_only), host, port, names, read_only)


def _serve(
    listening: socket.socket, ledger: Ledger, host: str, port: int, names: frozenset[str], read_only: bool
) -> None:
    import uvicorn

    try:
        app = create_app(ledger, hosts=names, read_only=read_only)
        if not Tokens(ledger.store).active():
            logging.getLogger("uvicorn.error").warning(
                "no token exists, so every request is refused: create one with"
                " ggzledger token add NAME --role integrator|auditor|backoffice"
            )
        # Long-polls in flight at shutdown are cut after a few seconds; clients resume with the same ``after``.
        config = uvicorn.Config(app, timeout_graceful_shutdown=3, log_level="info")
        server = uvicorn.Server(config)
        logging.getLogger("uvicorn.error").info(
            "serving the ledger on http://%s (Ctrl-C to stop)", _address(host, port)
        )
        with _stopping(server):
            server.run(sockets=[listening])
    finally:
        ledger.close()


def _listen(host: str, port: int) -> socket.socket:
    """The bound, listening socket; ServeError naming the address when it cannot be had (e.g. in use)."""
    listening = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    try:
        # As uvicorn does: a restarted server may bind while the old connections linger in TIME_WAIT.
        listening.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listening.bind((host, port))
        listening.listen(2048)
    except (OSError, OverflowError) as error:
        listening.close()
        reason = error.strerror if isinstance(error, OSError) and error.strerror else str(error)
        raise ServeError(f"cannot listen on {_address(host, port)}: {reason}") from None
    return listening


def _address(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


@contextlib.contextmanager
def _stopping(server: Any) -> Iterator[None]:
    """SIGINT and SIGTERM stop ``server`` gracefully, and the process then ends normally.

    uvicorn handles both signals while it runs, but afterwards raises the signal again
    against the handler it found: with the default one, SIGTERM kills the process
    (exit 143, and the ledger is never closed). The handler it finds is this one, which
    asks for a stop; a signal before uvicorn's own handlers are in place stops it too.
    """

    def stop(signum: int, frame: object) -> None:
        server.should_exit = True

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def create_app(
    ledger: Ledger, hosts: Iterable[str] = LOOPBACK_NAMES, read_only: bool = False, token_ttl: float = 1.0
) -> Starlette:
    """The ASGI application over an open ledger.

    Only requests whose ``Host`` names one of ``hosts`` (see served_names) are
    answered; every request needs ``Authorization: Bearer`` with a token of the
    ledger's whose role may call the endpoint (http_access.RULES); the token table
    is read again after ``token_ttl`` seconds, so a revoked token stops working
    within that. The web view's pages under /ui/ (docs/web.md) take the token from
    their session cookie too, and the login form and stylesheet need none. Every
    read of a patient's data is appended to the access log. Every response, errors included, carries ``Cache-Control: no-store``.
    ``read_only``: the tables must exist already (a role that may not create them).
    """
    api = _Api(ledger)
    if not read_only:
        Tokens(ledger.store).create()
        api.log.create()
    routes = [
        Route("/feed", api.feed),
        Route("/trajectories/{trajectory}/declarations/{month}", api.declaration),
        Route("/months/{month}/declarations", api.declarations),
        Route("/trajectories/{trajectory}/history", api.history),
        Route("/analyses/waiting", api.waiting),
        Route("/analyses/regiobeeld", api.regiobeeld),
        Route("/totals", api.totals),
        Route("/findings", api.findings),
        Route("/analyses/whatif", api.whatif),
        Route("/analyses/dbc/{trajectory}", api.dbc),
        Route("/analyses/dbc", api.dbc_month),
        Route("/status", api.status),
        Route("/openapi.json", api.openapi),
    ]
    check = TokenCheck(Tokens(ledger.store), token_ttl)
    routes += web_routes(api, check)  # the web view under /ui/ (docs/web.md)
    middleware = [
        Middleware(HostCheck, hosts=frozenset(server_name(host) for host in hosts)),
        Middleware(Guard, check=check, log=api.log, routes=routes, run=api.run, pages=_PAGES),
    ]
    return NoStoreApplication(
        routes=routes,
        middleware=middleware,
        lifespan=api.lifespan,
        exception_handlers=_HANDLERS,  # type: ignore[arg-type]
    )


# The web view's errors are pages; the API's are JSON.
_PAGES = WebPages()


async def _http_error(request: Request, exc: HTTPException) -> Response:
    if _PAGES.owns(request.scope):
        return error_page(request.scope, exc.status_code, str(exc.detail), dict(exc.headers or {}))
    return json_error(exc.status_code, str(exc.detail), dict(exc.headers or {}))


async def _store_error(request: Request, exc: Exception) -> Response:
    if _PAGES.owns(request.scope):
        return error_page(request.scope, 503, "the database is not available")
    return store_unavailable(exc)


async def _too_many_months(request: Request, exc: Exception) -> Response:
    # A draft of a month far ahead would first close every open month before it.
    return json_error(400, f"cannot draft {request.path_params.get('month')}, which would first close {exc}")


_HANDLERS = {HTTPException: _http_error, PersistenceError: _store_error, SpanTooLong: _too_many_months}


class _Heads:
    """The ledger's head, followed in one thread for the whole server; long-polls await it."""

    def __init__(self, ledger: Ledger) -> None:
        self.follower = Follower(ledger.recorder)
        self.head = self.follower.head()
        self._moved = asyncio.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        loop = asyncio.get_running_loop()
        self._thread = threading.Thread(target=self._follow, args=(loop,), name="ggzledger-heads", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self.follower.stop()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self.follower.close()

    async def wait_past(self, position: int, timeout: float) -> None:
        """Return once the head lies past ``position``, or after ``timeout`` seconds."""
        if self.head > position or timeout <= 0:
            return
        moved = self._moved
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(moved.wait(), timeout)

    def _follow(self, loop: asyncio.AbstractEventLoop) -> None:
        head = self.head
        while not self.follower.stopped:
            try:
                head = self.follower.wait(head)
            except PersistenceError:  # the database is away: try again shortly
                time.sleep(1)
                continue
            loop.call_soon_threadsafe(self._announce, head)

    def _announce(self, head: int) -> None:
        self.head = head
        moved, self._moved = self._moved, asyncio.Event()
        moved.set()


class _Api:
    """The endpoints; ledger calls run in worker threads, and reads of a patient's data are logged."""

    def __init__(self, ledger: Ledger) -> None:
        self.ledger = ledger
        self.feed_reader = Feed(ledger.recorder, ledger.mapper)
        self.log = AccessLog(ledger.store)
        # The SQLite read models share one connection: one reader at a time.
        self._reading = threading.Lock() if ledger.store.dialect == "sqlite" else contextlib.nullcontext()
        self.availability = Availability(_probe(ledger))
        self.heads: _Heads | None = None

    @contextlib.asynccontextmanager
    async def lifespan(self, app: Starlette) -> AsyncIterator[None]:
        self.heads = _Heads(self.ledger)
        self.heads.start()
        try:
            yield
        finally:
            self.heads.stop()

    async def feed(self, request: Request) -> Response:
        after = _integer(request, "after", 0, minimum=0, maximum=POSITION_MAX)
        limit = _integer(request, "limit", PAGE_DEFAULT, minimum=1, maximum=PAGE_MAX)
        wait = float(_integer(request, "wait", 0, minimum=0, maximum=int(WAIT_MAX)))
        # An integrator gets every personal field as null (docs/feed.md); the back office gets them all.
        personal = caller_of(request).role == "backoffice"
        deadline = time.monotonic() + wait
        while True:
            head = await self.run(self.feed_reader.head)
            events = await self.run(functools.partial(self.feed_reader.page, after, limit, head, personal=personal))
            remaining = deadline - time.monotonic()
            if events or remaining <= 0 or self.heads is None:
                break
            await self.heads.wait_past(head, remaining)
        last = events[-1]["position"] if events else after
        if events:
            # One row per trajectory in the page, the positions it spans in ``what``: the log answers
            # "who read T?" for feed pages too. An empty page read nothing and is not logged.
            what = f"{what_of(request.scope)} positions {events[0]['position']}-{last}"
            named = [line.get("trajectory") for line in events if line.get("trajectory") is not None]
            if named:
                rows = entries(caller_of(request).name, what, named, ALLOWED)
                await self.run(lambda: self.log.append(rows))
        return JSONResponse({"after": after, "events": events, "last_position": last})

    async def declaration(self, request: Request) -> Response:
        trajectory = _trajectory(request)
        month = _month(request)
        try:
            found = await self.logged(request, lambda: self.ledger.declaration(trajectory, month), trajectory)
        except UnknownTrajectory as error:
            return json_error(404, str(error))
        if found is None:
            return json_error(404, f"trajectory {trajectory} has no declaration for {month}")
        return JSONResponse(found)

    async def declarations(self, request: Request) -> Response:
        month = _month(request)
        found = await self.logged(
            request, lambda: self.ledger.declarations(month), None, lambda rows: [d["trajectory"] for d in rows]
        )
        return JSONResponse({"month": month, "declarations": found})

    async def history(self, request: Request) -> Response:
        trajectory = _trajectory(request)
        try:
            found = await self.logged(request, lambda: reports.history(self.ledger, trajectory), trajectory)
        except UnknownTrajectory as error:
            return json_error(404, str(error))
        return JSONResponse({"trajectory": trajectory, "entries": [entry.to_json() for entry in found]})

    async def waiting(self, request: Request) -> Response:
        # Each trajectory's dates are a read of its patient's care: logged as /findings is.
        from ggzledger.analyses.waiting import waiting

        trajectory = request.query_params.get("trajectory")
        if trajectory is not None:
            trajectory = trajectory_param(trajectory)
        as_of = _as_of(request.query_params.get("as_of"), required=False)
        try:
            found = await self.logged(
                request,
                lambda: waiting(self.ledger, as_of, trajectory),
                trajectory,
                lambda waits: [w.trajectory for w in waits],
            )
        except UnknownTrajectory as error:
            return json_error(404, str(error))
        return JSONResponse(
            {
                "as_of": as_of.isoformat(),
                "trajectory": trajectory,
                "trajectories": [{**w.to_json(), "waiting": w.waiting_on(as_of)} for w in found],
            }
        )

    async def regiobeeld(self, request: Request) -> Response:
        # Counts by region, care form and group: it names no trajectory, so it is not access-logged (as /totals).
        from ggzledger.analyses.regiobeeld import parse_by, regiobeeld

        as_of = _as_of(request.query_params.get("as_of"), required=True)
        try:
            by = parse_by(request.query_params.get("by", "region,care_form"))
        except ValueError as error:
            raise HTTPException(400, str(error).removeprefix("--")) from None
        found = await self.run(lambda: regiobeeld(self.ledger, as_of, by))
        return JSONResponse(found.to_json())

    async def totals(self, request: Request) -> Response:
        by = request.query_params.get("by", "month")
        if by not in reports.DIMENSIONS:
            raise HTTPException(400, f"by must be one of {', '.join(reports.DIMENSIONS)}, got {by!r}")
        drafts = request.query_params.get("drafts", "false")
        if drafts not in ("true", "false"):
            raise HTTPException(400, f"drafts must be true or false, got {drafts!r}")
        found = await self.run(lambda: reports.totals(self.ledger, by, drafts=drafts == "true"))
        return JSONResponse(found.to_json())

    async def findings(self, request: Request) -> Response:
        trajectory = request.query_params.get("trajectory")
        if trajectory is not None:
            trajectory = trajectory_param(trajectory)
        month = request.query_params.get("month")
        if month is not None and not is_month(month):
            raise HTTPException(400, f"month must be a month YYYY-MM, got {month!r}")
        try:
            rows = await self.logged(
                request,
                lambda: findings.findings(self.ledger, trajectory=trajectory, month=month),
                trajectory,
                lambda rows: [row["trajectory"] for row in rows],
            )
        except UnknownTrajectory as error:
            return json_error(404, str(error))
        return JSONResponse({"trajectory": trajectory, "month": month, "findings": rows})

    async def whatif(self, request: Request) -> Response:
        # Logged as /findings is (docs/analyses.md): the unpriced lines name trajectories and their care.
        params = {name: request.query_params.getlist(name) for name in request.query_params}
        try:
            asked = whatif_query(params, self.ledger.tariffs)
        except ValueError as error:
            raise HTTPException(400, str(error)) from None
        result = await self.logged(
            request,
            lambda: whatif.whatif(self.ledger, asked.month_from, asked.month_to, asked.alternative, asked.by),
            None,
            lambda found: sorted({u.trajectory for u in found.unpriced}),
        )
        return JSONResponse(result.to_json())

    async def dbc(self, request: Request) -> Response:
        # A patient's care under the DBC model (minutes, stay days, diagnosis group): logged as the history is.
        from ggzledger.analyses.dbc_ledger import comparison

        trajectory = _trajectory(request)
        try:
            found = await self.logged(request, lambda: comparison(self.ledger, trajectory), trajectory)
        except UnknownTrajectory as error:
            return json_error(404, str(error))
        return JSONResponse(found.to_json())

    async def dbc_month(self, request: Request) -> Response:
        # Every trajectory referred back in the month: one access-log row for each, as /months/M/declarations.
        from ggzledger.analyses.dbc_ledger import comparisons
        from ggzledger.interfaces.text.dbc import month_json

        month = request.query_params.get("month")
        if month is None or not is_month(month):
            raise HTTPException(400, f"month must be a month YYYY-MM, got {month!r}")
        found = await self.logged(
            request, lambda: comparisons(self.ledger, month), None, lambda every: [c.trajectory for c in every]
        )
        return JSONResponse(month_json(month, found))

    async def status(self, request: Request) -> Response:
        def read() -> dict[str, Any]:
            head = self.ledger.projector.head()
            with self.ledger.store.transaction(write=False) as c:
                positions = self.ledger.projector.positions(c)
            return {"head": head, "projections": positions, "lag": head - min(positions.values(), default=head)}

        return JSONResponse(await self.run(read))

    async def openapi(self, request: Request) -> Response:
        return JSONResponse(document())

    async def run(self, call: Callable[[], Any]) -> Any:
        """``call()`` in a worker thread, behind the SQLite read lock."""

        def locked() -> Any:
            with self._reading:
                return call()

        return await self.availability.run(lambda: run_in_threadpool(locked))

    async def logged(
        self,
        request: Request,
        call: Callable[[], Any],
        asked: str | None,
        named: Callable[[Any], list[str]] | None = None,
    ) -> Any:
        """``call()``, then its access-log rows in one transaction, in the same worker-thread turn.

        The rows: the trajectory ``asked`` for (allowed, or not found when the call finds
        nothing or raises UnknownTrajectory), else one per trajectory ``named`` in the result.
        """
        who, what = caller_of(request).name, what_of(request.scope)

        def read_and_log() -> Any:
            try:
                result = call()
            except UnknownTrajectory:
                self.log.append([Entry(who, what, asked, NOT_FOUND)])
                raise
            if asked is not None:
                self.log.append([Entry(who, what, asked, ALLOWED if result is not None else NOT_FOUND)])
            elif named is not None:
                self.log.append([row for row in entries(who, what, named(result), ALLOWED) if row.trajectory])
            return result

        return await self.run(read_and_log)


def _as_of(text: str | None, *, required: bool) -> date:
    """The ``as_of`` parameter as a date (today when absent and not required); 400 when malformed."""
    if text is None:
        if required:
            raise HTTPException(400, "as_of is required: a date YYYY-MM-DD")
        return date.today()
    try:
        if len(text) != 10:
            raise ValueError
        return date.fromisoformat(text)
    except ValueError:
        raise HTTPException(400, f"as_of must be a date YYYY-MM-DD, got {text[:30]!r}") from None


def _probe(ledger: Ledger) -> Callable[[], str | None] | None:
    """How to ask a PostgreSQL server whether it answers (None for SQLite)."""
    if ledger.store.dialect != "postgresql":
        return None
    from ggzledger.store.postgres_store import connection_settings

    return postgres_probe(connection_settings(ledger.recorder.datastore))  # type: ignore[arg-type]


def _integer(request: Request, name: str, default: int, minimum: int, maximum: int) -> int:
    text = request.query_params.get(name)
    if text is None:
        return default
    try:
        return parse_count(text, name, maximum, minimum)
    except ValueError as error:
        raise HTTPException(400, str(error)) from None


def _trajectory(request: Request) -> str:
    return trajectory_param(request.path_params["trajectory"])


def _month(request: Request) -> str:
    return month_param(request.path_params["month"])
