"""The players' distance to a known equilibrium, and the game's Jacobian there.

Models that know their equilibrium (the Dirac-GAN's) expose ``equilibrium()``
(parameter name -> value there). The harness logs ``dist_eq`` every step and, once
per run, ``eig_max_real``: the largest real part of the eigenvalues of the Jacobian,
at the equilibrium, of the gradient vector field v = -(∇_θ L_G, ∇_ψ L_D) of the game
as trained (same objective, penalties, instance noise and consensus, through the same
:func:`ganbench.game.gradient_field`). See :mod:`ganbench.metrics.dynamics`.
"""
from __future__ import annotations

import numpy as np
import torch
from torch.func import functional_call

from ..game import gradient_field, sqnorm

#: samples per player in the batch the Jacobian is taken on (for instance noise, GP ε).
JACOBIAN_BATCH = 4096


def has_equilibrium(G, D) -> bool:
    return hasattr(G, "equilibrium") and hasattr(D, "equilibrium")


def distance_to_equilibrium(G, D) -> torch.Tensor:
    """sqrt(Σ (p - p*)²) over both players' parameters, per seed, shape (S,)."""
    eq = {id(net): net.equilibrium() for net in (G, D)}
    return sqnorm([p - eq[id(net)][name] for net in (G, D)
                   for name, p in net.named_parameters()]).sqrt()


def eig_max_real(players) -> np.ndarray:
    """Per seed, max Re λ of the game's Jacobian at the equilibrium (see module doc)."""
    G, D, dev = players.G, players.D, players.device
    named = [(G, n, p) for n, p in G.named_parameters()] + [(D, n, p) for n, p in D.named_parameters()]
    eq = {id(net): net.equilibrium() for net in (G, D)}
    x0 = torch.cat([eq[id(net)][n].detach().flatten() for net, n, _ in named]).to(dev)
    S = players.n_seeds
    gens = [torch.Generator(device=dev).manual_seed(1_000_003 + s) for s in range(S)]
    real = players.real_batch(JACOBIAN_BATCH, gens)
    z = players.noise(JACOBIAN_BATCH, gens)

    def field(vec: torch.Tensor) -> torch.Tensor:
        params, at = {id(G): {}, id(D): {}}, 0
        for net, n, p in named:
            params[id(net)][n] = vec[at: at + p.numel()].view_as(p)
            at += p.numel()
        gp, dp = params[id(G)], params[id(D)]
        fld = gradient_field(players.game, lambda x: functional_call(G, gp, (x,)),
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
