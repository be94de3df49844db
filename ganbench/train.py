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
from .errors import at
from .game import Game, gradient_field, pack, sqnorm
from .metrics.classifier import digit_classifier
from .metrics.dynamics import distance_to_equilibrium, eig_max_real, has_equilibrium
from .metrics.fid import build_extractor
from .metrics.probes import Evaluation, probes
from .metrics.series import history_metrics
from .metrics.theory import d_star_on
from .metrics.vanishing import checkpoint_probes
from .models import build_model, discriminators, generators
from .objectives import objectives
from .optimizers import optimizers
from .registry import merge_spec
from .regularizers import regularizers
from .updates import Unrolled, unroll_rule, updates

#: |loss| or |generated value| above this counts as exploding (the run is ``diverged``).
EXPLODE = 1e6
#: logged every step (history.csv): D's game loss and its penalties apart (the last of
#: the n_critic D steps), G's loss, G's gradient norm, and mean D output on the real and
#: fake batch (a probability where D models one, else D's raw output).
STEP_COLUMNS = ["d_loss", "d_penalty", "g_loss", "grad_norm_g", "d_real", "d_fake"]
#: generated and real images an image run keeps (for its samples.png grid)
IMAGES_KEPT = 64


def probe_seeds(seed: int) -> tuple[int, int]:
    """Seeds of a seed's checkpoint probes (fresh D init, their batches), apart from training's."""
    return tuple(int(v) for v in np.random.SeedSequence(int(seed)).generate_state(6)[4:])


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
    game: Game
    update: Any
    G: torch.nn.Module
    D: torch.nn.Module
    opt_g: torch.optim.Optimizer
    opt_d: torch.optim.Optimizer
    checkpoint_probes: list
    features: Any = None    # FID/KID feature extractor (image datasets)


def build_discriminator(config: dict, ds, init: list, device, path: str = "") -> torch.nn.Module:
    """The run's discriminator, one seed per generator in ``init`` (also the vanishing
    probe's fresh D)."""
    return build_model(discriminators, config["discriminator"], f"{path}discriminator", ds,
                       init).to(device)


def build_optimizer(config: dict, key: str, net: torch.nn.Module, path: str = ""):
    """``key`` (g_optimizer or d_optimizer) settings on top of ``optimizer``, for ``net``."""
    return optimizers.build(merge_spec(config["optimizer"], config.get(key)), f"{path}{key}",
                            params=list(net.parameters()))


def build_parts(dataset_spec, config: dict, init_g: list, init_d: list,
                device: torch.device | str = "cpu", path: str = "") -> Parts:
    """Build dataset, objective, game, update scheme, models and optimizers (errors name ``path``)."""
    ds = datasets.build(dataset_spec, f"{path}dataset")
    obj = objectives.build(config["objective"], f"{path}objective")
    regs = [regularizers.build(r, f"{path}regularizers[{i}]")
            for i, r in enumerate(config.get("regularizers") or [])]
    update = updates.build(config.get("update") or "alternating", f"{path}update")
    G = build_model(generators, config["generator"], f"{path}generator", ds, init_g).to(device)
    D = build_discriminator(config, ds, init_d, device, path)
    game = Game(obj, regs + list(obj.penalties), packing=getattr(D, "packing", 1))
    for key in ("batch_size", "n_eval"):
        if int(config[key]) % game.packing:
            raise at(f"{path}{key}", f"{config[key]} is not a multiple of the discriminator's "
                                     f"packing ({game.packing}); change one of them.")
    if isinstance(update, Unrolled) and game.consensus:
        raise at(f"{path}update", "unrolled updates cannot be combined with consensus; drop one.")
    opt_g = build_optimizer(config, "g_optimizer", G, path)
    opt_d = build_optimizer(config, "d_optimizer", D, path)
    if isinstance(update, Unrolled):
        try:
            unroll_rule(opt_d, list(D.parameters()))   # can D's optimizer be unrolled?
        except ValueError as e:
            raise at(f"{path}update", str(e)) from None
    cps = [checkpoint_probes.build(c, f"{path}checkpoint_probes[{i}]")
           for i, c in enumerate(config.get("checkpoint_probes") or [])]
    for i, cp in enumerate(cps):
        if max(cp.at) > int(config["steps"]):
            raise at(f"{path}checkpoint_probes[{i}].at", f"step {max(cp.at)} is after the last "
                     f"step ({config['steps']}); use steps between 0 and {config['steps']}.")
    features = build_extractor(config.get("features"), ds, f"{path}features")
    if getattr(ds, "mode_channels", 0):
        try:
            digit_classifier(ds)    # trained (once, cached) before any run needs it
        except ValueError as e:
            raise at(f"{path}dataset", str(e)) from None
    return Parts(ds, obj, game, update, G, D, opt_g, opt_d, cps, features)


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
    #: checkpoint probes' tables by probe name (written as <name>.csv and <name>.png)
    extra: dict = field(default_factory=dict)
    #: D (and D*) on a grid over the plane, 2D datasets (written as discriminator.npz)
    d_map: dict | None = None


