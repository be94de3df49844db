"""The training loop for S runs trained together as one stacked model: schedule, history, divergence,
evaluations and checkpoint probes, and the per-seed results.

Seeds that share a dataset, variant and settings train as one seed-stacked model
(parameters with a leading seed dimension). Each seed has its own random streams
(initial weights, training noise and data, evaluation), so seed s gets the same
numbers whether it trains alone or stacked; nothing in a step mixes seeds, so one
seed going to NaN marks only that seed ``diverged``.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import pandas as pd
import torch

from ..metrics.series import STEP_COLUMNS, history_metrics
from .averaging import GeneratorAverage
from .build import build_parts, fresh_critic, players_of, probe_seeds, seed_streams
from .equilibrium import distance_to_equilibrium, eig_max_real, has_equilibrium
from .evaluation import EXPLODE, Evaluator
from .features import mode_classifier
from .saved import model_bytes

#: generated and real images an image run keeps (for its samples.png grid)
IMAGES_KEPT = 64


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
    #: checkpoint probes' tables by probe name
    probe_tables: dict = field(default_factory=dict)
    #: D (and D*) on a grid over the plane, 2D datasets (written as discriminator.npz)
    d_map: dict | None = None
    #: the end-of-run checkpoint (model.pt: ganbench.harness.saved), unless checkpoint: false
    model: bytes | None = None


def trace(players) -> dict:
    """Per-step values the models report (Dirac-GAN: θ, ψ) and dist_eq, each (S,)."""
    out = {}
    for net in (players.G, players.D):
        if hasattr(net, "trace"):
            out.update({k: v.detach() for k, v in net.trace().items()})
    if has_equilibrium(players.G, players.D):
        out["dist_eq"] = distance_to_equilibrium(players.G, players.D).detach()
    return out


def divergence(h: torch.Tensor, first: int, alive: np.ndarray, diverged_at: list) -> None:
    """Mark seeds with a non-finite or exploding value in ``h``, the rows of steps
    ``first + 1 ...`` (each step is checked once)."""
    bad = ~torch.isfinite(h).all(-1) | (h.abs() > EXPLODE).any(-1)  # (steps, S)
    bad = bad.cpu().numpy()
    for s in np.flatnonzero(alive & bad.any(0)):
        alive[s], diverged_at[s] = False, first + int(np.argmax(bad[:, s])) + 1


class Loop:
    """Trains S runs of one dataset together, seed s with ``config`` (or, for runs that
    differ in what :mod:`ganbench.harness.stacking` lets differ, ``config[s]``); see
    :func:`train_seeds`."""

    def __init__(self, dataset_spec, config: dict | list[dict], seeds: list[int], device="cpu"):
        device = torch.device(device)
        configs = list(config) if isinstance(config, list) else [config] * len(seeds)
        self.config, self.configs, self.seeds = configs[0], configs, list(seeds)
        self.dataset_spec = dataset_spec
        streams = [seed_streams(s, device) for s in self.seeds]
        parts = build_parts(dataset_spec, configs, [st["init_g"] for st in streams],
                            [st["init_d"] for st in streams], device)
        config = self.config
        self.players = players_of(parts, config, [st["train"] for st in streams], device)
        self.update, self.checkpoint_probes = parts.update, parts.checkpoint_probes
        self.schedulers = parts.schedulers
        ema = config.get("ema")
        self.average = GeneratorAverage(parts.G, [c["ema"]["decay"] for c in configs],
                                        [c["ema"]["start"] for c in configs]) if ema else None
        self.fresh_critic = fresh_critic(configs, parts.dataset, device)
        self.probe_seeds = [probe_seeds(s) for s in self.seeds]
        self.probe_frames = {cp.name: [[] for _ in self.seeds] for cp in self.checkpoint_probes}
        features = parts.features.prepare() if parts.features is not None else None
        self.evaluator = Evaluator(self.players, [st["eval"] for st in streams],
                                   int(config["n_eval"]), int(config.get("min_hq", 1)), features,
                                   mode_classifier(parts.dataset, features),
                                   self.average.avg if ema and ema["evaluate"] else None)
        self.columns = STEP_COLUMNS + list(trace(self.players))
        #: seconds spent in periodic evaluations and in the end-of-run work (the final
        #: evaluation and the D maps), for benchmarks
        self.timings = {"eval": 0.0, "final": 0.0}

    def run(self, on_steps: Callable[[int], None] | None = None) -> list[SeedResult]:
        steps, eval_every = int(self.config["steps"]), int(self.config["eval_every"])
        log_every = int(self.config.get("log_every") or 1)
        pl, S = self.players, len(self.seeds)
        theory = {"eig_max_real": eig_max_real(pl)} if has_equilibrium(pl.G, pl.D) else {}
        # the steps since the last evaluation (every one is checked for divergence), of
        # which some are kept for the history
        recent = torch.full((min(eval_every, steps), S, len(self.columns)), float("nan"),
                            device=pl.device)
        kept_rows, kept_steps = [], []
        evals: dict[int, list] = {}
        alive = np.ones(S, dtype=bool)
        diverged_at: list[int | None] = [None] * S
        done = checked = 0
        self._checkpoint(0)
        for step in range(steps):
            self.step(step, recent, step - checked)
            done = step + 1
            self._after_step(done)
            self._checkpoint(done)
            if done % eval_every == 0 or done == steps:
                divergence(recent[:done - checked], checked, alive, diverged_at)
                # kept: every log_every-th step, this evaluation's, and where a seed diverged
                blew = {d for d in diverged_at if d is not None and d > checked}
                keep = [t for t in range(checked + 1, done + 1)
                        if t % log_every == 0 or t == done or t in blew]
                kept_rows.append(recent[[t - checked - 1 for t in keep]])
                kept_steps += keep
                checked = done
                t0 = time.perf_counter()
                rows = self.evaluator.evaluate(final=done == steps)
                self.timings["final" if done == steps else "eval"] += time.perf_counter() - t0
                for s, row in enumerate(rows):
                    if row is None and alive[s]:
                        alive[s], diverged_at[s] = False, done
                evals[done] = rows
                if on_steps:
                    on_steps(done)
                if not alive.any():
                    break
        for s, row in enumerate(evals[done]):
            if row is not None:
                row[0].update({k: v[s] for k, v in theory.items()})
        hist = torch.cat(kept_rows).cpu().numpy() if kept_rows else \
            np.zeros((0, S, len(self.columns)), dtype=np.float32)
        return self._results(hist, np.asarray(kept_steps, dtype=int), evals, alive, diverged_at,
                             done)

    def _after_step(self, step: int) -> None:
        """After training step ``step``: the averaged G and the lr schedules move."""
        if self.average is not None:
            self.average.update(step)
        for sched in self.schedulers:
            sched.step()

    def step(self, step: int, hist: torch.Tensor, row: int | None = None) -> None:
        """Training step ``step`` (from 0), its logged values written into ``hist[row]``
        (default ``hist[step]``) on the device: nothing here waits for the device
        (tests/harness/test_host_syncs.py)."""
        pl = self.players
        pl.progress = step / int(self.config["steps"])
        logged = self.update.step(pl)
        hist[step if row is None else row] = torch.stack(list(logged) + list(trace(pl).values()), 1)

    def _checkpoint(self, step: int) -> None:
        """Run the checkpoint probes due at G step ``step``."""
        for cp in self.checkpoint_probes:
            if step in cp.at:
                frames = cp.run(self.players, step, self.probe_seeds, self.fresh_critic)
                for s, frame in enumerate(frames):
                    self.probe_frames[cp.name][s].append(frame)

    def _model(self, s: int, status: str, done: int) -> bytes | None:
        """Seed s's model.pt, unless its config says ``checkpoint: false``."""
        cfg = self.configs[s]
        if not cfg.get("checkpoint", True):
            return None
        pl = self.players
        return model_bytes(s, pl.G, pl.D, self.average.avg if self.average else None,
                           self.evaluator.z[s], {
                               "seed": self.seeds[s], "status": status, "steps": done,
                               "dataset": self.dataset_spec, "data_dim": int(pl.dataset.dim),
                               "image_shape": getattr(pl.dataset, "image_shape", None),
                               "generator": cfg["generator"], "discriminator": cfg["discriminator"],
                               "ema": cfg.get("ema")})

    def _results(self, h, steps, evals, alive, diverged_at, done) -> list[SeedResult]:
        ds = self.players.dataset
        keep = IMAGES_KEPT if ds.is_image else None   # image runs keep a grid's worth
        real_eval, last_fake = self.evaluator.real_np[:, :keep], self.evaluator.last_fake[:, :keep]
        t0 = time.perf_counter()
        maps = self.evaluator.discriminator_maps() if alive.any() else None
        self.timings["final"] += time.perf_counter() - t0
        results = []
        for s, seed in enumerate(self.seeds):
            df = pd.DataFrame(h[:, s], columns=self.columns)
            df.insert(0, "step", steps)
            if diverged_at[s] is not None:
                df = df[df.step <= diverged_at[s]].reset_index(drop=True)
            kept = [(k, r[s]) for k, r in evals.items() if r[s] is not None
                    and (diverged_at[s] is None or k < diverged_at[s])]
            if kept:
                df = df.merge(pd.DataFrame([dict(step=k, **numbers) for k, (numbers, _) in kept]),
                              on="step", how="left")
            tracks = {name: [t[name] for _, (_, t) in kept if name in t]
                      for name in {n for _, (_, t) in kept for n in t}}
            tables = {cp.name: pd.concat(self.probe_frames[cp.name][s], ignore_index=True)
                      for cp in self.checkpoint_probes if self.probe_frames[cp.name][s]}
            if alive[s]:
                metrics = dict(evals[done][s][0])
                metrics.update(history_metrics(df, tracks))
                for cp in self.checkpoint_probes:
                    if cp.name in tables:
                        metrics.update(cp.summarize(tables[cp.name]))
                results.append(SeedResult(seed, "ok", done, metrics, df, real_eval[s],
                                          last_fake[s], probe_tables=tables,
                                          d_map=maps[s] if maps else None,
                                          model=self._model(s, "ok", done)))
            else:
                results.append(SeedResult(seed, "diverged", done, {}, df, real_eval[s], None,
                                          diverged_at=diverged_at[s], probe_tables=tables,
                                          model=self._model(s, "diverged", done)))
        return results


def train_seeds(dataset_spec, config: dict | list[dict], seeds: list[int], device="cpu",
                on_steps: Callable[[int], None] | None = None) -> tuple[list[SeedResult], float]:
    """Train ``seeds`` together (one config, or one per seed: see :class:`Loop`); an
    exception marks every seed ``failed`` with its message.

    Returns the per-seed results and the wall time in seconds.
    """
    t0 = time.perf_counter()
    try:
        results = Loop(dataset_spec, config, seeds, device).run(on_steps)
    except Exception as e:  # noqa: BLE001 - any error in a run is recorded, the suite goes on
        msg = f"{type(e).__name__}: {e}".splitlines()[0]
        results = [SeedResult(s, "failed", 0, error=msg) for s in seeds]
    return results, time.perf_counter() - t0
