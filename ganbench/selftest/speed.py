"""The flagship, shortened and timed per stacked group, on the device.

Two passes over ``mog.yaml`` (suites/mog.yaml's copy) at the budget's steps:

1. ``ganbench.run`` trains it as a user's ``ganbench run`` would (executor ``auto``: in
   this process on a GPU, worker processes on a multi-core CPU) and writes a results
   folder; every run must finish (``ok`` or ``diverged``), and each group's wall time
   (training and evaluations) is read back from its runs' records.
2. Each stacked group is built again (as ``ganbench run`` groups them) and inspected
   step by step: every parameter, buffer, optimizer state and batch on the device;
   on a GPU, CUDA's sync debug mode counts the operations that made the host wait for
   the GPU during a few steps (none expected: tests/harness/test_host_syncs.py counts
   the same on a CPU); then training steps per second (the device's queue drained
   before and after) and the kernel launches of one step from torch.profiler (the aten
   count the estimates use, and on a GPU the CUDA runtime's own count).

Against ``benchmarks/gpu_estimate.py`` (docs/devices.md, "Estimated GPU time"): a step
was estimated at ``kernels x 5-10 us`` (the arithmetic is ~0.1 ms); each group's
measured time per kernel says where this machine stands, and the whole flagship's
training time at the measured speed is set beside the same estimate.
"""
from __future__ import annotations

import itertools
import json
import tempfile
import time
import warnings
from pathlib import Path

import torch

from ..config.suite import parse_suite
from ..harness.loop import Loop
from ..layout import run_dir
from ..profiling import aten_kernels, cuda_launches, timed
from ..runs.api import run
from ..runs.groups import pending_groups
from .budget import Budget, raw_suite, sized

#: the estimate's host-side cost of one kernel launch from eager PyTorch, microseconds
LAUNCH_US = (5.0, 10.0)


def on_device(t: torch.Tensor, device: torch.device) -> bool:
    return t.device.type == device.type and (device.index is None or t.device.index == device.index)


def tensors_of(players) -> dict[str, torch.Tensor]:
    """The tensors a training step reads and writes, by name: both networks'
    parameters and buffers, both optimizers' state, a noise batch and a data batch."""
    found = {}
    for net in ("G", "D"):
        m = getattr(players, net)
        found.update({f"{net}.{n}": t for n, t in itertools.chain(m.named_parameters(),
                                                                  m.named_buffers())})
    for opt in ("opt_g", "opt_d"):
        for i, state in enumerate(getattr(players, opt).state.values()):
            found.update({f"{opt}.state[{i}].{k}": v for k, v in state.items()
                          if isinstance(v, torch.Tensor)})
    found["noise batch"] = players.noise(4)
    found["data batch"] = players.real_batch(4)
    return found


def placement(players, device: torch.device) -> dict:
    """Tensors off the device (host scalars such as an optimizer's step count are
    listed apart: a kernel takes them as arguments, without a copy)."""
    off, scalars = [], []
    tensors = tensors_of(players)
    for name, t in tensors.items():
        if not on_device(t, device):
            (scalars if t.dim() == 0 and t.device.type == "cpu" else off).append(f"{name} on {t.device}")
    return {"tensors": len(tensors), "off_device": off, "host_scalars": len(scalars)}


def cuda_syncs(fn, calls: int, device: torch.device) -> list[str] | None:
    """Where ``calls`` calls of ``fn`` made the host wait for the GPU, by CUDA's sync
    debug mode (None off a GPU)."""
    if device.type != "cuda":
        return None
    previous = torch.cuda.get_sync_debug_mode()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        torch.cuda.set_sync_debug_mode("warn")
        try:
            for _ in range(calls):
                fn()
            torch.cuda.synchronize(device)
        finally:
            torch.cuda.set_sync_debug_mode(previous)
    return [f"{Path(w.filename).name}:{w.lineno}: {str(w.message).splitlines()[0][:120]}"
            for w in caught if "synchroniz" in str(w.message)]


def inspect_group(group, device: torch.device, timed_steps: int) -> dict:
    """Placement, host syncs, steps/s and kernel launches of one stacked group (on a
    CPU with one thread, as each worker process trains)."""
    threads = torch.get_num_threads()
    if device.type == "cpu":
        torch.set_num_threads(1)
    try:
        return _inspect(group, device, timed_steps)
    finally:
        torch.set_num_threads(threads)


