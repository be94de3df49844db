"""Plain single-seed modules trained seed-stacked: :class:`PlainStack`.

A *plain factory* is a generator or discriminator factory without an ``init``
argument that returns one seed's ordinary ``nn.Module``, written the way any PyTorch
tutorial writes it (``nn.Linear``, ``nn.Conv2d``, ``nn.BatchNorm2d``, ...)::

    @generators.register("my_g")
    def my_g(data_dim: int, z_dim: int = 16, width: int = 64) -> nn.Module:
        return nn.Sequential(nn.Linear(z_dim, width), nn.ReLU(), nn.Linear(width, data_dim))

:func:`ganbench.models.build_model` calls it once per seed and wraps the S modules in
a :class:`PlainStack`, which trains them as one seed-stacked model like every built-in
one (each parameter has a leading seed dimension S) with ``torch.func``: the S
modules' parameters are stacked (``stack_module_state``) and each forward runs the
user's module once per seed under ``torch.vmap`` with ``functional_call``.

Why written by hand: ``torch.func`` has the pieces (stacking, functional calls,
vmap) but nothing in torch, nor any library we know of, packages them as a module
that *owns* the stacked weights as trainable parameters: the model-ensembling recipes
keep them as loose tensors and train with ``torch.func.grad``. ganbench's trainer,
optimizers, per-seed gradient norms, gradient penalties (double backward), unrolled
updates and Jacobian metric all work on an ``nn.Module`` whose ``parameters()`` are
the seed-stacked tensors and which ``functional_call`` can re-parametrise, so that
is what this adapter is (a few dozen lines of logic, torch only).

What it costs: vmap runs the seeds' linear layers as batched matmuls and their
convolutions as one grouped convolution, as the built-in models do by hand, but each
call adds Python and dispatch overhead (re-parametrising the module, vmap's batching
rules; a vmapped ``nn.Linear`` is slower than the built-in ``baddbmm``). Measured with
``benchmarks/plain_modules.py`` (trainer loop, one thread, shared 2-core CPU): ring8
MLP 64×3 0.63× the built-in's steps/s at 5 seeds, 0.85× at 16; DCGAN width 32 on
16×16 digits 0.95×. Results equal each seed trained alone up to float rounding (the
last bit of a vmapped matmul may depend on S), where the built-in MLP matches bit for bit.

Semantics that differ from eager ``nn.Module``:

- **batch norm uses the batch's statistics always** (training and evaluation; no
  running statistics are kept, ``torch.func.replace_all_batch_norm_modules_``), like
  ganbench's own ``StackedBatchNorm``. Generators with batch norm are evaluated in
  chunks of ``eval_chunk`` (500, as DCGAN) samples unless the module sets its own.
  Batch norm in a discriminator mixes the samples of a batch, so per-sample gradient
  penalties are then only approximately per sample, and torch has no third derivative
  of batch norm: a penalty combined with consensus, or with second-order unrolling,
  fails on such a discriminator;
- **no random numbers inside forward** (dropout, ...): they cannot be drawn from each
  seed's own stream, which would break "seed s gets the same numbers alone or
  stacked", so such a module is an error naming the cause;
- **no in-place state updates vmap cannot batch**, e.g. torch's ``spectral_norm``
  (its power iteration writes with ``out=``): an error that points to the built-in
  ``dcgan`` discriminator's ``spectral_norm: true``. Both errors, and a wrong output
  size, surface when the model is built (one forward on two zero samples), so a
  suite fails validation rather than mid-training;
- **per-seed init**: seed s's module is built with torch's global RNG seeded from a
  number drawn from that seed's init generator (inside ``torch.random.fork_rng``, so
  the caller's global RNG is untouched); the layers' default initialisation (or any
  init in the factory that draws from torch's global RNG) therefore gives seed s the
  same weights whether it trains alone or stacked.

Shapes: a generator maps (S, B, z_dim) -> (S, B, data_dim): the module sees
(B, z_dim) and may return (B, data_dim) or images (B, C, H, W) (flattened). A
discriminator maps (S, B, data_dim) -> (S, B): the module sees (B, C, H, W) on image
data, else (B, data_dim), and returns (B,) or (B, 1). A discriminator module may set
``packing`` (PacGAN): it then sees packs of m samples, (B/m, m·C, H, W) or
(B/m, m·data_dim).
"""
from __future__ import annotations

import copy
import inspect
from typing import Callable, Sequence

import torch
from torch import nn
from torch.func import functional_call, replace_all_batch_norm_modules_, stack_module_state

#: evaluation chunk of generators with batch norm (batch statistics differ by chunk size)
BATCH_NORM_EVAL_CHUNK = 500


