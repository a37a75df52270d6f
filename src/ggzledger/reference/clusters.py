"""The versioned cluster catalogue: groups, review terms, need levels, transitions, discharge criteria."""

from __future__ import annotations

import calendar
import functools
import json
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import date, timedelta
from importlib import resources
from typing import Any

import attrs

__all__ = [
    "LIKELIHOODS",
    "SUPERCLUSTER_NONE",
    "Catalogue",
    "Cluster",
    "Term",
    "UnknownCluster",
    "load_catalogue",
]

SUPERCLUSTER_NONE = "none"
"""The key under which totals count cluster 0, which belongs to no supercluster."""

LIKELIHOODS = ("likely", "less_likely", "unlikely")
"""The values of Catalogue.likelihood, most likely first."""

NOT_KNOWN = 9
"""The HoNOS+ score that means "not known" (rules.md §3.6)."""

_UNITS = ("weeks", "months")


class UnknownCluster(ValueError):
    """A cluster code that is not in the catalogue, e.g. 9, which the Dutch model never used."""


def _is_int(value: object) -> bool:
    # bool is an int subclass, but True is never a cluster code, a count or a score.
    return isinstance(value, int) and not isinstance(value, bool)


def _int_at_least(minimum: int) -> Callable[[object, attrs.Attribute[Any], object], None]:
    def check(_instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
        if not (isinstance(value, int) and not isinstance(value, bool) and value >= minimum):
            raise ValueError(f"{attribute.name} must be an integer of at least {minimum}, not {value!r}")

    return check


def _non_empty_text(_instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{attribute.name} must be non-empty text, not {value!r}")


@attrs.frozen
class Term:
    """A review term: the longest time a cluster may stand before it must be reviewed.

    Raises ValueError for a count below 1 or a unit other than "weeks" or "months".
    """

    count: int = attrs.field(validator=_int_at_least(1))
    unit: str = attrs.field(validator=attrs.validators.in_(_UNITS))

    def add_to(self, day: date) -> date:
        """The day the term ends when it starts on ``day``.

        Weeks add 7 days each. Months add calendar months, and a day that the target month lacks
        becomes its last day (2016-08-31 + 6 months = 2017-02-28; rules.md §5).

        Raises OverflowError when the result would lie after 9999-12-31.
        """
        if self.unit == "weeks":
            return day + timedelta(weeks=self.count)
        year, month_index = divmod(day.year * 12 + day.month - 1 + self.count, 12)
        if year > date.max.year:
            raise OverflowError(f"{day.isoformat()} + {self} lies after {date.max.isoformat()}")
        month = month_index + 1
        return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))

    def __str__(self) -> str:
        """The term as people write it: "6 months", "12 weeks", "1 month"."""
        unit = self.unit[:-1] if self.count == 1 else self.unit
        return f"{self.count} {unit}"

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Term:
        """A term from its package-data shape ``{"count": 6, "unit": "months"}``.

        Raises KeyError for a missing field, ValueError for a bad count or unit.
        """
        return cls(count=data["count"], unit=data["unit"])


