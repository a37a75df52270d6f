"""Waiting for new events: LISTEN/NOTIFY on PostgreSQL, polling the log on SQLite."""

from __future__ import annotations

import os
import select
import time
from typing import Any

from eventsourcing.persistence import ApplicationRecorder

__all__ = ["Follower"]


class Follower:
    """Tells a long-running reader (``feed --follow``, ``project --follow``, ``serve``) when the ledger moved on.

    :meth:`wait` returns the ledger's head as soon as it lies past a given
    position, when its timeout passes, or when :meth:`stop` is called (safe from
    a signal handler or another thread). On PostgreSQL it listens on the
    recorder's channel, which the library notifies in every write transaction;
    the head is read after LISTEN and after every wake-up, so a write that
    commits in between is never missed, and it is read again every
    ``recheck`` seconds in case a notification was lost with a connection.
    SQLite has no notifications: the head is polled every ``poll`` seconds.
    """

    def __init__(self, recorder: ApplicationRecorder, *, poll: float = 0.2, recheck: float = 5.0) -> None:
        self.recorder = recorder
        self.poll = poll
        self.recheck = recheck
        self._stopped = False
        self._wake_read, self._wake_write = os.pipe()
        os.set_blocking(self._wake_write, False)
        self._listening: Any = None
        self._listen()

    @property
    def stopped(self) -> bool:
        """True once :meth:`stop` was called."""
        return self._stopped

    def head(self) -> int:
        """The ledger's latest position (0 when empty)."""
        return self.recorder.max_notification_id() or 0

    def wait(self, after: int, timeout: float | None = None) -> int:
        """The head, once it lies past ``after``; earlier when stopped or after ``timeout`` seconds."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            head = self.head()
            if head > after or self._stopped:
                return head
            pause = self.recheck if self._listening is not None else self.poll
            if deadline is not None:
                pause = min(pause, deadline - time.monotonic())
                if pause <= 0:
                    return head
            self._sleep(pause)

    def stop(self) -> None:
        """End every wait now and from now on."""
        self._stopped = True
        try:
            os.write(self._wake_write, b"!")
        except (BlockingIOError, OSError):  # pragma: no cover - the pipe is full or closed: already woken
            pass

    def close(self) -> None:
        """Release the listening connection and the wake-up pipe."""
        self.stop()
        if self._listening is not None:
            self._listening.close()
            self._listening = None
        for fd in (self._wake_read, self._wake_write):
            try:
                os.close(fd)
            except OSError:  # pragma: no cover - closed twice
                pass

    def __enter__(self) -> Follower:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _listen(self) -> None:
        channel = getattr(self.recorder, "channel_name", None)
        if channel is None:
            return  # SQLite: poll
        import psycopg
        from psycopg.sql import SQL, Identifier

        from ggzledger.store.postgres_store import connection_settings

        # A connection of its own: a pooled one would be taken from the writers for good.
        settings = connection_settings(self.recorder.datastore)  # type: ignore[attr-defined]
        try:
            connection = psycopg.connect(**settings, autocommit=True, connect_timeout=5)
            connection.execute(SQL("LISTEN {}").format(Identifier(channel)))
        except psycopg.Error:
            return  # the head is still readable through the pool: poll instead
        self._listening = connection

    def _sleep(self, seconds: float) -> None:
        sources: list[Any] = [self._wake_read]
        if self._listening is not None:
            sources.append(self._listening.fileno())
        ready, _, _ = select.select(sources, [], [], max(seconds, 0))
        if self._listening is not None and self._listening.fileno() in ready:
            try:
                # Consume what arrived; only the head says what is new.
                for _ in self._listening.notifies(timeout=0):
                    pass
            except Exception:  # noqa: BLE001 - the server went away: poll until it is back
                self._listening.close()
                self._listening = None
