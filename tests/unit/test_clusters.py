"""The cluster catalogue against rules.md §7, and review-term arithmetic against rules.md §5."""

import calendar
from datetime import date

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from ggzledger.reference import SUPERCLUSTER_NONE, Catalogue, Cluster, Term, UnknownCluster, load_catalogue

# rules.md §7, copied by hand from the spec (not from the package data) so that the test checks the data.
RULES_TABLE = {
    # code: (group, supercluster, review term, need level)
    0: ("niet te clusteren", None, "6 months", None),
    1: ("I.a", "I", "12 weeks", 1),
    2: ("I.a", "I", "15 weeks", 2),
    3: ("I.a", "I", "6 months", 3),
    4: ("I.a", "I", "6 months", 4),
    5: ("I.b", "I", "6 months", 5),
    6: ("I.b", "I", "6 months", 5),
    7: ("I.b", "I", "12 months", 5),
    8: ("I.b", "I", "12 months", 5),
    10: ("II.a", "II", "12 months", 4),
    11: ("II.b", "II", "12 months", 3),
    12: ("II.b", "II", "12 months", 4),
    13: ("II.b", "II", "12 months", 5),
    14: ("II.c", "II", "4 weeks", 5),
    15: ("II.c", "II", "4 weeks", 5),
    16: ("II.d", "II", "6 months", 4),
    17: ("II.d", "II", "6 months", 5),
    18: ("III.a", "III", "12 months", 2),
    19: ("III.a", "III", "6 months", 3),
    20: ("III.a", "III", "6 months", 4),
    21: ("III.a", "III", "6 months", 5),
}

# domain.md §2.2, the UK labels.
UK_NAMES = {
    0: "Variance",
    1: "Common mental health problems (low severity)",
    4: "Non-psychotic (severe)",
    10: "First episode in psychosis",
    21: "Cognitive impairment or dementia (high physical or engagement need)",
}


@pytest.fixture(scope="module")
def catalogue() -> Catalogue:
    return load_catalogue()


# --- the catalogue rows ------------------------------------------------------------------------


def test_the_shipped_catalogue_is_version_clusters_v2(catalogue):
    # v2: clusters 6 and 7 (group I.b) have need level 5 like the rest of I.b (rules.md §7).
    assert catalogue.version == "clusters-v2"


def test_the_catalogue_holds_exactly_the_codes_of_the_rules_table_in_code_order(catalogue):
    assert [cluster.code for cluster in catalogue] == sorted(RULES_TABLE)
    assert len(catalogue) == 21


@pytest.mark.parametrize("code", sorted(RULES_TABLE))
def test_every_cluster_has_the_group_supercluster_term_and_need_level_of_the_rules_table(catalogue, code):
    group, supercluster, term, need_level = RULES_TABLE[code]
    cluster = catalogue.lookup(code)
    assert (cluster.group, cluster.supercluster, str(cluster.review_term), cluster.need_level) == (
        group,
        supercluster,
        term,
        need_level,
    )


@pytest.mark.parametrize("code", sorted(UK_NAMES))
def test_english_names_are_the_uk_labels(catalogue, code):
    assert catalogue.lookup(code).name_en == UK_NAMES[code]


def test_cluster_4_has_the_seeds_dutch_name(catalogue):
    assert catalogue.lookup(4).name_nl == "Psychische aandoening ernstig"


def test_every_cluster_has_a_dutch_and_an_english_name(catalogue):
    assert all(cluster.name_nl and cluster.name_en for cluster in catalogue)


def test_cluster_0_is_counted_under_the_supercluster_key_none(catalogue):
    assert catalogue.lookup(0).supercluster_key == SUPERCLUSTER_NONE == "none"
    assert catalogue.lookup(14).supercluster_key == "II"


@pytest.mark.parametrize("code", [9, 22, -1])
def test_codes_outside_the_catalogue_are_unknown(catalogue, code):
    assert code not in catalogue
    with pytest.raises(UnknownCluster, match=rf"cluster {code} is not in the catalogue \(0\.\.8, 10\.\.21\)"):
        catalogue.lookup(code)


def test_unknown_cluster_is_a_value_error(catalogue):
    with pytest.raises(ValueError):
        catalogue.lookup(9)


@pytest.mark.parametrize("code", ["4", 4.0, True, None])
def test_only_integers_are_cluster_codes(catalogue, code):
    assert code not in catalogue
    with pytest.raises(UnknownCluster):
        catalogue.lookup(code)


def test_clusters_are_frozen(catalogue):
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        catalogue.lookup(4).need_level = 5


