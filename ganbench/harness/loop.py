"""The training loop for S runs trained together as one stacked model: the schedule of
steps, evaluations and checkpoint probes, each fed to the run's recorder
(:mod:`ganbench.harness.recorder`: history, divergence, the per-seed results and files).

Seeds that share a dataset, variant and settings train as one seed-stacked model
(parameters with a leading seed dimension). Each seed has its own random streams
(initial weights, training noise and data, evaluation), so seed s gets the same
numbers whether it trains alone or stacked; nothing in a step mixes seeds, so one
seed going to NaN marks only that seed ``diverged``.
"""
from __future__ import annotations

import dataclasses
import json
import time
import traceback
from typing import Callable, Sequence

import torch

from ..data import datasets
from ..data.base import Dataset
from ..data.per_slice import stacked
from ..updates import StepLog
from ..layout.run_config import RunConfig
from .averaging import GeneratorAverage
from .build import build_parts, fresh_critic, probe_seeds, seed_streams
from .equilibrium import distance_to_equilibrium, eig_max_real, has_equilibrium
from .evaluation import Evaluator
from .features import prepared
from . import resume as resumed
from .recorder import Recorder, SeedResult
from .resume import LoopState, ResumePoint, ResumeFailed
from .saved import model_bytes

#: generated and real images an image run keeps (for its samples.png grid)
IMAGES_KEPT = 64


def trace(players) -> dict:
    """Per-step values the models report (Dirac-GAN: θ, ψ) and dist_eq, each (S,)."""
    out = {}
    for net in (players.G, players.D):
        if hasattr(net, "trace"):
            out.update({k: v.detach() for k, v in net.trace().items()})
    if has_equilibrium(players.G, players.D):
        out["dist_eq"] = distance_to_equilibrium(players.G, players.D).detach()
    return out