def _get(module: nn.Module, name: str):
    """``module.a.b.c`` for ``name = "a.b.c"``, by attribute access (so a re-parametrisation
    by ``functional_call`` is seen)."""
    for part in name.split("."):
        module = getattr(module, part)
    return module


def _set(module: nn.Module, name: str, value) -> None:
    *path, last = name.split(".")
    for part in path:
        module = getattr(module, part)
    setattr(module, last, value)


def seed_of(init: torch.Generator) -> int:
    """The global-RNG seed a plain module of this seed is built under (drawn from ``init``)."""
    return int(torch.randint(0, 2**62, (1,), generator=init))


def build_per_seed(make: Callable[[], nn.Module],
                   init: Sequence[torch.Generator]) -> list[nn.Module]:
    """``make()`` once per seed, each under torch's global RNG seeded from ``init[s]``;
    the caller's global RNG state is left as it was."""
    modules = []
    for g in init:
        with torch.random.fork_rng(devices=[]):
            torch.random.default_generator.manual_seed(seed_of(g))
            m = make()
        if not isinstance(m, nn.Module):
            raise ValueError(f"a plain model factory must return an nn.Module, "
                             f"got {type(m).__name__}")
        modules.append(m)
    return modules


def _has_batch_norm(module: nn.Module) -> bool:
    return any(isinstance(m, nn.modules.batchnorm._BatchNorm) for m in module.modules())


