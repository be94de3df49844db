"""Statistics over seeds: which direction is better, bootstrap intervals, rank tests.

GAN results vary a lot across seeds, so comparisons are made on the per-seed values:
a 95% bootstrap confidence interval of the mean (scipy.stats.bootstrap, percentile
method, fixed random state so tables are reproducible) and Wilcoxon-Mann-Whitney rank
tests between variants, exact under the permutation null, ties included
(:func:`rank_test`).
"""
from __future__ import annotations

import math

import numpy as np
from scipy import stats

from ..metrics.catalogue import direction

BOOTSTRAP_RESAMPLES = 2000
BOOTSTRAP_SEED = 0
#: the exact rank test's distribution is computed up to this many values in all (at most
#: tens of milliseconds); beyond, the normal approximation with the tie correction is
#: within a few percent of it
EXACT_UP_TO = 100


def better_word(metric: str) -> str:
    return {1: "higher", -1: "lower"}.get(direction(metric), "")


def clean(values) -> np.ndarray:
    """The values that are not NaN (an infinite value, e.g. a seed counted at the worst
    of an unbounded metric, stays: rank statistics order it after every finite value)."""
    v = np.asarray(values, dtype=float)
    return v[~np.isnan(v)]


def bootstrap_ci(values, confidence: float = 0.95) -> tuple[float, float]:
    """Percentile bootstrap interval of the mean; (nan, nan) below 2 values."""
    v = clean(values)
    if len(v) < 2:
        return (math.nan, math.nan)
    if np.ptp(v) == 0:
        return (float(v[0]), float(v[0]))
    res = stats.bootstrap((v,), np.mean, confidence_level=confidence, method="percentile",
                          n_resamples=BOOTSTRAP_RESAMPLES,
                          random_state=np.random.default_rng(BOOTSTRAP_SEED))
    return (float(res.confidence_interval.low), float(res.confidence_interval.high))


def rank_sum_distribution(ranks2: np.ndarray, n: int) -> np.ndarray:
    """P(sum of ``n`` of the doubled midranks ``ranks2`` = s), s = 0 .. sum(ranks2), over
    all C(N, n) equally likely ways to pick them: the exact permutation distribution of
    the (doubled) rank sum, ties included.

    Written here because no library gives it fast: scipy's exact Mann-Whitney assumes no
    ties, and ``method=PermutationMethod()`` enumerates all C(N, n) splits (184,756 at 10
    seeds each: about a second per test; the gate's measurement runs thousands). This
    is the counting recursion over values (ways to reach each sum with k values),
    O(N · n · sum)."""
    ranks2 = np.asarray(ranks2, dtype=np.int64)
    total = int(ranks2.sum())
    ways = np.zeros((n + 1, total + 1))
    ways[0, 0] = 1.0
    for i, r in enumerate(ranks2):
        for k in range(min(i + 1, n), 0, -1):
            ways[k, r:] += ways[k - 1, :total + 1 - r]
    return ways[n] / ways[n].sum()


def rank_test(x, y) -> tuple[float, float, float]:
    """(U of x, p that x is stochastically greater, p that it is smaller): one-sided
    Wilcoxon-Mann-Whitney p-values, exact under the permutation null with midranks for
    ties (up to EXACT_UP_TO values in all; then the normal approximation with the tie
    correction). U counts the pairs with x > y plus half the ties, so U / (n m) is
    P(X > Y). (nan, nan, nan) when a side has no value; all values equal: p = 1."""
    a, b = clean(x), clean(y)
    n, m = len(a), len(b)
    if n == 0 or m == 0:
        return (math.nan, math.nan, math.nan)
    z = np.concatenate([a, b])
    ranks = stats.rankdata(z)                           # midranks; inf ranks last
    u = float(ranks[:n].sum() - n * (n + 1) / 2)
    if np.all(z == z[0]):
        return (u, 1.0, 1.0)
    if n + m <= EXACT_UP_TO:
        r2 = np.rint(2 * ranks).astype(np.int64)
        dist = rank_sum_distribution(r2, n)
        obs = int(r2[:n].sum())
        return (u, float(min(1.0, dist[obs:].sum())), float(min(1.0, dist[:obs + 1].sum())))
    greater = stats.mannwhitneyu(a, b, alternative="greater", method="asymptotic").pvalue
    less = stats.mannwhitneyu(a, b, alternative="less", method="asymptotic").pvalue
    return (u, float(greater), float(less))


def mann_whitney(x, y, alternative: str = "two-sided") -> tuple[float, float]:
    """(U statistic of x, p-value) of the exact rank test (:func:`rank_test`); two-sided:
    twice the smaller one-sided p, at most 1. (nan, nan) when either side has no value;
    all values equal: p = 1 (no evidence either way)."""
    u, greater, less = rank_test(x, y)
    if math.isnan(u):
        return (math.nan, math.nan)
    p = {"greater": greater, "less": less}.get(alternative)
    return (u, min(1.0, 2 * min(greater, less)) if p is None else p)


def worse_pvalue(now, base, sign: int) -> float:
    """One-sided p-value for 'now is worse than base', where ``sign`` is +1 when higher is
    better and -1 when lower is better."""
    return mann_whitney(now, base, "less" if sign > 0 else "greater")[1]


def min_pvalue(n1: int, n2: int) -> float:
    """The smallest one-sided rank-test p-value n1 and n2 values can give: 1 / C(n1+n2, n1)
    (twice that, two-sided); ties can only make it larger."""
    return 1.0 / math.comb(n1 + n2, n1)
