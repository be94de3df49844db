"""Gradient vanishing: how the generator's gradient behaves over training."""
from __future__ import annotations

import numpy as np

from ._arrays import as_numpy
from .catalogue import Metric, declare

declare(
    Metric("grad_norm_g", "L2 norm of the generator loss's gradient over G's parameters, at "
           "the last step", order=150, curve="‖∇G‖ (log)", log=True, loss_units=True),
    Metric("grad_vanish_ratio", "median `grad_norm_g` over the last 10 % of steps / over the "
           "first 10 %", order=160),
    Metric("d_saturation", "fraction of samples with D(G(z)) < 0.01 (objectives whose D is a "
           "probability)", better="lower", order=170, worst=1.0,
           variant_specific=True),
    Metric("sat_decay_step{c}", "vanishing probe (below): first / last G-gradient norm of the "
           "saturating cost log(1 − D(G(z))) while a fresh D trains against G frozen at step c",
           order=1000),
    Metric("ns_decay_step{c}", "vanishing probe (below): first / last G-gradient norm of the "
           "non-saturating cost −log D(G(z)) while a fresh D trains against G frozen at step c",
           order=1000),
    group="dynamics")


def grad_vanish_ratio(grad_norms, fraction: float = 0.1) -> float:
    """median(grad norm over the last 10% of steps) / median(over the first 10%).

    Values far below 1 mean the generator's gradient vanished during training.
    """
    g = as_numpy(grad_norms)
    k = max(1, int(round(fraction * len(g))))
    if len(g) == 0:
        return float("nan")
    first, last = np.median(g[:k]), np.median(g[-k:])
    return float(last / first) if first > 0 else float("nan")


def d_saturation(d_fake_prob, threshold: float = 0.01) -> float:
    """Fraction of generated samples with D(G(z)) < 0.01 (D outputs a probability)."""
    p = as_numpy(d_fake_prob)
    return float((p < threshold).mean()) if p.size else float("nan")


def decay_factor(curve) -> float:
    """First value / last value of a gradient-norm curve (> 1: it decays)."""
    v = np.asarray(curve, dtype=float)
    if len(v) == 0 or not (np.isfinite(v[0]) and np.isfinite(v[-1])):
        return float("nan")
    return float(v[0] / v[-1]) if v[-1] > 0 else float("inf")
