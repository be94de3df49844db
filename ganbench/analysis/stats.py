"""Statistics over seeds: which direction is better, bootstrap intervals, rank tests.

GAN results vary a lot across seeds, so comparisons are made on the per-seed values:
a 95% bootstrap confidence interval of the mean (scipy.stats.bootstrap, percentile
method, fixed random state so tables are reproducible) and Mann-Whitney U tests
(scipy.stats.mannwhitneyu) between variants.
"""
from __future__ import annotations

import math

import numpy as np
from scipy import stats

from ..metrics.catalogue import direction

BOOTSTRAP_RESAMPLES = 2000
BOOTSTRAP_SEED = 0


def better_word(metric: str) -> str:
    return {1: "higher", -1: "lower"}.get(direction(metric), "")


def clean(values) -> np.ndarray:
    v = np.asarray(values, dtype=float)
    return v[np.isfinite(v)]


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


def mann_whitney(x, y, alternative: str = "two-sided") -> tuple[float, float]:
    """(U statistic of x, p-value); (nan, nan) when either side has no value or all
    values are equal (no evidence either way: p = 1)."""
    a, b = clean(x), clean(y)
    if len(a) == 0 or len(b) == 0:
        return (math.nan, math.nan)
    if np.ptp(np.concatenate([a, b])) == 0:
        return (len(a) * len(b) / 2.0, 1.0)
    res = stats.mannwhitneyu(a, b, alternative=alternative)
    return (float(res.statistic), float(res.pvalue))


def worse_pvalue(now, base, sign: int) -> float:
    """One-sided Mann-Whitney p-value for 'now is worse than base', where ``sign`` is +1
    when higher is better and -1 when lower is better."""
    return mann_whitney(now, base, "less" if sign > 0 else "greater")[1]


def min_pvalue(n1: int, n2: int) -> float:
    """The smallest one-sided Mann-Whitney p-value n1 and n2 values can give: 1 / C(n1+n2, n1)
    (twice that, two-sided)."""
    return 1.0 / math.comb(n1 + n2, n1)
