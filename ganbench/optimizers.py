"""Optimizers by name (torch.optim), with their settings from the suite.

Seed-stacked parameters are fine for these: Adam, SGD and RMSprop update each
element from its own gradient and state, so seed s is optimised exactly as alone.
"""
from __future__ import annotations

import inspect

import torch

from .registry import Registry

optimizers = Registry("optimizer")


def _fast(cls) -> dict:
    """``fused=True`` where this torch's optimizer has it (CPU and CUDA, ~3x faster
    than the default foreach path for ganbench's small models)."""
    return {"fused": True} if "fused" in inspect.signature(cls).parameters else {}


@optimizers.register("adam")
def adam(params, lr: float = 1e-4, betas=(0.5, 0.999), eps: float = 1e-8,
         weight_decay: float = 0.0, amsgrad: bool = False) -> torch.optim.Optimizer:
    """torch.optim.Adam (default betas (0.5, 0.999), the DCGAN setting)."""
    return torch.optim.Adam(params, lr=float(lr), betas=tuple(float(b) for b in betas),
                            eps=float(eps), weight_decay=float(weight_decay), amsgrad=bool(amsgrad), **_fast(torch.optim.Adam))


@optimizers.register("sgd")
def sgd(params, lr: float = 1e-2, momentum: float = 0.0, nesterov: bool = False,
        weight_decay: float = 0.0) -> torch.optim.Optimizer:
    """torch.optim.SGD."""
    return torch.optim.SGD(params, lr=float(lr), momentum=float(momentum),
                           nesterov=bool(nesterov), weight_decay=float(weight_decay),
                           **_fast(torch.optim.SGD))


@optimizers.register("rmsprop")
def rmsprop(params, lr: float = 5e-5, alpha: float = 0.99, eps: float = 1e-8,
            momentum: float = 0.0, weight_decay: float = 0.0) -> torch.optim.Optimizer:
    """torch.optim.RMSprop (default lr 5e-5, the WGAN paper's)."""
    return torch.optim.RMSprop(params, lr=float(lr), alpha=float(alpha), eps=float(eps),
                               momentum=float(momentum), weight_decay=float(weight_decay),
                               **_fast(torch.optim.RMSprop))
