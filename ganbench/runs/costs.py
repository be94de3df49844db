"""A group's training time, predicted from its runs' settings by a measured model.

A group of S runs trains as one stacked model on one worker. Its wall time is

    fixed + steps × step + evaluations × evaluation + S × end

- ``step``, one training step of the whole stack (n_critic D steps and a G step), in
  two parts: what every step pays however deep the stack (the launches of its
  operations, about proportional to the parameter tensors each pass touches), and what
  each run adds (its arithmetic: multiply-adds of the networks' passes over the batch,
  and the optimizers' updates of its parameters). A gradient penalty adds a double
  backward through D to every D step, an unrolled update k differentiable D steps to
  every G step (each its own coefficients), an objective whose G loss needs real data a
  pass of D over it, G's average an update of G's parameters, each further objective in
  the stack its own loss, optimizer numbers that differ between slices a per-slice
  optimizer (about ten operations per parameter tensor where torch's fused one has one);
- ``evaluation``, each periodic evaluation (the probes on n_eval samples per run and
  its picture): per run, a part, a part proportional to n_eval, and G's and D's passes
  over the samples;
- ``end``, each run's end of training (the last evaluation with the theory metrics, D
  and D* on the plane, model.pt, the run's files, their writing by the driver): per
  run a part, the theory metrics' KDEs (n_eval² distances, data of a known density)
  and D*'s on the plane (6,400 × n_eval, 2D data and a D of single samples);
- ``fixed``, building the stack (per run and once).

The coefficients are measured by ``python benchmarks/costs.py``, which trains a set of
small stacks on the device, fits them, and writes them with their provenance (torch
version, CPU, threads, date, the fit's error) into ``costs.json`` beside this module,
one set per device kind. A device without a set of its own (a GPU, until someone
measures one) uses the CPU's: the ranking of groups (the longest first) still follows
their work, and the time left (:mod:`.progress`) is scaled by the pace measured so far,
so its unit does not matter. The networks' sizes are counted on one slice of each
network, built once per kind of group.
"""
from __future__ import annotations

import functools
import json
import math
from dataclasses import dataclass
from pathlib import Path

#: the coefficients, one set per device kind, with their provenance
COEFFICIENTS = Path(__file__).with_name("costs.json")
#: points of the plane D is drawn on at the end (an 80 × 80 grid)
PLANE = 6400
#: the sizes of suites/mog.yaml's networks (MLPs 3 × 64 on 2D data), for networks whose
#: size cannot be counted where the suite is planned
REFERENCE_SIZES = {"g_macs": 9344.0, "d_macs": 8384.0, "g_params": 9538.0, "d_params": 8577.0,
                   "g_tensors": 8, "d_tensors": 8, "image": False, "density": True,
                   "plane_map": True}


