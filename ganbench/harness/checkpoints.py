"""Checkpoint probes: measurements that run at chosen generator steps during training.

``vanishing`` is the Arjovsky & Bottou (2017) experiment: at each checkpoint, freeze
G, train a *fresh* D from scratch with the cross-entropy loss (the one whose optimum
is D* = pdata / (pdata + pg)) for ``d_steps`` steps, and after every D step record
the norm of the gradient, over G's parameters, of

- the saturating cost E[log(1 - D(G(z)))] (``grad_saturating``), and
- the non-saturating cost -E[log D(G(z))] (``grad_nonsaturating``),

on a fixed batch of noise. As D approaches D* the first vanishes (D(G(z)) -> 0) and
the second does not. Each curve is summarised by its decay factor, first / last
(``sat_decay_step<c>`` and ``ns_decay_step<c>`` for checkpoint c, declared in
:mod:`ganbench.metrics.gradients`). The probe has its own random stream per seed, so
training is the same with or without it.

A checkpoint probe takes the :class:`~ganbench.harness.players.Players`, the step, its
per-seed seeds and a function that builds a fresh D with its optimizer; it declares
the files it adds to each run folder (``artifacts``). The vanishing probe's experiment
itself (:meth:`VanishingProbe.curves`) takes any seed-stacked G and fresh D, so a
user's own single-seed modules run it too (:meth:`VanishingProbe.run_single`, as a
stack of one seed: :class:`ganbench.harness.one_seed.OneSeed`; from ganbench.Monitor).
"""
from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Callable

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F

from ..game import pack, sqnorm
from ..metrics.gradients import decay_factor
from ..objectives import minimax_d_loss
from ..registry import Registry
from ..streams import SeedStreams
from .artifacts import Artifact
from .one_seed import OneSeed

checkpoint_probes = Registry("checkpoint probe")

VANISHING_COLUMNS = ["checkpoint", "d_step", "grad_saturating", "grad_nonsaturating",
                     "d_real", "d_fake"]


def generator_cost_grad_norms(G, d, z) -> tuple[torch.Tensor, torch.Tensor]:
    """Per seed, ‖∇_G E[log(1 - D(G(z)))]‖ and ‖∇_G -E[log D(G(z))]‖ (D a logit)."""
    params = list(G.parameters())
    out = d(G(z))
    saturating = (-F.softplus(out)).mean(-1).sum()        # log(1 - σ(f))
    nonsaturating = F.softplus(-out).mean(-1).sum()       # -log σ(f)
    g_sat = torch.autograd.grad(saturating, params, retain_graph=True)
    g_ns = torch.autograd.grad(nonsaturating, params)
    return sqnorm(g_sat).sqrt(), sqnorm(g_ns).sqrt()