class Loop:
    """Trains S runs together, seed s with ``config`` (or, for runs that differ in what
    :mod:`ganbench.harness.stacking` lets differ, ``config[s]``) on ``dataset_spec`` (or,
    for datasets of one shape, ``dataset_spec[s]``: each seed draws from and is evaluated
    against its own); see :func:`train_seeds`. ``names``: the runs' names (titles in
    their files; default ``seed<s>``); ``dataset``: the dataset of ``dataset_spec`` when
    it is built already (one dataset for every seed)."""

    def __init__(self, dataset_spec, config: RunConfig | list[RunConfig], seeds: list[int],
                 device="cpu", names: Sequence[str] | None = None, dataset: Dataset | None = None):
        self._started = time.perf_counter()
        #: wall seconds spent before the checkpoint this run resumed from (0: none), and
        #: the step it resumed at (None: it trained from step 0)
        self.earlier_wall, self.resumed_at = 0.0, None
        device = torch.device(device)
        configs = list(config) if isinstance(config, list) else [config] * len(seeds)
        self.config, self.configs, self.seeds = configs[0], configs, list(seeds)
        self.dataset_specs = list(dataset_spec) if isinstance(dataset_spec, list) \
            else [dataset_spec] * len(seeds)
        self.dataset = dataset if dataset is not None else build_data(self.dataset_specs)
        streams = [seed_streams(s, device) for s in self.seeds]
        parts = build_parts(self.dataset, configs, [st["init_g"] for st in streams],
                            [st["init_d"] for st in streams], device,
                            train_gens=[st["train"] for st in streams])
        config = self.config
        self.players = parts.players
        self.update, self.checkpoint_probes = parts.update, parts.checkpoint_probes
        self.schedulers = parts.schedulers
        self.average = GeneratorAverage(self.players.G, [c.ema.decay for c in configs],
                                        [c.ema.start for c in configs]) if config.ema else None
        self.fresh_critic = fresh_critic(configs, self.dataset, device)
        self.probe_seeds = [probe_seeds(s) for s in self.seeds]
        evaluated = config.ema is not None and config.ema.evaluate
        self.evaluator = Evaluator(self.players, [st["eval"] for st in streams], config.n_eval,
                                   config.min_hq, *prepared(parts.features, self.dataset),
                                   self.average.avg if evaluated else None)
        self.columns = list(StepLog._fields) + list(trace(self.players))
        self.recorder = Recorder(self.dataset, self.seeds, self.columns, names,
                                 self.checkpoint_probes, config.log_every)
        #: seconds spent in periodic evaluations and in the end-of-run work (the final
        #: evaluation, the D maps, model.pt and every run's files), for benchmarks
        self.timings = {"eval": 0.0, "final": 0.0}

    def run(self, on_steps: Callable[[int], None] | None = None,
            resume: ResumePoint | None = None, live: Callable | None = None) -> list[SeedResult]:
        """Train to the end (or until every seed diverged) and return each seed's result.
        ``on_steps(n)`` is called after each evaluation (n steps done) and before each
        training checkpoint. ``resume``: where this group's training checkpoint lives;
        with ``checkpoint_every`` set, training continues from the checkpoint there (one
        that is whole and made for these runs) and writes one every ``checkpoint_every``
        steps (:mod:`ganbench.harness.resume`). ``live(n, rows, whole)`` is called after
        each evaluation with each seed's history rows since the last call
        (:meth:`Recorder.news`; ``whole``: since step 0, the first call of this training,
        resumed or not), for trackers that show a run while it trains."""
        steps, eval_every = self.config.steps, self.config.eval_every
        told = 0            # the last step handed to ``live``
        every = self.config.checkpoint_every if resume is not None else None
        pl, rec = self.players, self.recorder
        # the steps since the last evaluation, on the device (each is checked for
        # divergence there, and some are kept for the history)
        recent = torch.full((min(eval_every, steps), len(self.seeds), len(self.columns)),
                            float("nan"), device=pl.device)
        st = self.state = LoopState(pl, self.schedulers, self.average, rec, recent,
                                    started=self._started)
        checkpoint = resumed.load(resume) if every and not resume.fresh else None
        if checkpoint is not None:
            resumed.restore(st, checkpoint)
            self.earlier_wall, self.resumed_at = st.earlier_wall, st.done
        else:
            st.theory = {"eig_max_real": eig_max_real(pl)} if has_equilibrium(pl.G, pl.D) else {}
            self._checkpoint(0)
        for step in range(st.done, steps):
            self.step(step, recent, step - st.checked)
            st.done = done = step + 1
            self._after_step(done)
            self._checkpoint(done)
            if done % eval_every == 0 or done == steps:
                rec.steps(range(st.checked + 1, done + 1), recent[:done - st.checked])
                st.checked = done
                t0 = time.perf_counter()
                rows = self.evaluator.evaluate(final=done == steps)
                rec.evaluation(done, rows, self.evaluator.last_fake, self.evaluator.real_np)
                self.timings["final" if done == steps else "eval"] += time.perf_counter() - t0
                if on_steps:
                    on_steps(done)
                if live:
                    live(done, rec.news(told), told == 0)
                    told = done
                if not rec.alive.any():
                    break
            if every and done % every == 0 and done < steps:
                if on_steps and done % eval_every:          # (after an evaluation: said)
                    on_steps(done)
                resumed.save(resume, st.state_dict())
        rec.amend(st.done, [{k: v[s] for k, v in st.theory.items()} for s in range(len(self.seeds))])
        return self._results(st.done)

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
        pl.progress = step / self.config.steps
        # where training is, should this step fail: train_seeds keeps the steps before it
        self.at, self.window = step, hist
        logged: StepLog = self.update.step(pl)
        hist[step if row is None else row] = torch.stack(list(logged) + list(trace(pl).values()), 1)

    def _checkpoint(self, step: int) -> None:
        """Run the checkpoint probes due at G step ``step``."""
        for cp in self.checkpoint_probes:
            if step in cp.at:
                self.recorder.probe(cp, cp.run(self.players, step, self.probe_seeds,
                                               self.fresh_critic))

    def _model(self, s: int, status: str, done: int) -> bytes | None:
        """Seed s's model.pt, unless its config says ``checkpoint: false``."""
        cfg = self.configs[s]
        if not cfg.checkpoint:
            return None
        settings = cfg.as_dict()
        pl = self.players
        return model_bytes(s, pl.G, pl.D, self.average.avg if self.average else None,
                           self.evaluator.z[s], {
                               "seed": self.seeds[s], "status": status, "steps": done,
                               "dataset": self.dataset_specs[s], "data_dim": int(pl.dataset.dim),
                               "image_shape": getattr(pl.dataset, "image_shape", None),
                               "generator": settings["generator"],
                               "discriminator": settings["discriminator"], "ema": settings["ema"]})

    def _results(self, done: int) -> list[SeedResult]:
        keep = IMAGES_KEPT if self.dataset.is_image else None   # image runs keep a grid's worth
        real, fake = self.evaluator.real_np[:, :keep], self.evaluator.last_fake[:, :keep]
        alive = self.recorder.alive
        t0 = time.perf_counter()
        maps = self.evaluator.discriminator_maps() if alive.any() else None
        models = [self._model(s, "ok" if alive[s] else "diverged", done)
                  for s in range(len(self.seeds))]
        results = self.recorder.results(done, real, fake, maps, models)
        for r in results:
            r.resumed_at = self.resumed_at
        self.timings["final"] += time.perf_counter() - t0
        return results


