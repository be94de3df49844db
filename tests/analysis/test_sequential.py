"""The group-sequential pieces against hand computations and enumeration."""
import math
from itertools import combinations

import numpy as np
import pytest
from scipy import stats as sps

from ganbench.analysis.sequential import (BETTER, EQUIVALENT, UNDECIDED, WORSE, _rank_p_two_sided,
                                          decide, look_levels, obrien_fleming, pocock, power_at,
                                          seeds_for_power)


def test_obrien_fleming_spending_by_hand():
    # 2 - 2 Phi(1.959964 / sqrt(0.5)) = 2 Phi(-2.771808) = 0.005575 (the textbook 0.0056)
    assert obrien_fleming(0.5, 0.05) == pytest.approx(0.005575, abs=2e-6)
    assert obrien_fleming(1.0, 0.05) == pytest.approx(0.05)
    assert obrien_fleming(0.0, 0.05) == 0.0


def test_pocock_spending_by_hand():
    # 0.05 ln(1 + (e - 1) / 2) = 0.05 ln(1.859141) = 0.031006
    assert pocock(0.5, 0.05) == pytest.approx(0.031006, abs=1e-6)
    assert pocock(1.0, 0.05) == pytest.approx(0.05)


def test_look_levels_are_the_increments_and_sum_to_alpha():
    levels = look_levels([12, 24, 36, 48], 0.0125)
    assert sum(levels) == pytest.approx(0.0125) and all(x >= 0 for x in levels)
    assert levels[0] == pytest.approx(obrien_fleming(0.25, 0.0125))
    assert levels[1] == pytest.approx(obrien_fleming(0.5, 0.0125) - obrien_fleming(0.25, 0.0125))
    assert look_levels([10], 0.05) == [0.05]               # one look: the fixed-sample test


def test_decide_by_enumeration():
    # x all below y, 3 vs 3: the one-sided exact p is 1 / C(6, 3) = 0.05
    x, y = [1.0, 2.0, 3.0], [4.0, 5.0, 6.0]
    d = decide(x, y, better=+1, level=0.1)
    assert d.decision == WORSE and d.p_worse == pytest.approx(0.05) and d.can_fire
    assert decide(x, y, better=-1, level=0.1).decision == BETTER         # lower is better
    low = decide(x, y, better=+1, level=0.09)        # 0.05 > 0.045: this n cannot fire
    assert low.decision == UNDECIDED and not low.can_fire


def test_the_decisions_p_equals_the_share_of_splits_at_least_as_extreme():
    x, y = np.array([0.3, 0.9, 0.9, 2.0]), np.array([0.1, 0.3, 0.5, 0.9, 1.2])
    z = np.concatenate([x, y])
    r = sps.rankdata(z)
    obs = r[:4].sum()
    sums = [r[list(c)].sum() for c in combinations(range(9), 4)]
    enumerated = np.mean([s >= obs - 1e-9 for s in sums])
    assert decide(x, y, +1, level=0.5).p_better == pytest.approx(enumerated)


def test_equivalence_is_two_one_sided_tests_of_the_shifted_seeds():
    x = np.array([0.0, 1.0, 2.0, 3.0, 4.0])
    y = x + 0.5
    # x + 10 above all of y and x - 10 below all of y: each one-sided p = 1 / C(10, 5)
    d = decide(x, y, +1, level=0.01, margin=10.0)
    assert d.decision == EQUIVALENT and d.p_equivalent == pytest.approx(1 / 252)
    # a margin of 0.25: x - 0.25 lies below y, but x + 0.25 does not lie above y
    assert decide(x, y, +1, level=0.01, margin=0.25).decision == UNDECIDED
    assert math.isnan(decide(x, y, +1, level=0.01).p_equivalent)       # no margin stated


def test_the_planning_test_is_mann_whitney_without_continuity_correction():
    rng = np.random.default_rng(1)
    x = np.round(rng.normal(size=(5, 9)), 1)
    y = np.round(rng.normal(0.5, size=(5, 9)), 1)
    want = [sps.mannwhitneyu(a, b, method="asymptotic", use_continuity=False).pvalue
            for a, b in zip(x, y)]
    assert _rank_p_two_sided(x, y) == pytest.approx(want)


def test_power_and_the_seeds_that_decide():
    x, y = np.array([1.0, 1.1, 1.2]), np.array([0.0, 0.1, 0.2])
    assert power_at(x, y, 10, 0.01, +1) == 1.0        # every resample separates
    assert power_at(x, y, 10, 0.01, -1) == 0.0        # never in the other direction
    # 5 vs 5 fully separated: z = 2.611, two-sided p = 0.0090 <= 0.01, so 5 seeds suffice
    # unless a resample draws ties: at 0.01 the planning says a handful of seeds
    assert seeds_for_power(x, y, 0.01) in (5, 6)
    assert seeds_for_power(x, x.copy(), 0.01) is None  # no direction seen