# --- transition likelihood ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("target", "likelihood"),
    [(2, "likely")]
    + [(code, "less_likely") for code in (4, 5, 6, 8, 10)]
    + [(code, "unlikely") for code in (1, 7, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21)]
    + [(0, "less_likely")],
)
def test_transitions_from_cluster_3_follow_the_seeds_slide(catalogue, target, likelihood):
    assert catalogue.likelihood(3, target) == likelihood


def test_the_slide_overrides_the_general_rule_within_cluster_3s_own_group(catalogue):
    # 1 and 4 share group I.a with 3, yet the slide calls them unlikely and less likely.
    assert catalogue.likelihood(3, 1) == "unlikely"
    assert catalogue.likelihood(3, 4) == "less_likely"


@pytest.mark.parametrize(
    ("source", "target"), [(1, 2), (4, 1), (5, 8), (12, 13), (14, 15), (16, 17), (18, 21), (2, 3), (4, 3)]
)
def test_a_change_within_the_same_group_is_likely(catalogue, source, target):
    assert catalogue.likelihood(source, target) == "likely"


@pytest.mark.parametrize(("source", "target"), [(1, 5), (8, 4), (10, 11), (13, 14), (15, 16), (7, 2)])
def test_a_change_within_the_same_supercluster_is_less_likely(catalogue, source, target):
    assert catalogue.likelihood(source, target) == "less_likely"


@pytest.mark.parametrize(("source", "target"), [(0, 4), (4, 0), (0, 14), (21, 0)])
def test_a_change_from_or_to_cluster_0_is_less_likely(catalogue, source, target):
    assert catalogue.likelihood(source, target) == "less_likely"


@pytest.mark.parametrize(("source", "target"), [(1, 14), (14, 1), (4, 18), (21, 10), (8, 12)])
def test_a_change_across_superclusters_is_unlikely(catalogue, source, target):
    assert catalogue.likelihood(source, target) == "unlikely"


@pytest.mark.parametrize("code", sorted(RULES_TABLE))
def test_staying_in_a_cluster_is_likely(catalogue, code):
    assert catalogue.likelihood(code, code) == "likely"


def test_likelihood_of_an_unknown_cluster_raises(catalogue):
    with pytest.raises(UnknownCluster):
        catalogue.likelihood(3, 9)
    with pytest.raises(UnknownCluster):
        catalogue.likelihood(22, 3)


# --- discharge criteria -------------------------------------------------------------------------


def test_cluster_3_has_the_seeds_discharge_criteria(catalogue):
    assert catalogue.lookup(3).discharge_criteria == (("2", 0), ("7", 1), ("8", 1))


def test_no_other_cluster_has_discharge_criteria(catalogue):
    assert [cluster.code for cluster in catalogue if cluster.discharge_criteria] == [3]


def test_discharge_criteria_are_met_when_every_item_is_at_or_below_its_maximum(catalogue):
    assert catalogue.meets_discharge_criteria(3, {"1": 4, "2": 0, "7": 1, "8": 1, "12": 3}) is True
    assert catalogue.meets_discharge_criteria(3, {"2": 0, "7": 0, "8": 0}) is True


@pytest.mark.parametrize("scores", [{"2": 1, "7": 1, "8": 1}, {"2": 0, "7": 2, "8": 1}, {"2": 0, "7": 1, "8": 4}])
def test_discharge_criteria_are_not_met_when_one_item_is_above_its_maximum(catalogue, scores):
    assert catalogue.meets_discharge_criteria(3, scores) is False


@pytest.mark.parametrize("item", ["2", "7", "8"])
def test_an_item_scored_9_not_known_does_not_meet_its_criterion(catalogue, item):
    scores = {"2": 0, "7": 1, "8": 1} | {item: 9}
    assert catalogue.meets_discharge_criteria(3, scores) is False


def test_a_missing_item_does_not_meet_its_criterion(catalogue):
    assert catalogue.meets_discharge_criteria(3, {"2": 0, "7": 1}) is False


def test_a_cluster_without_discharge_criteria_gives_none(catalogue):
    assert catalogue.meets_discharge_criteria(4, {"2": 0, "7": 0, "8": 0}) is None


def test_discharge_criteria_of_an_unknown_cluster_raise(catalogue):
    with pytest.raises(UnknownCluster):
        catalogue.meets_discharge_criteria(9, {})


# --- building a catalogue from data ------------------------------------------------------------


def _entry(code, group="I.a", supercluster="I"):
    return {
        "code": code,
        "group": group,
        "supercluster": supercluster,
        "review_term": {"count": 6, "unit": "months"},
        "need_level": 1,
        "name_en": f"cluster {code}",
        "name_nl": f"cluster {code}",
    }


