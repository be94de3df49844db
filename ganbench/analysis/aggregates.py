"""Aggregates over seeds with their uncertainty, in the style of rliable (Agarwal et al.,
"Deep RL at the edge of the statistical precipice", NeurIPS 2021): the interquartile
mean (IQM) and the mean, each with a stratified bootstrap confidence interval, and the
probability of improvement P(X > Y) with its interval.

- IQM: the mean of the middle half of the values, ``scipy.stats.trim_mean(v, 0.25)``
  (a quarter cut from each end, rounded down: of 5 seeds the middle 3), as rliable's
  ``aggregate_iqm``. Robust to a seed or two at an extreme (a collapse among converged
  runs, a failed seed counted at +inf) yet less noisy than the median.
- Stratified bootstrap: the values of each stratum (one per task: a dataset; or the two
  sides of a comparison) are resampled with replacement within that stratum, the
  statistic recomputed, and the 2.5th and 97.5th percentiles of BOOTSTRAP_RESAMPLES
  resamples give the 95% interval (percentile method, a fixed random state so tables
  are reproducible). ``scipy.stats.bootstrap`` does exactly this when given several
  samples (each resampled on its own), which is what rliable's ``StratifiedBootstrap``
  and ``StratifiedIndependentBootstrap`` (over arch) do.
- P(X > Y) = (pairs with x > y + half the ties) / (n m) = U / (n m), the Mann-Whitney
  U statistic of x over its pairs (rliable's ``probability_of_improvement``); over
  several tasks, the mean of the per-task probabilities.

Why not the ``rliable`` package itself: its release 1.2.0 needs ``arch < 8``, and the
newest arch it allows (7.2.0) fails to import with the pandas 3 this project uses
(``TypeError: deprecate_kwarg() missing ... 'new_arg_name'``, tried on this machine),
besides pulling statsmodels and seaborn. What it computes is the few lines above over
scipy, which is used here; tests/analysis/test_aggregates.py checks them against hand
computations and brute-force resampling.
"""
from __future__ import annotations

import math
import warnings

import numpy as np
from scipy import stats

from .stats import BOOTSTRAP_RESAMPLES, BOOTSTRAP_SEED, clean

CONFIDENCE = 0.95


def iqm(values, axis: int = -1):
    """The interquartile mean: the mean after cutting a quarter of the values (rounded
    down) from each end."""
    return stats.trim_mean(values, 0.25, axis=axis)


def prob_improvement(x, y, axis: int = -1):
    """P(X > Y), ties counted one half: over every pair of a value of ``x`` and one of
    ``y`` (along ``axis``, broadcasting the leading dimensions)."""
    x = np.moveaxis(np.asarray(x, dtype=float), axis, -1)[..., :, None]
    y = np.moveaxis(np.asarray(y, dtype=float), axis, -1)[..., None, :]
    return ((x > y) + 0.5 * (x == y)).mean(axis=(-2, -1))


def mean_prob_improvement(*pairs, axis: int = -1):
    """The mean over tasks of P(X_t > Y_t), given x_1, y_1, x_2, y_2, ..."""
    return np.mean([prob_improvement(pairs[i], pairs[i + 1], axis)
                    for i in range(0, len(pairs), 2)], axis=0)


def stratified_interval(strata, statistic, confidence: float = CONFIDENCE,
                        resamples: int = BOOTSTRAP_RESAMPLES,
                        seed: int = BOOTSTRAP_SEED) -> tuple[float, float]:
    """The percentile bootstrap interval of ``statistic(*strata, axis=-1)``, each stratum
    resampled with replacement on its own (``scipy.stats.bootstrap`` with several
    samples). (nan, nan) when a stratum has fewer than 2 values; when every stratum is
    constant, the statistic itself at both ends."""
    strata = [clean(s) for s in strata]
    if any(len(s) < 2 for s in strata):
        return (math.nan, math.nan)
    if all(np.all(s == s[0]) for s in strata):
        v = float(statistic(*strata, axis=-1))
        if len({float(s[0]) for s in strata}) == 1 and math.isclose(v, strata[0][0]):
            v = float(strata[0][0])          # a mean of equal values, without its rounding
        return (v, v)
    with warnings.catch_warnings(), np.errstate(invalid="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)     # inf - inf in an interpolation
        warnings.simplefilter("ignore", stats.DegenerateDataWarning)
        res = stats.bootstrap(tuple(strata), statistic, paired=False, vectorized=True,
                              confidence_level=confidence, method="percentile",
                              n_resamples=resamples, rng=np.random.default_rng(seed))
    lo, hi = res.confidence_interval
    return (float(lo), float(hi))


def _pooled(statistic):
    """``statistic`` of the strata's values taken together (along the last axis)."""
    def f(*strata, axis=-1):
        return statistic(np.concatenate(strata, axis=axis), axis=axis)
    return f


def mean_interval(*strata) -> tuple[float, float]:
    """95% stratified bootstrap interval of the mean of all values (one stratum: the
    plain bootstrap over seeds)."""
    return stratified_interval(strata, _pooled(np.mean))


def iqm_interval(*strata) -> tuple[float, float]:
    """95% stratified bootstrap interval of the IQM of all values."""
    return stratified_interval(strata, _pooled(iqm))


def prob_improvement_interval(*pairs) -> tuple[float, float]:
    """95% interval of the mean over tasks of P(X_t > Y_t), given x_1, y_1, x_2, y_2, ...
    each resampled on its own (rliable's stratified independent bootstrap)."""
    return stratified_interval(pairs, mean_prob_improvement)


def summarize(values) -> dict:
    """n, mean, std, IQM and their 95% intervals of one group's per-seed values (NaN
    left out: metrics without a worst value; +inf kept)."""
    v = clean(values)
    n = len(v)
    with np.errstate(invalid="ignore"):
        mean = float(v.mean()) if n else math.nan
        std = float(v.std(ddof=1)) if n > 1 and np.isfinite(v).all() else math.nan
    lo, hi = mean_interval(v)
    ilo, ihi = iqm_interval(v)
    return {"n": n, "mean": mean, "std": std, "ci_low": lo, "ci_high": hi,
            "iqm": float(iqm(v)) if n else math.nan, "iqm_low": ilo, "iqm_high": ihi}
