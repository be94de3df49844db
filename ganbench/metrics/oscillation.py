"""Convergence versus oscillation over a run."""
from __future__ import annotations

from typing import Sequence

import numpy as np

from ._arrays import as_numpy
from .catalogue import Metric, declare

declare(
    Metric("d_real_mean", "mean D output on real samples (a probability where D models one, "
           "else D's raw output)", order=130),
    Metric("d_fake_mean", "mean D output on generated samples (likewise)", order=140),
    Metric("nash_gap", "|mean D(real) − ½| + |mean D(fake) − ½| (0 at the equilibrium; "
           "probability Ds only)", better="lower", order=180),
    Metric("mode_hops", "how often the set of captured modes changed between consecutive "
           "evaluations", better="lower", order=190),
    Metric("osc_amplitude", "std of the linearly detrended D loss over the last half of training",
           better="lower", order=200),
    Metric("osc_period", "dominant period (steps) of the D loss over the last half, from a "
           "periodogram (quadratic trend removed, ≥ 3 cycles in the window, Fisher's g test at "
           "p < 0.01); empty when there is no significant oscillation", order=210),
)


def mode_hops(captured: Sequence) -> int:
    """How often the set of captured modes changes between consecutive evaluations.

    ``captured`` is a sequence of per-evaluation boolean masks (or sets of mode ids).
    """
    sets = [frozenset(np.flatnonzero(c)) if not isinstance(c, (set, frozenset)) else frozenset(c)
            for c in captured]
    return int(sum(a != b for a, b in zip(sets[:-1], sets[1:])))


def _last_half(series) -> np.ndarray:
    x = as_numpy(series)
    return x[len(x) // 2:]


def osc_amplitude(d_loss) -> float:
    """Std of the linearly detrended D loss over the last half of training."""
    from scipy import signal  # imported here: scipy.signal takes ~2 s to import
    x = _last_half(d_loss)
    if len(x) < 3 or not np.isfinite(x).all():
        return float("nan")
    return float(np.std(signal.detrend(x)))


def fisher_g_pvalue(power) -> float:
    """p-value of Fisher's g test that the largest periodogram ordinate is a real periodic
    component rather than white noise: g = max / sum over the m ordinates,
    P(G > g) = Σ_{k=1}^{⌊1/g⌋} (-1)^(k-1) C(m,k) (1 - k g)^(m-1)  (Fisher 1929)."""
    from scipy.special import comb
    p = as_numpy(power)
    m, total = len(p), p.sum()
    if m < 2 or total <= 0:
        return 1.0
    g = p.max() / total
    k = np.arange(1, int(np.floor(1 / g)) + 1)
    terms = (-1.0) ** (k - 1) * comb(m, k) * np.clip(1 - k * g, 0, None) ** (m - 1)
    return float(np.clip(terms.sum(), 0.0, 1.0))


def osc_period(d_loss, step: float = 1.0, alpha: float = 0.01) -> float:
    """Dominant period (in steps) of the detrended D loss over the last half, by periodogram.

    ``step`` is the spacing in training steps between consecutive values. A quadratic
    trend is removed first, only periods that fit at least three times in the window are
    considered, and the peak must pass Fisher's g test at level ``alpha``; otherwise there
    is no oscillation to report and the result is NaN (white noise and quadratic drift
    have no period; a drift of another shape can leave a long period, up to a third of
    the window).
    """
    from scipy import signal
    x = _last_half(d_loss)
    if len(x) < 8 or not np.isfinite(x).all():
        return float("nan")
    t = np.arange(len(x))
    scale = max(1.0, float(np.abs(x).max()))
    x = x - np.polyval(np.polyfit(t, x, 2), t)
    if x.std() < 1e-9 * scale:       # flat (e.g. converged): rounding noise has no period
        return float("nan")
    freqs, power = signal.periodogram(x, fs=1.0, detrend=False)
    keep = freqs >= 3.0 / len(x)     # at least three full cycles; drops the zero frequency
    freqs, power = freqs[keep], power[keep]
    if len(power) < 2 or power.max() <= 0 or fisher_g_pvalue(power) > alpha:
        return float("nan")
    return float(step / freqs[int(np.argmax(power))])


def nash_gap(d_real_prob, d_fake_prob) -> float:
    """|mean D(real) - ½| + |mean D(fake) - ½|: distance from the equilibrium's D = ½."""
    return float(abs(as_numpy(d_real_prob).mean() - 0.5) + abs(as_numpy(d_fake_prob).mean() - 0.5))


def sigmoid(x) -> np.ndarray:
    """The logistic function of D's logits, as a probability (in the logits' precision)."""
    return 0.5 * (1 + np.tanh(0.5 * np.asarray(x)))


def d_output_means(d_real, d_fake, probability: bool) -> dict:
    """d_real_mean and d_fake_mean: mean D output on real and on generated samples, as a
    probability (``probability``: D's outputs are logits) or raw."""
    f = sigmoid if probability else np.asarray
    return {"d_real_mean": float(np.mean(f(d_real))), "d_fake_mean": float(np.mean(f(d_fake)))}
