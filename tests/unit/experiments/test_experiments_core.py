"""A/B core: deterministic weighted assignment, Wilson / z / Welch statistics, honest "not enough data"."""

from __future__ import annotations

import math
from collections import Counter

import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy import stats

from o2o.core.experiments import (
    Variant,
    assign,
    bucket_of,
    compare,
    mean_ci,
    proportion_ci,
    two_proportions,
    welch,
)

AB = [Variant("control", 1), Variant("b", 1)]


@given(st.integers(min_value=1, max_value=10**12))
def test_assignment_is_deterministic_and_a_known_variant(member_id):
    first = assign("home-banner", member_id, AB)
    assert first == assign("home-banner", member_id, AB) and first in {"control", "b"}


def test_the_split_follows_the_weights_within_sampling_error():
    variants = [Variant("a", 1), Variant("b", 1), Variant("c", 2)]
    counts = Counter(assign("exp-1", m, variants) for m in range(1, 20_001))
    expected = [5000, 5000, 10000]
    chi2 = stats.chisquare([counts["a"], counts["b"], counts["c"]], expected)
    assert chi2.pvalue > 0.001, counts  # a broken hash or weight walk fails this by a mile


def test_experiments_are_independent_and_zero_weight_never_assigned():
    same = sum(assign("e1", m, AB) == assign("e2", m, AB) for m in range(1, 4001))
    assert 1800 < same < 2200  # about half agree: the two assignments are unrelated
    assert all(assign("e3", m, [Variant("off", 0), Variant("on", 5)]) == "on" for m in range(1, 500))
    assert 0 <= bucket_of("x", 1) < 10_000


@pytest.mark.parametrize("bad", [[], [Variant("a", 0)], [Variant("a", 1), Variant("a", 1)]])
def test_bad_variant_lists(bad):
    with pytest.raises(ValueError):
        assign("e", 1, bad)


def test_wilson_interval_matches_the_formula_and_handles_edges():
    ci = proportion_ci(30, 100)
    assert ci.estimate == 0.3 and ci.low == pytest.approx(0.2189, abs=1e-4) and ci.high == pytest.approx(0.3958,
                                                                                                        abs=1e-4)
    zero = proportion_ci(0, 50)
    assert zero.low == 0.0 and 0 < zero.high < 0.1
    assert proportion_ci(0, 0).high == 1.0
    with pytest.raises(ValueError):
        proportion_ci(5, 4)


def test_two_proportion_z_test_against_scipy_chi2():
    res = two_proportions(120, 1000, 160, 1000)
    table = [[120, 880], [160, 840]]
    chi2 = stats.chi2_contingency(table, correction=False)
    assert res.p_value == pytest.approx(chi2.pvalue, rel=1e-9) and res.statistic > 0
    assert two_proportions(0, 10, 0, 10).p_value == 1.0


def test_welch_and_mean_interval():
    a = [0.0] * 50 + [100.0] * 50
    b = [0.0] * 30 + [100.0] * 70
    res = welch(a, b)
    assert res.p_value == pytest.approx(stats.ttest_ind(b, a, equal_var=False).pvalue) and res.statistic > 0
    ci = mean_ci(a)
    assert ci.estimate == 50 and ci.low < 50 < ci.high
    assert math.isinf(mean_ci([1.0]).low) and welch([1.0], [2.0]).p_value == 1.0


def test_compare_says_not_enough_data_when_that_is_the_truth():
    small = compare("conversion", control=(3, 40), variant=(9, 40), kind="rate", min_n=100)
    assert small.verdict == "not_enough_data" and "100" in small.reason
    few = compare("conversion", control=(2, 500), variant=(3, 500), kind="rate", min_n=100)
    assert few.verdict == "not_enough_data"
    big = compare("conversion", control=(100, 1000), variant=(160, 1000), kind="rate")
    assert big.verdict == "better" and big.p_value < 0.001 and big.lift == pytest.approx(0.6)
    flat = compare("conversion", control=(100, 1000), variant=(104, 1000), kind="rate")
    assert flat.verdict == "no_difference"
    worse = compare("revenue", control=[100.0] * 60 + [0.0] * 60, variant=[0.0] * 100 + [100.0] * 20, kind="mean")
    assert worse.verdict == "worse"
