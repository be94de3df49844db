"""What a dataset is, and what it states about itself.

A dataset samples points and says what it knows: mode centres and stds (so mode
coverage can be measured) and an exact log-density where there is one (so the
theory metrics can be computed). Metrics that need knowledge a dataset lacks are
left out of its runs.
"""
from __future__ import annotations

import math

import numpy as np
import torch

from ..registry import Registry

datasets = Registry("dataset")


class Dataset:
    """A data distribution to train on. Subclasses implement :meth:`sample`."""

    name: str = "dataset"
    dim: int = 2
    #: (K, dim) mode centres, or None when the data has no discrete modes.
    centres: np.ndarray | None = None
    #: (K,) per-mode isotropic standard deviations, with ``centres``.
    stds: np.ndarray | None = None
    #: (C, H, W) for image datasets, whose samples are flattened images
    image_shape: tuple[int, int, int] | None = None
    #: generated samples per evaluation when the suite does not set n_eval
    default_n_eval: int = 2500

    def sample(self, n: int, generator: torch.Generator) -> torch.Tensor:
        """``n`` points, shape (n, dim), float32, on ``generator``'s device."""
        raise NotImplementedError

    def sample_seeds(self, n: int, streams) -> torch.Tensor:
        """(S, n, dim): ``n`` points for each seed of ``streams`` (a
        :class:`ganbench.streams.SeedStreams`), seed s's from its own generator. Here:
        :meth:`sample` of a block of draws per seed, handed out a draw at a time (no
        per-seed call in most steps); datasets may draw in their own way."""
        return streams.draw(("sample", n), (n, self.dim),
                            lambda g, k: self.sample(k * n, g).view(k, n, self.dim))

    def of_slice(self, s: int) -> "Dataset":
        """Slice ``s``'s dataset in a stacked model: this one (a stack across datasets,
        :class:`ganbench.data.per_slice.PerSlice`, has one per slice)."""
        return self

    @property
    def has_modes(self) -> bool:
        return self.centres is not None

    @property
    def is_image(self) -> bool:
        return self.image_shape is not None

    @property
    def has_density(self) -> bool:
        return type(self).log_prob is not Dataset.log_prob

    def log_prob(self, x: torch.Tensor) -> torch.Tensor:
        """Exact log-density at ``x`` (n, dim); only datasets with a known density have it."""
        raise NotImplementedError(f"{self.name} has no exact density")

    def bounds(self) -> tuple[float, float, float, float]:
        """(xmin, xmax, ymin, ymax) that frame the data, for plots."""
        pts = self.sample(4000, torch.Generator().manual_seed(0)).numpy()
        lo, hi = pts.min(0), pts.max(0)
        pad = 0.15 * float(np.max(hi - lo)) + 1e-3
        return lo[0] - pad, hi[0] + pad, lo[1] - pad, hi[1] + pad


class GaussianMixture(Dataset):
    """Equal-weight mixture of isotropic Gaussians: modes and exact density known."""

    def __init__(self, centres, stds):
        self.centres = np.asarray(centres, dtype=np.float64)
        self.stds = np.broadcast_to(np.asarray(stds, dtype=np.float64),
                                    (len(self.centres),)).copy()
        if self.centres.ndim != 2 or len(self.centres) == 0:
            raise ValueError("centres must be a non-empty (K, dim) array")
        if np.any(self.stds <= 0):
            raise ValueError("std must be positive")
        self.dim = self.centres.shape[1]
        self._on: dict = {}

    def _params(self, device: torch.device, dtype=torch.float32):
        """Centres and stds on ``device``, copied there once (not every batch)."""
        key = (str(device), dtype)
        if key not in self._on:
            self._on[key] = (torch.tensor(self.centres, dtype=dtype, device=device),
                             torch.tensor(self.stds, dtype=dtype, device=device))
        return self._on[key]

    def sample(self, n: int, generator: torch.Generator) -> torch.Tensor:
        dev = generator.device
        idx = torch.randint(len(self.centres), (n,), generator=generator, device=dev)
        noise = torch.randn(n, self.dim, generator=generator, device=dev)
        c, s = self._params(dev)
        return c[idx] + s[idx, None] * noise

    def log_prob(self, x: torch.Tensor) -> torch.Tensor:
        c, s = self._params(x.device, torch.float64)
        x = x.to(torch.float64)
        d2 = ((x[:, None, :] - c[None]) ** 2).sum(-1)  # (n, K)
        comp = -0.5 * d2 / s**2 - self.dim * torch.log(s) - 0.5 * self.dim * math.log(2 * math.pi)
        return torch.logsumexp(comp, dim=1) - math.log(len(self.centres))

    def bounds(self):
        pad = 4 * float(self.stds.max()) + 0.1 * float(np.ptp(self.centres, 0).max() + 1)
        lo, hi = self.centres.min(0) - pad, self.centres.max(0) + pad
        return lo[0], hi[0], lo[1], hi[1]
