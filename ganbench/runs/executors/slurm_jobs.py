"""The ``slurm`` executor: each group one SLURM job, submitted through submitit, on the
cluster whose login node runs ``ganbench run``; OUT must be on a filesystem the nodes
share (submitit's files and the jobs' staging folders live there).

- A job asks for ``cpus`` CPUs (its torch threads; default 1) or, with ``--device
  cuda``, one GPU too, and the partition, time limit, account and sbatch flags of
  :mod:`.slurm_settings`, which SLURM checks (``sbatch --test-only``) before anything
  is submitted.
- It trains its group on the node and keeps its checkpoint, its last step and its
  result in the group's staging folder (:mod:`.cluster_staging`); the driver shows
  the steps as they come and writes the run folders when the result is there.
- Preempted or out of time, SLURM signals the job (USR2, 90 s before its time runs out
  for a timeout); submitit requeues it, and the requeued job continues from the
  group's last training checkpoint (``checkpoint_every``; without it, from step 0). A
  job that times out more than 3 times is recorded failed.
- The driver waits for every job. Stopped (Ctrl-C, killed, the login node rebooted),
  it leaves the jobs queued or running; the same command again finds each group's job
  (queued, running, or finished with its result waiting) and submits only the groups
  that have none, so nothing trains twice. A job that ended without a result (killed,
  out of memory, a node failure: ``sacct`` says which) fails its group's runs, which the
  same command submits again, from their checkpoint.
"""
from __future__ import annotations

import time
from dataclasses import dataclass

from ...errors import InputError
from ..groups import Group, longest_first
from .slurm_settings import SlurmSettings, check, settings
from .base import Executor, Job, executors
from .cluster_staging import JOB, STAGING_DIR, GroupJob, Staging, staged

#: seconds between two looks at the jobs
POLL = 1.0
#: SLURM states of a job that may still produce its result
ALIVE = {"PENDING", "RUNNING", "REQUEUED", "REQUEUE_HOLD", "REQUEUE_FED", "COMPLETING",
         "CONFIGURING", "RESIZING", "SUSPENDED", "PREEMPTED", "SIGNALING", "STAGE_OUT"}


@executors.register("slurm")
class Slurm(Executor):
    """Groups as SLURM jobs through submitit (settings: :mod:`.slurm_settings`)."""

    def __init__(self, partition: str | None = None, time_limit=None, account: str | None = None,
                 cpus: int = 1, sbatch: list | tuple = ()):
        self.settings = settings(partition, time_limit, account, cpus, sbatch)
        self.checked: SlurmSettings | None = None

    def check_device(self, device: str) -> None:
        """A GPU job gets the GPU SLURM gives it (``cuda:N`` is refused); then SLURM is
        asked whether it takes jobs with these settings."""
        if device.startswith("cuda:"):
            raise InputError(f"--device {device}: with --executor slurm, SLURM assigns each job "
                             "its GPU; use --device cuda.")
        self.checked = check(self.settings, device != "cpu")

    def run(self, job: Job) -> None:
        if self.checked is None:
            self.check_device(job.device)
        run_slurm(job, self.checked)


@dataclass
class Tracked:
    """A group, its staging folder and its submitit job."""

    group: Group
    staging: Staging
    job: object = None
    step: int | None = None
    shown: bool = False
    live_at: int = 0                # bytes of the staging folder's live.jsonl taken in


def run_slurm(job: Job, asked: SlurmSettings) -> None:
    tracked = [Tracked(g, Staging.of(job.out, g)) for g in longest_first(job.groups)]
    drop_strays(job, {t.staging.path for t in tracked})
    if not tracked:
        return
    progress = job.progress_display()
    live: list[tuple[int, Tracked]] = []
    try:
        found = []
        for slot, t in enumerate(tracked):
            t.job = None if job.force else find(t.staging)
            if t.job is None:
                cancel(t.staging)
                t.job = submit(job, t, asked)
            else:
                found.append(f"{t.group.label} (job {t.job.job_id})")
            live.append((slot, t))
        if found:
            progress.note(f"ganbench: found the SLURM jobs of a run before: {'; '.join(found)}")
        ids = ",".join(t.job.job_id for _, t in live)
        progress.note(f"ganbench: waiting for SLURM jobs {ids} (squeue -j {ids}; their logs in "
                      f"{job.out / STAGING_DIR})")
        while live:
            for slot, t in list(live):
                step = t.staging.step()
                if step is not None and step != t.step:
                    if not t.shown:
                        progress.start(slot, t.group)
                        t.shown = True
                    t.step = step
                    progress.steps(slot, step)
                if job.live is not None:
                    pass_live_rows(job, t)
                if t.job.done():
                    live.remove((slot, t))
                    progress.finish(slot, t.group, collect(job, t))
            if live:
                time.sleep(POLL)
    except BaseException:
        if live:
            ids = " ".join(t.job.job_id for _, t in live if t.job is not None)
            progress.note(f"ganbench: SLURM jobs {ids} keep running; the same command again "
                          f"collects their results (scancel {ids} stops them)")
        raise
    finally:
        progress.close()
    try:
        (job.out / STAGING_DIR).rmdir()     # every job's files were taken in
    except OSError:
        pass


