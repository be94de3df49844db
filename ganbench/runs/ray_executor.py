"""The Ray executor: groups as Ray tasks, on a local Ray or a cluster; the driver
writes every file, so the workers need no access to OUT."""
from __future__ import annotations

from pathlib import Path

from ..errors import InputError
from .groups import (Group, Job, Progress, RunFiles, prepare_worker, cpu_cores, executors,
                     longest_first, train_group, write_group)


def _ray_task(group: Group, device: str, imports: list[str], base: str | None) -> list[RunFiles]:
    """One group on a Ray worker: torch threads from the CPUs Ray allotted to the task."""
    import ray
    cpus = ray.get_runtime_context().get_assigned_resources().get("CPU", 1)
    prepare_worker(cpus, imports, Path(base) if base else None)
    return train_group(group, device)


@executors.register("ray")
def ray_executor():
    """Groups as Ray tasks (--ray-address to join a cluster; default: a local Ray)."""
    return run_ray


def run_ray(job: Job) -> None:
    try:
        import ray
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
