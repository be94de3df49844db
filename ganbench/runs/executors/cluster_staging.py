"""Where a cluster job keeps its files until the driver takes them in: one staging
folder per group, ``OUT/slurm/<group>/`` (named as the group's checkpoint is, so the
same group finds it again), on the filesystem the driver and the nodes share.

    OUT/slurm/<group>/job.json       the SLURM job id (written by the driver at submission)
                     /checkpoint.pt  the group's training checkpoint (written by the job)
                     /step           the last step it evaluated or checkpointed (by the job)
                     /live.jsonl     with --log: each evaluation's new history rows (by the job)
                     /<id>_*.pkl, /<id>_0_log.*   submitit's submission, result and logs

A job writes nothing else in OUT: its runs' files come back in submitit's result
pickle, and the driver writes the run folders through the one atomic path
(:meth:`ganbench.runs.executors.base.Job.record`), then removes the staging folder. So
a driver restarted while jobs run (its folder lock clears stale ``.*.tmp`` files in
OUT, OUT/runs and OUT/checkpoints, never here) neither deletes nor clashes with a
running job's files, and finds each job again by its ``job.json``.

:class:`GroupJob` is what a job runs on its node.
"""
from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass, replace
from pathlib import Path

from ...harness.resume import ResumePoint
from ...layout import group_checkpoint_path, write_text
from .. import training
from ..groups import Group

STAGING_DIR = "slurm"
JOB, CHECKPOINT, STEP, LIVE = "job.json", "checkpoint.pt", "step", "live.jsonl"


@dataclass(frozen=True)
class Staging:
    """The staging folder of one group."""

    path: Path

    @classmethod
    def of(cls, out: Path, group: Group) -> "Staging":
        stem = group_checkpoint_path(out, [s.run_id for s in group.specs]).stem
        return cls(Path(out) / STAGING_DIR / stem)

    def job_id(self) -> str | None:
        try:
            return str(json.loads((self.path / JOB).read_text())["job_id"])
        except (OSError, ValueError, KeyError):
            return None

    def remember(self, job_id: str) -> None:
        write_text(self.path / JOB, json.dumps({"job_id": job_id}))

    def step(self) -> int | None:
        try:
            return int((self.path / STEP).read_text())
        except (OSError, ValueError):
            return None

    def live_rows(self, offset: int) -> tuple[list[tuple[dict, bool]], int]:
        """The live.jsonl lines after byte ``offset`` that are whole (a line being written
        waits), as (rows, whole), and the offset after them."""
        try:
            with open(self.path / LIVE, "rb") as f:
                f.seek(offset)
                data = f.read()
        except OSError:
            return [], offset
        end = data.rfind(b"\n") + 1
        got = [json.loads(line) for line in data[:end].splitlines() if line.strip()]
        return [(g["rows"], g["whole"]) for g in got], offset + end

    def adopt(self, checkpoint: Path) -> None:
        """Move a training checkpoint the group left in OUT/checkpoints (trained by another
        executor) here, so its job continues from it (a rename: whole or not at all)."""
        if checkpoint.exists() and not (self.path / CHECKPOINT).exists():
            self.path.mkdir(parents=True, exist_ok=True)
            os.replace(checkpoint, self.path / CHECKPOINT)

    def remove(self) -> None:
        shutil.rmtree(self.path, ignore_errors=True)


def staged(out: Path) -> list[Staging]:
    """Every staging folder in OUT."""
    root = Path(out) / STAGING_DIR
    return [Staging(p) for p in sorted(root.iterdir()) if p.is_dir()] if root.is_dir() else []


@dataclass(frozen=True)
class GroupJob:
    """A group's training as a SLURM job (submitit calls it on the node). Its
    ``checkpoint`` is what submitit calls when SLURM preempts the job or its time
    runs out: the same call again, resuming from the checkpoint in the staging folder
    (never ``fresh``, even if the first call was ``--force``'s)."""

    group: Group
    device: str
    imports: list
    base: str | None
    deterministic: bool
    staging: str
    key: str
    fresh: bool = False
    live: bool = False

    def __call__(self) -> list:
        cpus = int(os.environ.get("SLURM_CPUS_PER_TASK") or 1)
        training.prepare_worker(cpus, self.imports, Path(self.base) if self.base else None,
                                self.deterministic)
        folder = Path(self.staging)
        point = ResumePoint(folder / CHECKPOINT, self.key, self.fresh)

        def report(n: int) -> None:
            write_text(folder / STEP, str(n))

        def rows(got: dict, whole: bool) -> None:
            line = json.dumps({"whole": whole, "rows": got}) + "\n"
            with open(folder / LIVE, "a") as f:     # a new try's first line is whole
                f.write(line)
        return training.train_group(self.group, self.device, report, point,
                                    live=rows if self.live else None)

    def checkpoint(self, *args, **kwargs):
        from submitit.helpers import DelayedSubmission
        return DelayedSubmission(replace(self, fresh=False))
