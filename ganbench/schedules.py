"""Learning-rate schedules by name, set per optimizer with its ``schedule`` setting:

    optimizer: {name: adam, lr: 0.001, schedule: {name: linear, fraction: 0.5}}

A schedule is a factor on the optimizer's lr as a function of the training steps done,
t = 0, 1, ..., steps - 1 (the lr of step t + 1): ``constant`` (1), ``linear`` (1,
then down to 0 linearly over the last ``fraction`` of the run's steps), ``cosine``
(from lr to ``min_lr`` along half a cosine). Both networks' schedulers step once per
training step (one G step and its ``n_critic`` D steps), through
``torch.optim.lr_scheduler.LambdaLR``. The per-slice optimizers of wide stacking
(:mod:`ganbench.optimizers`) take the factor on their per-slice lrs, so runs that
differ in lr stack under one schedule.
"""
from __future__ import annotations

import inspect
import math
from dataclasses import dataclass
from typing import Any, Callable

import torch

from .errors import at
from .registry import Registry, merge_spec, split_spec

schedules = Registry("schedule")


@dataclass(frozen=True)
class Schedule:
    #: (t, steps, base lr) -> factor on the base lr for step t + 1
    factor: Callable[[int, int, float], float]
    #: the factor depends on the base lr (then runs with other lrs cannot share it)
    uses_lr: bool = False


@schedules.register("constant")
def constant() -> Schedule:
    """The optimizer's lr at every step (the default)."""
    return Schedule(lambda t, steps, lr: 1.0)


@schedules.register("linear")
def linear(fraction: float = 0.5) -> Schedule:
    """lr, then linearly down to 0 over the last `fraction` of the run's steps."""
    if isinstance(fraction, bool) or not isinstance(fraction, (int, float)) or not 0 < fraction <= 1:
        raise ValueError(f"fraction must be in (0, 1], got {fraction!r}")
    f = float(fraction)

    def factor(t: int, steps: int, lr: float) -> float:
        return min(1.0, (steps - t) / (f * steps))
    return Schedule(factor)


@schedules.register("cosine")
def cosine(min_lr: float = 0.0) -> Schedule:
    """From lr down to `min_lr` along half a cosine over the run's steps."""
    if isinstance(min_lr, bool) or not isinstance(min_lr, (int, float)) or min_lr < 0:
        raise ValueError(f"min_lr must be a number >= 0, got {min_lr!r}")
    lo = float(min_lr)

    def factor(t: int, steps: int, lr: float) -> float:
        c = 0.5 * (1 + math.cos(math.pi * t / steps))
        return (lo + (lr - lo) * c) / lr if lr > 0 else c
    return Schedule(factor, uses_lr=lo > 0)


def split(spec: Any) -> tuple[Any, Any]:
    """An optimizer spec -> (the spec without ``schedule``, the schedule spec or None)."""
    if isinstance(spec, dict) and "schedule" in spec:
        rest = {k: v for k, v in spec.items() if k != "schedule"}
        return rest, spec["schedule"]
    return spec, None


def merge(base: Any, override: Any) -> Any:
    """``merge_spec`` for optimizer specs, the ``schedule`` setting merged the same way
    (``{schedule: {fraction: 0.3}}`` over a linear schedule keeps it linear)."""
    out = merge_spec(base, override)
    b, o = split(base)[1], split(override)[1]
    if b is not None and o is not None and isinstance(out, dict) and out is not override:
        out = {**out, "schedule": merge_spec(b, o)}
    return out


def resolve(spec: Any, lr: Any, path: str) -> dict:
    """The schedule spec with every setting filled in (errors name ``path``)."""
    name, params = split_spec(spec, path)
    schedules.build(spec, path)          # checks the name and the settings
    full = {"name": name, **_defaults(name), **params}
    if name == "cosine" and isinstance(lr, (int, float)) and full["min_lr"] > lr:
        raise at(f"{path}.min_lr", f"{full['min_lr']} is above the optimizer's lr ({lr}); "
                                   "give a min_lr below lr.")
    return full


def _defaults(name: str) -> dict:
    return {p.name: p.default for p in inspect.signature(schedules.get(name)).parameters.values()
            if p.default is not inspect.Parameter.empty}


def scheduler(opt: torch.optim.Optimizer, spec: Any, steps: int, lr: float | None = None,
              path: str = ""):
    """A ``LambdaLR`` moving ``opt``'s lr by the schedule ``spec`` over ``steps`` training
    steps (call ``step()`` after each), or None for no schedule or ``constant``. ``lr``
    is the base lr (the factor of ``cosine`` with a ``min_lr`` depends on it)."""
    if spec is None or split_spec(spec, path)[0] == "constant":
        return None
    sched = schedules.build(spec, path)
    steps = int(steps)
    lr = float(lr if lr is not None else opt.param_groups[0]["lr"])
    return torch.optim.lr_scheduler.LambdaLR(opt, lambda t: sched.factor(t, steps, lr))
