"""``ganbench.Monitor``: ganbench's diagnostics for a training loop of your own (README).

An adapter (a stack of one seed) over the path the training loop takes too: the recorder,
the evaluations, final probes and D map (:mod:`ganbench.harness.evaluation`), the
vanishing probe, and the results store's writer (a run folder, summary.csv and tables).
"""
from __future__ import annotations

import sys
import time
from contextlib import AbstractContextManager
from pathlib import Path

import pandas as pd
import torch

from .data import datasets
from .errors import InputError
from .harness.checkpoints import checkpoint_probes
from .harness.d_output import OutputForm, logits
from .harness.evaluation import Evaluations
from .harness.features import build_extractor, prepared
from .harness.one_seed import OneSeed, grad_norm, reinitialised
from .harness.recorder import Recorder
from .objectives import DOutput
from .runs.store import run_files, write_runs
from .trackers import Trackers, parse_names

#: the seed of the fixed real sample every evaluation compares against
REAL_SEED = 12345


class Monitor(AbstractContextManager):
    """Diagnostics for your own GAN loop, a run folder in ``out``. ``dataset``: registered;
    ``d_output``: "logit", "probability" (D ends in a sigmoid) or "critic" (None: detected);
    ``n_eval``, ``features``: a suite's (default: the dataset's); ``log``: trackers."""

    def __init__(self, out, dataset="ring8", variant: str = "mine", seed: int = 0,
                 run_id: str | None = None, n_eval: int | None = None, min_hq: int = 1,
                 features=None, label: str | None = None, d_output: str | None = None,
                 log: str | list[str] | None = None):
        self.out, names = Path(out), parse_names(log, "log")
        spec = {"name": dataset} if isinstance(dataset, str) else dict(dataset)
        self.ds, label = datasets.build(spec, "dataset"), label or spec["name"]
        self.run_id = run_id or f"{label}__{variant}__seed{int(seed)}"
        self.form, self.shape = OutputForm(d_output), self.ds.image_shape or (self.ds.dim,)
        self.closed, self._t0, self._device, self._last = False, time.perf_counter(), "cpu", None
        self.settings = {"source": "ganbench.Monitor", "n_eval": int(n_eval or self.ds.default_n_eval),
                         "min_hq": int(min_hq), "features": features}
        self.record = {"run_id": self.run_id, "dataset": {**spec, "label": label},
                       "variant": str(variant), "seed": int(seed), "config": self.settings}
        self.real = self.ds.sample(self.settings["n_eval"], torch.Generator().manual_seed(REAL_SEED))
        with torch.enable_grad():       # a digit classifier may train once (then it is cached)
            ready = prepared(build_extractor(features, self.ds), self.ds)
        self.evals = Evaluations(self.ds, [self.form], self.real.unsqueeze(0), int(min_hq), *ready)
        self.recorder = Recorder(self.ds, [int(seed)], [], [self.run_id])
        self.trackers = Trackers(self.out, self.out.name, names, lambda m: print(m, file=sys.stderr))

    def log(self, step: int, d_loss=None, g_loss=None, G: torch.nn.Module | None = None,
            D: torch.nn.Module | None = None, **values) -> None:
        """One step: the losses, the norm of the gradient G's parameters hold (after G's
        backward), any other named number (a history.csv column), kept on its device."""
        row = {"d_loss": d_loss, "g_loss": g_loss, "grad_norm_g": None if G is None else grad_norm(G)}
        self.recorder.row(step, {k: v.detach().reshape(()) if isinstance(v, torch.Tensor) else float(v)
                                 for k, v in {**row, **values}.items() if v is not None})

    @torch.no_grad()
    def evaluate(self, step: int, samples, D: torch.nn.Module | None = None) -> dict:
        """Score ``samples`` (n, dim), or (n, C, H, W) in [-1, 1], as the harness scores an
        evaluation, with ``D``'s outputs when given; returns the numbers (history.csv's)."""
        fake = torch.as_tensor(samples).detach()
        self._device, fake = str(fake.device), fake.reshape(1, len(fake), -1)
        outputs = self.evals.judge(fake, None if D is None else OneSeed(D, "d", self.shape))
        if D is not None:
            self.form.of(D, *outputs)
        (row,) = self.evals.measure(fake, *outputs)
        self.recorder.evaluation(step, [row], self.evals.last_fake, self.evals.real_np)
        self._last = (int(step), D) if row is not None else self._last
        return dict(row[0]) if row is not None else {}

    def vanishing_probe(self, step: int, G: torch.nn.Module, z_dim: int | None = None,
                        D: torch.nn.Module | None = None, make_d=None, noise=None,
                        d_steps: int = 500, batch_size: int = 128, lr: float = 1e-3,
                        seed: int = 0) -> pd.DataFrame:
        """The harness's Arjovsky-Bottou probe on a frozen copy of G: a fresh D (``make_d()``,
        or ``D`` re-initialised) trained ``d_steps`` Adam steps; after each, G's gradient norms
        of log(1 - D(G(z))) and -log D(G(z)). Noise: ``noise(n, generator)``, else N(0, 1)."""
        if make_d is None and D is None:
            raise InputError("vanishing_probe: give D (a fresh copy is trained) or make_d.")
        if noise is None and z_dim is None:
            raise InputError("vanishing_probe: give z_dim (or noise(n, generator)).")
        critic = (make_d() if make_d else reinitialised(D)).to(next(G.parameters()).device)
        if self.form.form is None:
            with torch.no_grad():
                self.form.of(critic, OneSeed(critic, "d", self.shape)(self.real[None, :256]))
        probe = checkpoint_probes.build({"name": "vanishing", "at": [int(step)], "d_steps": int(d_steps)})
        table = probe.run_single(G, critic, self.ds.sample, noise or (lambda n, g: torch.randn(
            n, z_dim, generator=g)), batch_size, int(step), lr, self.shape,
            logits if self.form.form is DOutput.PROBABILITY else None, seed)
        self.recorder.probe(probe, [table])
        return table

    def history(self) -> pd.DataFrame:
        """history.csv so far: one row per logged step, the evaluations merged in."""
        return self.recorder.history(0)

    def close(self) -> dict:
        """Write the run folder, summary.csv and the tables; returns metrics.json."""
        rec, (last,) = self.recorder, self.evals.last
        done = rec.last_step            # (every logged step recorded: divergence known)
        ok = bool(rec.alive[0]) and self._last is not None
        if ok:                          # the final-only probes (theory, FID/KID), on the last one
            rec.amend(self._last[0], self.evals.finals())
        D = self._last[1] if ok else None
        maps = self.evals.d_maps(OneSeed(D, "d", self.shape)) if D is not None else None
        (result,) = rec.results(done, [last.real if last else None],
                                [last.fake if last else None], [maps[0] if maps else None])
        self.settings.update(d_output=self.form.form, d_output_by=self.form.how)
        files = run_files(self.record, result, time.perf_counter() - self._t0, 1, self._device)
        write_runs(self.out, [files], tables=True)       # every run in the folder: its summary
        self.closed = True
        if self.trackers:
            self.trackers.log([self.run_id])
            self.trackers.close()
        return files.meta

    def __exit__(self, *exc) -> None:
        if not self.closed:
            self.close()