class Trainer:
    """Trains S seeds of one (dataset, variant) together; see :func:`train_seeds`."""

    def __init__(self, dataset_spec, config: dict, seeds: list[int], device="cpu"):
        self.device = torch.device(device)
        self.config, self.seeds = config, list(seeds)
        self.streams = [seed_streams(s, self.device) for s in self.seeds]
        p = build_parts(dataset_spec, config, [st["init_g"] for st in self.streams],
                        [st["init_d"] for st in self.streams], self.device)
        self.ds, self.obj, self.game, self.update = p.dataset, p.objective, p.game, p.update
        self.G, self.D, self.opt_g, self.opt_d = p.G, p.D, p.opt_g, p.opt_d
        self.checkpoint_probes, self.features = p.checkpoint_probes, p.features
        self.probe_seeds = [probe_seeds(s) for s in self.seeds]
        self.probe_frames: dict[str, list[list]] = {cp.name: [[] for _ in self.seeds]
                                                    for cp in self.checkpoint_probes}
        self.g_params, self.d_params = list(self.G.parameters()), list(self.D.parameters())
        self.train_gens = [st["train"] for st in self.streams]
        self.B, self.n_critic = int(config["batch_size"]), int(config["n_critic"])
        self.progress = 0.0   # fraction of training done (instance noise annealing)
        self.probes = [probes.build(n) for n in probes.names()]
        self.probes = [pr for pr in self.probes if pr.applies(self.ds, self.obj)]
        self.equilibrium = has_equilibrium(self.G, self.D)
        self.columns = STEP_COLUMNS + list(self._trace())

    # --- sampling: each seed from its own stream ----------------------------------
    def real_batch(self, n: int, gens) -> torch.Tensor:
        return torch.stack([self.ds.sample(n, g) for g in gens])

    def noise(self, n: int, gens) -> torch.Tensor:
        return torch.stack([torch.randn(n, self.G.z_dim, generator=g, device=self.device)
                            for g in gens])

    def _as_prob(self, out: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(out) if self.obj.probability else out

    # --- the players' updates (the schemes in ganbench.updates combine them) ---------
    def _apply(self, opt, params, grads) -> None:
        for p, g in zip(params, grads):
            p.grad = g.contiguous()  # fused optimizers assume the parameter's layout
        opt.step()

    def _clip_d(self) -> None:
        if self.obj.weight_clip is not None:
            with torch.no_grad():
                for prm in self.d_params:
                    prm.clamp_(-self.obj.weight_clip, self.obj.weight_clip)

    def _field(self, real, z, for_d, for_g):
        return gradient_field(self.game, self.G, self.D, self.g_params, self.d_params, real, z,
                              self.train_gens, self.progress, for_d, for_g)

    def _d_stats(self, dl):
        return (dl.game.detach(), dl.penalty.detach(), self._as_prob(dl.r.detach()).mean(1),
                self._as_prob(dl.f.detach()).mean(1))

    def d_update(self):
        """One D step; returns (game loss, penalty, mean D(real), mean D(fake))."""
        real = self.real_batch(self.B, self.train_gens)
        fld = self._field(real, self.noise(self.B, self.train_gens), True, False)
        self._apply(self.opt_d, self.d_params, fld.d_grads)
        self._clip_d()
        return self._d_stats(fld.d)

    def g_update(self, unroll: Unrolled | None = None):
        """One G step (against D unrolled by ``unroll`` if given); returns (loss, grad norm)."""
        z = self.noise(self.B, self.train_gens)
        needs_real = self.obj.g_needs_real or self.game.consensus or unroll is not None
        real = self.real_batch(self.B, self.train_gens) if needs_real else None
        if unroll is None:
            fld = self._field(real, z, False, True)
            grads, loss, norm = fld.g_grads, fld.g_loss, fld.grad_norm_g
        else:
            fake = self.G(z)
            d = unroll.unrolled_d(self, real, fake)
            loss = self.game.g_loss(d, fake, real, self.train_gens, self.progress)
            grads = torch.autograd.grad(loss.sum(), self.g_params)
            norm = sqnorm(grads).sqrt()
        self._apply(self.opt_g, self.g_params, grads)
        return loss.detach(), norm

    def joint_update(self):
        """Both players' gradients at the same point, then both steps."""
        real = self.real_batch(self.B, self.train_gens)
        fld = self._field(real, self.noise(self.B, self.train_gens), True, True)
        self._apply(self.opt_d, self.d_params, fld.d_grads)
        self._apply(self.opt_g, self.g_params, fld.g_grads)
        self._clip_d()
        game, pen, dr, df = self._d_stats(fld.d)
        return game, pen, fld.g_loss.detach(), fld.grad_norm_g, dr, df

    def _trace(self) -> dict:
        """Per-step values the models report (Dirac-GAN: θ, ψ, dist_eq), each (S,)."""
        out = {}
        for net in (self.G, self.D):
            if hasattr(net, "trace"):
                out.update({k: v.detach() for k, v in net.trace().items()})
        if self.equilibrium:
            out["dist_eq"] = distance_to_equilibrium(self.G, self.D).detach()
        return out

    # --- evaluation ---------------------------------------------------------------
    def _chunked(self, net, x: torch.Tensor, chunk: int | None) -> torch.Tensor:
        """``net`` over the batch dimension of x (S, n, ...) in chunks of ``chunk`` (all at
        once when None)."""
        if not chunk or x.shape[1] <= chunk:
            return net(x)
        return torch.cat([net(x[:, i:i + chunk]) for i in range(0, x.shape[1], chunk)], 1)

    @torch.no_grad()
    def evaluate(self, z_eval, real_eval, final: bool = False) -> list[dict]:
        """Every probe that applies, per seed (None for a seed whose samples blew up);
        probes marked ``final_only`` run at the last evaluation only. Models with an
        ``eval_chunk`` (batch-norm generators) see the samples in chunks of that size."""
        chunk = getattr(self.G, "eval_chunk", None)
        fake = self._chunked(self.G, z_eval, chunk)
        m = self.game.packing
        d_chunk = chunk and max(1, chunk // m)          # packs per chunk
        d_real = self._chunked(self.D, pack(real_eval, m), d_chunk)
        d_fake = self._chunked(self.D, pack(fake, m), d_chunk)
        fake_np, real_np = fake.cpu().numpy(), real_eval.cpu().numpy()
        dr, df = d_real.cpu().numpy(), d_fake.cpu().numpy()
        self._last_fake = fake_np
        active = [pr for pr in self.probes if final or not pr.final_only]
        rows = []
        for s in range(len(self.seeds)):
            if not np.isfinite(fake_np[s]).all() or np.abs(fake_np[s]).max() > EXPLODE:
                rows.append(None)
                continue
            ev = Evaluation(self.ds, self.obj, real_np[s], fake_np[s], dr[s], df[s],
                            int(self.config.get("min_hq", 1)), self.features, str(self.device))
            row: dict = {}
            for pr in active:
                row.update(pr.measure(ev))
            rows.append(row)
        return rows

    # --- the loop -----------------------------------------------------------------
    def run(self, on_steps: Callable[[int], None] | None = None) -> list[SeedResult]:
        steps, eval_every = int(self.config["steps"]), int(self.config["eval_every"])
        n_eval = int(self.config["n_eval"])
        S = len(self.seeds)
        eval_gens = [st["eval"] for st in self.streams]
        z_eval = self.noise(n_eval, eval_gens)          # fixed noise for every evaluation
        real_eval = self.real_batch(n_eval, eval_gens)
        theory = {"eig_max_real": eig_max_real(self)} if self.equilibrium else {}
        hist = torch.full((steps, S, len(self.columns)), float("nan"), device=self.device)
        evals: dict[int, list] = {}
        alive = np.ones(S, dtype=bool)
        diverged_at: list[int | None] = [None] * S
        done = checked = 0
        self._checkpoint(0)
        for step in range(steps):
            self.progress = step / steps
            logged = self.update.step(self)
            hist[step] = torch.stack(list(logged) + list(self._trace().values()), 1)
            done = step + 1
            self._checkpoint(done)
            if done % eval_every == 0 or done == steps:
                self._check_divergence(hist[checked:done], checked, alive, diverged_at)
                checked = done
                rows = self.evaluate(z_eval, real_eval, final=done == steps)
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
                row.update({k: v[s] for k, v in theory.items()})
        return self._results(hist[:done].cpu().numpy(), evals, alive, diverged_at, done,
                             real_eval.cpu().numpy())

    def _checkpoint(self, step: int) -> None:
        """Run the checkpoint probes due at G step ``step``."""
        for cp in self.checkpoint_probes:
            if step in cp.at:
                for s, frame in enumerate(cp.run(self, step)):
                    self.probe_frames[cp.name][s].append(frame)

    @torch.no_grad()
    def discriminator_maps(self, fake: np.ndarray, n: int = 80) -> list[dict] | None:
        """Per seed: D's output on an n×n grid framing the data, and D* = p/(p+q) there
        (q a KDE of the final samples) where the density is known. 2D, unpacked D only."""
        if self.ds.dim != 2 or self.game.packing != 1:
            return None
        x0, x1, y0, y1 = self.ds.bounds()
        xs, ys = np.linspace(x0, x1, n), np.linspace(y0, y1, n)
        gx, gy = np.meshgrid(xs, ys)                      # rows: y, columns: x
        pts = torch.tensor(np.stack([gx.ravel(), gy.ravel()], 1), dtype=torch.float32,
                           device=self.device)
        out = self._as_prob(self.D(pts.expand(len(self.seeds), -1, -1).contiguous())).cpu().numpy()
        maps = []
        for s in range(len(self.seeds)):
            m = {"xs": xs, "ys": ys, "d": out[s].reshape(n, n), "probability": self.obj.probability,
                 "fake": fake[s][:1000]}
            if self.ds.has_density and np.isfinite(fake[s]).all():
                m["d_star"] = d_star_on(pts.cpu(), fake[s], self.ds.log_prob).reshape(n, n)
            maps.append(m)
        return maps

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
        keep = IMAGES_KEPT if self.ds.is_image else None   # image runs keep a grid's worth
        real_eval, last_fake = real_eval[:, :keep], self._last_fake[:, :keep]
        maps = self.discriminator_maps(self._last_fake) if alive.any() else None
        for s, seed in enumerate(self.seeds):
            df = pd.DataFrame(h[:, s], columns=self.columns)
            df.insert(0, "step", np.arange(1, len(df) + 1))
            if diverged_at[s] is not None:
                df = df.iloc[: diverged_at[s]]
            ev_rows = [dict(step=k, **r[s]) for k, r in evals.items() if r[s] is not None
                       and (diverged_at[s] is None or k < diverged_at[s])]
            if ev_rows:
                df = df.merge(pd.DataFrame(ev_rows), on="step", how="left")
            extra = {cp.name: pd.concat(self.probe_frames[cp.name][s], ignore_index=True)
                     for cp in self.checkpoint_probes if self.probe_frames[cp.name][s]}
            if alive[s]:
                last = evals[done][s]
                metrics = {k: v for k, v in last.items() if k != "modes_set"}
                metrics.update(history_metrics(df))
                for cp in self.checkpoint_probes:
                    if cp.name in extra:
                        metrics.update(cp.summarize(extra[cp.name]))
                results.append(SeedResult(seed, "ok", done, metrics, df, real_eval[s],
                                          last_fake[s], extra=extra,
                                          d_map=maps[s] if maps else None))
            else:
                results.append(SeedResult(seed, "diverged", done, {}, df, real_eval[s], None,
                                          diverged_at=diverged_at[s], extra=extra))
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
