"""Seed-stacked layers: S independent copies of a layer evaluated with one batched matmul."""
from __future__ import annotations

import math

import torch
from torch import nn


class StackedLinear(nn.Module):
    """S independent linear layers: (S, B, fan_in) -> (S, B, fan_out).

    Seed s's weights are drawn from ``init[s]`` with torch's ``nn.Linear`` default
    (uniform in ±1/sqrt(fan_in) for weights and biases), so they match a plain run.
    """

    def __init__(self, fan_in: int, fan_out: int, init: list[torch.Generator]):
        super().__init__()
        bound = 1 / math.sqrt(fan_in)
        w = torch.empty(len(init), fan_in, fan_out)
        b = torch.empty(len(init), fan_out)
        for s, g in enumerate(init):
            w[s].uniform_(-bound, bound, generator=g)
            b[s].uniform_(-bound, bound, generator=g)
        self.weight = nn.Parameter(w)
        self.bias = nn.Parameter(b)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.baddbmm(self.bias.unsqueeze(1), x, self.weight)
