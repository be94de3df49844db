"""Convergence of the training dynamics near a known equilibrium (the Dirac-GAN).

Models that know their equilibrium expose ``equilibrium()`` (parameter name -> value
there). For those, ganbench logs ``dist_eq`` (Euclidean distance of both players'
parameters to the equilibrium) every step and reports:

- ``eig_max_real``: the largest real part of the eigenvalues of the Jacobian, at the
  equilibrium, of the gradient vector field v = -(∇_θ L_G, ∇_ψ L_D) of the game that
  is trained (objective, penalties, instance noise, consensus: the same functions as
  training, differentiated with autograd). Negative: the continuous dynamics converge
  locally; 0: purely imaginary eigenvalues, no local convergence (Mescheder et al.
  2018). Simultaneous gradient descent with step h converges iff |1 + hλ| < 1 for every
  eigenvalue λ, which also needs a negative real part;
- ``dist_eq_final`` and ``verdict``: what training actually did, from the dist_eq curve.

This module holds the verdict (a pure function of the curve); the distance and the
Jacobian are taken on the trained players by :mod:`ganbench.harness.equilibrium`.
"""
from __future__ import annotations

import math

import numpy as np

from .catalogue import Metric, declare

#: verdict thresholds on the level of dist_eq at the end of training (its median over the
#: last 10% of steps, which steadies a curve that jitters in a noise ball) relative to
#: its first logged value d0.
CONVERGED_BELOW = 0.05   # converged: end level below 5% of d0
DIVERGED_ABOVE = 2.0     # diverged: end level above 2·d0 (or any value not finite)
END_FRACTION = 0.1


declare(
    Metric("verdict", "Dirac-GAN (below): what training did (converged / oscillating / diverged, "
           "from the `dist_eq` curve)", order=10, kinds=("dirac",)),
    Metric("eig_max_real", "Dirac-GAN: the largest real part of the Jacobian's eigenvalues at the "
           "equilibrium", better="lower", order=20, group="theory", kinds=("dirac",),
           worst=math.inf, variant_specific=True),
    Metric("dist_eq_final", "Dirac-GAN: the final distance to the equilibrium", better="lower",
           order=30, summary=True, key=("dirac",), kinds=("dirac",), worst=math.inf,
           variant_specific=True),
    Metric("dist_eq", "distance of both players' parameters to the equilibrium, every step",
           order=3, curve="dist to equilibrium (log)", log=True, column=False),
    group="dynamics")


def verdict(dist_eq) -> str:
    """converged / oscillating / diverged from a dist_eq curve (thresholds above)."""
    d = np.asarray(dist_eq, dtype=float)
    if len(d) == 0 or not np.isfinite(d).all():
        return "diverged"
    d0 = max(d[0], 1e-12)
    level = float(np.median(d[-max(1, int(round(END_FRACTION * len(d)))):]))
    if level > DIVERGED_ABOVE * d0:
        return "diverged"
    if level < CONVERGED_BELOW * d0:
        return "converged"
    return "oscillating"
