"""Waiting for new events: LISTEN/NOTIFY on PostgreSQL, polling the log on SQLite."""

from __future__ import annotations

import contextlib
import os
import select
import time
from typing import Any

from ggzledger.store.protocol import LedgerRecorder, Listener, head_of

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

    def __init__(self, recorder: LedgerRecorder, *, poll: float = 0.2, recheck: float = 5.0) -> None:
        self.recorder = recorder
        self.poll = poll
        self.recheck = recheck
        self._stopped = False
        self._wake_read, self._wake_write = os.pipe()
        os.set_blocking(self._wake_write, False)
        # A connection of its own: a pooled one would be taken from the writers for good.
        self._listening: Listener | None = recorder.listen()

    @property
    def stopped(self) -> bool:
        """True once :meth:`stop` was called."""
        return self._stopped

    def head(self) -> int:
        """The ledger's latest position (0 when empty)."""
        return head_of(self.recorder)

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
        # The pipe full or closed: already woken.
        with contextlib.suppress(BlockingIOError, OSError):
            os.write(self._wake_write, b"!")

    def close(self) -> None:
        """Release the listening connection and the wake-up pipe."""
        self.stop()
        if self._listening is not None:
            self._listening.close()
            self._listening = None
        for fd in (self._wake_read, self._wake_write):
            with contextlib.suppress(OSError):  # closed twice
                os.close(fd)

    def __enter__(self) -> Follower:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _sleep(self, seconds: float) -> None:
        sources: list[Any] = [self._wake_read]
        if self._listening is not None:
            sources.append(self._listening.fileno())
        ready, _, _ = select.select(sources, [], [], max(seconds, 0))
        if self._listening is not None and self._listening.fileno() in ready:
            try:
                # Consume what arrived; only the head says what is new.
                self._listening.drain()
            except Exception:
                self._listening.close()
                self._listening = None
