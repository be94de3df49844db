"""Optimizers by name (torch.optim), with their settings from the suite.

Seed-stacked parameters are fine for these: Adam, SGD and RMSprop update each
element from its own gradient and state, so seed s is optimised exactly as alone.
"""
from __future__ import annotations

import inspect

import torch

from .registry import Registry

optimizers = Registry("optimizer")


def _fast(cls) -> dict:
    """``fused=True`` where this torch's optimizer has it (CPU and CUDA, ~3x faster
    than the default foreach path for ganbench's small models)."""
    return {"fused": True} if "fused" in inspect.signature(cls).parameters else {}


@optimizers.register("adam")
def adam(params, lr: float = 1e-4, betas=(0.5, 0.999), eps: float = 1e-8,
         weight_decay: float = 0.0, amsgrad: bool = False) -> torch.optim.Optimizer:
    """torch.optim.Adam (default betas (0.5, 0.999), the DCGAN setting)."""
    if not isinstance(betas, (list, tuple)) or len(betas) != 2:
        raise ValueError(f"betas: expected two numbers (beta1, beta2), e.g. [0.5, 0.999]; got {betas!r}")
    return torch.optim.Adam(params, lr=float(lr), betas=tuple(float(b) for b in betas),
                            eps=float(eps), weight_decay=float(weight_decay), amsgrad=bool(amsgrad), **_fast(torch.optim.Adam))


@optimizers.register("sgd")
def sgd(params, lr: float = 1e-2, momentum: float = 0.0, nesterov: bool = False,
        weight_decay: float = 0.0) -> torch.optim.Optimizer:
    """torch.optim.SGD."""
    return torch.optim.SGD(params, lr=float(lr), momentum=float(momentum),
                           nesterov=bool(nesterov), weight_decay=float(weight_decay),
                           **_fast(torch.optim.SGD))


@optimizers.register("rmsprop")
def rmsprop(params, lr: float = 5e-5, alpha: float = 0.99, eps: float = 1e-8,
            momentum: float = 0.0, weight_decay: float = 0.0) -> torch.optim.Optimizer:
    """torch.optim.RMSprop (default lr 5e-5, the WGAN paper's)."""
    return torch.optim.RMSprop(params, lr=float(lr), alpha=float(alpha), eps=float(eps),
                               momentum=float(momentum), weight_decay=float(weight_decay),
                               **_fast(torch.optim.RMSprop))


# --- per-slice hyperparameters ------------------------------------------------------
#
# Runs that differ only in their optimizer's numbers (lr, betas, eps, ...) train as one
# stacked model whose leading dimension is the run ("slice"). torch's optimizers take
# one number per parameter group, and a stacked parameter is one tensor, so these
# apply torch's own update rules (same formulas, same order of operations as the
# non-fused torch implementations) with each hyperparameter a tensor over the slices,
# broadcast along the slice dimension. Written by hand because no torch optimizer takes
# per-element hyperparameters. When every slice has the same numbers the group uses
# the torch optimizer itself (fused where torch has it), so plain seed stacking is
# unchanged.

#: the optimizer settings that may differ between the slices of one stacked model
PER_SLICE = ("lr", "betas", "eps", "weight_decay", "momentum", "alpha")


def per_slice(values, like: torch.Tensor) -> torch.Tensor:
    """(S, 1, ..., 1) tensor of per-slice numbers, to broadcast against ``like``."""
    t = torch.as_tensor(values, dtype=like.dtype, device=like.device)
    return t.view(-1, *([1] * (like.dim() - 1)))


class PerSliceOptimizer(torch.optim.Optimizer):
    """Base: ``hyper`` maps a setting to its per-slice values (lists of length S)."""

    def __init__(self, params, hyper: dict):
        params = list(params)
        n = {len(v) for v in hyper.values()}
        if len(n) != 1 or any(p.shape[0] != next(iter(n)) for p in params):
            raise ValueError("per-slice settings need one value per slice of every parameter")
        # "lr" is a factor on every slice's lr, for learning-rate schedules (LambdaLR sets it)
        super().__init__(params, {"hyper": hyper, "lr": 1.0})

    def _with_grads(self):
        """(parameter, its gradient, its state) for every parameter that has a gradient."""
        for p in self.param_groups[0]["params"]:
            if p.grad is not None:
                yield p, p.grad, self.state[p]

    def _h(self, name: str, p: torch.Tensor) -> torch.Tensor:
        cache = self.state[p].setdefault("_hyper", {})
        if name not in cache:
            cache[name] = per_slice(self.param_groups[0]["hyper"][name], p)
        return cache[name]

    def _lr(self, p: torch.Tensor) -> torch.Tensor:
        """The per-slice lr of ``p`` times the group's schedule factor."""
        lr, factor = self._h("lr", p), self.param_groups[0]["lr"]
        return lr if factor == 1.0 else lr * factor


