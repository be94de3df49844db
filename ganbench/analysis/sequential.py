"""Group-sequential decisions: one comparison tested at several looks as seeds are added,
its error rate kept across the looks; and how many seeds would decide it.

A comparison (a variant against the reference on one metric of one dataset) gets its
share ``alpha_c`` of the family's alpha (Bonferroni: alpha / F over F comparisons, valid
whatever their dependence). ``alpha_c`` is spent over the planned looks by a Lan-DeMets
spending function (O'Brien-Fleming by default): at look k, with n_k of the planned n_K
seeds a side (information fraction t_k = n_k / n_K), the test's nominal level is the
increment ``spent(t_k) - spent(t_{k-1})``, which sums to ``alpha_c`` over the looks.

The tests are the exact rank tests of :mod:`.stats` (ties included), each valid at its
own fixed numbers of seeds. A comparison can decide at look k only if its test on the
first n_k seeds of both sides rejects at that look's level, so by the union bound the
chance that it ever decides wrongly is at most the sum of its levels, ``alpha_c``,
whatever the looks' correlation and whichever other groups get more seeds. (Exact
group-sequential boundaries would use the looks' correlation and be less conservative;
they need a normal approximation that tied, bounded GAN metrics do not give.)

At a look of level ``a`` a comparison is decided

- ``better`` / ``worse``: the one-sided exact p in that direction is at most a / 2 (the
  two-sided test at level a);
- ``equivalent`` within a stated margin δ: both one-sided tests of the shifted seeds
  (x + δ above y, and x - δ below y) at most a / 2 (two one-sided tests, under a shift
  model). Spending a / 2 on each keeps the chance of any wrong decision of a
  comparison at most a at every true shift: with no difference only the two
  directions can err (a / 2 each); with a difference beyond δ only a false
  equivalence (a / 2) or the wrong direction (a / 2).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import stats as sps

from .stats import clean, min_pvalue, rank_test

BETTER, WORSE, EQUIVALENT, UNDECIDED = "better", "worse", "equivalent", "undecided"
#: the planning target: the share of resampled experiments that decide
POWER = 0.8
PLAN_RESAMPLES = 400
PLAN_SEED = 0
#: seeds per side tried by the planning (beyond the last: "more than")
PLAN_GRID = (5, 6, 8, 10, 12, 16, 20, 24, 32, 40, 48, 64, 80, 96, 128, 160, 192, 256)


def obrien_fleming(t: float, alpha: float) -> float:
    """Lan-DeMets O'Brien-Fleming-type spending: 2 - 2 Phi(z_{1-alpha/2} / sqrt(t))
    (two-sided): almost nothing early, nearly all of alpha at the last look."""
    if t <= 0:
        return 0.0
    return float(2 * sps.norm.sf(sps.norm.isf(alpha / 2) / math.sqrt(min(t, 1.0))))


def pocock(t: float, alpha: float) -> float:
    """Lan-DeMets Pocock-type spending: alpha ln(1 + (e - 1) t): about even over the looks."""
    return float(alpha * math.log(1 + (math.e - 1) * min(max(t, 0.0), 1.0)))


SPENDING = {"obrien_fleming": obrien_fleming, "pocock": pocock}


def look_levels(seeds: list[int], alpha: float, spending: str = "obrien_fleming") -> list[float]:
    """The nominal level of each look, planned at ``seeds`` (cumulative seeds a side per
    look, the last the maximum): the spending function's increments; they sum to alpha."""
    spend = SPENDING[spending]
    spent = [spend(n / seeds[-1], alpha) for n in seeds]
    spent[-1] = alpha                       # exactly alpha at t = 1 (rounding)
    return [b - a for a, b in zip([0.0] + spent[:-1], spent)]


@dataclass(frozen=True)
class Decision:
    """One comparison at one look: the decision, the p-value that made it (or the
    smallest of the undecided tests), the level, and whether the test could fire at
    these numbers of seeds (1 / C(n + m, n) at most a / 2)."""

    decision: str
    p_better: float
    p_worse: float
    p_equivalent: float
    level: float
    can_fire: bool

    @property
    def p(self) -> float:
        return {BETTER: self.p_better, WORSE: self.p_worse,
                EQUIVALENT: self.p_equivalent}.get(self.decision,
                                                  min(self.p_better, self.p_worse))


def equivalence_p(x, y, margin: float) -> float:
    """Two one-sided exact rank tests that ``x`` and ``y`` differ by less than
    ``margin``: the larger of p(x + margin > y) and p(x - margin < y)."""
    a, b = clean(x), clean(y)
    with np.errstate(invalid="ignore"):
        return max(rank_test(a + margin, b)[1], rank_test(a - margin, b)[2])