def test_a_catalogue_is_built_from_the_package_data_shape():
    catalogue = Catalogue.from_json({"version": "test-v1", "clusters": [_entry(2), _entry(1)]})
    assert catalogue.version == "test-v1"
    assert [cluster.code for cluster in catalogue] == [1, 2]
    assert catalogue.lookup(2) == Cluster(2, "I.a", "I", Term(6, "months"), 1, "cluster 2", "cluster 2", ())


def test_a_catalogue_with_a_code_twice_is_refused():
    with pytest.raises(ValueError, match="cluster 1 appears twice"):
        Catalogue.from_json({"version": "v", "clusters": [_entry(1), _entry(1)]})


def test_a_group_split_over_two_superclusters_is_refused():
    with pytest.raises(ValueError, match=r"group I\.a"):
        Catalogue.from_json({"version": "v", "clusters": [_entry(1), _entry(2, supercluster="II")]})


def test_a_transition_table_that_misses_a_target_is_refused():
    data = {
        "version": "v",
        "clusters": [_entry(1), _entry(2), _entry(3)],
        "transitions": {"1": {"likely": [2]}},
    }
    with pytest.raises(ValueError, match="transitions from 1 miss 3"):
        Catalogue.from_json(data)


def test_a_transition_to_an_unknown_cluster_is_refused():
    data = {"version": "v", "clusters": [_entry(1), _entry(2)], "transitions": {"1": {"likely": [2, 9]}}}
    with pytest.raises(ValueError, match="1 -> 9"):
        Catalogue.from_json(data)


def test_malformed_catalogue_data_is_a_value_error():
    with pytest.raises(ValueError, match="malformed"):
        Catalogue.from_json({"version": "v"})
    with pytest.raises(ValueError):
        Catalogue.from_json({"version": "v", "clusters": [_entry(1) | {"review_term": {"count": 6, "unit": "days"}}]})


def test_the_shipped_catalogue_is_loaded_once():
    assert load_catalogue() is load_catalogue()


# --- review terms ------------------------------------------------------------------------------


def test_weeks_add_seven_days_each():
    assert Term(12, "weeks").add_to(date(2017, 1, 1)) == date(2017, 3, 26)
    assert Term(4, "weeks").add_to(date(2016, 12, 20)) == date(2017, 1, 17)


def test_months_add_calendar_months():
    assert Term(6, "months").add_to(date(2016, 11, 1)) == date(2017, 5, 1)
    assert Term(12, "months").add_to(date(2016, 3, 15)) == date(2017, 3, 15)


def test_months_clamp_to_the_last_day_of_the_target_month():
    assert Term(6, "months").add_to(date(2016, 8, 31)) == date(2017, 2, 28)


def test_months_land_on_29_february_in_a_leap_year():
    assert Term(6, "months").add_to(date(2015, 8, 31)) == date(2016, 2, 29)
    assert Term(12, "months").add_to(date(2016, 2, 29)) == date(2017, 2, 28)


def test_weeks_cross_29_february_in_a_leap_year():
    assert Term(1, "weeks").add_to(date(2016, 2, 25)) == date(2016, 3, 3)


def test_a_term_past_the_last_representable_date_overflows():
    with pytest.raises(OverflowError):
        Term(6, "months").add_to(date(9999, 8, 1))
    with pytest.raises(OverflowError):
        Term(4, "weeks").add_to(date(9999, 12, 20))


def test_terms_read_as_people_write_them():
    assert str(Term(6, "months")) == "6 months"
    assert str(Term(12, "weeks")) == "12 weeks"
    assert str(Term(1, "months")) == "1 month"


@pytest.mark.parametrize(
    ("count", "unit"), [(0, "months"), (-1, "weeks"), (6, "days"), (True, "weeks"), ("6", "months")]
)
def test_a_term_needs_a_positive_count_of_weeks_or_months(count, unit):
    with pytest.raises(ValueError):
        Term(count, unit)


days = st.dates(min_value=date(1900, 1, 1), max_value=date(2999, 12, 31))


@given(day=days, count=st.integers(min_value=1, max_value=120))
def test_adding_months_lands_in_the_right_month_without_overflowing_it(day, count):
    result = Term(count, "months").add_to(day)
    assert (result.year * 12 + result.month) - (day.year * 12 + day.month) == count
    last = calendar.monthrange(result.year, result.month)[1]
    assert result.day == min(day.day, last)


@given(day=days, count=st.integers(min_value=1, max_value=520))
def test_adding_weeks_adds_exactly_seven_days_each(day, count):
    result = Term(count, "weeks").add_to(day)
    assert (result - day).days == 7 * count
    assert result.weekday() == day.weekday()
