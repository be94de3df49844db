"""The Dirac-GAN's players (Mescheder et al. 2018): G is one parameter θ, D is ψ·x.

Both know their equilibrium (θ = 0, the data's point mass, and ψ = 0) and report
their parameters each step (``trace``), so the trainer logs θ, ψ and the distance to
the equilibrium ``dist_eq = sqrt(θ² + ψ²)`` and the theory metrics can linearise the
game there. In more than one dimension θ and ψ are vectors; the trace then logs
their first coordinate.

Sign conventions. ganbench's discriminators score *real* data high: D(x) is the logit
of "x is real" and every objective is written that way. The paper's code gives *fakes*
the high logit: its game is L(θ, ψ) = f(ψθ) + f(0) with f(t) = −log(1 + e^−t), which D
maximises and G minimises (LMescheder/GAN_stability, notebooks/diracgan/gans.py: the
GAN field is v_θ = −ψ f'(ψθ), v_ψ = θ f'(ψθ), f'(t) = sigmoid(−t)). Ours is
log σ(D(0)) + log(1 − σ(D(θ))) = f(0) + f(−ψθ), the same game with ψ_paper = −ψ_ours.
``linear`` with ``convention: paper`` computes the logit −ψ·x, so its ψ (its ``psi0``,
the logged ``psi``) *is* the paper's ψ and a run from (θ0, ψ0) = (1, 1) follows the
trajectory the paper draws from (1, 1) (the same iterates as the paper's vector fields,
tested); the default ``convention: ganbench`` is the logit ψ·x. θ is the same in both.
The map ψ -> −ψ changes neither dist_eq nor the Jacobian's eigenvalues at (0, 0), so
the verdicts and the theory columns do not depend on the convention; the starting
point does: ganbench's (1, 1) is the paper's (1, −1).
"""
from __future__ import annotations

import torch
from torch import nn

from .base import discriminators, generators


class DiracGenerator(nn.Module):
    """Outputs θ for every z: (S, B, z_dim) -> (S, B, dim). θ means the same in ganbench's
    and the paper's conventions (only D's ψ flips sign, see the module docstring)."""

    z_dim = 1

    def __init__(self, n_seeds: int, dim: int, init: float):
        super().__init__()
        self.theta = nn.Parameter(torch.full((n_seeds, dim), float(init)))

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.theta[:, None, :].expand(-1, z.shape[1], -1)

    def equilibrium(self) -> dict[str, torch.Tensor]:
        return {"theta": torch.zeros_like(self.theta)}

    def trace(self) -> dict[str, torch.Tensor]:
        return {"theta": self.theta[:, 0]}


class LinearDiscriminator(nn.Module):
    """Logit sign·ψ·x, no bias: (S, B, dim) -> (S, B); sign +1 (ganbench: the logit of
    "real") or −1 (the paper's ψ, whose D gives fakes the high logit)."""

    def __init__(self, n_seeds: int, dim: int, init: float, sign: float = 1.0):
        super().__init__()
        self.psi = nn.Parameter(torch.full((n_seeds, dim), float(init)))
        self.sign = float(sign)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = (x * self.psi[:, None, :]).sum(-1)
        return out if self.sign > 0 else -out

    def equilibrium(self) -> dict[str, torch.Tensor]:
        return {"psi": torch.zeros_like(self.psi)}

    def trace(self) -> dict[str, torch.Tensor]:
        return {"psi": self.psi[:, 0]}


@generators.register("dirac")
def dirac_generator(n_seeds: int, data_dim: int, init, theta0: float = 1.0) -> DiracGenerator:
    """Dirac-GAN generator: one parameter θ (initial theta0), output θ for every z."""
    return DiracGenerator(n_seeds, data_dim, theta0)


#: ψ's sign per convention: the logit is sign·ψ·x
CONVENTIONS = {"ganbench": 1.0, "paper": -1.0}


@discriminators.register("linear")
def linear_discriminator(n_seeds: int, data_dim: int, init, psi0: float = 1.0,
                         convention: str = "ganbench") -> LinearDiscriminator:
    """Linear discriminator: logit ψ·x without bias (initial ψ = psi0 in every coordinate);
    `convention: paper` makes it −ψ·x, so ψ is the Dirac-GAN paper's (its D scores fakes high).

    With ``convention: paper``, ``psi0: 1`` starts where Mescheder et al. (2018) start their
    trajectories, (θ0, ψ0) = (1, 1), and the logged ψ is theirs."""
    if convention not in CONVENTIONS:
        raise ValueError(f"convention must be one of {', '.join(CONVENTIONS)}, got {convention!r}")
    return LinearDiscriminator(n_seeds, data_dim, psi0, CONVENTIONS[convention])
