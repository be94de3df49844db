"""The GAN game on one batch: both players' losses and their gradient vector field.

Training (:mod:`ganbench.updates`) and the theory metrics (the Jacobian of the field
at an equilibrium, :mod:`ganbench.metrics.dynamics`) use the same functions, so the
eigenvalues a table shows are those of the game that was trained: same objective,
same penalties, same instance noise, same consensus term.

Shapes: real and fake batches are ``(S, B, *features)``; D maps what it sees to
``(S, B / packing)``; every loss is per seed, ``(S,)``.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Sequence

import torch

from .objectives import Objective
from .regularizers import Regularizer

Tensor = torch.Tensor


def pack(x: Tensor, m: int) -> Tensor:
    """PacGAN packing: m consecutive samples concatenated into one D input,
    (S, B, *F) -> (S, B/m, m·prod(F))."""
    if m == 1:
        return x
    S, B = x.shape[:2]
    if B % m:
        raise ValueError(f"batch of {B} cannot be packed in groups of {m}")
    return x.reshape(S, B // m, -1)


#: gradients of up to this many numbers in all are joined for one norm kernel; larger
#: ones (compute-bound models, where the copy would cost memory) take one per parameter
FUSED_NORM_ELEMENTS = 1 << 22


def sqnorm(grads: Sequence[Tensor]) -> Tensor:
    """Squared L2 norm per seed of seed-stacked gradients (leading dim S), shape (S,):
    one sum of squares over the joined gradients (3 kernels, not 3 per parameter). A sum
    of squares, not a squared norm: its second derivative is finite at zero (the
    Jacobian at an equilibrium, where the field vanishes, differentiates it twice)."""
    flat = [g.flatten(1) for g in grads]
    if sum(f.numel() for f in flat) <= FUSED_NORM_ELEMENTS:
        return torch.cat(flat, 1).pow(2).sum(1)
    return torch.stack([f.pow(2).sum(1) for f in flat]).sum(0)


@dataclass
class DiscriminatorLoss:
    game: Tensor      # (S,) D's loss from the objective
    penalty: Tensor   # (S,) sum of the penalties
    on_real: Tensor   # (S, B') D's raw outputs on real
    on_fake: Tensor   # (S, B') D's raw outputs on fake


@dataclass
class Game:
    """The objective, the regularizers, D's packing, and whether D sees the real and the
    generated batch in one forward (``split_batches`` False) or in two: a D whose output
    for a sample depends on the rest of its batch (batch norm) must see them apart, as
    every DCGAN implementation does, or its statistics mix real and fake in the D step
    but not in the G step (measured: ganbench's DCGAN with batch norm in D then does not
    learn at all; benchmarks/dcgan_reference.py)."""

    objective: Objective
    regularizers: list[Regularizer] = field(default_factory=list)
    packing: int = 1
    split_batches: bool = False

    def __post_init__(self):
        self.penalties = [r for r in self.regularizers if r.fn is not None]
        self.perturbs = [r.perturb for r in self.regularizers if r.perturb is not None]
        self.consensus = float(sum(r.consensus for r in self.regularizers))

    def see(self, x: Tensor, gens, progress: float) -> Tensor:
        """What D sees of a batch: perturbed (instance noise), then packed."""
        for perturb in self.perturbs:
            x = perturb(x, gens, progress)
        return pack(x, self.packing)

    def d_loss(self, d: Callable, real: Tensor, fake: Tensor, gens=None, progress=0.0) -> DiscriminatorLoss:
        xr, xf = self.see(real, gens, progress), self.see(fake, gens, progress)
        if self.split_batches:
            r, f = d(xr), d(xf)
        else:
            out = d(torch.cat([xr, xf], 1))
            r, f = out[:, : xr.shape[1]], out[:, xr.shape[1]:]
        game = self.objective.d_loss(r, f)
        penalty = sum((pen(d, xr, xf, gens) for pen in self.penalties), torch.zeros_like(game))
        return DiscriminatorLoss(game, penalty, r, f)

    def g_loss(self, d: Callable, fake: Tensor, real: Tensor | None = None, gens=None,
               progress=0.0) -> Tensor:
        f = d(self.see(fake, gens, progress))
        r = d(self.see(real, gens, progress)) if self.objective.g_needs_real else None
        return self.objective.generator_loss(f, r)


@dataclass
class GradientField:
    """Gradients of each player's loss (consensus term included when the game has one)."""

    d_grads: list[Tensor] | None
    g_grads: list[Tensor] | None
    d: DiscriminatorLoss | None
    g_loss: Tensor | None
    grad_norm_g: Tensor | None   # (S,) norm of G's own loss gradient (before consensus)


def gradient_field(game: Game, g: Callable, d: Callable, g_params: list[Tensor],
                   d_params: list[Tensor], real: Tensor, z: Tensor, gens=None, progress=0.0,
                   for_d: bool = True, for_g: bool = True, create_graph: bool = False) -> GradientField:
    """Both players' gradients at one batch (only those asked for, unless consensus needs
    both). ``g``/``d`` are the networks (modules or functional calls on ``*_params``)."""
    cons = game.consensus > 0
    need_d, need_g = for_d or cons, for_g or cons
    if need_g:
        fake = g(z)
    else:
        with torch.no_grad():
            fake = g(z)
    graph = create_graph or cons
    # with a graph, D's gradient keeps its dependence on G's parameters (the Jacobian's
    # off-diagonal block, and consensus's ∇_θ ½‖∇_ψ L_D‖²); penalties detach their inputs
    dl = game.d_loss(d, real, fake if graph else fake.detach(), gens, progress) if need_d else None
    gl = game.g_loss(d, fake, real, gens, progress) if need_g else None
    gd = list(torch.autograd.grad((dl.game + dl.penalty).sum(), d_params, create_graph=graph)) \
        if need_d else None
    gg = list(torch.autograd.grad(gl.sum(), g_params, create_graph=graph)) if need_g else None
    norm_g = sqnorm(gg).detach().sqrt() if gg is not None else None
    if cons:
        reg = game.consensus * 0.5 * (sqnorm(gd) + sqnorm(gg)).sum()
        wanted = (d_params if for_d else []) + (g_params if for_g else [])
        # a parameter the field does not depend on (a WGAN critic's last bias) has no
        # gradient of ½‖v‖²: zero
        extra = torch.autograd.grad(reg, wanted, create_graph=create_graph, allow_unused=True)
        extra = [torch.zeros_like(p) if e is None else e for e, p in zip(extra, wanted)]
        nd = len(d_params) if for_d else 0
        gd = [a + b for a, b in zip(gd, extra[:nd])] if for_d else None
        gg = [a + b for a, b in zip(gg, extra[nd:])] if for_g else None
    if not create_graph:
        gd = [t.detach() for t in gd] if gd is not None else None
        gg = [t.detach() for t in gg] if gg is not None else None
    return GradientField(gd if for_d else None, gg if for_g else None, dl, gl, norm_g)
