"""The library's PostgreSQL factory, with a database URL's connection options (e.g. sslmode) kept."""

from __future__ import annotations

from urllib.parse import parse_qsl

from eventsourcing import postgres
from eventsourcing.utils import Environment

from ggzledger.store.settings import CONNECT_OPTIONS

__all__ = ["PostgresFactory"]


class PostgresFactory(postgres.PostgresFactory):
    """Builds the datastore as the library does, then adds the URL's options to every connection's settings.

    The library's factory only knows dbname, host, port, user and password; ``?sslmode=require``
    must not be dropped on the way. The pool is not open yet here, so every connection it makes,
    and the adapter's reachability check, gets the options.
    """

    def __init__(self, env: Environment) -> None:
        super().__init__(env)
        options = dict(parse_qsl(env.get(CONNECT_OPTIONS) or "", keep_blank_values=True))
        self.datastore.pool.kwargs.update(options)  # type: ignore[union-attr]
