"""The players: G and D of S seed-stacked runs, their optimizers, the game and the
random streams, and the three moves update schemes combine (one D step, one G step,
both at once).

Update schemes (:mod:`ganbench.updates`), checkpoint probes and the equilibrium
metrics take a :class:`Players` and nothing else of the harness: the loop (schedule,
history, divergence, evaluation) lives in :mod:`ganbench.harness.loop`.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import torch

from ..game import Game, gradient_field
from ..objectives import DOutput
from ..optimizers import per_slice
from ..streams import SeedStreams
from ..updates import DStepLog, GStepLog, StepLog


@dataclass
class Players:
    dataset: object
    game: Game
    G: torch.nn.Module
    D: torch.nn.Module
    opt_g: torch.optim.Optimizer
    opt_d: torch.optim.Optimizer
    #: one training generator per seed (noise and data batches, penalties' draws)
    train_gens: list
    batch_size: int
    n_critic: int
    device: torch.device
    #: fraction of training done (instance noise annealing)
    progress: float = 0.0
    g_params: list = field(init=False)
    d_params: list = field(init=False)

    def __post_init__(self):
        self.g_params, self.d_params = list(self.G.parameters()), list(self.D.parameters())
        self._per_slice: dict = {}
        #: the training generators, drawn for every seed at once
        self.streams = SeedStreams(self.train_gens)
        slices = [self.objective.of_slice(s) for s in range(self.n_seeds)]
        #: what each slice's D outputs (slices of one stack may differ)
        self.d_outputs: list[DOutput] = [o.d_output for o in slices]
        self._as_prob = self.d_outputs[0].as_probability if len(set(self.d_outputs)) == 1 \
            else self._as_prob_per_slice
        self._clip = self._clip_rule([o.weight_clip for o in slices])

    @property
    def n_seeds(self) -> int:
        return len(self.train_gens)

    @property
    def objective(self):
        return self.game.objective

    # --- sampling: each seed from its own stream ----------------------------------
    # ``gens``: None (training's streams), a SeedStreams (drawn for every seed at once,
    # a block of draws at a time: what repeated draws use), or a list of generators
    # (one draw per seed: one-off samples such as the evaluation's)
    def real_batch(self, n: int, gens=None) -> torch.Tensor:
        """(S, n, dim) data, seed s drawn from ``gens[s]`` (default: training's)."""
        gens = self.streams if gens is None else gens
        if isinstance(gens, SeedStreams):
            return self.dataset.sample_seeds(n, gens)
        return torch.stack([self.dataset.of_slice(s).sample(n, g) for s, g in enumerate(gens)])

    def noise(self, n: int, gens=None) -> torch.Tensor:
        """(S, n, z_dim) standard normal noise, seed s drawn from ``gens[s]``."""
        gens = self.streams if gens is None else gens
        if isinstance(gens, SeedStreams):
            return gens.randn(n, self.G.z_dim)
        return torch.stack([torch.randn(n, self.G.z_dim, generator=g, device=self.device)
                            for g in gens])

    def as_prob(self, out: torch.Tensor) -> torch.Tensor:
        """D's outputs (S, n) as probabilities where D models one, else unchanged (each
        slice by what its D outputs)."""
        return self._as_prob(out)

    def _as_prob_per_slice(self, out: torch.Tensor) -> torch.Tensor:
        logit = tuple(float(d is DOutput.LOGIT) for d in self.d_outputs)
        return torch.where(self._slice_values("logit", logit, out) > 0, torch.sigmoid(out), out)

    def _clip_rule(self, clips: list):
        """WGAN's clip of D's weights after each D step: None (no slice clips), one value
        for every slice, or each slice's (inf where a slice has none)."""
        if all(c is None for c in clips):
            return None
        if len(set(clips)) == 1:
            c = clips[0]
            return lambda prm: prm.clamp_(-c, c)
        limits = tuple(float("inf") if c is None else float(c) for c in clips)

        def per_slice(prm):
            lim = self._slice_values("clip", limits, prm)
            prm.clamp_(min=-lim, max=lim)
        return per_slice

    # --- applying gradients ---------------------------------------------------------
    @staticmethod
    def _apply(opt, params, grads) -> None:
        for p, g in zip(params, grads):
            p.grad = g.contiguous()  # fused optimizers assume the parameter's layout
        opt.step()

    def apply_g(self, grads) -> None:
        self._apply(self.opt_g, self.g_params, grads)

    def apply_d(self, grads) -> None:
        self._apply(self.opt_d, self.d_params, grads)
        if self._clip is not None:
            with torch.no_grad():
                for prm in self.d_params:
                    self._clip(prm)

    def _slice_values(self, name: str, values: tuple, like: torch.Tensor) -> torch.Tensor:
        """Per-slice numbers shaped to broadcast against ``like``, made once per shape
        (not a host-to-device copy every step)."""
        key = (name, like.dim(), like.dtype, like.device)
        if key not in self._per_slice:
            self._per_slice[key] = per_slice(values, like)
        return self._per_slice[key]

    def _field(self, real, z, for_d: bool, for_g: bool):
        return gradient_field(self.game, self.G, self.D, self.g_params, self.d_params, real, z,
                              self.streams, self.progress, for_d, for_g)

    def _d_log(self, dl) -> DStepLog:
        return DStepLog(dl.game.detach(), dl.penalty.detach(), self.as_prob(dl.on_real.detach()).mean(1),
                        self.as_prob(dl.on_fake.detach()).mean(1))

    # --- the three moves ------------------------------------------------------------
    def d_step(self) -> DStepLog:
        """One D step and what it logs."""
        real = self.real_batch(self.batch_size)
        fld = self._field(real, self.noise(self.batch_size), True, False)
        self.apply_d(fld.d_grads)
        return self._d_log(fld.d)

    def g_step(self) -> GStepLog:
        """One G step and what it logs."""
        z = self.noise(self.batch_size)
        needs_real = self.objective.g_needs_real or self.game.consensus
        real = self.real_batch(self.batch_size) if needs_real else None
        fld = self._field(real, z, False, True)
        self.apply_g(fld.g_grads)
        return GStepLog(fld.g_loss.detach(), fld.grad_norm_g)

    def joint_step(self) -> StepLog:
        """Both players' gradients at the same point, then both steps, and what they log."""
        real = self.real_batch(self.batch_size)
        fld = self._field(real, self.noise(self.batch_size), True, True)
        self.apply_d(fld.d_grads)
        self.apply_g(fld.g_grads)
        return StepLog.of(self._d_log(fld.d), GStepLog(fld.g_loss.detach(), fld.grad_norm_g))
