"""Wide stacking: which runs can train as one stacked model, and their per-slice parts.

Runs train as one model whose leading dimension is the run (a "slice") when they
differ only in

- the seed;
- the dataset, among datasets of one shape (:func:`data_key`: the sets of the plane,
  ring8, grid25, spiral and moons, with any settings): each slice draws from its own
  dataset and is evaluated against it (:mod:`ganbench.data.per_slice`);
- optimizer numbers: lr, betas, eps, weight_decay, momentum, alpha (per network);
- the weights of the penalties that say so (``per_slice``: r1, r2, gp, dragan, and
  wgan_gp's gp_weight);
- WGAN's clip value;
- the objective, among those with the same penalty kinds and the same ``g_needs_real``
  (minimax, nonsaturating, lsgan, hinge, wgan share a model);
- the averaging of G (``ema``): its decay and start (whether it is on, and whether
  evaluations use it, must be equal);
- ``checkpoint`` (whether model.pt is written).

Everything else (networks, update scheme, n_critic, batch, steps, evaluation, the
optimizer's kind and lr schedule, log_every, instance noise, consensus) must be equal:
:func:`stack_key` is the run config with those free numbers taken out. A schedule
whose factor depends on the lr (cosine with a min_lr > 0) keeps the lr equal too.
With an unrolled update, D's optimizer and the objective must be equal too (the
unrolled D steps use one rule). Each slice
keeps its own random streams (from its seed), so it equals the same run trained
alone (tests/harness/test_stacking.py).
"""
from __future__ import annotations

import dataclasses
import json

import torch

from ..data.toy2d import PLANE_SETS
from ..schedules import scheduler, schedules, split as split_schedule
from ..objectives import PerSliceObjective, objectives
from ..optimizers import PER_SLICE, build_per_slice, optimizers
from ..regularizers import regularizers
from ..layout.run_config import RunConfig

#: at most this many runs in one stacked model (deeper stacks gain little, and several
#: groups keep every worker busy)
MAX_SLICES = 48


def _per_slice_numbers(spec: dict) -> tuple[str, ...]:
    """The optimizer numbers that may differ between slices under ``spec``'s schedule."""
    sched = split_schedule(spec)[1]
    if sched is not None and schedules.build(sched).uses_lr:
        return tuple(k for k in PER_SLICE if k != "lr")
    return PER_SLICE


def _without_free_weight(spec: dict) -> dict:
    """A regularizer's settings without its weight where the weight may differ per slice."""
    per_slice = regularizers.build(spec).per_slice
    return {k: v for k, v in spec.items() if not (k == "weight" and per_slice)}


def stack_key(config: RunConfig) -> str:
    """Runs whose configs give the same key can train as one stacked model."""
    cfg = config.as_dict()
    unrolled = config.update["name"] == "unrolled"
    for key in ("g_optimizer", "d_optimizer"):
        spec = config.optimizer_for(key)
        free = _per_slice_numbers(spec)
        cfg[key] = spec if unrolled and key == "d_optimizer" else \
            {k: v for k, v in spec.items() if k not in free}
    del cfg["optimizer"], cfg["checkpoint"]
    if config.ema:
        cfg["ema"] = {"evaluate": config.ema.evaluate}
    cfg["regularizers"] = [_without_free_weight(r) for r in config.regularizers]
    if not unrolled:
        obj = objectives.build(config.objective)
        cfg["objective"] = {"penalties": [[p.name, None if p.per_slice else p.weight]
                                          for p in obj.penalties],
                            "g_needs_real": obj.g_needs_real}
    return json.dumps(cfg, sort_keys=True, default=str)


def data_key(dataset: dict) -> str:
    """Runs whose datasets give the same key can train as one stacked model (each slice
    on its own dataset, :mod:`ganbench.data.per_slice`): the sets of the plane
    (ganbench.data.toy2d.PLANE_SETS) together, any other dataset by its label."""
    return "the plane" if dataset["name"] in PLANE_SETS else f"dataset {dataset['label']}"


def chunks(items: list, limit: int = MAX_SLICES) -> list[list]:
    """``items`` in as few near-equal chunks of at most ``limit`` as possible."""
    n = -(-len(items) // limit)
    size = -(-len(items) // n) if items else 0
    return [items[i:i + size] for i in range(0, len(items), size)] if items else []


def _weighted(penalties_per_slice: list[tuple], device) -> tuple:
    """Position-wise, one penalty for all slices: the first slice's where the weights
    agree, else the same penalty with a per-slice weight tensor (S,)."""
    out = []
    for per_slice in zip(*penalties_per_slice):
        weights = [float(p.weight) for p in per_slice]
        if len(set(weights)) == 1:
            out.append(per_slice[0])
        else:
            out.append(dataclasses.replace(per_slice[0], weight=torch.tensor(weights, device=device)))
    return tuple(out)


def slice_objective(configs: list[RunConfig], path: str, device):
    """The objective of a stack: the objective itself when every slice has the same
    settings, else a :class:`PerSliceObjective`."""
    specs = [c.objective for c in configs]
    if all(s == specs[0] for s in specs):
        return objectives.build(specs[0], f"{path}objective")
    objs = [objectives.build(s, f"{path}objective") for s in specs]
    keys = [json.dumps(s, sort_keys=True, default=str) for s in specs]
    return PerSliceObjective(objs, keys, _weighted([o.penalties for o in objs], device))


def slice_regularizers(configs: list[RunConfig], path: str, device) -> list:
    per_slice = [[regularizers.build(r, f"{path}regularizers[{i}]")
                  for i, r in enumerate(c.regularizers)] for c in configs]
    if all(c.regularizers == configs[0].regularizers for c in configs):
        return per_slice[0]
    return list(_weighted([tuple(r) for r in per_slice], device))


def slice_optimizer(configs: list[RunConfig], key: str, net: torch.nn.Module, path: str = ""):
    """``key``'s optimizer for ``net``: torch's own when every slice has the same
    settings, else one with per-slice numbers (ganbench.optimizers.build_per_slice).
    The lr schedule is not part of it (:func:`slice_schedule`)."""
    specs = [split_schedule(c.optimizer_for(key))[0] for c in configs]
    params = list(net.parameters())
    if all(s == specs[0] for s in specs):
        return optimizers.build(specs[0], f"{path}{key}", params=params)
    return build_per_slice(specs, params)


def slice_schedule(configs: list[RunConfig], key: str, opt, path: str = ""):
    """The lr scheduler of ``key``'s optimizer ``opt`` over the run's steps (one schedule
    for every slice: it is part of the stack key), or None without one."""
    spec = configs[0].optimizer_for(key)
    return scheduler(opt, split_schedule(spec)[1], configs[0].steps, spec.get("lr"),
                     f"{path}{key}.schedule")
