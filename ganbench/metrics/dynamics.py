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
"""
from __future__ import annotations

import numpy as np
import torch
from torch.func import functional_call

#: verdict thresholds on the level of dist_eq at the end of training (its median over the
#: last 10% of steps, which steadies a curve that jitters in a noise ball) relative to
#: its first logged value d0.
CONVERGED_BELOW = 0.05   # converged: end level below 5% of d0
DIVERGED_ABOVE = 2.0     # diverged: end level above 2·d0 (or any value not finite)
END_FRACTION = 0.1
#: samples per player in the batch the Jacobian is taken on (for instance noise, GP ε).
JACOBIAN_BATCH = 4096


def has_equilibrium(G, D) -> bool:
    return hasattr(G, "equilibrium") and hasattr(D, "equilibrium")


def distance_to_equilibrium(G, D) -> torch.Tensor:
    """sqrt(Σ (p - p*)²) over both players' parameters, per seed, shape (S,)."""
    from ..game import sqnorm
    eq = {id(net): net.equilibrium() for net in (G, D)}
    return sqnorm([p - eq[id(net)][name] for net in (G, D)
                   for name, p in net.named_parameters()]).sqrt()


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


def eig_max_real(trainer) -> np.ndarray:
    """Per seed, max Re λ of the game's Jacobian at the equilibrium (see module doc)."""
    from ..game import gradient_field
    G, D, dev = trainer.G, trainer.D, trainer.device
    named = [(G, n, p) for n, p in G.named_parameters()] + [(D, n, p) for n, p in D.named_parameters()]
    eq = {id(net): net.equilibrium() for net in (G, D)}
    x0 = torch.cat([eq[id(net)][n].detach().flatten() for net, n, _ in named]).to(dev)
    S = len(trainer.seeds)
    gens = [torch.Generator(device=dev).manual_seed(1_000_003 + s) for s in range(S)]
    real = trainer.real_batch(JACOBIAN_BATCH, gens)
    z = trainer.noise(JACOBIAN_BATCH, gens)

    def field(vec: torch.Tensor) -> torch.Tensor:
        params, at = {id(G): {}, id(D): {}}, 0
        for net, n, p in named:
            params[id(net)][n] = vec[at: at + p.numel()].view_as(p)
            at += p.numel()
        gp, dp = params[id(G)], params[id(D)]
        fld = gradient_field(trainer.game, lambda x: functional_call(G, gp, (x,)),
                             lambda x: functional_call(D, dp, (x,)), list(gp.values()),
                             list(dp.values()), real, z, gens, 0.0, create_graph=True)
        return -torch.cat([g.flatten() for g in fld.g_grads + fld.d_grads])

    J = torch.autograd.functional.jacobian(field, x0).detach().cpu().double()
    # seed s owns the entries p[s] of every parameter (leading seed dimension)
    index = torch.arange(len(x0))
    owner, at = torch.empty(len(x0), dtype=torch.long), 0
    for _, _, p in named:
        owner[at: at + p.numel()] = torch.arange(S).repeat_interleave(p.numel() // S)
        at += p.numel()
    out = []
    for s in range(S):
        idx = index[owner == s]
        out.append(float(torch.linalg.eigvals(J[idx][:, idx]).real.max()))
    return np.array(out)
