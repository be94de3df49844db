"""Linear maxout discriminator (Goodfellow et al. 2013), seed-stacked: each hidden
unit is the max over ``pieces`` linear maps of the layer's input; the last layer is
linear (one logit). The discriminator of the 2D experiments of ALI, VEEGAN and
PacGAN (200 units, 5 pieces, 3 layers)."""
from __future__ import annotations

import torch
from torch import nn

from .base import discriminators
from .mlp import _check_size, check_init_std
from .stacked import StackedLinear, StackedMaxout


class MaxoutDiscriminator(nn.Module):
    def __init__(self, in_dim: int, width: int, depth: int, pieces: int, init, std=None):
        super().__init__()
        sizes = [in_dim] + [width] * depth
        layers: list[nn.Module] = [StackedMaxout(a, b, pieces, init, std)
                                   for a, b in zip(sizes[:-1], sizes[1:])]
        layers.append(StackedLinear(sizes[-1], 1, init, std=std))
        self.net = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x).squeeze(-1)


def _whole(name: str, value, least: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or int(value) != value \
            or value < least:
        raise ValueError(f"{name} must be a whole number >= {least}, got {value!r}")
    return int(value)


@discriminators.register("maxout")
def maxout_discriminator(n_seeds: int, data_dim: int, init, width: int = 200, depth: int = 3,
                         pieces: int = 5, init_std: float | None = None) -> MaxoutDiscriminator:
    """Maxout discriminator: depth layers of width units, each the max of `pieces` linear maps.

    The last layer is linear (one logit); `init_std` draws weights N(0, init_std²) and
    zero biases. PacGAN packs it with {name: packed, packing: m, body: {name: maxout, ...}}."""
    width, depth = _whole("width", width, 1), _whole("depth", depth, 1)
    pieces = _whole("pieces", pieces, 1)
    _check_size(width * pieces * (data_dim + 1 + (depth - 1) * (width + 1)) + width + 1,
                f"width {width}, depth {depth} and {pieces} pieces")
    return MaxoutDiscriminator(data_dim, width, depth, pieces, init, check_init_std(init_std))