def build_data(specs: list) -> Dataset:
    """The data of a stack whose seed s trains on ``specs[s]`` (each dataset built once)."""
    built: dict = {}
    for spec in specs:
        key = json.dumps(spec, sort_keys=True, default=str)
        if key not in built:
            built[key] = datasets.build(spec, "dataset")
    return stacked([built[json.dumps(s, sort_keys=True, default=str)] for s in specs])


def train_seeds(dataset_spec, config: RunConfig | list[RunConfig], seeds: list[int], device="cpu",
                on_steps: Callable[[int], None] | None = None, names: Sequence[str] | None = None,
                dataset: Dataset | None = None, resume: ResumePoint | None = None,
                reraise: bool = False, live: Callable | None = None) -> tuple[list[SeedResult], float]:
    """Train ``seeds`` together (one config, or one per seed; names, a built dataset and
    ``resume``, where the group's training checkpoint lives, and ``live``: see
    :class:`Loop`); an
    exception marks every seed ``failed`` with its message and its traceback
    (``reraise``: it propagates instead, ``ganbench run --debug``).

    Returns the per-seed results and the wall time in seconds (with a resumed run's,
    the time its checkpoint had taken).
    """
    t0 = time.perf_counter()
    loop = None
    try:
        try:
            loop = Loop(dataset_spec, config, seeds, device, names, dataset)
            results = loop.run(on_steps, resume, live)
        except ResumeFailed:            # half restored: built anew, from step 0
            loop = Loop(dataset_spec, config, seeds, device, names, dataset)
            results = loop.run(on_steps, dataclasses.replace(resume, fresh=True), live)
        earlier = loop.earlier_wall
    except Exception as e:  # noqa: BLE001 - any error in a run is recorded, the suite goes on
        if reraise:
            raise
        msg = f"{type(e).__name__}: {e}".splitlines()[0]
        results = failed(loop, seeds, msg, traceback.format_exc())
        earlier = 0.0
    return results, time.perf_counter() - t0 + earlier


def failed(loop: Loop | None, seeds: list[int], error: str, tb: str) -> list[SeedResult]:
    """Every seed ``failed`` with ``error``; once training had begun, each keeps the steps
    done before the failure: its history (the logged steps since the last evaluation
    included) and their count as its ``steps`` (the failure was in step ``steps + 1``)."""
    at = getattr(loop, "at", None)          # the step (from 0) in progress when it failed
    if at is None:
        return [SeedResult(s, "failed", 0, error=error, traceback=tb) for s in seeds]
    rec = loop.recorder
    checked = rec.last_step                 # recorded up to here; the rest is in the window
    if at > checked:
        rec.steps(range(checked + 1, at + 1), loop.window[:at - checked])
    done = max(at, rec.last_step)
    return [SeedResult(seed, "failed", done, history=rec.history(s), error=error, traceback=tb)
            for s, seed in enumerate(seeds)]
