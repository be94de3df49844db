"""The Dirac-GAN's players (Mescheder et al. 2018): G is one parameter θ, D is ψ·x.

Both know their equilibrium (θ = 0, the data's point mass, and ψ = 0) and report
their parameters each step (``trace``), so the trainer logs θ, ψ and the distance to
the equilibrium ``dist_eq = sqrt(θ² + ψ²)`` and the theory metrics can linearise the
game there. In more than one dimension θ and ψ are vectors; the trace then logs
their first coordinate.
"""
from __future__ import annotations

import torch
from torch import nn

from .base import discriminators, generators


class DiracGenerator(nn.Module):
    """Outputs θ for every z: (S, B, z_dim) -> (S, B, dim)."""

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
    """Logit ψ·x, no bias: (S, B, dim) -> (S, B)."""

    def __init__(self, n_seeds: int, dim: int, init: float):
        super().__init__()
        self.psi = nn.Parameter(torch.full((n_seeds, dim), float(init)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return (x * self.psi[:, None, :]).sum(-1)

    def equilibrium(self) -> dict[str, torch.Tensor]:
        return {"psi": torch.zeros_like(self.psi)}

    def trace(self) -> dict[str, torch.Tensor]:
        return {"psi": self.psi[:, 0]}


@generators.register("dirac")
def dirac_generator(n_seeds: int, data_dim: int, init, theta0: float = 1.0) -> DiracGenerator:
    """Dirac-GAN generator: one parameter θ (initial theta0), output θ for every z."""
    return DiracGenerator(n_seeds, data_dim, theta0)


@discriminators.register("linear")
def linear_discriminator(n_seeds: int, data_dim: int, init, psi0: float = 1.0) -> LinearDiscriminator:
    """Linear discriminator: logit ψ·x without bias (initial ψ = psi0 in every coordinate)."""
    return LinearDiscriminator(n_seeds, data_dim, psi0)
