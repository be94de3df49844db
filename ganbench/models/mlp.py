"""Multi-layer perceptron generator and discriminator (seed-stacked)."""
from __future__ import annotations

import torch
from torch import nn

from .base import discriminators, generators
from .stacked import StackedLinear

ACTIVATIONS = {
    "relu": nn.ReLU,
    "leaky_relu": lambda: nn.LeakyReLU(0.2),
    "tanh": nn.Tanh,
    "elu": nn.ELU,
    "gelu": nn.GELU,
    "silu": nn.SiLU,
}


def _mlp(sizes: list[int], activation: str, init) -> nn.Sequential:
    if activation not in ACTIVATIONS:
        raise ValueError(f"unknown activation {activation!r}; known: {', '.join(ACTIVATIONS)}")
    layers: list[nn.Module] = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(StackedLinear(a, b, init))
        if i < len(sizes) - 2:
            layers.append(ACTIVATIONS[activation]())
    return nn.Sequential(*layers)


#: at most this many weights per network and seed (1 GB in float32; Adam keeps 3 more copies)
MAX_PARAMETERS = 2**28


def _check(width: int, depth: int, fan: int = 16) -> None:
    if int(width) < 1 or int(depth) < 0:
        raise ValueError("width must be >= 1 and depth >= 0")
    params = int(width) * (int(fan) + 1 + max(int(depth) - 1, 0) * int(width))
    if params > MAX_PARAMETERS:
        raise ValueError(f"width {width} and depth {depth} make {params:.3g} weights per seed, more "
                         f"than {MAX_PARAMETERS:.3g} (1 GB); use a smaller width or depth")


class MLPGenerator(nn.Module):
    def __init__(self, z_dim, out_dim, width, depth, activation, init):
        super().__init__()
        self.z_dim = int(z_dim)
        self.net = _mlp([self.z_dim] + [int(width)] * int(depth) + [out_dim], activation, init)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.net(z)


class MLPDiscriminator(nn.Module):
    def __init__(self, in_dim, width, depth, activation, init):
        super().__init__()
        self.net = _mlp([in_dim] + [int(width)] * int(depth) + [1], activation, init)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x).squeeze(-1)


@generators.register("mlp")
def mlp_generator(n_seeds: int, data_dim: int, init, z_dim: int = 16, width: int = 128,
                  depth: int = 3, activation: str = "relu") -> MLPGenerator:
    """MLP generator: z_dim -> depth hidden layers of width -> data_dim (linear output)."""
    if int(z_dim) < 1:
        raise ValueError("z_dim must be >= 1")
    _check(width, depth, fan=int(z_dim))
    return MLPGenerator(z_dim, data_dim, width, depth, activation, init)


@discriminators.register("mlp")
def mlp_discriminator(n_seeds: int, data_dim: int, init, width: int = 128, depth: int = 3,
                      activation: str = "leaky_relu") -> MLPDiscriminator:
    """MLP discriminator: data_dim -> depth hidden layers of width -> one output (logit)."""
    _check(width, depth)
    return MLPDiscriminator(data_dim, width, depth, activation, init)


@discriminators.register("pacgan")
def pacgan_discriminator(n_seeds: int, data_dim: int, init, packing: int = 2, width: int = 128,
                         depth: int = 3, activation: str = "leaky_relu") -> MLPDiscriminator:
    """PacGAN (Lin et al. 2018): an MLP discriminator that judges packs of `packing`
    samples, concatenated, so it can see a lack of diversity among them."""
    _check(width, depth)
    if int(packing) < 1 or int(packing) != packing:
        raise ValueError("packing must be a whole number >= 1")
    d = MLPDiscriminator(data_dim * int(packing), width, depth, activation, init)
    d.packing = int(packing)
    return d
