"""What one rule of ``ganbench check`` says about one group: the margin, the verdict of a
gated metric (ok, REGRESSED or CANNOT TEST, with the smallest p its test can reach and
why it cannot) and of the group's runs.

A rule (a baseline's ``rules:`` entry): ``better`` (higher or lower), the margin δ, and
``alpha``. δ is the largest of ``margin``, ``rel_margin`` times the baseline's median
and ``noise_margin`` times the group's seed spread (:func:`spread`: the noise of its own
baseline seeds). With ``alpha``, now's values are moved by δ in the better direction and
a one-sided exact rank test asks whether they are still worse than the baseline's (a
shift test: a worsening of at most δ alarms at most ``alpha`` of the time).

A bounded metric cannot go below its worst value (0 modes, hq 0, reverse_kl log K): a
seed now at the worst, moved by δ, lands at the *edge* (worst + δ), and the baseline
seeds between the worst value and the edge count at the edge, so a seed now at the
worst ties with a baseline seed there instead of beating it (:func:`_against`; the
bound is kept: see there). The smallest p a test can reach is that of every seed now at
the worst value; when even that is not below ``alpha`` (too few seeds, or a baseline
with many seeds at the worst already) the metric CANNOT TEST, with the reason and the
seeds now that would. Without ``alpha`` the means are compared against δ (no error
rate known), infinite seeds clipped to the finite range (:func:`mean_worse_by`).
"""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
from scipy import stats as sps

from .stats import clean, worse_pvalue
from .tables import fmt

REGRESSED, CANNOT = "REGRESSED", "CANNOT TEST"
#: the normal-consistent scale of a median absolute deviation
MAD_SCALE = 1.4826


def stored(v) -> float | None:
    """A value as a baseline stores it: None for no value, inf kept, else rounded to 6
    decimals (now's values are rounded the same way before they are compared, so a seed
    at the worst value ties with a baseline seed there)."""
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return None
    return float(v) if math.isinf(v) else round(float(v), 6)


def as_stored(values) -> list[float]:
    """``values`` rounded as a baseline stores them, NaN for no value."""
    return [math.nan if (x := stored(v)) is None else x for v in values]


def spread(base) -> float:
    """The noise of a group's seeds: 1.4826 times the median absolute deviation (the
    standard deviation, were the seeds normal; a minority of collapsed or failed seeds
    does not move it), or the finite values' standard deviation where most seeds agree
    exactly (MAD 0); 0 with fewer than 2 values."""
    v = clean(base)
    if len(v) < 2:
        return 0.0
    with np.errstate(invalid="ignore"):
        mad = MAD_SCALE * float(np.median(np.abs(v - np.median(v))))
    if math.isfinite(mad) and mad > 0:
        return mad
    f = v[np.isfinite(v)]
    return float(np.std(f, ddof=1)) if len(f) > 1 else 0.0


def margin_of(rule: dict, base) -> float:
    """δ: the largest of ``margin``, ``rel_margin`` times the baseline's median and
    ``noise_margin`` times its seeds' :func:`spread`."""
    b = clean(base)
    found = [rule.get("margin", 0.0)]
    if len(b):
        found.append(rule.get("rel_margin", 0.0) * abs(float(np.median(b))))
        found.append(rule.get("noise_margin", 0.0) * spread(b))
    return max(x for x in found if math.isfinite(x))


def _extreme(rule: dict, worst: float | None) -> float:
    """The worst value a seed now can take (no declared worst: beyond every value)."""
    sign = 1 if rule["better"] == "higher" else -1
    if worst is None or math.isnan(worst):
        return -sign * math.inf
    return stored(worst)


def _against(rule: dict, b: np.ndarray, worst: float | None) -> tuple[np.ndarray, float]:
    """(the baseline's values as the test sees them, the edge): the edge is the worst
    value moved by δ, where a seed now at the worst value lands; baseline seeds between
    the worst value and the edge count at the edge, so they tie with it. Valid under the
    shift model at a bound (now = the baseline worsened by at most δ, not beyond the
    worst): now + δ is never below max(baseline, edge), so an unchanged-or-within-δ
    worsening still alarms at most alpha of the time."""
    sign = 1 if rule["better"] == "higher" else -1
    edge = _extreme(rule, worst) + sign * margin_of(rule, b)
    return (np.maximum(b, edge) if sign > 0 else np.minimum(b, edge)), edge


def attainable_p(rule: dict, base, n: int, worst: float | None) -> float:
    """The smallest p the test can give with ``n`` seeds now against ``base``: every seed
    now at the metric's worst value (moved by δ as the test moves now's values), tying
    with the k baseline seeds at the worst value (or within δ of it). That tied block
    holds the lowest ranks, so the rank sum is at its least exactly when all n seeds now
    are drawn from it: p = C(n + k, n) / C(n + m, n) (1 / C(n + m, n) with k = 0)."""
    b, edge = _against(rule, clean(base), worst)
    k = int((b == edge).sum())
    return math.comb(n + k, n) / math.comb(n + len(b), n)


