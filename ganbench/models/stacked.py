"""Seed-stacked layers: S independent copies of a layer evaluated with batched ops."""
from __future__ import annotations

import math

import torch
from torch import nn


class StackedLinear(nn.Module):
    """S independent linear layers: (S, B, fan_in) -> (S, B, fan_out).

    Seed s's weights are drawn from ``init[s]`` with torch's ``nn.Linear`` default
    (uniform in ±1/sqrt(fan_in) for weights and biases), so they match a plain run; with
    ``std`` the weights are drawn N(0, std²) instead and the biases are zero (the
    "isotropic Gaussian" initialisation of Theano/Blocks-era GAN code). ``bias=False``
    leaves the bias out (a layer followed by batch norm).
    """

    def __init__(self, fan_in: int, fan_out: int, init: list[torch.Generator],
                 bias: bool = True, std: float | None = None):
        super().__init__()
        bound = 1 / math.sqrt(fan_in)
        w = torch.empty(len(init), fan_in, fan_out)
        b = torch.zeros(len(init), fan_out)
        for s, g in enumerate(init):
            if std is None:
                w[s].uniform_(-bound, bound, generator=g)
                if bias:
                    b[s].uniform_(-bound, bound, generator=g)
            else:
                w[s].normal_(0.0, float(std), generator=g)
        self.weight = nn.Parameter(w)
        self.bias = nn.Parameter(b) if bias else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.bias is None:
            return torch.bmm(x, self.weight)
        return torch.baddbmm(self.bias.unsqueeze(1), x, self.weight)


class StackedBatchNorm1d(nn.Module):
    """Batch norm of (S, B, F) over the batch, per seed and feature (S independent
    ``nn.BatchNorm1d``): in training, each seed's batch mean and (biased) variance
    normalise, and the running statistics move ``momentum`` toward them (the variance
    unbiased, as torch does); in eval mode the running statistics normalise, so a
    sample does not depend on the others of its batch. Scale 1, shift 0 at the start."""

    def __init__(self, n_seeds: int, features: int, momentum: float = 0.1, eps: float = 1e-5):
        super().__init__()
        self.momentum, self.eps = float(momentum), float(eps)
        self.weight = nn.Parameter(torch.ones(n_seeds, features))
        self.bias = nn.Parameter(torch.zeros(n_seeds, features))
        self.register_buffer("running_mean", torch.zeros(n_seeds, features))
        self.register_buffer("running_var", torch.ones(n_seeds, features))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.training:
            B = x.shape[1]
            if B < 2:
                raise ValueError("batch norm needs at least 2 samples per batch in training")
            # mean, then the centred square's mean: its backward is about twice as fast
            # as torch.var_mean's on CPU (measured, 5 seeds × 100 × 128)
            mean = x.mean(1, keepdim=True)                                    # (S, 1, F)
            xc = x - mean
            var = (xc * xc).mean(1, keepdim=True)
            with torch.no_grad():
                m = self.momentum
                self.running_mean.mul_(1 - m).add_(mean.squeeze(1), alpha=m)
                self.running_var.mul_(1 - m).add_(var.squeeze(1), alpha=m * B / (B - 1))
        else:
            xc, var = x - self.running_mean.unsqueeze(1), self.running_var.unsqueeze(1)
        scale = self.weight.unsqueeze(1) * torch.rsqrt(var + self.eps)
        return torch.addcmul(self.bias.unsqueeze(1), xc, scale)

    def extra_repr(self) -> str:
        S, F = self.weight.shape
        return f"seeds={S}, features={F}, momentum={self.momentum}, eps={self.eps}"


class StackedMaxout(nn.Module):
    """S independent linear maxout layers (Goodfellow et al. 2013): (S, B, fan_in) ->
    (S, B, width), unit j = max over ``pieces`` linear maps; the linear map's outputs
    are grouped unit by unit, (..., width, pieces)."""

    def __init__(self, fan_in: int, width: int, pieces: int, init: list[torch.Generator],
                 std: float | None = None):
        super().__init__()
        self.width, self.pieces = int(width), int(pieces)
        self.linear = StackedLinear(fan_in, self.width * self.pieces, init, std=std)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.linear(x)
        return h.view(*h.shape[:-1], self.width, self.pieces).amax(-1)
