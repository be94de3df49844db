"""``ganbench.Monitor``: ganbench's diagnostics for a training loop of your own.

    mon = Monitor("results/my_gan", dataset="ring8", variant="my_gan")
    for step in ...:                       # your loop, your G and D (plain nn.Modules)
        ...
        mon.log(step, d_loss=d_loss, g_loss=g_loss, G=G)      # after G's backward
        if step % 100 == 0:
            mon.evaluate(step, samples=G(z_eval), D=D)
    mon.vanishing_probe(step, G, z_dim=16, D=D)              # optional
    mon.close()

It writes the run folder the harness writes (``OUT/runs/<run_id>/config.json,
history.csv, metrics.json, samples.png, discriminator.npz``, the probe's files) and
the folder's ``summary.csv`` and ``table.md``, so ``ganbench report``, ``diagnose``,
``compare`` and ``check`` read it like a suite's results. Every number comes from the
harness's own code: the evaluation probes (coverage, Fréchet distance, D's outputs,
the theory metrics; FID/KID and class coverage through the same feature extractors on
image data), the history metrics (gradient vanishing, oscillation, mode drops), the
vanishing probe's summary and files, and the diagnosis. Several monitors (variants,
seeds) can write one folder.

``log`` keeps the values as tensors on their device (no host sync per step); they are
read at ``evaluate`` and ``close``.
"""
from __future__ import annotations

import copy
import json
import math
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Callable

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F

from .config.suite import RunSpec
from .data import datasets
from .errors import InputError
from .harness.artifacts import run_artifacts
from .harness.checkpoints import VANISHING_COLUMNS, VanishingProbe
from .harness.evaluation import EXPLODE, split_tracks
from .harness.features import build_extractor, mode_classifier
from .harness.loop import SeedResult
from .harness.probes import Evaluation, probes
from .layout import atomic_write
from .metrics.series import history_metrics
from .metrics.theory import d_star_on
from .objectives import minimax_d_loss
from .runs.api import write_tables
from .runs.store import run_files, summary_frame, write_run

#: the seed of the fixed real sample every evaluation compares against
REAL_SEED = 12345


def _grad_norm(module: torch.nn.Module) -> torch.Tensor | None:
    """L2 norm of the gradients now held by ``module``'s parameters (a tensor on their
    device), or None when none holds one."""
    grads = [p.grad.detach() for p in module.parameters() if p.grad is not None]
    if not grads:
        return None
    return torch.linalg.vector_norm(torch.stack([torch.linalg.vector_norm(g) for g in grads]))


def _scalar(v) -> torch.Tensor | float:
    return v.detach().reshape(()) if isinstance(v, torch.Tensor) else float(v)


def _reinitialised(D: torch.nn.Module) -> torch.nn.Module:
    """A copy of D with fresh weights (every submodule's ``reset_parameters``)."""
    fresh = copy.deepcopy(D)
    for m in fresh.modules():
        if hasattr(m, "reset_parameters"):
            m.reset_parameters()
    return fresh.requires_grad_(True)


