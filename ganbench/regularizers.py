"""Regularizers: what is added to the game besides the two losses.

A regularizer does one of three things, said by which field it fills:

- ``fn``, a *penalty* added to D's loss, called as ``fn(d, x_real, x_fake, gens)``
  where ``d`` maps a batch ``(S, B, *features)`` to outputs ``(S, B)`` (S = seeds
  trained together) and returning the penalty per seed, shape ``(S,)``. Gradient
  norms are taken per sample over *all* feature dimensions, then averaged over the
  batch (r1, r2, gp, dragan);
- ``perturb``, a change to every input D sees, real and fake, in both players'
  steps: ``perturb(x, gens, progress)`` with ``progress`` the fraction of training
  done (instance_noise);
- ``consensus``, a weight γ: both players add γ·½‖v‖² to their loss, v the game's
  gradient vector field (consensus optimization).

A penalty says itself whether its ``weight`` may differ between the slices of one
stacked model (``per_slice``: the weight is a factor on a per-seed penalty), so runs
that differ only in it train together (:mod:`ganbench.harness.stacking`).

``gens`` is None, one ``torch.Generator``, a list of S generators (one per seed, so
each seed draws from its own stream), or a :class:`ganbench.streams.SeedStreams` (the
same per-seed streams, drawn a block at a time: what training passes).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import torch

from .registry import Registry
from .streams import SeedStreams

regularizers = Registry("regularizer")

Tensor = torch.Tensor


@dataclass(frozen=True)
class Regularizer:
    name: str
    weight: float
    fn: Callable[..., Tensor] | None = None
    perturb: Callable[..., Tensor] | None = None
    consensus: float = 0.0
    #: ``weight`` may differ between the slices of one stacked model (a per-slice factor)
    per_slice: bool = False

    def __call__(self, d, x_real: Tensor, x_fake: Tensor, generator=None) -> Tensor:
        return self.weight * self.fn(d, x_real, x_fake, generator)


def seed_random(draw: Callable, shape: tuple, like: Tensor, generator=None) -> Tensor:
    """``draw`` (torch.rand or torch.randn) of ``shape`` = (S, ...), seed s from its own
    generator when ``generator`` is a list of S generators or a SeedStreams."""
    kw = dict(device=like.device, dtype=like.dtype)
    if isinstance(generator, SeedStreams):
        fn = {torch.rand: generator.rand, torch.randn: generator.randn}[draw]
        return fn(*shape[1:], dtype=like.dtype)
    if isinstance(generator, (list, tuple)):
        return torch.stack([draw(shape[1:], generator=g, **kw) for g in generator])
    return draw(shape, generator=generator, **kw)


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
    """ε·x_real + (1-ε)·x_fake with one ε ~ U(0,1) per sample (not per feature)."""
    shape = x_real.shape[:2] + (1,) * (x_real.dim() - 2)
    eps = seed_random(torch.rand, shape, x_real, generator)
    return eps * x_real + (1 - eps) * x_fake


def unit_norm_penalty(d, x: Tensor, center: float = 1.0) -> Tensor:
    """E[(‖∇ₓD(x)‖ - center)²] over the batch, per seed."""
    norm = (input_grad_sqnorm(d, x) + 1e-12).sqrt()
    return ((norm - center) ** 2).mean(-1)


def gp_penalty(d, x_real, x_fake, generator=None, center: float = 1.0) -> Tensor:
    """E[(‖∇D(x̂)‖ - center)²] at random interpolates x̂ (Gulrajani et al. 2017)."""
    return unit_norm_penalty(d, interpolate(x_real.detach(), x_fake.detach(), generator), center)


def dragan_points(x_real: Tensor, c: float, generator=None) -> Tensor:
    """Points near the data: x + α·(x_p - x), x_p = x + c·std(x)·u, u ~ U(0,1) per
    feature, α ~ U(0,1) per sample, std over the seed's whole batch (Kodali et al.'s code)."""
    x = x_real.detach()
    std = x.flatten(1).std(1).view((-1,) + (1,) * (x.dim() - 1))
    u = seed_random(torch.rand, tuple(x.shape), x, generator)
    return interpolate(x, x + c * std * u, generator)


def dragan_penalty(d, x_real, x_fake, generator=None, c: float = 0.5) -> Tensor:
    """E[(‖∇D(x̃)‖ - 1)²] at perturbed data points x̃ (DRAGAN, Kodali et al. 2017)."""
    return unit_norm_penalty(d, dragan_points(x_real, c, generator))


def _weight(weight: float) -> float:
    weight = float(weight)
    if weight < 0:
        raise ValueError("weight must be non-negative")
    return weight


@regularizers.register("r1")
def r1(weight: float = 10.0) -> Regularizer:
    """R1: γ/2 · E_real ‖∇ₓD‖², gradient penalty on real data (weight = γ)."""
    return Regularizer("r1", _weight(weight), r1_penalty, per_slice=True)


@regularizers.register("r2")
def r2(weight: float = 10.0) -> Regularizer:
    """R2: γ/2 · E_fake ‖∇ₓD‖², gradient penalty on generated data (weight = γ)."""
    return Regularizer("r2", _weight(weight), r2_penalty, per_slice=True)


@regularizers.register("gp")
def gp(weight: float = 10.0, center: float = 1.0) -> Regularizer:
    """WGAN-GP: λ · E[(‖∇D(x̂)‖ - 1)²] on real/fake interpolates (weight = λ)."""
    return Regularizer("gp", _weight(weight),
                       lambda d, xr, xf, g=None: gp_penalty(d, xr, xf, g, center=float(center)),
                       per_slice=True)


@regularizers.register("dragan")
def dragan(weight: float = 10.0, c: float = 0.5) -> Regularizer:
    """DRAGAN: λ · E[(‖∇D(x̃)‖ - 1)²] at data points perturbed by up to c·std (weight = λ)."""
    if float(c) <= 0:
        raise ValueError("c must be positive")
    return Regularizer("dragan", _weight(weight),
                       lambda d, xr, xf, g=None: dragan_penalty(d, xr, xf, g, c=float(c)),
                       per_slice=True)


@regularizers.register("instance_noise")
def instance_noise(sigma: float = 0.1, anneal: bool = False) -> Regularizer:
    """Instance noise: N(0, σ²) added to every input of D, real and fake (optionally
    annealed linearly to 0 over training; Sønderby et al. 2016)."""
    sigma = _weight(sigma)

    def perturb(x: Tensor, generator=None, progress: float = 0.0) -> Tensor:
        s = sigma * (1.0 - progress) if anneal else sigma
        return x + s * seed_random(torch.randn, tuple(x.shape), x, generator)

    return Regularizer("instance_noise", sigma, perturb=perturb)


@regularizers.register("consensus")
def consensus(weight: float = 1.0) -> Regularizer:
    """Consensus optimization: both players add γ·½‖v‖², v the gradient vector field of
    the game over both players' parameters (Mescheder et al. 2017; weight = γ)."""
    return Regularizer("consensus", _weight(weight), consensus=_weight(weight))
