"""Groups of runs and what every executor shares: the registry of executors, a group
of runs that trains as one stacked model, the job, training a group and writing its
records, the progress display, and preparing a worker process."""
from __future__ import annotations

import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from tqdm.auto import tqdm

from ..config.suite import RunSpec, import_plugins
from ..data import datasets
from ..harness.artifacts import run_artifacts
from ..harness.checkpoints import checkpoint_probes
from ..harness.device import environment, make_deterministic
from ..harness.loop import train_seeds
from ..harness.stacking import MAX_SLICES, chunks, stack_key
from ..objectives import objectives
from ..registry import Registry
from ..updates import updates
from ..interrupts import deferred
from .store import (RunFiles, is_finished, mark_finished, run_files, write_run_files,
                    write_summary)

executors = Registry("executor")


@dataclass
class Group:
    """Unfinished runs of one dataset that train as one stacked model: the seeds of a
    variant, and runs of other variants and settings with the same stack key
    (ganbench.harness.stacking)."""

    specs: list[RunSpec]
    #: already run again once after a worker died before it could report
    retried: bool = False

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
    #: --deterministic: deterministic kernels in every worker (ganbench.harness.device)
    deterministic: bool = False


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
    files, env = [], environment(device)
    for spec, res in zip(group.specs, results):
        artifacts, declared = run_artifacts(res, ds, cps, spec.run_id) if ds is not None else ({}, [])
        files.append(run_files(spec, res, wall, len(group.specs), device, artifacts, declared, env))
    return files


def write_group(job: "Job", files: list[RunFiles]) -> list[dict]:
    """Write a finished group's run folders, then summary.csv. Every run's files come
    first, then the runs' metrics.json markers, so a write that fails part-way (a full
    disk) leaves the group unfinished as a whole, to train again as the same group; a
    signal waits until the group is written."""
    with deferred():
        for f in files:
            write_run_files(job.out, f)
        records = [mark_finished(job.out, f) for f in files]
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

    def finish(self, slot: int, group: Group, records: list[dict], retried: bool = False) -> None:
        if slot in self.inner:
            self.inner.pop(slot).close()
        if retried:
            self.bar.write(f"{group.label}: cut short when another worker died; queued again",
                           file=sys.stderr)
            return
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


def prepare_worker(threads: int, imports: list[str], base: Path | None,
                   deterministic: bool = False) -> None:
    """In a worker process or Ray task: torch's thread count, --deterministic, and the
    suite's plugins."""
    import torch
    torch.set_num_threads(max(1, int(threads)))
    if deterministic:
        make_deterministic()
    if imports:
        import_plugins(imports, base)


def cpu_cores() -> int:
    """CPU cores this process may use."""
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return max(1, os.cpu_count() or 1)