class PlainStack(nn.Module):
    """S plain single-seed modules (same architecture) trained as one seed-stacked
    generator or discriminator; see the module docstring.

    ``module`` holds the stacked weights under the user's own names (its parameter
    ``fc.weight`` is the adapter's ``module.fc.weight``, shape (S, *per-seed shape)),
    so ``parameters()``, optimizers and per-seed gradient norms (``g.flatten(1)``) work
    as for built-in models; it is not callable by itself (:meth:`unstack` gives seed
    s's plain module).

    ``role`` is "generator" or "discriminator"; ``data_dim`` the flattened sample size;
    ``image_shape`` (C, H, W) for image data, else None; ``z_dim`` a generator's noise
    size when its module has no ``z_dim`` attribute.
    """

    def __init__(self, modules: Sequence[nn.Module], role: str, data_dim: int,
                 image_shape: Sequence[int] | None = None, z_dim: int | None = None):
        super().__init__()
        if role not in ("generator", "discriminator"):
            raise ValueError(f"role must be generator or discriminator, got {role!r}")
        modules = list(modules)
        if not modules:
            raise ValueError("need at least one module (one per seed)")
        kinds = {type(m) for m in modules}
        if len(kinds) > 1:
            raise ValueError(f"the per-seed modules differ in type: "
                             f"{sorted(k.__name__ for k in kinds)}")
        for m in modules:
            replace_all_batch_norm_modules_(m)   # batch statistics always, no running stats
        host = modules[0]
        self.role, self.n_seeds, self.data_dim = role, len(modules), int(data_dim)
        self.image_shape = tuple(int(v) for v in image_shape) if image_shape is not None else None
        if role == "generator":
            z = getattr(host, "z_dim", None)
            z = z if z is not None else z_dim
            if z is None:
                raise ValueError("a plain generator needs its noise size: give the module a "
                                 "z_dim attribute or its factory a z_dim setting")
            self.z_dim = int(z)
            chunk = getattr(host, "eval_chunk", None)
            if chunk is None and _has_batch_norm(host):
                chunk = BATCH_NORM_EVAL_CHUNK
            self.eval_chunk = chunk
        else:
            self.packing = int(getattr(host, "packing", 1))

        # stack every seed's tensors; tied weights (one tensor under several names) stay tied
        params, buffers = stack_module_state(modules)
        all_params = dict(host.named_parameters(remove_duplicate=False))
        all_buffers = dict(host.named_buffers(remove_duplicate=False))
        stacked_params = {n: nn.Parameter(t.detach()) for n, t in params.items()}
        for name, t in all_params.items():
            first = next(n for n in params if all_params[n] is t)
            _set(host, name, stacked_params[first])
        for name, t in all_buffers.items():
            first = next(n for n in buffers if all_buffers[n] is t)
            _set(host, name, buffers[first])
        self.module = host
        self._param_names = list(params)
        self._buffer_names = list(buffers)

    # --- the per-seed call ----------------------------------------------------------
    def _one_seed(self, params: dict, buffers: dict, x: torch.Tensor) -> torch.Tensor:
        out = functional_call(self.module, (params, buffers), (x,))
        B = x.shape[0]
        if self.role == "generator":
            out = out.reshape(B, -1)
            if out.shape[1] != self.data_dim:
                raise ValueError(f"the plain generator's output has {out.shape[1]} values per "
                                 f"sample; the dataset's samples have {self.data_dim}")
            return out
        if out.dim() == 2 and out.shape[1] == 1:
            out = out.squeeze(1)
        if tuple(out.shape) != (B,):
            raise ValueError(f"the plain discriminator must return (B,) or (B, 1) for B samples; "
                             f"got {tuple(out.shape)} for B = {B}")
        return out

    def _input_shape(self, features: int) -> tuple[int, ...]:
        """What one seed's module sees of one sample with ``features`` values."""
        if self.role == "discriminator" and self.image_shape is not None:
            _, H, W = self.image_shape
            return (features // (H * W), H, W)
        return (features,)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(S, B, z_dim) -> (S, B, data_dim) for a generator, (S, B, data_dim) -> (S, B)
        for a discriminator."""
        S, B, F = x.shape
        if S != self.n_seeds:
            raise ValueError(f"input has {S} seeds, the model {self.n_seeds}")
        # attribute access, so a functional_call over this adapter swaps them
        params = {n: _get(self.module, n) for n in self._param_names}
        buffers = {n: _get(self.module, n) for n in self._buffer_names}
        x = x.reshape(S, B, *self._input_shape(F))
        try:
            return torch.vmap(self._one_seed, randomness="error")(params, buffers, x)
        except RuntimeError as e:
            msg = str(e)
            if "randomness" in msg:
                raise RuntimeError(
                    "a plain module drew random numbers in forward (dropout or similar); "
                    "ganbench cannot give each seed its own stream there, so seeds would differ "
                    "alone and stacked. Remove the random layer (or write a seed-stacked "
                    "model).") from e
            if "Batching rule not implemented" in msg:
                raise RuntimeError(
                    f"the plain module uses an operation torch.vmap cannot run per seed "
                    f"({msg.splitlines()[0]}); in-place updates of its own state in forward do "
                    f"this, e.g. torch's spectral_norm power iteration (use the built-in dcgan "
                    f"discriminator's spectral_norm: true, or write a seed-stacked "
                    f"model)") from e
            raise

    # --- one seed back as a plain module ----------------------------------------------
    def unstack(self, s: int) -> nn.Module:
        """Seed s's plain module (a copy with its current weights), e.g. to save or sample;
        its batch norm layers keep using batch statistics (no running statistics)."""
        names = dict(self.module.named_parameters(remove_duplicate=False))
        names.update(dict(self.module.named_buffers(remove_duplicate=False)))
        memo = {id(t): nn.Parameter(t.detach()[s].clone(), requires_grad=t.requires_grad)
                if isinstance(t, nn.Parameter) else t.detach()[s].clone() for t in names.values()}
        return copy.deepcopy(self.module, memo=memo)

    def extra_repr(self) -> str:
        return f"role={self.role}, n_seeds={self.n_seeds}"


def factory_is_plain(factory: Callable) -> bool:
    """A model factory without an ``init`` argument returns one seed's plain module."""
    return "init" not in inspect.signature(factory).parameters


def build_plain(factory: Callable, role: str, init: Sequence[torch.Generator], data_dim: int,
                image_shape=None, settings: dict | None = None) -> PlainStack:
    """Call the plain ``factory`` once per seed (under that seed's RNG), passing
    ``data_dim`` / ``image_shape`` only if its signature takes them, plus ``settings``;
    wrap the modules in a :class:`PlainStack`."""
    settings = dict(settings or {})
    sig = inspect.signature(factory).parameters
    takes_all = any(p.kind is p.VAR_KEYWORD for p in sig.values())
    context = {}
    if "data_dim" in sig or takes_all:
        context["data_dim"] = int(data_dim)
    if "image_shape" in sig or takes_all:
        context["image_shape"] = tuple(image_shape) if image_shape is not None else None
    z_dim = settings.get("z_dim")
    if z_dim is None and "z_dim" in sig and sig["z_dim"].default is not inspect.Parameter.empty:
        z_dim = sig["z_dim"].default
    modules = build_per_seed(lambda: factory(**context, **settings), init)
    stack = PlainStack(modules, role, data_dim, image_shape, z_dim)
    check_forward(stack)
    return stack


def check_forward(stack: PlainStack, batch: int = 2) -> None:
    """One forward on a batch of zeros, so a shape mismatch or an operation vmap cannot
    run is an error when the model is built (suite validation), not mid-training."""
    features = stack.z_dim if stack.role == "generator" else stack.data_dim * stack.packing
    p = next(iter(stack.parameters()), None)
    x = torch.zeros(stack.n_seeds, batch, features, device=p.device if p is not None else None)
    try:
        with torch.no_grad():
            stack(x)
    except (RuntimeError, ValueError) as e:
        raise ValueError(f"a forward on {batch} zero samples failed: "
                         f"{str(e).splitlines()[0]}") from e


__all__ = ["PlainStack", "build_plain", "build_per_seed", "check_forward", "factory_is_plain"]