@dataclass(frozen=True)
class VanishingProbe:
    name: str
    at: tuple[int, ...]
    d_steps: int

    @property
    def artifacts(self) -> list[Artifact]:
        return [Artifact(f"{self.name}.csv", "vanishing probe: G-gradient norms per D step",
                         "table"),
                Artifact(f"{self.name}.png", "vanishing probe", "image")]

    def run(self, players, checkpoint: int, seeds: list[tuple[int, int]],
            fresh_critic: Callable) -> list[pd.DataFrame]:
        """Train a fresh D against the frozen G of ``players``; per seed, one row per D
        step. ``seeds[s]`` = (init seed, batch seed) of seed s; ``fresh_critic(init)`` the
        run's D with its optimizer, seed s's weights drawn from ``init[s]``."""
        # the same fresh D and the same batches at every checkpoint: only G differs
        init = [torch.Generator().manual_seed(a) for a, _ in seeds]
        gens = SeedStreams([torch.Generator(device=players.device).manual_seed(b) for _, b in seeds])
        D, opt = fresh_critic(init)
        curves = self.curves(players.G, D, opt, lambda n: players.real_batch(n, gens),
                             lambda n: players.noise(n, gens), players.batch_size,
                             players.game.packing, players.game.split_batches)
        return self.frames(curves, checkpoint)

    def run_single(self, G: torch.nn.Module, D: torch.nn.Module, sample: Callable,
                   noise: Callable, batch_size: int, checkpoint: int, lr: float = 1e-3,
                   in_shape: tuple | None = None, head: Callable | None = None,
                   seed: int = 0) -> pd.DataFrame:
        """The experiment on one seed's plain modules (a user's loop): a frozen copy of G,
        and D, fresh (not changed: its weights are copied), trained by Adam (lr, betas (0.5,
        0.999)) on real and generated samples apart; ``sample(n, generator)`` and
        ``noise(n, generator)`` draw (n, ...) batches from one generator seeded ``seed``,
        moved to G's device. D sees ``in_shape`` inputs; ``head(call, x, module)`` makes
        its logits where its output is not one (:class:`OneSeed`)."""
        dev, gen = next(G.parameters()).device, torch.Generator().manual_seed(seed)
        fresh = OneSeed(D.to(dev), "d", in_shape, head)
        opt = torch.optim.Adam(fresh.parameters(), lr=lr, betas=(0.5, 0.999))
        curves = self.curves(OneSeed(G, "g"), fresh, opt,
                             lambda n: sample(n, gen).to(dev).reshape(1, n, -1),
                             lambda n: noise(n, gen).to(dev).unsqueeze(0), batch_size,
                             split_batches=True)
        return self.frames(curves, checkpoint)[0]

    def curves(self, G, D, opt, real_batch: Callable, noise: Callable, batch_size: int,
               packing: int = 1, split_batches: bool = False) -> np.ndarray:
        """The experiment on seed-stacked modules: a frozen copy of G (S, n, z) -> (S, n,
        ...), and D (S, n, ...) -> (S, n) a logit, fresh, trained by ``opt``;
        ``real_batch(n)`` and ``noise(n)`` draw (S, n, ...) from the probe's own streams.
        ``split_batches``: D sees real and generated samples apart (a batch-norm D).
        Returns (d_steps, S, 4): the two gradient norms, mean D(real) and D(fake)."""
        G = copy.deepcopy(G).requires_grad_(True)
        m, B = packing, batch_size
        d = lambda x: D(pack(x, m))  # noqa: E731
        z_fixed = noise(B)
        rows = []
        for step in range(1, self.d_steps + 1):
            real = real_batch(B)
            with torch.no_grad():
                fake = G(noise(B))
            if split_batches:
                r, f = d(real), d(fake)
            else:
                out = d(torch.cat([real, fake], 1))
                r, f = out[:, : B // m], out[:, B // m:]
            opt.zero_grad(set_to_none=True)
            minimax_d_loss(r, f).sum().backward()
            opt.step()
            sat, ns = generator_cost_grad_norms(G, d, z_fixed)
            rows.append(torch.stack([sat, ns, torch.sigmoid(r).mean(1).detach(),
                                     torch.sigmoid(f).mean(1).detach()], 1))
        return torch.stack(rows).cpu().numpy()

    def frames(self, curves: np.ndarray, checkpoint: int) -> list[pd.DataFrame]:
        """Per seed, the table of :meth:`curves` at G step ``checkpoint``."""
        frames = []
        for s in range(curves.shape[1]):
            df = pd.DataFrame(curves[:, s], columns=VANISHING_COLUMNS[2:])
            df.insert(0, "d_step", np.arange(1, self.d_steps + 1))
            df.insert(0, "checkpoint", checkpoint)
            frames.append(df)
        return frames

    def summarize(self, df: pd.DataFrame) -> dict:
        out = {}
        for c, g in df.groupby("checkpoint"):
            for col, key in (("grad_saturating", "sat"), ("grad_nonsaturating", "ns")):
                v = g[col].to_numpy(dtype=float)
                out[f"{key}_decay_step{int(c)}"] = decay_factor(v)
        return out

    def files(self, df: pd.DataFrame, title: str) -> dict:
        """This probe's run files (as declared in ``artifacts``) from its table."""
        return {f"{self.name}.csv": df.to_csv(index=False), f"{self.name}.png": self.plot(df, title)}

    def plot(self, df: pd.DataFrame, title: str) -> bytes:
        from .plots import curves_png
        curves = []
        for i, (c, g) in enumerate(df.groupby("checkpoint")):
            curves.append((f"G step {int(c)}: log(1 - D)", g.d_step, g.grad_saturating, i, False))
            curves.append((f"G step {int(c)}: -log D", g.d_step, g.grad_nonsaturating, i, True))
        return curves_png(curves, title, "steps of the fresh discriminator",
                          "|grad_G cost|", log_y=True)


@checkpoint_probes.register("vanishing")
def vanishing(at: list = (0,), d_steps: int = 500) -> VanishingProbe:
    """Arjovsky-Bottou probe: at G steps `at`, train a fresh D for d_steps and record the
    G gradient norms of the saturating and non-saturating costs at each D step."""
    steps = [int(a) for a in at]
    if not steps or any(a < 0 or a != b for a, b in zip(steps, at)):
        raise ValueError("at must be a list of whole numbers >= 0 (generator steps)")
    if int(d_steps) < 1:
        raise ValueError("d_steps must be >= 1")
    return VanishingProbe("vanishing", tuple(sorted(set(steps))), int(d_steps))
