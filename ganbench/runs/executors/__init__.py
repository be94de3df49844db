"""Executors: run a suite's unfinished runs, a stacked group at a time.

Runs of a dataset that can share one stacked model (their seeds, and other variants
or sweep settings that differ only in what :mod:`ganbench.harness.stacking` lets
differ) form one group (:mod:`ganbench.runs.groups`) and train together
(:mod:`ganbench.runs.training`). Each group's records are written as soon as it
finishes, and summary.csv after it, so a suite stopped at any point resumes by
running the missing groups only.

- ``local``: groups one after another in this process (:mod:`.local`);
- ``process``: groups spread over worker processes (:mod:`.processes`);
- ``ray``: groups as Ray tasks, on a local Ray or a cluster (:mod:`.ray_tasks`);
- ``slurm``: groups as SLURM jobs through submitit (:mod:`.slurm_jobs`);
- ``auto`` (default): ``process`` on a CPU with several cores, else ``local``.

Each is an :class:`~.base.Executor` registered in :data:`~.base.executors`.
"""
from . import local, processes, ray_tasks, slurm_jobs  # noqa: F401  (each registers its executor)
from .base import Executor, Job, executors

__all__ = ["Executor", "Job", "executors"]