class PerSliceAdam(PerSliceOptimizer):
    """torch.optim.Adam (amsgrad off) with per-slice lr, betas, eps, weight_decay."""

    @torch.no_grad()
    def step(self, closure=None):
        for p, g, st in self._with_grads():
            if "step" not in st:
                st["step"] = 0
                st["exp_avg"] = torch.zeros_like(p)
                st["exp_avg_sq"] = torch.zeros_like(p)
            st["step"] += 1
            lr, eps, wd = self._lr(p), self._h("eps", p), self._h("weight_decay", p)
            b1, b2 = self._h("beta1", p), self._h("beta2", p)
            g = g + wd * p
            st["exp_avg"].mul_(b1).add_((1 - b1) * g)
            st["exp_avg_sq"].mul_(b2).add_((1 - b2) * g * g)
            t = st["step"]
            bc1, bc2 = 1 - b1 ** t, 1 - b2 ** t
            denom = (st["exp_avg_sq"].sqrt() / bc2.sqrt()).add_(eps)
            p.sub_(lr / bc1 * st["exp_avg"] / denom)


class PerSliceRMSprop(PerSliceOptimizer):
    """torch.optim.RMSprop (not centered) with per-slice lr, alpha, eps, momentum,
    weight_decay."""

    @torch.no_grad()
    def step(self, closure=None):
        for p, g, st in self._with_grads():
            if "square_avg" not in st:
                st["square_avg"] = torch.zeros_like(p)
                st["momentum_buffer"] = torch.zeros_like(p)
            lr, alpha, eps = self._lr(p), self._h("alpha", p), self._h("eps", p)
            mom, wd = self._h("momentum", p), self._h("weight_decay", p)
            g = g + wd * p
            st["square_avg"].mul_(alpha).add_((1 - alpha) * g * g)
            avg = st["square_avg"].sqrt().add_(eps)
            # without momentum the buffer is g / avg itself (0 · buffer + g / avg)
            p.sub_(lr * st["momentum_buffer"].mul_(mom).add_(g / avg))


class PerSliceSGD(PerSliceOptimizer):
    """torch.optim.SGD (no nesterov) with per-slice lr, momentum, weight_decay."""

    @torch.no_grad()
    def step(self, closure=None):
        for p, g, st in self._with_grads():
            lr, mom, wd = self._lr(p), self._h("momentum", p), self._h("weight_decay", p)
            g = g + wd * p
            if "momentum_buffer" not in st:
                st["momentum_buffer"] = g.clone()          # torch: the first buffer is the gradient
            else:                                          # (without momentum: g itself)
                st["momentum_buffer"].mul_(mom).add_(g)
            p.sub_(lr * st["momentum_buffer"])


PER_SLICE_CLASSES = {"adam": PerSliceAdam, "rmsprop": PerSliceRMSprop, "sgd": PerSliceSGD}


def build_per_slice(specs: list[dict], params) -> torch.optim.Optimizer:
    """One optimizer for stacked ``params`` whose slice s follows ``specs[s]`` (resolved
    optimizer settings, same name and same non-numeric settings for every slice)."""
    names = {s["name"] for s in specs}
    if len(names) != 1 or next(iter(names)) not in PER_SLICE_CLASSES:
        raise ValueError(f"slices of one model need one optimizer among {', '.join(PER_SLICE_CLASSES)}")
    name = next(iter(names))
    if any(s.get("amsgrad") or s.get("nesterov") for s in specs):
        raise ValueError("amsgrad and nesterov cannot differ per slice; train those runs apart")
    defaults = {"eps": 1e-8, "weight_decay": 0.0, "momentum": 0.0, "alpha": 0.99,
                "betas": (0.9, 0.999)}
    hyper = {k: [s.get(k, defaults.get(k)) for s in specs] for k in PER_SLICE}
    hyper = {k: v if k == "betas" else [float(x) for x in v] for k, v in hyper.items()}
    hyper["beta1"] = [float(b[0]) for b in hyper["betas"]]
    hyper["beta2"] = [float(b[1]) for b in hyper.pop("betas")]
    return PER_SLICE_CLASSES[name](params, hyper)
