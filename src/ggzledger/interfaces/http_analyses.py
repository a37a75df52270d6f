"""The analyses' query parameters over HTTP: each checked, with a one-line reason for the 400 when it is wrong."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import attrs

from ggzledger.analyses.whatif import DIMENSIONS, WhatIfError, period
from ggzledger.analyses.whatif_pricing import SHIFT_MAX, Alternative, OtherTables, Uplift, parse_percent
from ggzledger.interfaces.numbers import parse_count
from ggzledger.reference.tariffs import Tariffs

__all__ = ["WhatIfQuery", "whatif_query"]

_PARAMETERS = frozenset({"month_from", "month_to", "uplift", "tariffs", "shift_years", "by"})


@attrs.frozen
class WhatIfQuery:
    """A checked ``GET /analyses/whatif``: the period, the alternative and the breakdowns."""

    month_from: str
    month_to: str
    alternative: Alternative
    by: tuple[str, ...]


def whatif_query(params: Mapping[str, Sequence[str]], loaded: Tariffs) -> WhatIfQuery:
    """The what-if a request asks for; ``params`` maps each name to its values, ``loaded`` the ledger's tables.

    ``month_from`` and ``month_to`` (YYYY-MM, at most 36 months), exactly one of ``uplift`` (a
    percentage) and ``tariffs`` (labels of tables loaded in the ledger, repeatable, the last winning;
    ``shift_years`` beside it), and ``by`` (dimensions, repeatable or comma-separated).

    Raises ValueError with the reason for anything else, an unknown parameter included.
    """
    unknown = sorted(set(params) - _PARAMETERS)
    if unknown:
        raise ValueError(f"unknown parameter {unknown[0]!r}; whatif takes {', '.join(sorted(_PARAMETERS))}")
    for name, values in params.items():
        if len(values) > 1 and name not in ("tariffs", "by"):
            raise ValueError(f"{name} is given {len(values)} times; once, please")
    month_from, month_to = _one(params, "month_from"), _one(params, "month_to")
    try:
        period(month_from, month_to)
    except WhatIfError as error:
        raise ValueError(str(error)) from None
    uplift, labels = params.get("uplift"), params.get("tariffs")
    if (uplift is None) == (labels is None):
        raise ValueError("give exactly one of uplift (a percentage) and tariffs (a loaded table's label)")
    shift = params.get("shift_years")
    if shift is not None and labels is None:
        raise ValueError("shift_years goes with tariffs")
    alternative: Alternative
    if uplift is not None:
        alternative = Uplift(parse_percent(uplift[0]))
    else:
        assert labels is not None
        alternative = _tables(labels, loaded, _shift(shift[0]) if shift else 0)
    by = tuple(d for value in params.get("by", ()) for d in value.split(",")) or DIMENSIONS
    for dimension in by:
        if dimension not in DIMENSIONS:
            raise ValueError(f"by must be one of {', '.join(DIMENSIONS)}, got {dimension[:30]!r}")
    return WhatIfQuery(month_from, month_to, alternative, by)


def _one(params: Mapping[str, Sequence[str]], name: str) -> str:
    values = params.get(name)
    if not values:
        raise ValueError(f"{name} is required: a month YYYY-MM")
    return values[0]


def _shift(text: str) -> int:
    value = parse_count(text.lstrip("-"), "shift_years", SHIFT_MAX)
    return -value if text.startswith("-") else value


def _tables(labels: Sequence[str], loaded: Tariffs, shift: int) -> OtherTables:
    by_label = {table.version: table for table in loaded.tables}
    chosen = []
    for label in labels:
        if label not in by_label:
            raise ValueError(f"no tariff table {label[:40]!r} is loaded; tariffs names one of {', '.join(by_label)}")
        chosen.append(by_label[label])
    return OtherTables(Tariffs(chosen), tuple(labels), shift)
