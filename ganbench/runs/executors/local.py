"""The ``local`` executor: groups one after another in this process."""
from __future__ import annotations

from .. import training
from .base import Executor, Job, executors


@executors.register("local")
class Local(Executor):
    """In this process, one group after another (with ``job.debug``, the first exception
    of a run propagates)."""

    def run(self, job: Job) -> None:
        progress = job.progress_display()
        try:
            for group in job.groups:
                progress.start(0, group)
                files = training.train_group(group, job.device, lambda n: progress.steps(0, n),
                                             job.resume_point(group), job.debug, job.live)
                progress.finish(0, group, job.record(files, group))
        finally:
            progress.close()
