"""The statistics behind compare and check, against hand computations and brute force:
the IQM, its (stratified) bootstrap interval, P(X > Y) and its interval, the exact rank
test with ties, Holm and Benjamini-Hochberg."""
import itertools
import math

import numpy as np
import pytest
from scipy import stats as sps

from ganbench.analysis.aggregates import (iqm, iqm_interval, mean_interval, prob_improvement,
                                          prob_improvement_interval, stratified_interval,
                                          summarize)
from ganbench.analysis.compare import adjust, holm
from ganbench.analysis.stats import mann_whitney, min_pvalue, rank_test, worse_pvalue


def test_iqm_worked_examples():
    # 8 values: a quarter (2) cut from each end, mean of 1, 3, 5, 6
    assert iqm([100, -50, 0, 1, 3, 5, 6, 7]) == pytest.approx(3.75)
    # 5 values: one cut from each end (a quarter of 5, rounded down), mean of 1, 5, 5
    assert iqm([8, 0, 5, 5, 1]) == pytest.approx(11 / 3)
    # a failed seed at +inf is cut, like any extreme
    assert iqm([8, 7, 8, 6, math.inf]) == pytest.approx(23 / 3)
    assert iqm([2, 4, 9]) == pytest.approx(5.0)        # 3 values: nothing to cut


def _exact_cdf(atoms: np.ndarray):
    """The CDF of the bootstrap distribution given every equally likely resample's value."""
    atoms = np.sort(atoms)
    return lambda t: np.searchsorted(atoms, t, side="right") / len(atoms)


def _resamples(v):
    """Every one of the n^n equally likely resamples (with replacement) of v."""
    return np.array(list(itertools.product(v, repeat=len(v))))


def _assert_percentile_interval(lo, hi, atoms, tol=0.012):
    """(lo, hi) are the 2.5th and 97.5th percentiles of the exact bootstrap distribution,
    up to the Monte Carlo error of 2000 resamples (sd 0.0035 in probability)."""
    cdf = _exact_cdf(atoms)
    below = lambda t: np.mean(atoms < t)      # noqa: E731
    assert below(lo) <= 0.025 + tol and cdf(lo) >= 0.025 - tol
    assert below(hi) <= 0.975 + tol and cdf(hi) >= 0.975 - tol


def test_bootstrap_intervals_match_brute_force_resampling():
    v = np.array([0.0, 1.0, 5.0, 6.0, 8.0])            # 3125 resamples
    every = _resamples(v)
    _assert_percentile_interval(*mean_interval(v), every.mean(1))
    _assert_percentile_interval(*iqm_interval(v), iqm(every, axis=1))


def test_stratified_bootstrap_resamples_within_each_stratum():
    a, b = np.array([0.0, 1.0, 4.0]), np.array([10.0, 11.0, 15.0, 20.0])
    ra, rb = _resamples(a), _resamples(b)               # 27 x 256 pairs
    pooled = np.array([np.concatenate([x, y]).mean() for x in ra for y in rb])
    _assert_percentile_interval(*mean_interval(a, b), pooled)
    # each stratum keeps its size: never 7 draws from one of them, unlike a pooled bootstrap
    lo, hi = mean_interval(a, b)
    assert lo >= (0 * 3 + 10 * 4) / 7 and hi <= (4 * 3 + 20 * 4) / 7


def test_probability_of_improvement_counts_pairs_with_ties_half():
    rng = np.random.default_rng(3)
    for _ in range(20):
        x, y = rng.integers(0, 4, rng.integers(1, 7)), rng.integers(0, 4, rng.integers(1, 7))
        wins = sum(1.0 if a > b else 0.5 if a == b else 0.0 for a in x for b in y)
        assert prob_improvement(x, y) == pytest.approx(wins / (len(x) * len(y)))
        if len(set(x) | set(y)) > 1:
            u = sps.mannwhitneyu(x, y).statistic
            assert prob_improvement(x, y) == pytest.approx(u / (len(x) * len(y)))
    assert prob_improvement([8, 8], [8, 8]) == 0.5
    assert prob_improvement([1.0], [math.inf]) == 0.0          # a failed seed at +inf


def test_probability_interval_matches_independent_brute_force():
    x, y = np.array([3.0, 5.0, 8.0, 8.0]), np.array([1.0, 4.0, 6.0])
    atoms = np.array([prob_improvement(a, b) for a in _resamples(x) for b in _resamples(y)])
    _assert_percentile_interval(*prob_improvement_interval(x, y), atoms)


