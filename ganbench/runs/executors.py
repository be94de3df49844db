"""Executors: run a suite's unfinished runs, a stacked group at a time.

Runs of a dataset that can share one stacked model (their seeds, and other variants
or sweep settings that differ only in what :mod:`ganbench.harness.stacking` lets
differ) form one group and train together (:mod:`ganbench.harness.loop`). Each group's records are written as soon as it finishes,
and summary.csv after it, so a suite stopped at any point resumes by running the
missing groups only.

- ``local``: groups one after another in this process.
- ``process``: groups spread over worker processes (``--workers``, default one per
  CPU core, each with ``cores / workers`` torch threads; with ``--device cuda`` and
  several GPUs, one per GPU, worker slot i on ``cuda:i``). On a small CPU this is the
  fast way: the small matmuls of 2D GANs use two threads poorly, two processes well.
- ``ray``: groups as Ray tasks, on a local Ray or a cluster (``--ray-address``);
  the driver writes every file, so the workers need no access to OUT.
- ``auto`` (default): ``process`` on a CPU with several cores, else ``local``.
"""
from __future__ import annotations

import json
import multiprocessing as mp
import os
import queue
import sys
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from tqdm.auto import tqdm

from ..config.suite import RunSpec, import_plugins
from ..data import datasets
from ..harness.artifacts import run_artifacts
from ..harness.checkpoints import checkpoint_probes
from ..harness.loop import train_seeds
from ..harness.stacking import MAX_SLICES, chunks, stack_key
from ..objectives import objectives
from ..registry import Registry
from ..updates import updates
from .store import RunFiles, is_finished, run_files, write_run, write_summary

executors = Registry("executor")


@dataclass
class Group:
    """Unfinished runs of one dataset that train as one stacked model: the seeds of a
    variant, and runs of other variants and settings with the same stack key
    (ganbench.harness.stacking)."""

    specs: list[RunSpec]

    @property
    def label(self) -> str:
        s = self.specs[0]
        variants = list(dict.fromkeys(sp.variant for sp in self.specs))
        settings = len({sp.setting_label for sp in self.specs})
        return (f"{s.dataset['label']}/{'+'.join(variants)}"
                + (f" [{s.setting_label}]" if s.setting and settings == 1 else "")
                + (f" [{settings} settings]" if settings > 1 else ""))

    @property
    def steps(self) -> int:
        return int(self.specs[0].config["steps"])

    @property
    def cost(self) -> float:
        """Rough relative cost, to start the longest groups first: D steps weigh more
        with gradient penalties (a double backward), G steps with unrolling."""
        cfg = self.specs[0].config
        own = objectives.build(cfg["objective"]).penalties  # e.g. wgan_gp's gradient penalty
        penalties = len(cfg.get("regularizers") or []) + len(own)
        g_cost = getattr(updates.build(cfg.get("update") or "alternating"), "g_cost", 1.0)
        return self.steps * (g_cost + cfg["n_critic"] * (1 + 1.5 * penalties)) * len(self.specs) ** 0.5


@dataclass
class Job:
    """What an executor needs: where to write, the suite's specs, the pending groups."""

    out: Path
    specs: list[RunSpec]
    groups: list[Group]
    device: str
    imports: list[str]
    base: Path | None
    workers: int | None = None
    progress: bool = True
    ray_address: str | None = None


def longest_first(groups: list[Group]) -> list[Group]:
    """Costliest groups first, so parallel workers finish close together."""
    return sorted(groups, key=lambda g: -g.cost)


def pending_groups(out: Path, specs: list[RunSpec], force: bool = False,
                   max_slices: int = MAX_SLICES) -> list[Group]:
    """The unfinished runs (all with ``force``) in stacked groups of at most
    ``max_slices`` runs: one dataset, one stack key."""
    groups: dict[tuple, list[RunSpec]] = {}
    keys: dict[str, str] = {}
    for s in specs:
        if force or not is_finished(out, s):
            cfg = json.dumps(s.config, sort_keys=True, default=str)
            if cfg not in keys:
                keys[cfg] = stack_key(s.config)
            groups.setdefault((s.dataset["label"], keys[cfg]), []).append(s)
    return [Group(c) for v in groups.values() for c in chunks(v, max_slices)]


