"""Versioned reference data: the cluster catalogue and the tariff tables, shipped as package data."""

from ggzledger.reference.clusters import (
    LIKELIHOODS,
    SUPERCLUSTER_NONE,
    Catalogue,
    Cluster,
    Term,
    UnknownCluster,
    load_catalogue,
)
from ggzledger.reference.tariffs import (
    UNITS,
    NoTariff,
    PricedCode,
    TariffError,
    TariffRow,
    Tariffs,
    TariffTable,
    load_tariffs,
    shipped_tables,
)

__all__ = [
    "LIKELIHOODS",
    "SUPERCLUSTER_NONE",
    "UNITS",
    "Catalogue",
    "Cluster",
    "NoTariff",
    "PricedCode",
    "TariffError",
    "TariffRow",
    "TariffTable",
    "Tariffs",
    "Term",
    "UnknownCluster",
    "load_catalogue",
    "load_tariffs",
    "shipped_tables",
]
