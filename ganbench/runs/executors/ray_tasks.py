"""The ``ray`` executor: groups as Ray tasks, on a local Ray or a cluster; the driver
writes every file, so the workers need no access to OUT.

A task asks for one CPU, or on a GPU for one GPU (Ray then sets its
``CUDA_VISIBLE_DEVICES`` to that GPU, and the task trains on ``cuda``); a GPU task's
worker process exits after the task (``max_calls=1``), so no group inherits another's
CUDA context or cached memory. Ray picks the GPU: ``--device cuda:N`` is refused.

A task whose worker dies (killed, out of memory, a crash) is not retried: its group is
recorded ``failed`` with what Ray says killed it and the last step it evaluated, the
other tasks go on, and the same command runs the missing runs again.
"""
from __future__ import annotations

from pathlib import Path

from ...errors import InputError
from .. import training
from ..groups import Group, longest_first
from ..store import RunFiles
from .base import Executor, Job, cpu_cores, executors


def _ray_task(group: Group, device: str, imports: list[str], base: str | None,
              key: int = 0, steps=None, deterministic: bool = False,
              live: bool = False) -> list[RunFiles]:
    """One group on a Ray worker: torch threads from the CPUs Ray allotted to the task;
    each evaluated step goes to the driver's ``steps`` queue as (key, "step", step), and
    with ``live`` each evaluation's new history rows as (key, "live", (rows, whole))."""
    import ray
    cpus = ray.get_runtime_context().get_assigned_resources().get("CPU", 1)
    training.prepare_worker(cpus, imports, Path(base) if base else None, deterministic)

    def report(n: int) -> None:
        if steps is not None:
            steps.put_nowait((key, "step", n))

    def rows(got: dict, whole: bool) -> None:
        steps.put_nowait((key, "live", (got, whole)))
    return training.train_group(group, device, report,
                                live=rows if live and steps is not None else None)


def remote_task(ray, gpu: bool):
    """:func:`_ray_task` as a Ray remote function. ``max_calls`` must be given here: Ray
    sets its GPU default (1) only from ``num_gpus`` given to ``ray.remote`` itself, not
    through ``.options()``. No retries: a dead worker fails its group."""
    return ray.remote(num_cpus=1, num_gpus=1 if gpu else 0, max_calls=1 if gpu else 0,
                      max_retries=0)(_ray_task)


@executors.register("ray")
class Ray(Executor):
    """Groups as Ray tasks (--ray-address to join a cluster; default: a local Ray)."""

    def check_device(self, device: str) -> None:
        """Ray assigns each GPU task its GPU, so a named GPU cannot be honoured."""
        if device.startswith("cuda:"):
            raise InputError(f"--device {device}: with --executor ray, Ray assigns each task "
                             "its GPU; use --device cuda (or another executor for one named GPU).")

    def run(self, job: Job) -> None:
        self.check_device(job.device)
        run_ray(job)


def how_it_died(error: Exception) -> str:
    """What Ray says killed a task's worker."""
    why = " ".join(str(error).split())[:300]
    return f"Ray worker training this group died ({type(error).__name__}: {why})"


def run_ray(job: Job) -> None:
    try:
        import ray
        from ray.exceptions import NodeDiedError, OutOfMemoryError, WorkerCrashedError
        from ray.util.queue import Empty, Queue
    except ImportError:
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
    task = remote_task(ray, gpu)
    device = "cuda" if gpu else "cpu"
    base = str(job.base) if job.base else None
    steps = Queue(actor_options={"num_cpus": 0})
    groups = longest_first(job.groups)
    pending = {task.remote(g, device, job.imports, base, i, steps, job.deterministic,
                           job.live is not None): i
               for i, g in enumerate(groups)}
    last: dict[int, int] = {}
    progress = job.progress_display()
    try:
        while pending:
            ready, _ = ray.wait(list(pending), num_returns=1, timeout=0.5)
            while True:
                try:
                    key, kind, body = steps.get_nowait()
                except Empty:
                    break
                if kind == "live":
                    job.live(*body)
                    continue
                if key not in last:
                    progress.start(key, groups[key])
                last[key] = body
                progress.steps(key, body)
            for ref in ready:
                i = pending.pop(ref)
                try:
                    records = job.record(ray.get(ref))
                except (WorkerCrashedError, NodeDiedError, OutOfMemoryError) as e:
                    records = job.record_death(groups[i], how_it_died(e), last.get(i))
                progress.finish(i, groups[i], records)
    except BaseException:
        # interrupted (a signal), or the results cannot be written: stop the tasks now
        for ref in pending:
            ray.cancel(ref, force=True)
        raise
    finally:
        progress.close()
        ray.kill(steps.actor)

