"""2D toy datasets: Gaussian mixtures with known modes and density, and two curves."""
from __future__ import annotations

import math

import numpy as np
import torch

from .base import Dataset, GaussianMixture, datasets

#: the sets whose samples are points of the plane, cheap to build: runs on any of them
#: (with any settings) stack together, each slice with its own (ganbench.data.per_slice)
PLANE_SETS = frozenset({"ring8", "grid25", "spiral", "moons"})


@datasets.register("ring8")
def ring8(n_modes: int = 8, radius: float = 2.0, std: float = 0.02) -> GaussianMixture:
    """Gaussians on a circle (default 8, radius 2, std 0.02) at angles 2πk/n_modes."""
    if n_modes < 1:
        raise ValueError("n_modes must be >= 1")
    angles = 2 * math.pi * np.arange(n_modes) / n_modes  # not linspace: that repeats 0 and 2π
    ds = GaussianMixture(radius * np.stack([np.cos(angles), np.sin(angles)], 1), std)
    ds.name = "ring8"
    return ds


@datasets.register("grid25")
def grid25(side: int = 5, spacing: float = 2.0, std: float = 0.05) -> GaussianMixture:
    """side×side Gaussians on a centred grid (default 5×5 at {-4,-2,0,2,4}², std 0.05)."""
    if side < 1:
        raise ValueError("side must be >= 1")
    axis = spacing * (np.arange(side) - (side - 1) / 2)
    gx, gy = np.meshgrid(axis, axis, indexing="ij")
    ds = GaussianMixture(np.stack([gx.ravel(), gy.ravel()], 1), std)
    ds.name = "grid25"
    return ds


class Spiral(Dataset):
    """Points along an Archimedean spiral with Gaussian noise (no modes, no exact density)."""

    name = "spiral"

    def __init__(self, turns: float, noise: float, scale: float):
        if turns <= 0 or noise < 0 or scale <= 0:
            raise ValueError("turns and scale must be positive, noise non-negative")
        self.turns, self.noise, self.scale = turns, noise, scale

    def sample(self, n, generator):
        dev = generator.device
        # sqrt makes the density per unit arc length roughly even
        t = torch.rand(n, generator=generator, device=dev).sqrt()
        theta = 2 * math.pi * self.turns * t
        r = self.scale * (0.1 + t)
        pts = torch.stack([r * torch.cos(theta), r * torch.sin(theta)], 1)
        return pts + self.noise * torch.randn(n, 2, generator=generator, device=dev)


@datasets.register("spiral")
def spiral(turns: float = 1.5, noise: float = 0.05, scale: float = 3.0) -> Spiral:
    """A noisy Archimedean spiral (1.5 turns, radius up to 3.3, noise std 0.05)."""
    return Spiral(turns, noise, scale)


class Moons(Dataset):
    """Two interleaving half circles with Gaussian noise (no modes, no exact density)."""

    name = "moons"

    def __init__(self, noise: float, scale: float):
        if noise < 0 or scale <= 0:
            raise ValueError("noise must be non-negative and scale positive")
        self.noise, self.scale = noise, scale

    def sample(self, n, generator):
        dev = generator.device
        upper = torch.rand(n, generator=generator, device=dev) < 0.5
        a = math.pi * torch.rand(n, generator=generator, device=dev)
        x = torch.where(upper, torch.cos(a), 1 - torch.cos(a))
        y = torch.where(upper, torch.sin(a), 0.5 - torch.sin(a))
        pts = torch.stack([x - 0.5, y - 0.25], 1) * self.scale
        return pts + self.noise * torch.randn(n, 2, generator=generator, device=dev)


@datasets.register("moons")
def moons(noise: float = 0.05, scale: float = 2.0) -> Moons:
    """Two interleaving half circles ("two moons"), scaled by 2, noise std 0.05."""
    return Moons(noise, scale)


class Dirac(Dataset):
    """A point mass at 0 in one dimension (the Dirac-GAN's data)."""

    name = "dirac"
    dim = 1

    def sample(self, n, generator):
        return torch.zeros(n, 1, device=generator.device)


@datasets.register("dirac")
def dirac() -> Dirac:
    """Dirac-GAN data: every sample is 0 (1-D), Mescheder et al. 2018."""
    return Dirac()
