"""Discriminator regularizers (penalties added to D's loss).

A regularizer is called as ``reg(d, x_real, x_fake, generator)`` where ``d`` maps a
batch ``(S, B, *features)`` to outputs ``(S, B)`` (S = seeds trained together, 1 for
a plain run) and returns the penalty per seed, shape ``(S,)``. Gradient norms are
taken per sample over *all* feature dimensions, then averaged over the batch.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import torch

from .registry import Registry

regularizers = Registry("regularizer")

Tensor = torch.Tensor


@dataclass(frozen=True)
class Regularizer:
    name: str
    weight: float
    fn: Callable[..., Tensor]

    def __call__(self, d, x_real: Tensor, x_fake: Tensor, generator=None) -> Tensor:
        return self.weight * self.fn(d, x_real, x_fake, generator)


def input_grad_sqnorm(d, x: Tensor) -> Tensor:
    """‖∇ₓ D(x)‖² per sample, shape (S, B), kept in the graph (for the double backward)."""
    x = x.detach().requires_grad_(True)
    out = d(x)
    (grad,) = torch.autograd.grad(out.sum(), x, create_graph=True)
    return grad.pow(2).flatten(2).sum(-1)


def r1_penalty(d, x_real, x_fake, generator=None) -> Tensor:
    """½ E_real ‖∇ₓ D(x)‖² (Mescheder et al. 2018); the weight γ multiplies it."""
    return 0.5 * input_grad_sqnorm(d, x_real).mean(-1)


def r2_penalty(d, x_real, x_fake, generator=None) -> Tensor:
    """½ E_fake ‖∇ₓ D(x)‖² on generated samples."""
    return 0.5 * input_grad_sqnorm(d, x_fake).mean(-1)


def interpolate(x_real: Tensor, x_fake: Tensor, generator=None) -> Tensor:
    """ε·x_real + (1-ε)·x_fake with one ε ~ U(0,1) per sample (not per feature).

    ``generator`` is None, one ``torch.Generator``, or a list of S generators (one per
    seed, so each seed draws its ε from its own stream).
    """
    shape = x_real.shape[:2] + (1,) * (x_real.dim() - 2)
    kw = dict(device=x_real.device, dtype=x_real.dtype)
    if isinstance(generator, (list, tuple)):
        eps = torch.stack([torch.rand(shape[1:], generator=g, **kw) for g in generator])
    else:
        eps = torch.rand(shape, generator=generator, **kw)
    return eps * x_real + (1 - eps) * x_fake


def gp_penalty(d, x_real, x_fake, generator=None, center: float = 1.0) -> Tensor:
    """E[(‖∇D(x̂)‖ - center)²] at random interpolates x̂ (Gulrajani et al. 2017)."""
    x_hat = interpolate(x_real.detach(), x_fake.detach(), generator)
    norm = (input_grad_sqnorm(d, x_hat) + 1e-12).sqrt()
    return ((norm - center) ** 2).mean(-1)


def _weight(weight: float) -> float:
    weight = float(weight)
    if weight < 0:
        raise ValueError("weight must be non-negative")
    return weight


@regularizers.register("r1")
def r1(weight: float = 10.0) -> Regularizer:
    """R1: γ/2 · E_real ‖∇ₓD‖², gradient penalty on real data (weight = γ)."""
    return Regularizer("r1", _weight(weight), r1_penalty)


@regularizers.register("r2")
def r2(weight: float = 10.0) -> Regularizer:
    """R2: γ/2 · E_fake ‖∇ₓD‖², gradient penalty on generated data (weight = γ)."""
    return Regularizer("r2", _weight(weight), r2_penalty)


@regularizers.register("gp")
def gp(weight: float = 10.0, center: float = 1.0) -> Regularizer:
    """WGAN-GP: λ · E[(‖∇D(x̂)‖ - 1)²] on real/fake interpolates (weight = λ)."""
    return Regularizer("gp", _weight(weight),
                       lambda d, xr, xf, g=None: gp_penalty(d, xr, xf, g, center=float(center)))
