"""Gradient vanishing: how the generator's gradient behaves over training."""
from __future__ import annotations

import numpy as np

from ._arrays import as_numpy


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