@dataclass(frozen=True)
class Features:
    """What a group's time depends on (one group: every run has the same settings but
    the numbers that may differ per slice)."""

    runs: int
    steps: int
    #: periodic evaluations (the one after the last step is the end's)
    evaluations: int
    n_eval: int
    batch: int
    n_critic: int
    #: gradient penalties of each D step (a double backward through D each)
    penalties: int
    #: D steps unrolled in each G step (0: not unrolled), counted twice when second order
    unrolled: float
    #: G's loss needs D on real data too (relativistic objectives)
    g_real: bool
    #: G's weights averaged at each step
    ema: bool
    #: D steps the checkpoint probes train (the vanishing probe's fresh D), priced as D steps
    probe_d_steps: int
    #: different objectives in the stack (each computes its loss on its own slices)
    objectives: int
    #: the slices' optimizer numbers differ (a per-slice optimizer instead of torch's own)
    sliced_optimizer: bool
    #: multiply-adds of one forward pass for one sample (D: per sample of a pack)
    g_macs: float
    d_macs: float
    #: parameters and parameter tensors of one slice
    g_params: float
    d_params: float
    g_tensors: int
    d_tensors: int
    image: bool
    #: the share of the runs whose data's density is known (the end's theory metrics,
    #: D* on the plane; a stack across datasets may mix them)
    density: float
    #: D and D* drawn on the plane at the end (2D data, a D that judges single samples)
    plane_map: bool

    def terms(self) -> dict[str, float]:
        """The model's terms: name -> the number its coefficient multiplies (the group's
        time is their sum, coefficient × term)."""
        S, B, steps = self.runs, self.batch, self.steps
        t = self.g_tensors + self.d_tensors
        g_real = 1.0 if self.g_real else 0.0
        d_steps = steps * self.n_critic + self.probe_d_steps
        penalized = steps * self.n_critic * self.penalties
        # multiply-adds per run of one step of each kind: passes (forward 1, backward 2)
        # over the batch: a G step through G and D, a D step through G (forward) and D
        # (forward and backward on real and fake)
        g_step = 3 * self.g_macs + (3 + 3 * g_real) * self.d_macs
        d_step = self.g_macs + 3 * 2 * self.d_macs
        return {
            # launches, about one per parameter tensor and pass, whatever the stack's depth
            "step_launch_g": steps * t * (1 + g_real),
            "step_launch_d": d_steps * t,
            "step_launch_penalty": penalized * self.d_tensors,
            "step_launch_unrolled": steps * self.unrolled * t,
            "step_launch_ema": steps * self.g_tensors if self.ema else 0.0,
            "step_launch_objectives": (steps + d_steps) * (self.objectives - 1),
            "step_launch_sliced": (steps * self.g_tensors + d_steps * self.d_tensors
                                   if self.sliced_optimizer else 0.0),
            # arithmetic, per run
            "step_macs": S * B * (steps * g_step + d_steps * d_step),
            "step_macs_penalty": S * B * penalized * 4 * self.d_macs,
            "step_macs_unrolled": S * B * steps * self.unrolled * (self.g_macs + self.d_macs),
            "step_params": S * (steps * self.g_params * (1 + self.ema) + d_steps * self.d_params),
            "step_params_sliced": (S * (steps * self.g_params + d_steps * self.d_params)
                                   if self.sliced_optimizer else 0.0),
            "eval_run": self.evaluations * S,
            "eval_sample": self.evaluations * S * self.n_eval,
            # G and D over the evaluation samples (D also over the real ones)
            "eval_macs": self.evaluations * S * self.n_eval * (self.g_macs + 2 * self.d_macs),
            "end_group": 1.0,
            "end_run": S,
            # the theory metrics' KDEs (n_eval² distances) and D* on the 80 × 80 plane's
            # KDE (6,400 × n_eval)
            "end_theory": S * self.density * self.n_eval ** 2 / 1e6,
            "end_map": S * self.density * self.n_eval / 1e3 if self.plane_map else 0.0,
            "end_macs": S * (self.n_eval * (self.g_macs + 2 * self.d_macs)
                             + (PLANE * self.d_macs if self.plane_map else 0.0)),
            "build_group": 1.0,
            "build_run": S}


def features_of(specs) -> Features:
    """The :class:`Features` of a group of runs (RunSpecs of one stack; with datasets of
    one shape, the networks are counted on the first, the density known per run)."""
    cfg = specs[0].config
    nets = [_sizes(json.dumps(sp.dataset_spec(), sort_keys=True, default=str), cfg) for sp in specs]
    net = {**nets[0], "density": sum(float(n["density"]) for n in nets) / len(nets)}
    from ..objectives import objectives
    from ..regularizers import regularizers
    from ..updates import Unrolled, updates
    obj = objectives.build(cfg.objective)
    penalties = sum(1 for r in list(obj.penalties) + [regularizers.build(r) for r in cfg.regularizers]
                    if r.fn is not None)
    update = updates.build(cfg.update)
    unrolled = (update.k * (2.0 if update.second_order else 1.0)) if isinstance(update, Unrolled) else 0.0
    steps, every = int(cfg.steps), max(1, int(cfg.eval_every))
    return Features(runs=len(specs), steps=steps, evaluations=math.ceil(steps / every) - 1,
                    n_eval=int(cfg.n_eval), batch=int(cfg.batch_size), n_critic=int(cfg.n_critic),
                    penalties=penalties, unrolled=unrolled, g_real=bool(obj.g_needs_real),
                    ema=bool(cfg.ema), probe_d_steps=probe_d_steps(cfg.checkpoint_probes),
                    objectives=len({_key(sp.config.objective) for sp in specs}),
                    sliced_optimizer=any(len({_key(sp.config.optimizer_for(k)) for sp in specs}) > 1
                                         for k in ("g_optimizer", "d_optimizer")), **net)


