"""The composition root: from the settings (a --db value, the reference data, a clock) to a wired Ledger.

Everything the Ledger service works with is made here and handed to it: the
mapper (with the library's cipher and compressor settings), the read side (its
store, the views by name, the projector), the tariff tables (shipped ones with
the stored ones laid over them) and the trajectory cache. The eventsourcing
Application (the Ledger's base) builds the recorder itself from the environment
that :func:`ggzledger.store.store_env` gives, and asks :func:`ggzledger.store.mapper_for`
for the mapper; the Ledger then calls :func:`wire` for the rest.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import attrs
from eventsourcing.persistence import InfrastructureFactory

from ggzledger.projections import ProjectionStore, Projector, Views, open_store, views_for
from ggzledger.reference import Catalogue, Tariffs, load_catalogue, load_tariffs
from ggzledger.service.cache import TrajectoryCache
from ggzledger.service.tariff_storage import StoredTariffTables
from ggzledger.store import LedgerRecorder, TypedMapper

__all__ = ["Wiring", "wire"]


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


def wire(
    factory: InfrastructureFactory[Any],
    recorder: LedgerRecorder,
    mapper: TypedMapper,
    *,
    catalogue: Catalogue | None = None,
    tariffs: Tariffs | None = None,
    today: Callable[[], date] = date.today,
) -> Wiring:
    """The read side, tariff tables and cache for an event store the library has set up."""
    catalogue = catalogue or load_catalogue()
    store = open_store(factory)
    projector = Projector(recorder, mapper, store, views_for(catalogue))
    tariff_tables = StoredTariffTables(store)
    return Wiring(
        catalogue=catalogue,
        tariffs=tariff_tables.over(tariffs or load_tariffs()),
        tariff_tables=tariff_tables,
        store=store,
        projector=projector,
        cache=TrajectoryCache(),
        today=today,
    )