def train_stack(specs: list[RunSpec], device: str, on_steps=None) -> tuple[list, float]:
    """Train ``specs`` as one stacked model. When that fails with an exception (e.g. one
    variant's own loss raises) and the stack holds several variants or settings, each of
    them is trained apart, so one broken variant fails only its own runs."""
    first = specs[0]
    results, wall = train_seeds(first.dataset_spec(), [s.config for s in specs],
                                [s.seed for s in specs], device, on_steps)
    parts: dict[tuple, list[int]] = {}
    for i, s in enumerate(specs):
        parts.setdefault((s.variant, s.setting_label), []).append(i)
    if len(parts) == 1 or any(r.status != "failed" for r in results):
        return results, wall
    for idx in parts.values():
        sub, sub_wall = train_seeds(first.dataset_spec(), [specs[i].config for i in idx],
                                    [specs[i].seed for i in idx], device, on_steps)
        for i, r in zip(idx, sub):
            results[i] = r
        wall += sub_wall
    return results, wall


def train_group(group: Group, device: str,
                on_steps: Callable[[int], None] | None = None) -> list[RunFiles]:
    """Train one group; return its runs' files (written by the caller, where OUT is)."""
    first = group.specs[0]
    results, wall = train_stack(group.specs, device, on_steps)
    ds = datasets.build(first.dataset_spec()) if any(r.real is not None for r in results) else None
    cps = [checkpoint_probes.build(c) for c in first.config.get("checkpoint_probes") or []]
    files = []
    for spec, res in zip(group.specs, results):
        artifacts, declared = run_artifacts(res, ds, cps, spec.run_id) if ds is not None else ({}, [])
        files.append(run_files(spec, res, wall, len(group.specs), device, artifacts, declared))
    return files


def write_group(job: "Job", files: list[RunFiles]) -> list[dict]:
    """Write a finished group's run folders, then summary.csv."""
    records = [write_run(job.out, f) for f in files]
    write_summary(job.out, job.specs)
    return records


class Progress:
    """Runs done / total, and one bar per group in flight with its steps."""

    def __init__(self, job: Job):
        total = len(job.specs)
        todo = sum(len(g.specs) for g in job.groups)
        self.enabled = job.progress
        self.bar = tqdm(total=total, initial=total - todo, desc="runs", unit="run",
                        disable=not self.enabled, position=0, dynamic_ncols=True)
        self.inner: dict[int, tqdm] = {}

    def start(self, slot: int, group: Group) -> None:
        # bars below the first move the cursor: only on a terminal, not in a log file
        nested_ok = self.enabled and sys.stderr.isatty()
        self.inner[slot] = tqdm(total=group.steps, desc=f"{group.label} ×{len(group.specs)} runs",
                                unit="step", leave=False, disable=not nested_ok,
                                position=slot + 1, dynamic_ncols=True)

    def steps(self, slot: int, n: int) -> None:
        if slot in self.inner:
            self.inner[slot].update(n - self.inner[slot].n)

    def finish(self, slot: int, group: Group, records: list[dict]) -> None:
        if slot in self.inner:
            self.inner.pop(slot).close()
        statuses = [r["status"] for r in records]
        counts = ", ".join(f"{statuses.count(s)} {s}" for s in dict.fromkeys(statuses))
        self.bar.write(f"{group.label}: {counts} ({records[0]['group_wall_s']:.1f} s)", file=sys.stderr)
        for r in records:
            if r.get("error"):
                self.bar.write(f"  {r['run_id']} failed: {r['error']}", file=sys.stderr)
        self.bar.update(len(group.specs))

    def close(self) -> None:
        for b in self.inner.values():
            b.close()
        self.bar.close()


@executors.register("local")
def local_executor():
    """In this process, one group after another."""
    return run_local


def run_local(job: Job) -> None:
    progress = Progress(job)
    try:
        for group in job.groups:
            progress.start(0, group)
            files = train_group(group, job.device, lambda n: progress.steps(0, n))
            progress.finish(0, group, write_group(job, files))
    finally:
        progress.close()


# --- worker processes ---------------------------------------------------------------

_STEPS: "mp.Queue | None" = None
_PARENT: int | None = None


def _prepare_worker(threads: int, imports: list[str], base: Path | None) -> None:
    """In a worker process or Ray task: torch's thread count, and the suite's plugins."""
    import torch
    torch.set_num_threads(max(1, int(threads)))
    if imports:
        import_plugins(imports, base)


def _worker_init(parent: int, threads: int, imports: list[str], base: Path | None,
                 steps_queue) -> None:
    global _STEPS, _PARENT
    _PARENT = parent
    _prepare_worker(threads, imports, base)
    _STEPS = steps_queue


def _worker_run(slot: int, group: Group, device: str) -> list[RunFiles]:
    def report(n: int) -> None:
        if os.getppid() != _PARENT:  # the suite was killed: stop, leave no orphan training
            os._exit(1)
        if _STEPS is not None:
            _STEPS.put((slot, n))
    return train_group(group, device, report)


