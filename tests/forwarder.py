"""A TCP forwarder in front of the test PostgreSQL server that a test can take down and bring back (an outage)."""

from __future__ import annotations

import contextlib
import select
import socket
import threading
from collections.abc import Iterator


class Forwarder:
    """Forwards 127.0.0.1:``port`` to ``target`` while up; down, it cuts every connection and refuses new ones.

    Down closes the listening socket, so a client's connect fails at once with "connection
    refused", as when the database server is stopped; the shared server itself is never touched.
    """

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.port = 0
        self._listener: socket.socket | None = None
        self._pairs: set[tuple[socket.socket, socket.socket]] = set()
        self._lock = threading.Lock()
        self.up()

    def up(self) -> None:
        """Listen (again, on the same port) and forward each connection."""
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        self.port = listener.getsockname()[1]
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def down(self) -> None:
        """Refuse new connections and cut the open ones."""
        listener, self._listener = self._listener, None
        if listener is not None:
            with contextlib.suppress(OSError):
                listener.shutdown(socket.SHUT_RDWR)
            listener.close()
        with self._lock:
            pairs, self._pairs = self._pairs, set()
        for pair in pairs:
            for end in pair:
                with contextlib.suppress(OSError):
                    end.shutdown(socket.SHUT_RDWR)
                end.close()

    def close(self) -> None:
        self.down()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return  # taken down
            try:
                server = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                continue
            server.settimeout(None)
            with self._lock:
                self._pairs.add((client, server))
            threading.Thread(target=self._pump, args=(client, server), daemon=True).start()

    def _pump(self, client: socket.socket, server: socket.socket) -> None:
        ends = {client: server, server: client}
        try:
            while True:
                ready, _, _ = select.select(list(ends), [], [], 1.0)
                for end in ready:
                    data = end.recv(65536)
                    if not data:
                        return
                    ends[end].sendall(data)
        except (OSError, ValueError):
            return
        finally:
            with self._lock:
                self._pairs.discard((client, server))
            for end in ends:
                end.close()


@contextlib.contextmanager
def forwarding(target: tuple[str, int]) -> Iterator[Forwarder]:
    """A Forwarder to ``target``, taken down at the end."""
    forwarder = Forwarder(target)
    try:
        yield forwarder
    finally:
        forwarder.close()