def _criteria(_instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if not isinstance(value, tuple):
        raise ValueError(f"{attribute.name} must be a tuple of (item, maximum) pairs, not {value!r}")
    for pair in value:
        ok = isinstance(pair, tuple) and len(pair) == 2
        if not ok or not isinstance(pair[0], str) or not _is_int(pair[1]) or not 0 <= pair[1] <= 4:
            raise ValueError(f"{attribute.name}: {pair!r} is not an (item, maximum 0..4) pair")


@attrs.frozen
class Cluster:
    """One care cluster (zorgcluster) of the catalogue, as rules.md §7 tabulates it.

    Raises ValueError or TypeError for a field of the wrong type or range.
    """

    code: int = attrs.field(validator=_int_at_least(0))
    group: str = attrs.field(validator=_non_empty_text)
    supercluster: str | None = attrs.field(validator=attrs.validators.optional(_non_empty_text))
    review_term: Term = attrs.field(validator=attrs.validators.instance_of(Term))
    need_level: int | None = attrs.field(validator=attrs.validators.optional(_int_at_least(0)))
    name_en: str = attrs.field(validator=_non_empty_text)
    name_nl: str = attrs.field(validator=_non_empty_text)
    # Every (HoNOS+ item, maximum score) pair must hold for the care need to count as resolved.
    discharge_criteria: tuple[tuple[str, int], ...] = attrs.field(default=(), validator=_criteria)

    @property
    def supercluster_key(self) -> str:
        """The supercluster as a totals key: "I", "II", "III", or SUPERCLUSTER_NONE for cluster 0."""
        return self.supercluster if self.supercluster is not None else SUPERCLUSTER_NONE

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Cluster:
        """A cluster from one entry of the package data's ``clusters`` list.

        Raises KeyError for a missing field, ValueError or TypeError for a value of the wrong shape.
        """
        return cls(
            code=data["code"],
            group=data["group"],
            supercluster=data["supercluster"],
            review_term=Term.from_json(data["review_term"]),
            need_level=data["need_level"],
            name_en=data["name_en"],
            name_nl=data["name_nl"],
            discharge_criteria=tuple((item, maximum) for item, maximum in data.get("discharge_criteria", ())),
        )


def _ranges(codes: Iterable[int]) -> str:
    """Codes as compact ranges: [0, 1, 2, 4] -> "0..2, 4"."""
    spans: list[list[int]] = []
    for code in sorted(codes):
        if spans and code == spans[-1][1] + 1:
            spans[-1][1] = code
        else:
            spans.append([code, code])
    return ", ".join(str(a) if a == b else f"{a}..{b}" for a, b in spans)


def _sorted_clusters(clusters: Iterable[Cluster]) -> tuple[Cluster, ...]:
    return tuple(sorted(clusters, key=lambda cluster: cluster.code))


def _as_transitions(entries: Iterable[tuple[int, int, str]]) -> tuple[tuple[int, int, str], ...]:
    return tuple(entries)


@attrs.frozen
class Catalogue:
    """A version of the cluster catalogue: the clusters by code and the transitions between them.

    ``transitions`` holds the explicit (source, target, likelihood) entries that override the
    general rule for a source cluster; a source that has any must list every other cluster once.

    Raises ValueError for no clusters, a code given twice, a group split over two superclusters, or
    a transition table that names an unknown cluster or misses one; TypeError for a non-Cluster.
    """

    version: str = attrs.field(validator=_non_empty_text)
    clusters: tuple[Cluster, ...] = attrs.field(converter=_sorted_clusters)
    transitions: tuple[tuple[int, int, str], ...] = attrs.field(default=(), converter=_as_transitions)
    _by_code: dict[int, Cluster] = attrs.field(init=False, repr=False, eq=False)
    _explicit: dict[tuple[int, int], str] = attrs.field(init=False, repr=False, eq=False)

    def __attrs_post_init__(self) -> None:
        by_code: dict[int, Cluster] = {}
        for cluster in self.clusters:
            if not isinstance(cluster, Cluster):
                raise TypeError(f"catalogue {self.version}: {cluster!r} is not a Cluster")
            if cluster.code in by_code:
                raise ValueError(f"catalogue {self.version}: cluster {cluster.code} appears twice")
            by_code[cluster.code] = cluster
        if not by_code:
            raise ValueError(f"catalogue {self.version}: has no clusters")
        supercluster_of: dict[str, str | None] = {}
        for cluster in self.clusters:
            # Totals roll groups up into superclusters, so a group must sit in exactly one.
            seen = supercluster_of.setdefault(cluster.group, cluster.supercluster)
            if seen != cluster.supercluster:
                raise ValueError(
                    f"catalogue {self.version}: group {cluster.group} lies in superclusters {seen} "
                    f"and {cluster.supercluster}"
                )
        object.__setattr__(self, "_by_code", by_code)
        object.__setattr__(self, "_explicit", self._check_transitions(by_code))

    def _check_transitions(self, by_code: Mapping[int, Cluster]) -> dict[tuple[int, int], str]:
        explicit: dict[tuple[int, int], str] = {}
        for entry in self.transitions:
            source, target, likelihood = entry
            where = f"catalogue {self.version}: transition {source} -> {target}"
            if source not in by_code or target not in by_code:
                raise ValueError(f"{where} names a cluster that is not in the catalogue")
            if source == target or likelihood not in LIKELIHOODS or (source, target) in explicit:
                raise ValueError(f"{where} ({likelihood!r}) is a self-transition, unknown or repeated")
            explicit[source, target] = likelihood
        # A gap in a source's table would silently fall back to the general rule; refuse it instead.
        for source in {source for source, _ in explicit}:
            missing = [code for code in by_code if code != source and (source, code) not in explicit]
            if missing:
                raise ValueError(f"catalogue {self.version}: transitions from {source} miss {_ranges(missing)}")
        return explicit

    def lookup(self, code: int) -> Cluster:
        """The cluster with this code.

        Raises UnknownCluster when the code is not in the catalogue (9 never is).
        """
        if code in self:
            return self._by_code[code]
        raise UnknownCluster(f"cluster {code!r} is not in the catalogue ({_ranges(self._by_code)})")

    def __contains__(self, code: object) -> bool:
        """Whether ``code`` is a cluster code of this catalogue (an int; never a bool or a string)."""
        return _is_int(code) and code in self._by_code

    def __iter__(self) -> Iterator[Cluster]:
        """The clusters in code order."""
        return iter(self.clusters)

    def __len__(self) -> int:
        """The number of clusters, cluster 0 included."""
        return len(self.clusters)

    def likelihood(self, source: int, target: int) -> str:
        """How likely a change from cluster ``source`` to ``target`` is: likely, less_likely or unlikely.

        An explicit transition table wins (cluster 3's, from the seed's slide). Otherwise a change
        within the same group is likely; within the same supercluster, or from or to cluster 0, less
        likely; across superclusters unlikely (rules.md §7). Staying in a cluster is "likely".

        Raises UnknownCluster when either code is not in the catalogue.
        """
        old, new = self.lookup(source), self.lookup(target)
        if old.code == new.code:
            return "likely"
        explicit = self._explicit.get((old.code, new.code))
        if explicit is not None:
            return explicit
        if old.group == new.group:
            return "likely"
        if old.supercluster is None or new.supercluster is None or old.supercluster == new.supercluster:
            return "less_likely"
        return "unlikely"

    def meets_discharge_criteria(self, code: int, scores: Mapping[str, int]) -> bool | None:
        """Whether HoNOS+ ``scores`` (item -> score) meet every discharge criterion of cluster ``code``.

        None when the cluster has no discharge criteria. An item that is missing or scored 9 (not
        known) does not meet its criterion: an unknown score cannot show that the need is resolved.

        Raises UnknownCluster when the code is not in the catalogue.
        """
        criteria = self.lookup(code).discharge_criteria
        if not criteria:
            return None
        for item, maximum in criteria:
            score = scores.get(item)
            if score is None or score == NOT_KNOWN or score > maximum:
                return False
        return True

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Catalogue:
        """A catalogue from the package data shape (``data/clusters.json``).

        The shape is ``{"version": str, "clusters": [cluster, ...], "transitions": {source:
        {likelihood: [target, ...]}}}``, a cluster as Cluster.from_json reads it.

        Raises ValueError when the data does not have that shape or breaks a catalogue rule.
        """
        try:
            transitions = [
                (int(source), target, likelihood)
                for source, table in data.get("transitions", {}).items()
                for likelihood, targets in table.items()
                for target in targets
            ]
            return cls(
                version=data["version"],
                clusters=[Cluster.from_json(entry) for entry in data["clusters"]],
                transitions=transitions,
            )
        except (KeyError, TypeError, AttributeError) as error:
            raise ValueError(f"cluster catalogue data is malformed: {error!r}") from error


@functools.cache
def load_catalogue() -> Catalogue:
    """The catalogue shipped with the package (``clusters-v2``), read once and then cached.

    Raises ValueError when the package data is damaged.
    """
    text = (resources.files("ggzledger.reference") / "data" / "clusters.json").read_text("utf-8")
    return Catalogue.from_json(json.loads(text))