def cpu_cores() -> int:
    """CPU cores this process may use."""
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return max(1, os.cpu_count() or 1)


def gpu_count() -> int:
    import torch
    return torch.cuda.device_count() if torch.cuda.is_available() else 0


def default_workers(device: str) -> int:
    """One worker per core on the CPU; one per GPU for ``cuda`` (one for ``cuda:N``)."""
    if device == "cpu":
        return cpu_cores()
    return max(1, gpu_count()) if device == "cuda" else 1


def slot_device(device: str, slot: int, n_gpus: int) -> str:
    """The device of worker slot ``slot``: plain ``cuda`` spreads slots over the GPUs."""
    if device == "cuda" and n_gpus > 1:
        return f"cuda:{slot % n_gpus}"
    return device


@executors.register("process")
def process_executor():
    """Groups spread over worker processes (--workers, default one per CPU core)."""
    return run_processes


def run_processes(job: Job) -> None:
    if not job.groups:
        return
    configured = job.workers or default_workers(job.device)
    # threads per run depend on the machine and --workers only, never on how many groups
    # are left: a resumed suite computes with the same thread count, so the same numbers
    threads = max(1, cpu_cores() // configured)
    workers = max(1, min(configured, len(job.groups)))
    n_gpus = gpu_count() if job.device == "cuda" else 0
    ctx = mp.get_context("spawn")  # fork is unsafe once torch's OpenMP threads exist
    steps_q = ctx.Queue()
    progress = Progress(job)
    pending = longest_first(job.groups)
    running: dict = {}
    free_slots = list(range(workers))
    try:
        with ProcessPoolExecutor(workers, mp_context=ctx, initializer=_worker_init,
                                 initargs=(os.getpid(), threads, job.imports, job.base, steps_q)) as pool:
            while pending or running:
                while pending and free_slots:
                    slot, group = free_slots.pop(0), pending.pop(0)
                    progress.start(slot, group)
                    dev = slot_device(job.device, slot, n_gpus)
                    running[pool.submit(_worker_run, slot, group, dev)] = (slot, group)
                done, _ = wait(list(running), timeout=0.5, return_when=FIRST_COMPLETED)
                _drain(steps_q, progress)
                for fut in done:
                    slot, group = running.pop(fut)
                    progress.finish(slot, group, write_group(job, fut.result()))
                    free_slots.append(slot)
    finally:
        progress.close()
        steps_q.close()


def _drain(q, progress: Progress) -> None:
    while True:
        try:
            slot, n = q.get_nowait()
        except (queue.Empty, EOFError, OSError):
            return
        progress.steps(slot, n)


@executors.register("auto")
def auto_executor():
    """process on a CPU with several cores, else local (one process drives the GPU)."""
    def run(job: Job) -> None:
        use_processes = job.device == "cpu" and (job.workers or cpu_cores()) > 1
        (run_processes if use_processes else run_local)(job)
    return run


# --- Ray ------------------------------------------------------------------------------

def _ray_task(group: Group, device: str, imports: list[str], base: str | None) -> list[RunFiles]:
    """One group on a Ray worker: torch threads from the CPUs Ray allotted to the task."""
    import ray
    cpus = ray.get_runtime_context().get_assigned_resources().get("CPU", 1)
    _prepare_worker(cpus, imports, Path(base) if base else None)
    return train_group(group, device)


@executors.register("ray")
def ray_executor():
    """Groups as Ray tasks (--ray-address to join a cluster; default: a local Ray)."""
    return run_ray


def run_ray(job: Job) -> None:
    try:
        import ray
    except ImportError:
        from ..errors import InputError
        raise InputError("--executor ray: Ray is not installed; pip install 'ganbench[ray]'.") from None
    if not job.groups:
        return
    gpu = job.device != "cpu"
    if not ray.is_initialized():
        if job.ray_address:
            ray.init(address=job.ray_address, log_to_driver=False)
        else:
            ray.init(num_cpus=job.workers or cpu_cores(), include_dashboard=False,
                     log_to_driver=False)
    # a task asks for one CPU (or one GPU); on a GPU Ray sets CUDA_VISIBLE_DEVICES for it
    task = ray.remote(_ray_task).options(num_cpus=1, num_gpus=1 if gpu else 0)
    device = "cuda" if gpu else "cpu"
    base = str(job.base) if job.base else None
    pending = {task.remote(g, device, job.imports, base): g
               for g in longest_first(job.groups)}
    progress = Progress(job)
    try:
        while pending:
            (ref,), _ = ray.wait(list(pending), num_returns=1)
            group = pending.pop(ref)
            progress.finish(0, group, write_group(job, ray.get(ref)))
    finally:
        progress.close()