def pass_live_rows(job: Job, t: Tracked) -> None:
    """The job's new live rows, to the trackers (a requeued try's first rows are whole,
    replacing what the trackers had of the run)."""
    got, t.live_at = t.staging.live_rows(t.live_at)
    for rows, whole in got:
        job.live(rows, whole)


def submit(job: Job, t: Tracked, asked: SlurmSettings):
    """Submit ``t``'s group (continuing from a checkpoint in its staging folder, or one
    another executor left in OUT/checkpoints)."""
    import submitit
    point = job.resume_point(t.group)
    if job.force:
        t.staging.remove()
    else:
        t.staging.adopt(point.path)
    t.staging.path.mkdir(parents=True, exist_ok=True)
    gpu = job.device != "cpu"
    ex = submitit.SlurmExecutor(folder=t.staging.path)
    ex.update_parameters(**asked.submitit_parameters(gpu, f"ganbench:{t.group.label}"))
    run = GroupJob(t.group, "cuda" if gpu else "cpu", list(job.imports),
                   str(job.base) if job.base else None, job.deterministic,
                   str(t.staging.path), point.key, fresh=job.force, live=job.live is not None)
    submitted = ex.submit(run)
    t.staging.remember(submitted.job_id)
    return submitted


def find(staging: Staging):
    """The group's job of an earlier driver, if it has a result or may still make one."""
    import submitit
    job_id = staging.job_id()
    if job_id is None:
        return None
    found = submitit.SlurmJob(folder=staging.path, job_id=job_id)
    if found.paths.result_pickle.exists():
        return found
    return found if state(found) in ALIVE else None


def state(sjob) -> str:
    """The job's SLURM state, from sacct (through submitit's watcher), else from squeue
    (a job sacct does not know yet, e.g. just submitted); UNKNOWN if neither knows it."""
    said = (sjob.watcher.get_state(sjob.job_id, mode="force").split() or ["UNKNOWN"])[0]
    if said.upper() != "UNKNOWN":
        return said.upper()
    import subprocess
    queued = subprocess.run(["squeue", "-h", "-j", sjob.job_id, "-o", "%T"],
                            capture_output=True, text=True).stdout.split()
    return queued[0].upper() if queued else "UNKNOWN"


def cancel(staging: Staging) -> None:
    """scancel the staging folder's job if it is still queued or running (``--force``, or
    a group no longer wanted), and forget it."""
    import subprocess
    job_id = staging.job_id()
    if job_id is not None:
        subprocess.run(["scancel", job_id], capture_output=True)
        (staging.path / JOB).unlink(missing_ok=True)


def collect(job: Job, t: Tracked) -> list[dict]:
    """Record a finished job's group: its runs' files, or, without a result, its runs
    failed with what SLURM and the job's stderr say (its checkpoint stays for the next
    try). The staging folder goes once the runs are written."""
    from submitit.core.utils import FailedJobError, UncompletedJobError
    try:
        files = t.job.result()
    except UncompletedJobError as e:
        ended = "raised an error" if isinstance(e, FailedJobError) else \
            f"ended without a result (sacct state {state(t.job)})"
        how = f"SLURM job {t.job.job_id} training this group {ended}; its log: {t.job.paths.stderr}"
        said = (t.job.stderr() or str(e))[-8000:]
        (t.staging.path / JOB).unlink(missing_ok=True)
        return job.record_death(t.group, how, t.step, said)
    records = job.record(files)
    t.staging.remove()
    return records


def drop_strays(job: Job, wanted: set) -> None:
    """Staging folders of groups that are no longer pending (their runs finished, or the
    suite changed): their jobs are cancelled and the folders removed."""
    for s in staged(job.out):
        if s.path not in wanted:
            cancel(s)
            s.remove()

