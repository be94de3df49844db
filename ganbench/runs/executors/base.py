"""What every executor shares: the :class:`Executor` protocol, the registry, the
:class:`Job` an executor is given, and the records of a group whose worker died."""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from ...config.suite import RunSpec
from ...harness.recorder import SeedResult
from ...harness.resume import ResumePoint, remove as remove_checkpoint
from ...interrupts import deferred
from ...registry import Registry
from ..groups import Group
from ..progress import Progress
from ..store import RunFiles, resume_point, run_files, spec_record, write_runs

executors = Registry("executor")


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
    #: --log: the experiment trackers each finished group is logged to, from its run
    #: folders, by this process (ganbench.trackers)
    trackers: Any = None
    #: --debug: a run's exception propagates (local executor) instead of failing the run
    debug: bool = False
    #: --force: every group trains from step 0, whatever training checkpoint it left
    force: bool = False

    def resume_point(self, group: Group) -> ResumePoint:
        """Where ``group`` keeps its training checkpoint (OUT/checkpoints/), for executors
        whose workers see OUT (local, process)."""
        return resume_point(self.out, group.specs, self.device, fresh=self.force)

    @property
    def live(self):
        """Where training groups send each evaluation's new history rows (``live(rows by
        run id, whole)``: to the trackers, by this process), or None without trackers."""
        if not self.trackers:
            return None

        def live(rows: dict, whole: bool) -> None:
            with deferred():    # a signal waits until the rows are logged
                self.trackers.live(rows, whole)
        return live

    def progress_display(self) -> Progress:
        return Progress(len(self.specs), sum(len(g.specs) for g in self.groups), self.progress,
                        self.groups)

    def record(self, files: list[RunFiles], group: Group | None = None) -> list[dict]:
        """Write a finished group's run folders, then summary.csv (:func:`write_runs`: a
        write that fails part-way leaves the group unfinished as a whole, to train again
        as the same group). Then ``group``'s training checkpoint (if it left one) is
        deleted."""
        with deferred():
            records = write_runs(self.out, files, [s.run_id for s in self.specs])
            if group is not None:
                remove_checkpoint(self.resume_point(group).path)
        if self.trackers:       # the folders are complete: hand them to the trackers
            with deferred():    # (a signal waits, so no tracker run is left half-logged)
                self.trackers.log([f.run_id for f in files])
        return records

    def record_death(self, group: Group, how: str, step: int | None,
                     said: str | None = None) -> list[dict]:
        """Record each run of ``group`` ``failed``: its worker died (``how``: what killed
        it) after evaluating or checkpointing ``step`` (None: before its first evaluation);
        ``said``: the end of the worker's stderr (None: unknown), whose last line the
        message quotes (all of it goes to each run's error.txt)."""
        at = f" after step {step} (its last evaluation or checkpoint)" if step else \
            " before its first evaluation"
        last = next((ln.strip() for ln in reversed((said or "").splitlines()) if ln.strip()), "")
        quote = f"; its stderr ends: {last[:300]} (more in error.txt)" if last else \
            ("; it wrote nothing to stderr" if said is not None else "")
        msg = f"WorkerDied: the {how}{at}{quote}; run the same command again to retry these runs"
        text = f"{msg}\n\nThe end of the worker's stderr:\n{said}\n" if said else None
        failed = [SeedResult(spec.seed, "failed", 0, error=msg, traceback=text)
                  for spec in group.specs]
        return self.record([run_files(spec_record(spec), r, 0.0, len(group.specs), self.device)
                            for spec, r in zip(group.specs, failed)])


class Executor(Protocol):
    """How a suite's pending groups are trained (``--executor``: a registered factory
    that returns one)."""

    def check_device(self, device: str) -> None:
        """Refuse (InputError) a device this executor cannot honour, before any work."""

    def run(self, job: Job) -> None:
        """Train every group of ``job``, writing each group's records as it finishes."""
        raise NotImplementedError

    def slots(self, device: str, workers: int | None) -> int:
        """How many groups train at once, for which the suite's stacks are cut
        (:func:`ganbench.runs.groups.balanced`): one unless the executor says more."""
        return 1


def cpu_cores() -> int:
    """CPU cores this process may use."""
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return max(1, os.cpu_count() or 1)
