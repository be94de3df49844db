"""The ``ray`` executor: groups as Ray tasks, on a local Ray or a cluster; the driver
writes the run folders, so the workers need no access to OUT (where they have it, they
keep mid-run checkpoints there: below).

A task asks for one CPU, or on a GPU for one GPU (Ray then sets its
``CUDA_VISIBLE_DEVICES`` to that GPU, and the task trains on ``cuda``); a GPU task's
worker process exits after the task (``max_calls=1``), so no group inherits another's
CUDA context or cached memory. Ray picks the GPU: ``--device cuda:N`` is refused.

A task whose worker dies (killed, out of memory, a crash) is not retried: its group is
recorded ``failed`` with what Ray says killed it and the last step it evaluated, the
other tasks go on, and the same command runs the missing runs again.

**Mid-run checkpoints where the nodes see OUT.** The driver writes a probe file with a
random token in OUT (:data:`PROBE`, absolute path); each task reads it back on its node
(:func:`sees_out`). Where it can (OUT on a filesystem that node mounts at the same
path), the task keeps its group's training checkpoint in OUT/checkpoints every
``checkpoint_every`` steps and continues from one, as the process executor does; where
it cannot, the group keeps none, and the driver says so once per node. Each run records
the Ray node and host it trained on (config.json ``environment``: ``ray_node``,
``host``).
"""
from __future__ import annotations

import dataclasses
import platform
import secrets
from pathlib import Path

from ...errors import InputError
from .. import training
from ..groups import Group, longest_first
from ..store import RunFiles
from .base import Executor, Job, cpu_cores, executors


#: the probe file the driver writes in OUT for the tasks to read back
PROBE = ".ray-sees-out"


def write_probe(out: Path) -> tuple[str, str]:
    """The probe (its absolute path, its token), written in OUT."""
    path, token = (Path(out) / PROBE).resolve(), secrets.token_hex(16)
    path.write_text(token)
    return str(path), token


def sees_out(probe: tuple[str, str] | None) -> bool:
    """Whether this node reads the driver's probe back: it sees OUT at the same path."""
    if probe is None:
        return False
    try:
        return Path(probe[0]).read_text() == probe[1]
    except OSError:
        return False


def _ray_task(group: Group, device: str, imports: list[str], base: str | None,
              key: int = 0, steps=None, deterministic: bool = False,
              live: bool = False, point=None, probe=None) -> list[RunFiles]:
    """One group on a Ray worker: torch threads from the CPUs Ray allotted to the task;
    first (key, "node", (node id, host, sees OUT)) goes to the driver's ``steps`` queue,
    then each evaluated step as (key, "step", step), and with ``live`` each evaluation's
    new history rows as (key, "live", (rows, whole)). ``point``: the group's resume point
    in OUT, used when this node reads the driver's ``probe`` back."""
    import ray
    context = ray.get_runtime_context()
    cpus = context.get_assigned_resources().get("CPU", 1)
    training.prepare_worker(cpus, imports, Path(base) if base else None, deterministic)
    node, host, shared = context.get_node_id(), platform.node(), sees_out(probe)
    if steps is not None:
        steps.put_nowait((key, "node", (node, host, shared)))

    def report(n: int) -> None:
        if steps is not None:
            steps.put_nowait((key, "step", n))

    def rows(got: dict, whole: bool) -> None:
        steps.put_nowait((key, "live", (got, whole)))
    files = training.train_group(group, device, report, point if shared else None,
                                 live=rows if live and steps is not None else None)
    for f in files:
        f.config.setdefault("environment", {}).update(ray_node=node, host=host)
    return files


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
    probe = write_probe(job.out)
    pending = {task.remote(g, device, job.imports, base, i, steps, job.deterministic,
                           job.live is not None, resume_in_out(job, g), probe): i
               for i, g in enumerate(groups)}
    last: dict[int, int] = {}
    blind: set[str] = set()             # the nodes said not to see OUT
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
                if kind == "node":
                    say_if_blind(body, blind, job.out, progress)
                    continue
                if key not in last:
                    progress.start(key, groups[key])
                last[key] = body
                progress.steps(key, body)
            for ref in ready:
                i = pending.pop(ref)
                try:
                    records = job.record(ray.get(ref), groups[i])
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
        Path(probe[0]).unlink(missing_ok=True)


def resume_in_out(job: Job, group: Group):
    """The group's resume point in OUT, by its absolute path (a node's working folder
    is not the driver's)."""
    point = job.resume_point(group)
    return dataclasses.replace(point, path=point.path.resolve())


def say_if_blind(node: tuple[str, str, bool], blind: set[str], out: Path, progress) -> None:
    """One line per node whose tasks do not see OUT."""
    node_id, host, shared = node
    if not shared and node_id not in blind:
        blind.add(node_id)
        progress.note(f"ganbench: --executor ray: node {node_id[:12]} ({host}) does not see "
                      f"{Path(out).resolve()} (it cannot read {PROBE} there), so its groups "
                      "keep no mid-run checkpoints: stopped, they train again from step 0. "
                      "Put OUT on a filesystem every node mounts at the same path to "
                      "resume them.")