def _inspect(group, device: torch.device, timed_steps: int) -> dict:
    specs = group.specs
    loop = Loop([s.dataset_spec() for s in specs], [s.config for s in specs], [s.seed for s in specs],
                device)
    hist = torch.full((1, len(specs), len(loop.columns)), float("nan"), device=device)
    count = itertools.count()

    def step():
        loop.step(next(count), hist, 0)

    step()                                     # the first step makes the optimizers' state
    where = placement(loop.players, device)
    syncs = cuda_syncs(step, 3, device)
    seconds = timed(step, timed_steps, device)
    kernels = aten_kernels(step)
    try:
        launches, profiler_error = cuda_launches(step, device), None
    except RuntimeError as e:               # CUPTI unavailable (e.g. in a container): say so
        launches, profiler_error = None, str(e).splitlines()[0][:200]
    ms = 1e3 * seconds
    return {"group": group.label, "runs": len(specs), "steps_per_s": round(1 / seconds, 1),
            "run_steps_per_s": round(len(specs) / seconds, 1), "ms_per_step": round(ms, 3),
            "aten_kernels": kernels, "cuda_launches": launches,
            "us_per_kernel": round(1e3 * ms / kernels, 2) if kernels else None,
            "estimate_ms": [round(kernels * us / 1e3, 2) for us in LAUNCH_US],
            "finite": bool(torch.isfinite(hist).all()), "placement": where,
            "host_syncs": None if syncs is None else len(syncs), "sync_sites": (syncs or [])[:10],
            **({"cuda_profiler_error": profiler_error} if profiler_error else {})}


def group_walls(out: Path, groups) -> list[float | None]:
    """Each group's wall time in the results folder (its runs' ``group_wall_s``)."""
    walls = []
    for g in groups:
        f = run_dir(out, g.specs[0].run_id) / "metrics.json"
        walls.append(json.loads(f.read_text()).get("group_wall_s") if f.is_file() else None)
    return walls


def mog_part(out: Path, device: str, budget: Budget) -> dict:
    raw = sized("mog", budget)
    dev = torch.device(device)
    t0 = time.perf_counter()
    summary = run(raw, out=out / "mog", device=device, force=True)
    run_wall = time.perf_counter() - t0
    statuses = summary.status.value_counts().to_dict()
    suite = parse_suite(raw)
    groups = pending_groups(Path(tempfile.mkdtemp(prefix="selftest-groups-")), suite.specs)
    rows = []
    for g, wall in zip(groups, group_walls(out / "mog", groups)):
        row = inspect_group(g, dev, budget.timed_steps)
        row["group_wall_s"] = wall
        rows.append(row)
    full_steps = int(raw_suite("mog")["defaults"]["steps"])
    minutes = sum(full_steps * r["ms_per_step"] / 6e4 for r in rows)
    estimate = [sum(full_steps * r["estimate_ms"][i] / 6e4 for r in rows) for i in (0, 1)]
    problems = [f"{statuses.get('failed', 0)} runs failed"] if statuses.get("failed") else []
    problems += [f"{r['group']}: {len(r['placement']['off_device'])} tensors off {device}"
                 for r in rows if r["placement"]["off_device"]]
    problems += [f"{r['group']}: {r['host_syncs']} host syncs in 3 steps"
                 for r in rows if r["host_syncs"]]
    problems += [f"{r['group']}: a non-finite value in the timed steps" for r in rows if not r["finite"]]
    return {"status": "failed" if problems else "passed", "problems": problems,
            "suite": {"runs": len(summary), **budget.mog, "statuses": statuses,
                      "wall_s": round(run_wall, 1), "out": str(out / "mog")},
            "groups": rows,
            "flagship_training_min": {"measured_speed": round(minutes, 2),
                                      "launch_estimate": [round(e, 2) for e in estimate],
                                      "steps": full_steps}}


def summary_lines(part: dict) -> list[str]:
    if "groups" not in part:
        return [part.get("reason", "")]
    s, rows = part["suite"], part["groups"]
    ms = [r["ms_per_step"] for r in rows]
    per_k = [r["us_per_kernel"] for r in rows if r["us_per_kernel"]]
    kern = [r["aten_kernels"] for r in rows]
    f = part["flagship_training_min"]
    syncs = [r["host_syncs"] for r in rows]
    sync_text = ("host syncs not counted (CPU)" if syncs and syncs[0] is None
                 else f"{sum(syncs)} host syncs in 3 steps of each group")
    lines = [f"{s['runs']} runs x {s['steps']} steps: {_counts(s['statuses'])} in {s['wall_s']:.0f} s; "
             f"{len(rows)} groups, every tensor on the device: "
             f"{'yes' if not any(r['placement']['off_device'] for r in rows) else 'NO'}; {sync_text}",
             f"step {min(ms):.2f}-{max(ms):.2f} ms, {min(kern)}-{max(kern)} kernels, "
             f"{min(per_k):.1f}-{max(per_k):.1f} us per kernel (estimate: 5-10); suites/mog.yaml's "
             f"training at this speed {f['measured_speed']:.1f} min (estimate from these kernel "
             f"counts: {f['launch_estimate'][0]:.1f}-{f['launch_estimate'][1]:.1f} min)"]
    lines += [f"  {r['group'][:40]:40} {r['runs']:3d} runs {r['ms_per_step']:8.2f} ms/step "
              f"{r['aten_kernels']:5d} kernels"
              + (f" ({r['cuda_launches']} CUDA launches)" if r["cuda_launches"] is not None else "")
              + f" {r['us_per_kernel']:6.1f} us/kernel" for r in rows]
    return lines


def _counts(statuses: dict) -> str:
    return ", ".join(f"{n} {k}" for k, n in statuses.items())