def seeds_needed(rule: dict, base, n: int, worst: float | None) -> int | None:
    """The fewest seeds now (more than ``n``) whose smallest p is below ``alpha``; None
    when every baseline seed is at the worst value (no number then)."""
    b, edge = _against(rule, clean(base), worst)
    if (b == edge).all():
        return None
    k = n + 1
    while attainable_p(rule, base, k, worst) >= rule["alpha"]:
        k += 1
    return k


def cannot_note(rule: dict, base, n: int, worst: float | None, p_min: float) -> str:
    """Why a test cannot reach its alpha, and how many seeds now would."""
    b = clean(base)
    sign = 1 if rule["better"] == "higher" else -1
    _, edge = _against(rule, b, worst)
    stuck = int((sign * (b - edge) <= 0).sum())
    if stuck:
        why = (f"even {n} seeds now all at the worst value ({fmt(_extreme(rule, worst))}) give "
               f"p {p_min:.3g}, not below {rule['alpha']:g}: {stuck} of {len(b)} baseline seeds "
               "are at it (or within the margin of it) already")
    else:
        why = (f"{n} vs {len(b)} seeds: the smallest p is {p_min:.3g}, not below "
               f"{rule['alpha']:g}")
    need = seeds_needed(rule, b, n, worst)
    return why + (f"; {need} seeds now would reach it" if need else
                  "; no number of seeds now reaches it against this baseline")


def mean_worse_by(base, now, sign: int) -> float:
    """How much worse now's mean is than the baseline's (> 0: worse). A mean cannot hold
    an infinite seed and still say how far the others moved, so a seed at ±inf counts
    as the most extreme finite value of either side (both sides clipped to the finite
    values' range); with no finite value at all, the two are equal."""
    b, n = clean(base), clean(now)
    both = np.concatenate([b, n])
    finite = both[np.isfinite(both)]
    if not len(finite):
        return 0.0
    lo, hi = finite.min(), finite.max()
    return float((np.clip(b, lo, hi).mean() - np.clip(n, lo, hi).mean()) * sign)


def regressed(rule: dict, base, now, worst: float | None = None,
              explain: bool = True) -> tuple[str, float, float, str]:
    """(verdict, p, smallest p, note) of one gated metric: ok, REGRESSED or CANNOT TEST;
    ``worst``: the metric's worst value on the dataset (None: none declared);
    ``explain``: say why a test cannot (and search the seeds that would)."""
    b, n = clean(base), clean(now)
    if len(n) == 0:
        return (REGRESSED if len(b) else "ok", math.nan, math.nan, "no values now")
    if len(b) == 0:
        return ("ok", math.nan, math.nan, "no baseline values")
    sign = 1 if rule["better"] == "higher" else -1
    delta = margin_of(rule, b)
    if "alpha" not in rule:
        return (REGRESSED if mean_worse_by(b, n, sign) > delta else "ok", math.nan, math.nan, "")
    seen, edge = _against(rule, b, worst)
    p = worse_pvalue(n + sign * delta, seen, sign)
    p_min = attainable_p(rule, b, len(n), worst)
    if p < rule["alpha"]:
        return (REGRESSED, p, p_min, "")
    if p_min >= rule["alpha"]:
        if (sign * (b - edge) <= 0).all():
            return ("ok", p, p_min, "every baseline seed at the worst value (or within the "
                    "margin of it): now cannot be worse by more than the margin")
        return (CANNOT, p, p_min, cannot_note(rule, b, len(n), worst, p_min) if explain else "")
    return ("ok", p, p_min, "")


def runs_verdict(ok_now: int, runs_now: int, failed: int, ok_base: int, runs_base: int,
                 ok_alpha: float) -> tuple[str, float, float, str]:
    """(verdict, p, smallest p, note) of a group's runs: REGRESSED when a run failed or
    fewer runs finish ok than in the baseline (one-sided Fisher exact test at
    ``ok_alpha``); CANNOT TEST when that test could not fire even with no run ok now, or
    when there are fewer runs now than in the baseline (the gate's tests are set for the
    baseline's number of seeds)."""
    p = p_min = math.nan
    if runs_base and runs_now:
        table = [[ok_now, runs_now - ok_now], [ok_base, runs_base - ok_base]]
        p = float(sps.fisher_exact(table, alternative="less").pvalue)
        best = [[0, runs_now], [ok_base, runs_base - ok_base]]     # the most extreme outcome
        p_min = float(sps.fisher_exact(best, alternative="less").pvalue)
    if failed:
        return (REGRESSED, p, p_min, f"{failed} failed")
    if p < ok_alpha:
        return (REGRESSED, p, p_min, "")
    notes = []
    if runs_now < runs_base:
        notes.append(f"{runs_now} runs now, {runs_base} in the baseline: run the baseline's "
                     "seeds")
    if ok_base and p_min >= ok_alpha:
        notes.append(f"even 0 of {runs_now} ok now gives Fisher p {p_min:.3g}, not below "
                     f"{ok_alpha:g}")
    return (CANNOT if notes else "ok", p, p_min, "; ".join(notes))


def statuses(g: pd.DataFrame) -> tuple[int, int, int]:
    """(runs ok, runs, runs failed) of a group's rows."""
    s = g.status.astype(str)
    return int((s == "ok").sum()), len(s), int((s == "failed").sum())
