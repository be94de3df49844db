"""The device a run trains on: binding a worker to its GPU, the ``--deterministic``
settings, and what a run records about where it ran (device name, torch, CUDA and
cuDNN versions) in its config.json.

What is bit-for-bit repeatable (docs/devices.md, On a GPU): the same suite on the same
CPU (same torch, same thread count) gives the same numbers; on a GPU, the same GPU
model, driver, torch/CUDA/cuDNN versions and ``--deterministic`` give the same numbers;
a CPU run and a GPU run never match (their random streams differ, and their kernels
sum in other orders).
"""
from __future__ import annotations

import os
import platform

import torch

#: cuBLAS's setting for reproducible results (NVIDIA's cuBLAS docs, "Results reproducibility")
CUBLAS_WORKSPACE = ":4096:8"


def bind(device: str | torch.device) -> None:
    """Make ``device`` CUDA's current device in this process (nothing for the CPU or a
    plain ``cuda``), so that code that says only ``cuda`` (torch-fidelity's ``.cuda()``,
    default allocations) uses this GPU and opens no context on another one."""
    device = torch.device(device)
    if device.type == "cuda" and device.index is not None:
        torch.cuda.set_device(device.index)


def make_deterministic() -> None:
    """Deterministic kernels where torch has them (a warning names an op that has none),
    cuDNN without autotuning, cuBLAS's fixed workspace and no TF32 matmuls: the same GPU
    and versions then repeat a run bit for bit. Call before CUDA is first used (the
    cuBLAS setting is read when its handle is made)."""
    os.environ["CUBLAS_WORKSPACE_CONFIG"] = CUBLAS_WORKSPACE
    torch.backends.cudnn.deterministic = True
    torch.backends.cudnn.benchmark = False
    torch.use_deterministic_algorithms(True, warn_only=True)
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False


def _cpu_name() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def environment(device: str | torch.device) -> dict:
    """Where a run trained: the device's name, and the versions that decide its numbers."""
    device = torch.device(device)
    if device.type == "cuda":
        name = torch.cuda.get_device_name(device.index if device.index is not None
                                           else torch.cuda.current_device())
    else:
        name = _cpu_name()
    cudnn = torch.backends.cudnn.version() if torch.backends.cudnn.is_available() else None
    return {"device_name": name, "torch": torch.__version__, "cuda": torch.version.cuda,
            "cudnn": cudnn, "deterministic": torch.are_deterministic_algorithms_enabled(),
            "threads": torch.get_num_threads()}