def decide(x, y, better: int, level: float, margin: float | None = None) -> Decision:
    """Decide ``x`` (a variant's seeds) against ``y`` (the reference's) at one look of
    nominal level ``level``; ``better`` is +1 when higher is better, -1 when lower is.
    ``margin``: the equivalence margin δ (None: equivalence is not tested)."""
    a, b = clean(x), clean(y)
    can_fire = bool(len(a) and len(b) and min_pvalue(len(a), len(b)) <= level / 2)
    nan = math.nan
    if not can_fire:
        return Decision(UNDECIDED, nan, nan, nan, level, False)
    _, greater, less = rank_test(a, b)
    p_better, p_worse = (greater, less) if better > 0 else (less, greater)
    p_eq = nan if margin is None else equivalence_p(a, b, margin)
    if p_better <= level / 2:
        return Decision(BETTER, p_better, p_worse, p_eq, level, True)
    if p_worse <= level / 2:
        return Decision(WORSE, p_better, p_worse, p_eq, level, True)
    if p_eq <= level / 2:
        return Decision(EQUIVALENT, p_better, p_worse, p_eq, level, True)
    return Decision(UNDECIDED, p_better, p_worse, p_eq, level, True)


# --- power planning -------------------------------------------------------------------

def _rank_p_two_sided(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Two-sided Mann-Whitney p-values of each row of x against the same row of y, by the
    normal approximation with the tie correction (vectorised: the planning tries many
    resamples; its answer is "about N seeds"). Infinite values rank last."""
    n, m = x.shape[1], y.shape[1]
    z = np.concatenate([x, y], axis=1)
    ranks = sps.rankdata(z, axis=1)
    u = ranks[:, :n].sum(axis=1) - n * (n + 1) / 2
    total = n + m
    ties = _tie_term(z)
    var = n * m / 12 * ((total + 1) - ties / (total * (total - 1)))
    with np.errstate(divide="ignore", invalid="ignore"):
        zscore = (u - n * m / 2) / np.sqrt(var)
    p = 2 * sps.norm.sf(np.abs(zscore))
    return np.where(var > 0, p, 1.0)


def _tie_term(z: np.ndarray) -> np.ndarray:
    """Per row, the sum over groups of tied values of t^3 - t."""
    srt = np.sort(z, axis=1)
    starts = np.ones(srt.shape, dtype=bool)
    starts[:, 1:] = srt[:, 1:] != srt[:, :-1]
    label = np.cumsum(starts, axis=1) - 1 + (np.arange(len(z)) * z.shape[1])[:, None]
    counts = np.bincount(label.ravel(), minlength=z.size).reshape(z.shape).astype(float)
    return (counts ** 3 - counts).sum(axis=1)


def power_at(x, y, n: int, level: float, better_side: int, resamples: int = PLAN_RESAMPLES,
             seed: int = PLAN_SEED) -> float:
    """The share of ``resamples`` experiments with ``n`` seeds a side, drawn with
    replacement from the pilot seeds ``x`` and ``y``, whose two-sided test at ``level``
    decides in the direction ``better_side`` (+1: x ranks above y) (Colas et al. 2018,
    "How many random seeds?": the pilot seeds stand for the seeds to come)."""
    a, b = clean(x), clean(y)
    rng = np.random.default_rng(seed)
    xs = rng.choice(a, size=(resamples, n), replace=True)
    ys = rng.choice(b, size=(resamples, n), replace=True)
    p = _rank_p_two_sided(xs, ys)
    ranks = sps.rankdata(np.concatenate([xs, ys], axis=1), axis=1)
    above = ranks[:, :n].sum(axis=1) - n * (n + 1) / 2 > n * n / 2
    right = above if better_side > 0 else ~above
    return float(np.mean((p <= level) & right))


def seeds_for_power(x, y, level: float, power: float = POWER, grid=PLAN_GRID) -> int | None:
    """The smallest number of seeds a side (of ``grid``) at which ``power_at`` reaches
    ``power`` in the direction the pilot seeds point, or None when it is not reached
    within the grid or the pilot seeds show no direction (P(x > y) = 1/2). Searched by
    bisection (power grows with the seeds)."""
    a, b = clean(x), clean(y)
    if not len(a) or not len(b):
        return None
    _, greater, less = rank_test(a, b)
    if greater == less:
        return None
    side = 1 if greater < less else -1
    lo, hi = -1, len(grid) - 1               # grid[hi] reaches the power; grid[lo] does not
    if power_at(a, b, grid[hi], level, side) < power:
        return None
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if power_at(a, b, grid[mid], level, side) >= power:
            hi = mid
        else:
            lo = mid
    return grid[hi]
