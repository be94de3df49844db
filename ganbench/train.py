"""Training: one GAN step and the loop, for S seeds trained together.

Seeds that share a dataset, variant and settings train as one seed-stacked model
(parameters with a leading seed dimension). Each seed has its own random streams
(initial weights, training noise and data, evaluation), so seed s gets the same
numbers whether it trains alone or stacked; nothing in a step mixes seeds, so one
seed going to NaN marks only that seed ``diverged``.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np
import pandas as pd
import torch

from .data import datasets
from .metrics.probes import Evaluation, probes
from .metrics.series import history_metrics
from .models import discriminators, generators
from .objectives import objectives
from .optimizers import optimizers
from .registry import merge_spec
from .regularizers import regularizers

#: |loss| or |generated value| above this counts as exploding (the run is ``diverged``).
EXPLODE = 1e6
#: logged every step (history.csv): D's game loss and its penalties apart (the last of
#: the n_critic D steps), G's loss, G's gradient norm, and mean D output on the real and
#: fake batch (a probability where D models one, else D's raw output).
STEP_COLUMNS = ["d_loss", "d_penalty", "g_loss", "grad_norm_g", "d_real", "d_fake"]


def seed_streams(seed: int, device: torch.device) -> dict[str, torch.Generator]:
    """Independent generators for one seed: model init (CPU), training, evaluation."""
    a, b, c, d = np.random.SeedSequence(int(seed)).generate_state(4)
    return {
        "init_g": torch.Generator().manual_seed(int(a)),
        "init_d": torch.Generator().manual_seed(int(b)),
        "train": torch.Generator(device=device).manual_seed(int(c)),
        "eval": torch.Generator(device=device).manual_seed(int(d)),
    }


@dataclass
class Parts:
    """Everything a run is built from, made from a dataset spec and a run config."""

    dataset: Any
    objective: Any
    penalties: list
    G: torch.nn.Module
    D: torch.nn.Module
    opt_g: torch.optim.Optimizer
    opt_d: torch.optim.Optimizer


def build_parts(dataset_spec, config: dict, init_g: list, init_d: list,
                device: torch.device | str = "cpu", path: str = "") -> Parts:
    """Build dataset, objective, penalties, models and optimizers (errors name ``path``)."""
    ds = datasets.build(dataset_spec, f"{path}dataset")
    obj = objectives.build(config["objective"], f"{path}objective")
    pens = [regularizers.build(r, f"{path}regularizers[{i}]")
            for i, r in enumerate(config.get("regularizers") or [])]
    S = len(init_g)
    G = generators.build(config["generator"], f"{path}generator", n_seeds=S,
                         data_dim=ds.dim, init=init_g).to(device)
    D = discriminators.build(config["discriminator"], f"{path}discriminator", n_seeds=S,
                             data_dim=ds.dim, init=init_d).to(device)
    opt_g = optimizers.build(merge_spec(config["optimizer"], config.get("g_optimizer")),
                             f"{path}g_optimizer", params=list(G.parameters()))
    opt_d = optimizers.build(merge_spec(config["optimizer"], config.get("d_optimizer")),
                             f"{path}d_optimizer", params=list(D.parameters()))
    return Parts(ds, obj, pens + list(obj.penalties), G, D, opt_g, opt_d)


@dataclass
class SeedResult:
    seed: int
    status: str                 # ok | diverged | failed
    steps: int                  # G steps completed
    metrics: dict = field(default_factory=dict)
    history: pd.DataFrame | None = None
    real: np.ndarray | None = None  # final evaluation samples, for samples.png
    fake: np.ndarray | None = None
    diverged_at: int | None = None
    error: str | None = None


class Trainer:
    """Trains S seeds of one (dataset, variant) together; see :func:`train_seeds`."""

    def __init__(self, dataset_spec, config: dict, seeds: list[int], device="cpu"):
        self.device = torch.device(device)
        self.config, self.seeds = config, list(seeds)
        self.streams = [seed_streams(s, self.device) for s in self.seeds]
        p = build_parts(dataset_spec, config, [st["init_g"] for st in self.streams],
                        [st["init_d"] for st in self.streams], self.device)
        self.ds, self.obj, self.penalties = p.dataset, p.objective, p.penalties
        self.G, self.D, self.opt_g, self.opt_d = p.G, p.D, p.opt_g, p.opt_d
        self.train_gens = [st["train"] for st in self.streams]
        self.B = int(config["batch_size"])
        self.probes = [probes.build(n) for n in probes.names()]
        self.probes = [pr for pr in self.probes if pr.applies(self.ds, self.obj)]

    # --- sampling: each seed from its own stream ----------------------------------
    def real_batch(self, n: int, gens) -> torch.Tensor:
        return torch.stack([self.ds.sample(n, g) for g in gens])

    def noise(self, n: int, gens) -> torch.Tensor:
        return torch.stack([torch.randn(n, self.G.z_dim, generator=g, device=self.device)
                            for g in gens])

    def _as_prob(self, out: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(out) if self.obj.probability else out

    # --- one step -----------------------------------------------------------------
    def d_step(self):
        real = self.real_batch(self.B, self.train_gens)
        with torch.no_grad():
            fake = self.G(self.noise(self.B, self.train_gens))
        out = self.D(torch.cat([real, fake], 1))
        r, f = out[:, : self.B], out[:, self.B:]
        game = self.obj.d_loss(r, f)
        penalty = sum((pen(self.D, real, fake, self.train_gens) for pen in self.penalties),
                      torch.zeros_like(game))
        self.opt_d.zero_grad(set_to_none=True)
        (game + penalty).sum().backward()
        self.opt_d.step()
        if self.obj.weight_clip is not None:
            with torch.no_grad():
                for prm in self.D.parameters():
                    prm.clamp_(-self.obj.weight_clip, self.obj.weight_clip)
        return (game.detach(), penalty.detach(), self._as_prob(r.detach()).mean(1),
                self._as_prob(f.detach()).mean(1))

    def g_step(self):
        fake = self.G(self.noise(self.B, self.train_gens))
        self.D.requires_grad_(False)
        try:
            loss = self.obj.g_loss(self.D(fake))
            self.opt_g.zero_grad(set_to_none=True)
            loss.sum().backward()
        finally:
            self.D.requires_grad_(True)
        sq = sum(p.grad.pow(2).flatten(1).sum(1) for p in self.G.parameters() if p.grad is not None)
        self.opt_g.step()
        return loss.detach(), sq.sqrt()

    # --- evaluation ---------------------------------------------------------------
    @torch.no_grad()
    def evaluate(self, z_eval, real_eval) -> list[dict]:
        fake = self.G(z_eval)
        d_real, d_fake = self.D(real_eval), self.D(fake)
        fake_np, real_np = fake.cpu().numpy(), real_eval.cpu().numpy()
        dr, df = d_real.cpu().numpy(), d_fake.cpu().numpy()
        self._last_fake = fake_np
        rows = []
        for s in range(len(self.seeds)):
            if not np.isfinite(fake_np[s]).all() or np.abs(fake_np[s]).max() > EXPLODE:
                rows.append(None)
                continue
            ev = Evaluation(self.ds, self.obj, real_np[s], fake_np[s], dr[s], df[s],
                            int(self.config.get("min_hq", 1)))
            row: dict = {}
            for pr in self.probes:
                row.update(pr.measure(ev))
            rows.append(row)
        return rows

    # --- the loop -----------------------------------------------------------------
    def run(self, on_steps: Callable[[int], None] | None = None) -> list[SeedResult]:
        steps, n_critic = int(self.config["steps"]), int(self.config["n_critic"])
        eval_every, n_eval = int(self.config["eval_every"]), int(self.config["n_eval"])
        S = len(self.seeds)
        eval_gens = [st["eval"] for st in self.streams]
        z_eval = self.noise(n_eval, eval_gens)          # fixed noise for every evaluation
        real_eval = self.real_batch(n_eval, eval_gens)
        hist = torch.full((steps, S, len(STEP_COLUMNS)), float("nan"), device=self.device)
        evals: dict[int, list] = {}
        alive = np.ones(S, dtype=bool)
        diverged_at: list[int | None] = [None] * S
        done = checked = 0
        for step in range(steps):
            for _ in range(n_critic):
                d_loss, d_penalty, d_real, d_fake = self.d_step()
            g_loss, gnorm = self.g_step()
            hist[step] = torch.stack([d_loss, d_penalty, g_loss, gnorm, d_real, d_fake], 1)
            done = step + 1
            if done % eval_every == 0 or done == steps:
                self._check_divergence(hist[checked:done], checked, alive, diverged_at)
                checked = done
                rows = self.evaluate(z_eval, real_eval)
                for s, row in enumerate(rows):
                    if row is None and alive[s]:
                        alive[s], diverged_at[s] = False, done
                evals[done] = rows
                if on_steps:
                    on_steps(done)
                if not alive.any():
                    break
        return self._results(hist[:done].cpu().numpy(), evals, alive, diverged_at, done,
                             real_eval.cpu().numpy())

    @staticmethod
    def _check_divergence(h: torch.Tensor, first: int, alive: np.ndarray, diverged_at: list) -> None:
        """Mark seeds with a non-finite or exploding value in ``h``, the rows of steps
        ``first + 1 ...`` (each step is checked once)."""
        bad = ~torch.isfinite(h).all(-1) | (h.abs() > EXPLODE).any(-1)  # (steps, S)
        bad = bad.cpu().numpy()
        for s in np.flatnonzero(alive & bad.any(0)):
            alive[s], diverged_at[s] = False, first + int(np.argmax(bad[:, s])) + 1

    def _results(self, h, evals, alive, diverged_at, done, real_eval) -> list[SeedResult]:
        results = []
        for s, seed in enumerate(self.seeds):
            df = pd.DataFrame(h[:, s], columns=STEP_COLUMNS)
            df.insert(0, "step", np.arange(1, len(df) + 1))
            if diverged_at[s] is not None:
                df = df.iloc[: diverged_at[s]]
            ev_rows = [dict(step=k, **r[s]) for k, r in evals.items() if r[s] is not None
                       and (diverged_at[s] is None or k < diverged_at[s])]
            if ev_rows:
                df = df.merge(pd.DataFrame(ev_rows), on="step", how="left")
            if alive[s]:
                last = evals[done][s]
                metrics = {k: v for k, v in last.items() if k != "modes_set"}
                metrics.update(history_metrics(df))
                results.append(SeedResult(seed, "ok", done, metrics, df, real_eval[s],
                                          self._last_fake[s]))
            else:
                results.append(SeedResult(seed, "diverged", done, {}, df, real_eval[s], None,
                                          diverged_at=diverged_at[s]))
        return results


def train_seeds(dataset_spec, config: dict, seeds: list[int], device="cpu",
                on_steps: Callable[[int], None] | None = None) -> tuple[list[SeedResult], float]:
    """Train ``seeds`` together; an exception marks every seed ``failed`` with its message.

    Returns the per-seed results and the wall time in seconds.
    """
    t0 = time.perf_counter()
    try:
        results = Trainer(dataset_spec, config, seeds, device).run(on_steps)
    except Exception as e:  # noqa: BLE001 - any error in a run is recorded, the suite goes on
        msg = f"{type(e).__name__}: {e}".splitlines()[0]
        results = [SeedResult(s, "failed", 0, error=msg) for s in seeds]
    return results, time.perf_counter() - t0
