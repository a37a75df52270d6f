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
from ggzledger.reference.kinds import BANDS, KINDS, TARIFF_TYPES, band_of
from ggzledger.reference.tariffs import (
    UNITS,
    Found,
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
    "BANDS",
    "KINDS",
    "LIKELIHOODS",
    "TARIFF_TYPES",
    "SUPERCLUSTER_NONE",
    "UNITS",
    "Catalogue",
    "Cluster",
    "Found",
    "NoTariff",
    "PricedCode",
    "TariffError",
    "TariffRow",
    "TariffTable",
    "Tariffs",
    "Term",
    "UnknownCluster",
    "band_of",
    "load_catalogue",
    "load_tariffs",
    "shipped_tables",
]