def test_intervals_of_degenerate_samples():
    assert mean_interval([5, 5, 5]) == (5.0, 5.0) and math.isnan(mean_interval([1])[0])
    s = summarize([1, 2, 3, math.inf, 5])
    assert s["mean"] == math.inf and math.isnan(s["std"]) and s["iqm"] == pytest.approx(10 / 3)
    lo, hi = stratified_interval([[1.0, 2.0], [3.0, 3.0]], lambda a, b, axis: a.mean(axis) - b.mean(axis))
    assert -2.0 <= lo <= hi <= -1.0


def _brute_rank_pvalues(x, y):
    """One-sided p-values of the rank sum of x over every split of the pooled values."""
    z = np.concatenate([x, y])
    r = sps.rankdata(z)
    obs = r[:len(x)].sum()
    sums = np.array([r[list(c)].sum() for c in itertools.combinations(range(len(z)), len(x))])
    return np.mean(sums >= obs - 1e-9), np.mean(sums <= obs + 1e-9)


def test_rank_test_is_exact_with_ties():
    rng = np.random.default_rng(0)
    for _ in range(25):
        x = rng.integers(0, 5, rng.integers(1, 7)).astype(float)
        y = rng.integers(0, 5, rng.integers(1, 7)).astype(float)
        if np.all(np.concatenate([x, y]) == x[0]):
            continue
        u, greater, less = rank_test(x, y)
        g, l_ = _brute_rank_pvalues(x, y)
        assert (greater, less) == pytest.approx((g, l_))
        assert u == pytest.approx(prob_improvement(x, y) * len(x) * len(y))
    # without ties it is scipy's exact test
    x, y = [0.3, 1.2, 0.5, 2.2, 0.05], [0.1, 0.4, 0.9, 1.5, 3.0, 2.5]
    assert mann_whitney(x, y)[1] == pytest.approx(sps.mannwhitneyu(x, y, method="exact").pvalue)
    assert worse_pvalue(x, y, +1) == pytest.approx(
        sps.mannwhitneyu(x, y, alternative="less", method="exact").pvalue)
    assert mann_whitney([1, 1], [1, 1]) == (2.0, 1.0)         # no evidence either way
    # the smallest p: every value of one side above the other
    assert rank_test([9, 9, 9, 9, 9], [1, 2, 3, 4, 5])[1] == pytest.approx(min_pvalue(5, 5))


def test_rank_test_beyond_the_exact_size_is_scipys_normal_approximation():
    rng = np.random.default_rng(1)
    x, y = rng.normal(size=60), rng.normal(0.4, size=60)
    assert rank_test(x, y)[2] == pytest.approx(
        sps.mannwhitneyu(x, y, alternative="less", method="asymptotic").pvalue)


def test_holm_and_bh_worked_example():
    p = [0.01, 0.04, 0.03, 0.005]
    # Holm: sorted 0.005, 0.01, 0.03, 0.04 times 4, 3, 2, 1 = 0.02, 0.03, 0.06, 0.04,
    # then made monotone: 0.02, 0.03, 0.06, 0.06
    assert holm(p) == pytest.approx([0.03, 0.06, 0.06, 0.02])
    # BH: sorted p * 4 / rank = 0.02, 0.02, 0.04, 0.04, minimum from the top down
    assert adjust(p, "bh") == pytest.approx([0.02, 0.04, 0.04, 0.02])
    assert holm([0.5]) == pytest.approx([0.5]) and holm([0.6, 0.6]) == pytest.approx([1.0, 1.0])


def test_mean_probability_over_tasks_and_its_stratified_interval():
    """rliable's average probability of improvement: the mean over tasks of P(X_t > Y_t),
    its interval from resampling each task's seeds of each side on their own."""
    x1, y1, x2, y2 = [3.0, 5.0, 8.0], [1.0, 6.0], [0.2, 0.9], [0.5, 0.5]
    assert prob_improvement_interval(x1, y1)[0] <= prob_improvement(x1, y1)
    from ganbench.analysis.aggregates import mean_prob_improvement
    assert mean_prob_improvement(x1, y1, x2, y2) == pytest.approx((4 / 6 + 2 / 4) / 2)
    atoms = np.array([(prob_improvement(a, b) + prob_improvement(c, d)) / 2
                      for a in _resamples(x1) for b in _resamples(y1)
                      for c in _resamples(x2) for d in _resamples(y2)])
    _assert_percentile_interval(*prob_improvement_interval(x1, y1, x2, y2), atoms)
