"""A PostgreSQL outage as ``ggzledger serve`` meets it: 503 within seconds, and back by itself.

The library retries a failed read up to ten times, each waiting for a pooled connection
(``GGZLEDGER_POSTGRES_CONNECT_TIMEOUT``): against a server that refuses connections one read
takes the better part of a minute, and every worker thread ends up waiting. So the server
asks the database itself: a request that has waited a second has the server probed (a
connection of its own, two seconds at most); when the probe fails the request is answered
503 at once, and so is every request after it until a probe, at most one a second, succeeds
again. A read that is merely slow, on a database that answers, is waited for as long as it takes.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Awaitable, Callable
from typing import Any

import psycopg
from eventsourcing.persistence import OperationalError
from starlette.concurrency import run_in_threadpool

__all__ = ["Unavailable", "Availability", "postgres_probe"]

Probe = Callable[[], str | None]


class Unavailable(OperationalError):
    """The database does not answer; the message is why (the driver's own first line). A PersistenceError: a 503."""


def postgres_probe(settings: dict[str, Any], timeout: int = 2) -> Probe:
    """A probe that opens and closes one connection with ``settings``: None when it could, else why not."""

    def probe() -> str | None:
        try:
            psycopg.connect(**settings, connect_timeout=timeout).close()
        except psycopg.Error as error:
            lines = [line.strip() for line in str(error).strip().splitlines() if line.strip()]
            return (lines[0] if lines else type(error).__name__).rsplit(" failed: ", 1)[-1]
        return None

    return probe


class Availability:
    """Runs a request's database work, unless a probe says the database is away (then Unavailable).

    ``probe`` None (SQLite: a file, nothing to be away) runs every job as it is.
    """

    def __init__(self, probe: Probe | None, patience: float = 1.0, every: float = 1.0) -> None:
        self.probe = probe
        self.patience = patience
        self.every = every
        self._reason: str | None = None
        self._checked = -float("inf")
        self._lock = threading.Lock()

    async def run(self, job: Callable[[], Awaitable[Any]]) -> Any:
        """``await job()``; raises Unavailable when the database was found away before or during it."""
        if self.probe is None:
            return await job()
        if self._reason is not None:
            await self._check()
        task = asyncio.ensure_future(job())
        # A job left behind when the database is found away still ends in its thread; its error is nobody's.
        task.add_done_callback(lambda done: done.cancelled() or done.exception())
        while True:
            done, _ = await asyncio.wait({task}, timeout=self.patience)
            if done:
                return task.result()
            await self._check()

    async def _check(self) -> None:
        """Probe, at most once every ``every`` seconds; raise Unavailable when the database is away."""
        if time.monotonic() - self._checked >= self.every:
            reason = await run_in_threadpool(self._probe)
        else:
            reason = self._reason
        if reason is not None:
            raise Unavailable(reason)

    def _probe(self) -> str | None:
        with self._lock:  # concurrent requests share one probe
            if time.monotonic() - self._checked >= self.every:
                assert self.probe is not None
                self._reason = self.probe()
                self._checked = time.monotonic()
            return self._reason