def _sizes(dataset: str, cfg) -> dict:
    try:
        return network_sizes(dataset, json.dumps(cfg.generator, sort_keys=True, default=str),
                             json.dumps(cfg.discriminator, sort_keys=True, default=str))
    except Exception:  # noqa: BLE001 - networks that cannot be built here: counted as mog's
        return REFERENCE_SIZES


def _key(spec) -> str:
    return json.dumps(spec, sort_keys=True, default=str)


def probe_d_steps(probes: list) -> int:
    """D steps the checkpoint probes train: ``d_steps`` at each step of ``at`` (the
    vanishing probe's settings; a probe without them counts none)."""
    total = 0
    for spec in probes:
        if isinstance(spec, dict):
            total += len(spec.get("at", ())) * int(spec.get("d_steps", 0) or 0)
    return total


@functools.lru_cache(maxsize=None)
def network_sizes(dataset: str, generator: str, discriminator: str) -> dict:
    """Multiply-adds per sample, parameters and parameter tensors of one slice of each
    network (JSON specs), counted on networks built for the dataset (once per kind)."""
    import torch
    from ..data import datasets
    from ..models import build_model, discriminators, generators
    ds = datasets.build(json.loads(dataset), "dataset")     # not kept: an image set is large
    init = [torch.Generator().manual_seed(0)]
    G = build_model(generators, json.loads(generator), "generator", ds, init)
    D = build_model(discriminators, json.loads(discriminator), "discriminator", ds, init)
    m = int(getattr(D, "packing", 1))
    z_dim = int(getattr(G, "z_dim", 1))
    return {"g_macs": _macs(G, (1, 2, z_dim)), "d_macs": _macs(D, (1, 2, m * ds.dim)) / m,
            "g_params": float(sum(p.numel() for p in G.parameters())),
            "d_params": float(sum(p.numel() for p in D.parameters())),
            "g_tensors": len(list(G.parameters())), "d_tensors": len(list(D.parameters())),
            "image": bool(ds.is_image), "density": bool(ds.has_density),
            "plane_map": ds.dim == 2 and not ds.is_image and m == 1}


def _macs(net, shape: tuple) -> float:
    """Multiply-adds of one forward pass per sample, on inputs of ``shape`` (1, 2, ...)
    (torch's FLOP counter; its parameters' count where it cannot run the network)."""
    import torch
    from torch.utils.flop_counter import FlopCounterMode
    try:
        with torch.no_grad(), FlopCounterMode(display=False) as counter:
            net(torch.zeros(shape))
        return counter.get_total_flops() / 2 / shape[1]
    except Exception:  # noqa: BLE001 - a network the counter cannot run: its size instead
        return float(sum(p.numel() for p in net.parameters()))


@functools.lru_cache(maxsize=None)
def coefficients(device_kind: str = "cpu") -> dict:
    """The measured coefficients for ``device_kind`` (the CPU's where it has none), with
    their provenance under ``"measured"``."""
    sets = json.loads(COEFFICIENTS.read_text())
    return sets.get(device_kind) or sets["cpu"]


@dataclass(frozen=True)
class Prediction:
    """A group's predicted seconds: in all, and its parts."""

    seconds: float
    fixed: float
    per_step: float
    per_evaluation: float
    end: float

    def done_after(self, steps: int, features: Features) -> float:
        """The share of the group's time done when ``steps`` steps (and the periodic
        evaluations among them) are done; the end counts when the group finishes."""
        every = features.steps / max(1, features.evaluations + 1)
        evals = min(features.evaluations, int(steps // every)) if every > 0 else 0
        done = self.fixed + steps * self.per_step + evals * self.per_evaluation
        return min(1.0, done / self.seconds) if self.seconds > 0 else 0.0


def predict(features: Features, device_kind: str = "cpu") -> Prediction:
    """The seconds of a group with ``features`` on one worker of ``device_kind``."""
    coef = coefficients(device_kind)["seconds"]
    terms = features.terms()
    part = {k: coef.get(k, 0.0) * v for k, v in terms.items()}
    steps = max(1, features.steps)
    fixed = part["build_group"] + part["build_run"]
    per_step = sum(v for k, v in part.items() if k.startswith("step_")) / steps
    per_eval = sum(v for k, v in part.items() if k.startswith("eval_")) / max(1, features.evaluations)
    end = sum(v for k, v in part.items() if k.startswith("end_"))
    return Prediction(max(sum(part.values()), 1e-3), fixed, per_step, per_eval, end)

