"""The composition root: from the settings (a --db value, the reference data, a clock) to a wired Ledger.

Everything the Ledger service works with is made here and handed to it: the
mapper (with the library's cipher and compressor settings), the read side (its
store, the views by name, the projector), the tariff tables (shipped ones with
the stored ones laid over them) and the trajectory cache, and on a sealed ledger the key store with its sealer
(docs/sealing.md). The eventsourcing
Application (the Ledger's base) builds the recorder itself from the environment
that :func:`ggzledger.store.store_env` gives, and asks :func:`ggzledger.store.mapper_for`
for the mapper; the Ledger then calls :func:`wire` for the rest.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any
from urllib.parse import quote

import attrs
from eventsourcing.persistence import InfrastructureFactory

from ggzledger.projections import ProjectionStore, Projector, Views, open_store, views_for
from ggzledger.reference import Catalogue, Tariffs, load_catalogue, load_tariffs
from ggzledger.service.cache import TrajectoryCache
from ggzledger.service.tariff_storage import StoredTariffTables
from ggzledger.store import LedgerRecorder, TypedMapper, head_of
from ggzledger.store.keystore import KeyStore, keys_location
from ggzledger.store.sealing import Sealer, subject_key
from ggzledger.store.settings import CONNECT_OPTIONS

__all__ = ["Wiring", "wire", "is_sealed"]

# One row per ledger-wide setting; ``sealed`` marks a ledger whose personal fields are sealed.
_SETTINGS = "CREATE TABLE IF NOT EXISTS ledger_settings (name TEXT PRIMARY KEY, value TEXT NOT NULL)"


@attrs.define
class Wiring:
    """What a Ledger is given besides its event store."""

    catalogue: Catalogue
    tariffs: Tariffs
    tariff_tables: StoredTariffTables
    store: ProjectionStore
    projector: Projector[Views]
    cache: TrajectoryCache
    today: Callable[[], date]
    keys: KeyStore | None = None


def wire(
    factory: InfrastructureFactory[Any],
    recorder: LedgerRecorder,
    mapper: TypedMapper,
    *,
    catalogue: Catalogue | None = None,
    tariffs: Tariffs | None = None,
    today: Callable[[], date] = date.today,
    read_only: bool = False,
) -> Wiring:
    """The read side, tariff tables and cache for an event store the library has set up.

    ``read_only``: create no table and apply no event (serve --read-only).
    """
    catalogue = catalogue or load_catalogue()
    store = open_store(factory)
    keys = None
    if is_sealed(store, recorder):
        keys = KeyStore(keys_location(_ledger_location(factory)))
        mapper.sealer = Sealer(keys, lambda stream: _subject_of(recorder, stream))
    projector = Projector(recorder, mapper, store, views_for(catalogue), read_only=read_only)
    tariff_tables = StoredTariffTables(store)
    return Wiring(
        catalogue=catalogue,
        tariffs=tariff_tables.over(tariffs or load_tariffs(), read_only=read_only),
        tariff_tables=tariff_tables,
        store=store,
        projector=projector,
        cache=TrajectoryCache(),
        today=today,
        keys=keys,
    )


def is_sealed(store: ProjectionStore, recorder: LedgerRecorder) -> bool:
    """True when the ledger seals personal fields: marked so, or new (no event yet), which marks it.

    A ledger that holds events and no mark was recorded before sealing existed: it stays plain
    and works as it always did (``ggzledger seal --into NEW`` copies it into a sealed one). The
    mark is written before the first event is, so a ledger never holds events of both kinds.
    """
    try:
        with store.transaction(write=False) as c:
            c.execute("SELECT value FROM ledger_settings WHERE name = 'sealed'")
            row = c.fetchone()
    except Exception:  # no settings table yet: a ledger from before sealing, or a new one
        row = None
    if row is not None:
        return bool(row[0] == "1")
    if head_of(recorder):
        return False
    try:
        with store.transaction(write=True) as c:
            c.execute(_SETTINGS)
            c.execute("INSERT INTO ledger_settings (name, value) VALUES ('sealed', '1') ON CONFLICT (name) DO NOTHING")
    except Exception:  # a role that may not create tables (serve --read-only): a new ledger is sealed all the same
        pass
    return True


def _subject_of(recorder: LedgerRecorder, stream: Any) -> str | None:
    """The subject a trajectory was opened under, from the ledger's key index."""
    key = subject_key(stream)
    row = recorder.select_keys([key]).get(key)
    return None if row is None else row[1]


def _ledger_location(factory: InfrastructureFactory[Any]) -> str:
    """The ledger's SQLite path or PostgreSQL URL, as the factory's environment names it."""
    env = factory.env
    path = env.get("SQLITE_DBNAME")
    if path:
        return str(path)
    user, password = env.get("POSTGRES_USER") or "postgres", env.get("POSTGRES_PASSWORD") or ""
    auth = quote(user, safe="") + (":" + quote(password, safe="") if password else "")
    query = env.get(CONNECT_OPTIONS) or ""
    url = f"postgresql://{auth}@{env.get('POSTGRES_HOST')}:{env.get('POSTGRES_PORT')}/{env.get('POSTGRES_DBNAME')}"
    return url + (f"?{query}" if query else "")
