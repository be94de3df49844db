"""Convergence versus oscillation over a run."""
from __future__ import annotations

from typing import Sequence

import numpy as np

from ._arrays import as_numpy


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


def osc_period(d_loss, step: float = 1.0) -> float:
    """Dominant period (in steps) of the detrended D loss over the last half, by periodogram.

    ``step`` is the spacing in training steps between consecutive values.
    """
    from scipy import signal
    x = _last_half(d_loss)
    if len(x) < 8 or not np.isfinite(x).all():
        return float("nan")
    freqs, power = signal.periodogram(signal.detrend(x), fs=1.0 / step)
    freqs, power = freqs[1:], power[1:]  # the zero frequency is the mean, not an oscillation
    if len(power) == 0 or power.max() <= 0:
        return float("nan")
    return float(1.0 / freqs[int(np.argmax(power))])


def nash_gap(d_real_prob, d_fake_prob) -> float:
    """|mean D(real) - ½| + |mean D(fake) - ½|: distance from the equilibrium's D = ½."""
    return float(abs(as_numpy(d_real_prob).mean() - 0.5) + abs(as_numpy(d_fake_prob).mean() - 0.5))