class Monitor:
    """Diagnostics for your own GAN training loop, written as a ganbench run folder.

    ``dataset`` is a registered dataset (a name or ``{name: ..., settings}``) whose
    samples your loop trains on: its modes, density and reference images give the
    metrics. ``probability``: D outputs a logit (its sigmoid a probability), as with a
    cross-entropy loss; False for a critic (WGAN, hinge, LSGAN), whose outputs are kept
    raw. ``n_eval``: real samples every evaluation compares against (default: the
    dataset's, 2500 on 2D sets). ``features``: the FID extractor on image data (default:
    the dataset's, as in a suite).
    """

    def __init__(self, out, dataset="ring8", variant: str = "mine", seed: int = 0,
                 run_id: str | None = None, probability: bool = True, n_eval: int | None = None,
                 min_hq: int = 1, features=None, label: str | None = None):
        self.out = Path(out)
        spec = {"name": dataset} if isinstance(dataset, str) else dict(dataset)
        self.ds = datasets.build(spec, "dataset")
        self.label = label or spec["name"]
        self.variant, self.seed = str(variant), int(seed)
        self.run_id = run_id or f"{self.label}__{self.variant}__seed{self.seed}"
        self.spec_dataset = {**spec, "label": self.label}
        self.n_eval = int(n_eval or self.ds.default_n_eval)
        self.min_hq = int(min_hq)
        self.objective = SimpleNamespace(probability=bool(probability))
        self.probes = [p for p in (probes.build(n) for n in probes.names())
                       if p.applies(self.ds, self.objective)]
        self.real = self.ds.sample(self.n_eval, torch.Generator().manual_seed(REAL_SEED))
        self._features_spec, self._features, self._classifier = features, None, None
        self.config = {"source": "ganbench.Monitor", "probability": bool(probability),
                       "n_eval": self.n_eval, "min_hq": self.min_hq, "features": features}
        self._steps: list[int] = []
        self._rows: list[dict] = []
        self._evals: dict[int, tuple[dict, dict]] = {}
        self._last: dict | None = None          # the last evaluation's inputs
        self._probe_frames: list[pd.DataFrame] = []
        self._probe_steps: list[int] = []
        self._probe_d_steps = 0
        self._t0 = time.perf_counter()
        self._device = "cpu"
        self.closed = False

    # -- during training ------------------------------------------------------------
    def log(self, step: int, d_loss=None, g_loss=None, G: torch.nn.Module | None = None,
            D: torch.nn.Module | None = None, **values) -> None:
        """Record one training step: D's and G's losses, and with ``G`` the norm of the
        gradient its parameters hold (call after G's backward, before zeroing it); any
        other named number becomes a column of history.csv."""
        row: dict = {}
        if d_loss is not None:
            row["d_loss"] = _scalar(d_loss)
        if g_loss is not None:
            row["g_loss"] = _scalar(g_loss)
        if G is not None:
            norm = _grad_norm(G)
            if norm is not None:
                row["grad_norm_g"] = norm
        row.update({k: _scalar(v) for k, v in values.items()})
        self._steps.append(int(step))
        self._rows.append(row)

    @torch.no_grad()
    def evaluate(self, step: int, samples, D: torch.nn.Module | None = None) -> dict:
        """Score generated ``samples`` (n, dim), or (n, C, H, W) images in [-1, 1], as the
        harness scores an evaluation: against the fixed real sample, with ``D``'s outputs
        on both when given. Returns the numbers (also merged into history.csv)."""
        fake_t = torch.as_tensor(samples).detach()
        self._device = str(fake_t.device)
        fake = fake_t.reshape(len(fake_t), -1).float().cpu().numpy()
        real = self.real.numpy()
        d_real = d_fake = np.full(len(fake), np.nan)
        if D is not None:
            dev = next(D.parameters()).device
            shape = self.ds.image_shape or (self.ds.dim,)
            d_real = D(self.real.reshape(-1, *shape).to(dev)).reshape(-1).float().cpu().numpy()
            d_fake = D(fake_t.reshape(-1, *shape).to(dev)).reshape(-1).float().cpu().numpy()
        if not np.isfinite(fake).all() or np.abs(fake).max() > EXPLODE:
            self._evals[int(step)] = None
            return {}
        ev = Evaluation(self.ds, self.objective, real, fake, d_real, d_fake, self.min_hq,
                        self._prepared_features(), self._classifier, self._device)
        row: dict = {}
        for pr in self.probes:
            if not pr.final_only and (D is not None or not self._needs_d(pr.name)):
                row.update(pr.measure(ev))
        self._evals[int(step)] = split_tracks(row)
        self._last = {"step": int(step), "ev": ev, "D": D}
        return dict(self._evals[int(step)][0])

    @staticmethod
    def _needs_d(probe: str) -> bool:
        return probe in ("discriminator", "d_outputs")

    def _prepared_features(self):
        if self._features is None and self.ds.is_image:
            # loading may train the digit classifier once: with gradients, even when the
            # caller evaluates under torch.no_grad()
            with torch.enable_grad():
                ext = build_extractor(self._features_spec, self.ds)
                self._features = ext.prepare() if ext is not None else None
                self._classifier = mode_classifier(self.ds, self._features)
        return self._features

    def vanishing_probe(self, step: int, G: torch.nn.Module, z_dim: int | None = None,
                        D: torch.nn.Module | None = None, make_d: Callable | None = None,
                        noise: Callable[[int, torch.Generator], torch.Tensor] | None = None,
                        d_steps: int = 500, batch_size: int = 128, lr: float = 1e-3,
                        seed: int = 0) -> pd.DataFrame:
        """The Arjovsky-Bottou probe on a frozen copy of G: a fresh D (``make_d()``, or
        ``D`` with new weights) trains ``d_steps`` Adam steps (lr, betas (0.5, 0.999)) with
        the cross-entropy loss; after each, the norms of G's gradients of the saturating
        cost log(1 - D(G(z))) and the non-saturating -log D(G(z)) on a fixed batch. Noise
        is ``noise(n, generator)``, else N(0, 1) of ``z_dim``. G and D are not changed."""
        if make_d is None and D is None:
            raise InputError("vanishing_probe: give D (a fresh copy is trained) or make_d.")
        if noise is None and z_dim is None:
            raise InputError("vanishing_probe: give z_dim (or noise(n, generator)).")
        dev = next(G.parameters()).device
        draw = noise or (lambda n, g: torch.randn(n, z_dim, generator=g))
        frozen = copy.deepcopy(G).requires_grad_(True)
        critic = (make_d() if make_d else _reinitialised(D)).to(dev)
        opt = torch.optim.Adam(critic.parameters(), lr=lr, betas=(0.5, 0.999))
        gen = torch.Generator().manual_seed(seed)
        shape = self.ds.image_shape or (self.ds.dim,)
        d = lambda x: critic(x.reshape(-1, *shape)).reshape(-1)  # noqa: E731
        z_fixed = draw(batch_size, gen).to(dev)
        params = list(frozen.parameters())
        rows = []
        for _ in range(int(d_steps)):
            real = self.ds.sample(batch_size, gen).to(dev)
            with torch.no_grad():
                fake = frozen(draw(batch_size, gen).to(dev))
            r, f = d(real), d(fake)
            opt.zero_grad(set_to_none=True)
            minimax_d_loss(r, f).backward()
            opt.step()
            out = d(frozen(z_fixed))
            g_sat = torch.autograd.grad((-F.softplus(out)).mean(), params, retain_graph=True)
            g_ns = torch.autograd.grad(F.softplus(-out).mean(), params)
            norm = lambda gs: torch.linalg.vector_norm(torch.cat([g.reshape(-1) for g in gs]))  # noqa: E731
            rows.append(torch.stack([norm(g_sat), norm(g_ns), torch.sigmoid(r).mean().detach(),
                                     torch.sigmoid(f).mean().detach()]))
        vals = torch.stack(rows).cpu().numpy()
        df = pd.DataFrame(vals, columns=VANISHING_COLUMNS[2:])
        df.insert(0, "d_step", np.arange(1, len(df) + 1))
        df.insert(0, "checkpoint", int(step))
        self._probe_frames.append(df)
        self._probe_steps.append(int(step))
        self._probe_d_steps = int(d_steps)
        return df

    # -- at the end -------------------------------------------------------------------
    def _logged(self) -> tuple[pd.DataFrame, np.ndarray]:
        """The logged steps as a frame (one host transfer per column), and per step whether
        a value it logged was not finite or beyond 1e6 (the harness's divergence)."""
        cols = list(dict.fromkeys(k for r in self._rows for k in r))
        data, bad = {"step": self._steps}, np.zeros(len(self._rows), dtype=bool)
        for c in cols:
            given = [c in r for r in self._rows]
            vals = [torch.as_tensor(r[c], dtype=torch.float32).cpu() for r in self._rows if c in r]
            got = iter(torch.stack(vals).tolist()) if vals else iter(())
            col = np.array([next(got) if g else math.nan for g in given], dtype=float)
            bad |= np.array(given) & (~np.isfinite(col) | (np.abs(np.nan_to_num(col)) > EXPLODE))
            data[c] = col
        return pd.DataFrame(data), bad

    def history(self) -> pd.DataFrame:
        """history.csv so far: one row per logged step, the evaluations merged in."""
        h = self._logged()[0]
        evals = [dict(step=k, **v[0]) for k, v in sorted(self._evals.items()) if v is not None]
        if evals:
            h = h.merge(pd.DataFrame(evals), on="step", how="outer").sort_values("step")
        return h.reset_index(drop=True)

    def _final(self) -> dict:
        """The final-only probes (theory metrics, FID/KID) on the last evaluation."""
        if self._last is None:
            return {}
        row: dict = {}
        for pr in self.probes:
            if pr.final_only:
                row.update(pr.measure(self._last["ev"]))
        numbers, _ = split_tracks(row)
        self._evals[self._last["step"]][0].update(numbers)
        return numbers

    def _d_map(self, n: int = 80) -> dict | None:
        """D (and D*) on a grid over the plane from the last evaluation (2D, D given)."""
        last = self._last
        if last is None or last["D"] is None or self.ds.dim != 2 or self.ds.is_image:
            return None
        ev, D = last["ev"], last["D"]
        x0, x1, y0, y1 = self.ds.bounds()
        xs, ys = np.linspace(x0, x1, n), np.linspace(y0, y1, n)
        gx, gy = np.meshgrid(xs, ys)
        pts = torch.tensor(np.stack([gx.ravel(), gy.ravel()], 1), dtype=torch.float32)
        with torch.no_grad():
            out = D(pts.to(next(D.parameters()).device)).reshape(-1).float().cpu()
        prob = self.objective.probability
        m = {"xs": xs, "ys": ys, "d": (torch.sigmoid(out) if prob else out).numpy().reshape(n, n),
             "probability": prob, "fake": ev.fake[:1000]}
        if self.ds.has_density:
            m["d_star"] = d_star_on(pts, ev.fake, self.ds.log_prob).reshape(n, n)
        return m

    def _status(self) -> tuple[str, int | None]:
        """ok, or diverged at the first step that logged a value not finite or beyond 1e6,
        or whose evaluation's samples were."""
        _, bad = self._logged()
        firsts = [s for s, b in zip(self._steps, bad) if b]
        firsts += [k for k, e in self._evals.items() if e is None]
        return ("diverged", int(min(firsts))) if firsts else ("ok", None)

    def close(self) -> dict:
        """Write the run folder and the results folder's summary.csv and table.md; returns
        the run's metrics.json (its ``metrics`` hold the diagnosis)."""
        status, diverged_at = self._status()
        final = self._final() if status == "ok" else {}
        h = self.history()
        tracks = {}
        kept = [v for k, v in sorted(self._evals.items()) if v is not None
                and (diverged_at is None or k < diverged_at)]
        for name in {n for _, t in kept for n in t}:
            tracks[name] = [t[name] for _, t in kept if name in t]
        probe = VanishingProbe("vanishing", tuple(sorted(set(self._probe_steps))),
                               self._probe_d_steps or 1)
        tables = {probe.name: pd.concat(self._probe_frames, ignore_index=True)} \
            if self._probe_frames else {}
        metrics: dict = {}
        if status == "ok":
            if kept:
                metrics.update(kept[-1][0])
            metrics.update(final)
            metrics.update(history_metrics(h, tracks))
            if tables:
                metrics.update(probe.summarize(tables[probe.name]))
        else:
            h = h[h.step <= diverged_at]
        last = self._last["ev"] if self._last else None
        steps = int(h.step.max()) if len(h) else 0
        result = SeedResult(self.seed, status, steps, metrics, h,
                            last.real if last is not None else None,
                            last.fake if (last is not None and status == "ok") else None,
                            diverged_at=diverged_at, probe_tables=tables,
                            d_map=self._d_map() if status == "ok" else None)
        spec = RunSpec(self.run_id, self.spec_dataset, self.variant, self.seed, self.config)
        files, declared = run_artifacts(result, self.ds, [probe] if tables else [], self.run_id)
        rec = run_files(spec, result, time.perf_counter() - self._t0, 1, self._device, files,
                        declared)
        self.out.mkdir(parents=True, exist_ok=True)
        write_run(self.out, rec)
        write_results_summary(self.out)
        self.closed = True
        return rec.meta

    def __enter__(self) -> "Monitor":
        return self

    def __exit__(self, *exc) -> None:
        if not self.closed:
            self.close()


def write_results_summary(out: Path) -> pd.DataFrame:
    """summary.csv, table.csv and table.md of every run recorded in ``out`` (run folders
    of monitors, in run-id order)."""
    records = []
    for f in sorted(Path(out).glob("runs/*/metrics.json")):
        try:
            records.append(json.loads(f.read_text()))
        except ValueError:
            continue
    summary = summary_frame(records)
    atomic_write(Path(out) / "summary.csv", lambda p: summary.to_csv(p, index=False))
    write_tables(Path(out), summary)
    return summary


__all__ = ["Monitor", "write_results_summary"]
