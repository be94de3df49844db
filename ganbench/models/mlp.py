"""Multi-layer perceptron generator and discriminator (seed-stacked), batch norm in G
optional."""
from __future__ import annotations

import torch
from torch import nn

from .base import discriminators, generators
from .stacked import StackedBatchNorm1d, StackedLinear

ACTIVATIONS = {
    "relu": nn.ReLU,
    "leaky_relu": lambda: nn.LeakyReLU(0.2),
    "tanh": nn.Tanh,
    "elu": nn.ELU,
    "gelu": nn.GELU,
    "silu": nn.SiLU,
}


def _activation(activation: str) -> nn.Module:
    if activation not in ACTIVATIONS:
        raise ValueError(f"unknown activation {activation!r}; known: {', '.join(ACTIVATIONS)}")
    return ACTIVATIONS[activation]()


def _mlp(sizes: list[int], activation: str, init, std=None, batch_norm=None) -> nn.Sequential:
    """Linear layers between ``sizes``, ``activation`` between them; ``batch_norm``
    (momentum, eps) puts a per-seed batch norm after each hidden linear layer, before
    its activation (that layer then has no bias: the norm's shift replaces it)."""
    _activation(activation)
    layers: list[nn.Module] = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        hidden = i < len(sizes) - 2
        layers.append(StackedLinear(a, b, init, bias=not (hidden and batch_norm), std=std))
        if hidden:
            if batch_norm:
                layers.append(StackedBatchNorm1d(len(init), b, *batch_norm))
            layers.append(_activation(activation))
    return nn.Sequential(*layers)


#: at most this many weights per network and seed (1 GB in float32; Adam keeps 3 more copies)
MAX_PARAMETERS = 2**28


def _check_size(params: int, what: str) -> None:
    if params > MAX_PARAMETERS:
        raise ValueError(f"{what} make {params:.3g} weights per seed, more than "
                         f"{MAX_PARAMETERS:.3g} (1 GB); use a smaller width or depth")


def _check(width: int, depth: int, fan: int = 16) -> None:
    if int(width) < 1 or int(depth) < 0:
        raise ValueError("width must be >= 1 and depth >= 0")
    _check_size(int(width) * (int(fan) + 1 + max(int(depth) - 1, 0) * int(width)),
                f"width {width} and depth {depth}")


def check_init_std(init_std) -> float | None:
    """None (torch's default initialisation) or a standard deviation > 0."""
    if init_std is None:
        return None
    if isinstance(init_std, bool) or not isinstance(init_std, (int, float)) or not init_std > 0:
        raise ValueError(f"init_std must be a number > 0 (or null for torch's default), "
                         f"got {init_std!r}")
    return float(init_std)


class MLPGenerator(nn.Module):
    def __init__(self, z_dim, out_dim, width, depth, activation, init, std=None, batch_norm=None):
        super().__init__()
        self.z_dim = int(z_dim)
        self.net = _mlp([self.z_dim] + [int(width)] * int(depth) + [out_dim], activation, init,
                        std, batch_norm)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.net(z)


class MLPDiscriminator(nn.Module):
    def __init__(self, in_dim, width, depth, activation, init, std=None):
        super().__init__()
        self.net = _mlp([in_dim] + [int(width)] * int(depth) + [1], activation, init, std)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x).squeeze(-1)


def _batch_norm(on, momentum, eps) -> tuple[float, float] | None:
    if not isinstance(on, bool):
        raise ValueError(f"batch_norm must be true or false, got {on!r}")
    if not 0 < float(momentum) <= 1:
        raise ValueError(f"bn_momentum must be in (0, 1], got {momentum!r}")
    if not float(eps) > 0:
        raise ValueError(f"bn_eps must be > 0, got {eps!r}")
    return (float(momentum), float(eps)) if on else None


@generators.register("mlp")
def mlp_generator(n_seeds: int, data_dim: int, init, z_dim: int = 16, width: int = 128,
                  depth: int = 3, activation: str = "relu", batch_norm: bool = False,
                  bn_momentum: float = 0.1, bn_eps: float = 1e-5,
                  init_std: float | None = None) -> MLPGenerator:
    """MLP generator: z_dim -> depth hidden layers of width -> data_dim (linear output).

    `batch_norm: true` adds a per-seed batch norm after each hidden linear layer (before
    the activation; running statistics with `bn_momentum`, used at evaluation);
    `init_std` draws weights N(0, init_std²) and zero biases instead of torch's default."""
    if int(z_dim) < 1:
        raise ValueError("z_dim must be >= 1")
    _check(width, depth, fan=int(z_dim))
    return MLPGenerator(z_dim, data_dim, width, depth, activation, init, check_init_std(init_std),
                        _batch_norm(batch_norm, bn_momentum, bn_eps))


@discriminators.register("mlp")
def mlp_discriminator(n_seeds: int, data_dim: int, init, width: int = 128, depth: int = 3,
                      activation: str = "leaky_relu", init_std: float | None = None) -> MLPDiscriminator:
    """MLP discriminator: data_dim -> depth hidden layers of width -> one output (logit)."""
    _check(width, depth)
    return MLPDiscriminator(data_dim, width, depth, activation, init, check_init_std(init_std))


def check_packing(packing) -> int:
    if isinstance(packing, bool) or int(packing) < 1 or int(packing) != packing:
        raise ValueError("packing must be a whole number >= 1")
    return int(packing)


@discriminators.register("pacgan")
def pacgan_discriminator(n_seeds: int, data_dim: int, init, packing: int = 2, width: int = 128,
                         depth: int = 3, activation: str = "leaky_relu",
                         init_std: float | None = None) -> MLPDiscriminator:
    """PacGAN (Lin et al. 2018): an MLP discriminator that judges packs of `packing`
    samples, concatenated, so it can see a lack of diversity among them."""
    _check(width, depth)
    packing = check_packing(packing)
    d = MLPDiscriminator(data_dim * packing, width, depth, activation, init,
                         check_init_std(init_std))
    d.packing = packing
    return d
