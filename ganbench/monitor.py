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
history.csv, metrics.json, samples.png, discriminator.npz``, a picture of the samples
of each evaluation in ``samples/``, the probe's files) and
the folder's ``summary.csv`` and ``table.md``, so ``ganbench report``, ``diagnose``,
``compare`` and ``check`` read it like a suite's results. Monitor is an adapter: what
you log, evaluate and probe goes into the harness's own run recorder
(:class:`ganbench.harness.recorder.Recorder`: divergence, history, metrics, files),
evaluated by the harness's probes, D map and vanishing probe. Several monitors
(variants, seeds) can write one folder.

D's outputs may be logits, probabilities (a D that ends in ``nn.Sigmoid``, as in
PyTorch's DCGAN tutorial) or a critic's scores: the form is detected at the first
evaluation (:mod:`ganbench.harness.d_output`), or given (``d_output``), and recorded
in config.json.

``log="tensorboard"`` (or ``"wandb"``, ``"mlflow"``, a comma list or a list) logs the
run to experiment trackers when it is closed, from the run folder just written, as
``ganbench run --log`` does (:mod:`ganbench.trackers`; suite = the folder's name);
each tracker is checked when the Monitor is made.

:meth:`Monitor.log` keeps the values as tensors on their device (no host sync per step); they are
read at ``evaluate`` and ``close``.
"""
from __future__ import annotations

import copy
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pandas as pd
import torch

from .config.suite import RunSpec
from .data import datasets
from .errors import InputError
from .harness import d_output as d_forms
from .harness.checkpoints import checkpoint_probes
from .harness.evaluation import measure, single_d_map
from .harness.features import build_extractor, prepared
from .harness.probes import Evaluation, applicable
from .harness.recorder import Recorder
from .objectives import DOutput
from .runs.api import write_results_summary
from .runs.store import run_files, write_run
from .trackers import Trackers, parse_names

#: the seed of the fixed real sample every evaluation compares against
REAL_SEED = 12345


@dataclass(frozen=True)
class MonitorSettings:
    """What a Monitor's run records as its config (config.json's ``config``)."""

    n_eval: int
    min_hq: int
    features: Any
    #: the form of D's outputs (ganbench.harness.probes.D_OUTPUTS; None: no D seen)
    d_output: str | None
    #: how the form was decided: given, detected, or guessed (with a warning)
    d_output_by: str | None

    def as_dict(self) -> dict:
        return {"source": "ganbench.Monitor", **asdict(self)}


def _grad_norm(module: torch.nn.Module) -> torch.Tensor | None:
    """L2 norm of the gradients now held by ``module``'s parameters (a tensor on their
    device), or None when none holds one."""
    grads = [p.grad.detach() for p in module.parameters() if p.grad is not None]
    if not grads:
        return None
    return torch.linalg.vector_norm(torch.stack([torch.linalg.vector_norm(g) for g in grads]))


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
    metrics. ``d_output``: what D outputs, ``"logit"`` (σ(D) a probability, as with
    ``nn.BCEWithLogitsLoss``), ``"probability"`` (D ends in a sigmoid, ``nn.BCELoss``) or
    ``"critic"`` (WGAN, hinge, LSGAN: kept raw); None detects logit or probability at
    the first evaluation (``probability=False`` says a critic). ``n_eval``: real samples
    every evaluation compares against (default: the dataset's, 2500 on 2D sets).
    ``features``: the FID extractor on image data (default: the dataset's, as in a suite).
    ``log``: experiment trackers the run is logged to at :meth:`close` (``"tensorboard"``,
    ``"wandb"``, ``"mlflow"``, a comma list or a list; :mod:`ganbench.trackers`), each
    checked here (not installed or unreachable: InputError with the install line).
    """

    def __init__(self, out, dataset="ring8", variant: str = "mine", seed: int = 0,
                 run_id: str | None = None, n_eval: int | None = None,
                 min_hq: int = 1, features=None, label: str | None = None,
                 d_output: str | None = None, log: str | list[str] | None = None):
        self.out = Path(out)
        names = parse_names(log, "log")
        spec = {"name": dataset} if isinstance(dataset, str) else dict(dataset)
        self.ds = datasets.build(spec, "dataset")
        self.label = label or spec["name"]
        self.variant, self.seed = str(variant), int(seed)
        self.run_id = run_id or f"{self.label}__{self.variant}__seed{self.seed}"
        self.spec_dataset = {**spec, "label": self.label}
        self.n_eval = int(n_eval or self.ds.default_n_eval)
        self.min_hq = int(min_hq)
        self.d_output = d_forms.OutputForm(d_output)
        self.real = self.ds.sample(self.n_eval, torch.Generator().manual_seed(REAL_SEED))
        self._features_spec, self._features = features, None
        self.recorder = Recorder(self.ds, [self.seed], [], [self.run_id])
        self._steps: list[int] = []
        self._rows: list[dict] = []             # logged, not yet handed to the recorder
        self._last: dict | None = None          # the last evaluation's inputs
        self._t0 = time.perf_counter()
        self._device = "cpu"
        self.closed = False
        self.trackers = Trackers(self.out, self.out.name, names,
                                 lambda msg: print(msg, file=sys.stderr))

    # -- during training ------------------------------------------------------------
    def log(self, step: int, d_loss=None, g_loss=None, G: torch.nn.Module | None = None,
            D: torch.nn.Module | None = None, **values) -> None:
        """Record one training step: D's and G's losses, and with ``G`` the norm of the
        gradient its parameters hold (call after G's backward, before zeroing it); any
        other named number becomes a column of history.csv."""
        row: dict = {"d_loss": d_loss, "g_loss": g_loss,
                     "grad_norm_g": _grad_norm(G) if G is not None else None, **values}
        self._steps.append(int(step))
        self._rows.append({k: v.detach().reshape(()) if isinstance(v, torch.Tensor) else float(v)
                           for k, v in row.items() if v is not None})

    def _flush(self) -> None:
        """Hand the steps logged since the last call to the recorder."""
        if self._rows:
            self.recorder.rows(self._steps, self._rows)
            self._steps, self._rows = [], []

    @torch.no_grad()
    def evaluate(self, step: int, samples, D: torch.nn.Module | None = None) -> dict:
        """Score generated ``samples`` (n, dim), or (n, C, H, W) images in [-1, 1], as the
        harness scores an evaluation: against the fixed real sample, with ``D``'s outputs
        on both when given. Returns the numbers (also merged into history.csv)."""
        self._flush()
        fake_t = torch.as_tensor(samples).detach()
        self._device = str(fake_t.device)
        fake = fake_t.reshape(len(fake_t), -1).float().cpu().numpy()
        d_real = d_fake = None
        if D is not None:
            dev = next(D.parameters()).device
            shape = self.ds.image_shape or (self.ds.dim,)
            d_real = D(self.real.reshape(-1, *shape).to(dev)).reshape(-1).float().cpu().numpy()
            d_fake = D(fake_t.reshape(-1, *shape).to(dev)).reshape(-1).float().cpu().numpy()
            self.d_output.of(D, np.concatenate([d_real, d_fake]))
        form = self.d_output.form or DOutput.LOGIT
        ev = Evaluation(self.ds, form, self.real.numpy(), fake, d_real, d_fake, self.min_hq,
                        *self._prepared_features(), self._device)
        chosen = [p for p in applicable(self.ds, form)
                  if not p.final_only and (D is not None or not p.needs_d)]
        row = measure(ev, chosen)
        self.recorder.evaluation(step, [row], [fake], [ev.real])
        if row is None:
            return {}
        self._last = {"step": int(step), "ev": ev, "D": D}
        return dict(row[0])

    def _prepared_features(self) -> tuple:
        """The feature extractor and mode classifier (image data), loaded once."""
        if self._features is None:
            # loading may train the digit classifier once: with gradients, even when the
            # caller evaluates under torch.no_grad()
            with torch.enable_grad():
                self._features = prepared(build_extractor(self._features_spec, self.ds), self.ds)
        return self._features

    def vanishing_probe(self, step: int, G: torch.nn.Module, z_dim: int | None = None,
                        D: torch.nn.Module | None = None, make_d: Callable | None = None,
                        noise: Callable[[int, torch.Generator], torch.Tensor] | None = None,
                        d_steps: int = 500, batch_size: int = 128, lr: float = 1e-3,
                        seed: int = 0) -> pd.DataFrame:
        """The harness's Arjovsky-Bottou probe on a frozen copy of G: a fresh D
        (``make_d()``, or ``D`` with new weights) trains ``d_steps`` Adam steps (lr, betas
        (0.5, 0.999)) with the cross-entropy loss (on its logits); after each, the norms of
        G's gradients of the saturating cost log(1 - D(G(z))) and the non-saturating
        -log D(G(z)) on a fixed batch. Noise is ``noise(n, generator)``, else N(0, 1) of
        ``z_dim``. G and D are not changed."""
        if make_d is None and D is None:
            raise InputError("vanishing_probe: give D (a fresh copy is trained) or make_d.")
        if noise is None and z_dim is None:
            raise InputError("vanishing_probe: give z_dim (or noise(n, generator)).")
        dev = next(G.parameters()).device
        draw = noise or (lambda n, g: torch.randn(n, z_dim, generator=g))
        critic = (make_d() if make_d else _reinitialised(D)).to(dev)
        shape = self.ds.image_shape or (self.ds.dim,)
        if self.d_output.form is None:
            with torch.no_grad():
                out = critic(self.real[:256].reshape(-1, *shape).to(dev)).reshape(-1)
            self.d_output.of(critic, out.float().cpu().numpy())
        probe = checkpoint_probes.build({"name": "vanishing", "at": [int(step)],
                                         "d_steps": int(d_steps)})
        gen = torch.Generator().manual_seed(seed)
        table = probe.run_single(G, critic, lambda n: self.ds.sample(n, gen).to(dev),
                                 lambda n: draw(n, gen).to(dev), batch_size, int(step), lr, shape,
                                 d_forms.logits if self.d_output.form is DOutput.PROBABILITY else None)
        self.recorder.probe(probe, [table])
        return table

    # -- at the end -------------------------------------------------------------------
    def history(self) -> pd.DataFrame:
        """history.csv so far: one row per logged step, the evaluations merged in."""
        self._flush()
        return self.recorder.history(0)

    def close(self) -> dict:
        """Write the run folder and the results folder's summary.csv and table.md; returns
        the run's metrics.json (its ``metrics`` hold the diagnosis)."""
        self._flush()
        rec, last = self.recorder, self._last
        ok = bool(rec.alive[0])
        if ok and last is not None:     # the final-only probes (theory, FID/KID) on the last one
            finals = [p for p in applicable(self.ds, last["ev"].objective) if p.final_only]
            rec.amend(last["step"], [measure(last["ev"], finals)[0]])
        real = [last["ev"].real if last else None]
        fake = [last["ev"].fake if last else None]
        d_map = single_d_map(self.ds, last["D"], self.d_output.form, last["ev"].fake) \
            if ok and last is not None and last["D"] is not None else None
        (result,) = rec.results(rec.last_step, real, fake, [d_map])
        settings = MonitorSettings(self.n_eval, self.min_hq, self._features_spec,
                                   self.d_output.form, self.d_output.how)
        spec = RunSpec(self.run_id, self.spec_dataset, self.variant, self.seed, settings)
        files = run_files(spec, result, time.perf_counter() - self._t0, 1, self._device,
                          result.artifacts, result.declared)
        self.out.mkdir(parents=True, exist_ok=True)
        write_run(self.out, files)
        write_results_summary(self.out)
        self.closed = True
        if self.trackers:
            self.trackers.log([self.run_id])
            self.trackers.close()
        return files.meta

    def __enter__(self) -> "Monitor":
        return self

    def __exit__(self, *exc) -> None:
        if not self.closed:
            self.close()


__all__ = ["Monitor"]
