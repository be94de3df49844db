"""Convergence versus oscillation over a run."""
from __future__ import annotations

from typing import Sequence

import math

import numpy as np

from ._arrays import as_numpy
from .catalogue import Metric, declare

declare(
    Metric("d_real_mean", "mean D output on real samples (a probability where D models one, "
           "else D's raw output)", order=130, loss_units=True),
    Metric("d_fake_mean", "mean D output on generated samples (likewise)", order=140,
           loss_units=True),
    Metric("nash_gap", "|mean D(real) − ½| + |mean D(fake) − ½| (0 at the equilibrium; "
           "probability Ds only)", better="lower", order=180, group="theory", worst=1.0,
           variant_specific=True),
    Metric("mode_hops", "how often the set of captured modes changed between consecutive "
           "evaluations", better="lower", order=190, worst=math.inf),
    Metric("mode_drops", "how often G left a mode it held, in the last half of training: a "
           "mode with ≥ 20 high-quality samples at an evaluation that has none at a later one "
           "(counted again only after it is held again); thin coverage that flickers does not "
           "count", better="lower", rule={"noise_margin": 0.25, "alpha": 0.01},
           order=195, worst=math.inf),
    Metric("osc_amplitude", "std of the linearly detrended D loss over the last half of training",
           better="lower", order=200, loss_units=True, worst=math.inf),
    Metric("osc_period", "dominant period (steps) of the D loss over the last half, from a "
           "periodogram (quadratic trend removed, ≥ 3 cycles in the window, ≥ 4 steps), when its peak "
           "stands above the AR(1) red-noise spectrum fitted to the loss at p < 0.01 and the "
           "period is there in both halves of the window; empty when there is no significant, "
           "lasting oscillation", order=210),
    group="dynamics")


def mode_hops(captured: Sequence) -> int:
    """How often the set of captured modes changes between consecutive evaluations.

    ``captured`` is a sequence of per-evaluation boolean masks (or sets of mode ids).
    """
    sets = [frozenset(np.flatnonzero(c)) if not isinstance(c, (set, frozenset)) else frozenset(c)
            for c in captured]
    return int(sum(a != b for a, b in zip(sets[:-1], sets[1:])))


#: a mode is held at an evaluation with at least this many high-quality samples
HELD_MIN = 20


def mode_drops(counts: Sequence, held_min: int = HELD_MIN) -> int:
    """How often G left a mode it held, in the last half of the evaluations: per mode,
    each time it had ``held_min`` or more high-quality samples at an evaluation and none at
    a later one in the last half (it must be held again before it can drop again; held
    counts from the first evaluation). Like the D loss's period and amplitude, it asks
    where training ended up: a compact G that visits modes while it learns, then settles,
    has none.

    ``counts`` is a sequence of per-evaluation arrays of high-quality samples per mode.
    Unlike :func:`mode_hops`, a mode that a thin or diffuse generator reaches by chance
    (a sample or two, there at one evaluation and not at the next) never counts: with 20
    expected samples, none at all has odds e^-20.
    """
    c = [np.asarray(x) for x in counts]
    if len(c) < 2:
        return 0
    c = np.stack(c)                      # (evaluations, modes)
    held = np.zeros(c.shape[1], dtype=bool)
    drops, half = 0, len(c) // 2
    for i, row in enumerate(c):
        gone = held & (row == 0)
        drops += int(gone.sum()) if i >= half else 0
        held = (held & ~gone) | (row >= held_min)
    return drops


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


#: the D loss has a significant period when its periodogram peak stands above the AR(1)
#: red-noise spectrum fitted to it at this level (the diagnosis's ``oscillating``)
PERIOD_ALPHA = 0.01
#: a period must fit this many times in the window (the last half of training)
MIN_CYCLES = 3
#: and span at least this many logged values: a loss that zig-zags from one step to the
#: next (period ~2) overshoots within a step; a cycle around the equilibrium takes many
MIN_PERIOD = 4
#: in each half of the window the period's own ratio to the red-noise spectrum must reach
#: this: -ln 0.05, the 95th percentile of one ordinate under red noise
PERSISTS_MIN = float(np.log(20.0))


def _red_ratios(x: np.ndarray):
    """(frequencies, periodogram / fitted AR(1) spectrum) of a series with a quadratic
    trend removed; None when it is flat."""
    from scipy import signal  # imported here: scipy.signal takes ~2 s to import
    t = np.arange(len(x))
    scale = max(1.0, float(np.abs(x).max()))
    x = x - np.polyval(np.polyfit(t, x, 2), t)
    if x.std() < 1e-9 * scale:       # flat (e.g. converged): rounding noise has no period
        return None
    phi = float(np.clip(np.dot(x[:-1], x[1:]) / np.dot(x, x), -0.99, 0.99))
    freqs, power = signal.periodogram(x, fs=1.0, detrend=False)
    expected = 2 * x.var() * (1 - phi**2) / (1 + phi**2 - 2 * phi * np.cos(2 * np.pi * freqs))
    with np.errstate(divide="ignore", invalid="ignore"):
        return freqs, power / expected


