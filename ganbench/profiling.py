"""What a piece of PyTorch code costs a GPU: its kernel launches, counted with
torch.profiler, and its wall time with the device's queue drained.

- :func:`aten_kernels`, on any device: the aten operations that would each be one
  kernel launch on a GPU (the lowest operations that do work; views and metadata left
  out). A proxy measured on the CPU: foreach operations, one kernel on a GPU, count
  once per tensor here, and a library call that launches several kernels counts once.
- :func:`cuda_launches`, on a GPU: the kernel launches the CUDA runtime saw (its
  ``cudaLaunchKernel`` calls and their kin).
- :func:`timed`: seconds per call of a function, after warm-up calls, with the GPU
  synchronized before the clock starts and after it stops.

The benchmarks (``benchmarks/sampling.py``, ``benchmarks/gpu_estimate.py``) and the
self-test (:mod:`ganbench.selftest`) count with these. Written here because
torch.profiler reports events, not launch counts: which events are launches is
PyTorch's and CUDA's naming, kept in one place.
"""
from __future__ import annotations

import os
import time
from typing import Callable

import torch
from torch.profiler import ProfilerActivity, profile

# Kineto, torch.profiler's backend, prints a line at every start and stop of the
# profiler (and an error on a machine without a GPU) unless told otherwise; read when
# the profiler first starts
os.environ.setdefault("KINETO_LOG_LEVEL", "6")

#: aten ops that launch no kernel on a GPU (views, metadata, allocation)
NO_KERNEL = {"aten::view", "aten::reshape", "aten::_reshape_alias", "aten::as_strided",
             "aten::expand", "aten::unsqueeze", "aten::squeeze", "aten::transpose", "aten::t",
             "aten::permute", "aten::select", "aten::slice", "aten::detach", "aten::alias",
             "aten::_unsafe_view", "aten::empty", "aten::empty_like", "aten::empty_strided",
             "aten::resolve_conj", "aten::resolve_neg", "aten::flatten", "aten::unflatten",
             "aten::split", "aten::split_with_sizes", "aten::narrow", "aten::lift_fresh",
             "aten::result_type", "aten::is_nonzero", "aten::to", "aten::_to_copy_noop",
             "aten::set_", "aten::unbind", "aten::chunk", "aten::expand_as", "aten::view_as",
             "aten::contiguous", "aten::numpy_T", "aten::matrix_H", "aten::conj", "aten::_conj",
             "aten::_neg_view", "aten::squeeze_", "aten::unsqueeze_", "aten::t_",
             "aten::_has_compatible_shallow_copy_type", "aten::item", "aten::zero_"}

#: the CUDA runtime and driver calls that launch a kernel (as torch.profiler names them)
LAUNCH_CALLS = {"cudaLaunchKernel", "cudaLaunchKernelExC", "cuLaunchKernel", "cuLaunchKernelEx",
                "cudaLaunchCooperativeKernel", "cudaLaunchCooperativeKernelMultiDevice",
                "cudaGraphLaunch"}


#: aten ops that launch a kernel of their own besides the ops they call (the bias is
#: copied into the output, then one GEMM adds the product to it)
OWN_KERNEL = {"aten::addmm", "aten::baddbmm", "aten::addbmm", "aten::addmv", "aten::addr"}


def _aten_parent(e):
    """The nearest aten op above event ``e`` (autograd's and Python's events skipped)."""
    p = e.cpu_parent
    while p is not None and not p.name.startswith("aten::"):
        p = p.cpu_parent
    return p


def kernel_ops(events) -> int:
    """Of profiler events, the aten ops that would each launch a kernel on a GPU: the
    lowest ops that do work (an op counts when none of the ops it calls does, so
    ``mm`` counts though it calls ``resolve_conj``, and ``linear`` does not, since its
    ``mm`` does), leaving out :data:`NO_KERNEL`; :data:`OWN_KERNEL` ops count besides
    what they call."""
    aten = [e for e in events if e.name.startswith("aten::")]
    children: dict[int, list] = {}
    roots = []
    for e in aten:
        p = _aten_parent(e)
        (roots if p is None else children.setdefault(id(p), [])).append(e)

    def count(e) -> int:
        below = sum(count(c) for c in children.get(id(e), ()))
        own = e.name not in NO_KERNEL and (below == 0 or e.name in OWN_KERNEL)
        return below + int(own)
    return sum(count(e) for e in roots)


def aten_kernels(fn: Callable[[], object]) -> int:
    """Kernel launches of one call of ``fn``, counted as aten ops (:func:`kernel_ops`; any device)."""
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        fn()
    return kernel_ops(prof.events())


def synchronize(device: str | torch.device) -> None:
    """Wait for ``device``'s queued work (nothing to wait for on the CPU)."""
    device = torch.device(device)
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def cuda_launches(fn: Callable[[], object], device: str | torch.device) -> int | None:
    """Kernel launches the CUDA runtime saw during one call of ``fn`` (None when
    ``device`` is not a GPU)."""
    device = torch.device(device)
    if device.type != "cuda":
        return None
    synchronize(device)
    with profile(activities=[ProfilerActivity.CPU, ProfilerActivity.CUDA]) as prof:
        fn()
        synchronize(device)
    return sum(1 for e in prof.events() if e.name in LAUNCH_CALLS)


def timed(fn: Callable[[], object], calls: int, device: str | torch.device,
          warmup: int = 2) -> float:
    """Wall seconds per call of ``fn`` over ``calls`` calls, after ``warmup`` calls,
    the device's queue drained before and after."""
    for _ in range(warmup):
        fn()
    synchronize(device)
    t0 = time.perf_counter()
    for _ in range(calls):
        fn()
    synchronize(device)
    return (time.perf_counter() - t0) / max(1, calls)