def red_noise_peak(series, step: float = 1.0, min_cycles: int = MIN_CYCLES) -> dict:
    """The strongest periodic component of the last half of ``series``, tested against
    red noise: ``period`` (steps), ``ratio`` (its periodogram ordinate over the AR(1)
    spectrum fitted to the series), ``p`` (the chance that red noise gives a ratio that
    high anywhere among the m ordinates) and ``persists`` (the smaller, over the two
    halves of the window, each fitted on its own, of the largest ratio at that period's
    frequency bin or a neighbour).

    A quadratic trend is removed first; the AR(1) coefficient φ is the lag-1
    autocorrelation, its innovation variance var·(1 - φ²), so its expected one-sided
    periodogram is 2σ²/(1 + φ² - 2φ cos 2πf). Under red noise each ordinate over its
    expectation is Exp(1), so P(max of m ≥ r) = 1 - (1 - e^-r)^m. Only periods that fit
    ``min_cycles`` times in the window and span at least MIN_PERIOD values count. Loss
    curves of GAN training are red (each step moves a little from the last): against
    white noise (Fisher's g test) AR(1) noise with φ = 0.5 shows a "period" in 94% of
    draws; against its own red spectrum, in 1% (tests/metrics/test_oscillation_gradients.py).
    ``persists`` tells a cycle that goes on from a transient: a step the quadratic cannot
    remove, or cycles that died out early in the window.
    """
    none = {"period": float("nan"), "ratio": float("nan"), "p": 1.0, "persists": float("nan")}
    x = _last_half(series)
    if len(x) < 32 or not np.isfinite(x).all():
        return none
    got = _red_ratios(x)
    if got is None:
        return none
    freqs, ratio = got
    keep = (freqs >= min_cycles / len(x)) & (freqs <= 1.0 / MIN_PERIOD)
    freqs, ratio = freqs[keep], ratio[keep]
    if len(ratio) < 2:
        return none
    i = int(np.argmax(ratio))
    p = float(-np.expm1(len(ratio) * np.log1p(-np.exp(-ratio[i]))))
    halves = []
    for part in (x[: len(x) // 2], x[len(x) // 2:]):
        h = _red_ratios(part)
        if h is None:
            halves.append(0.0)
            continue
        hf, hr = h                    # the period's bin and its neighbours (it may drift)
        j = int(np.argmin(np.abs(hf - freqs[i])))
        halves.append(float(np.max(hr[max(1, j - 1): j + 2])))
    return {"period": float(step / freqs[i]), "ratio": float(ratio[i]), "p": p,
            "persists": min(halves)}


def osc_period(d_loss, step: float = 1.0, alpha: float = PERIOD_ALPHA) -> float:
    """Dominant period (in steps) of the D loss over the last half, when it is
    significant against red noise at level ``alpha`` and present in both halves of the
    window (:func:`red_noise_peak`); else NaN.

    ``step`` is the spacing in training steps between consecutive values. White noise,
    red noise, drift and a step in the loss have no period, nor cycles that died out in
    the first half of the window.
    """
    peak = red_noise_peak(d_loss, step)
    return peak["period"] if is_periodic(peak, alpha) else float("nan")


def is_periodic(peak: dict, alpha: float = PERIOD_ALPHA) -> bool:
    """A red_noise_peak that is significant (p < alpha) and persists in both halves."""
    return peak["p"] < alpha and peak["persists"] >= PERSISTS_MIN


def nash_gap(d_real_prob, d_fake_prob) -> float:
    """|mean D(real) - ½| + |mean D(fake) - ½|: distance from the equilibrium's D = ½."""
    return float(abs(as_numpy(d_real_prob).mean() - 0.5) + abs(as_numpy(d_fake_prob).mean() - 0.5))


def sigmoid(x) -> np.ndarray:
    """The logistic function of D's logits, as a probability (in the logits' precision)."""
    return 0.5 * (1 + np.tanh(0.5 * np.asarray(x)))


def d_output_means(d_real, d_fake) -> dict:
    """d_real_mean and d_fake_mean: mean D output on real and on generated samples, as
    given (the caller turns logits into probabilities where D models one)."""
    return {"d_real_mean": float(np.mean(d_real)), "d_fake_mean": float(np.mean(d_fake))}
