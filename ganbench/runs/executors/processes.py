"""The ``process`` executor: groups spread over worker processes (``--workers``,
default one per CPU core, each with ``cores / workers`` torch threads; with ``--device
cuda`` and several GPUs, one per GPU, worker slot i on ``cuda:i``). On a small CPU this
is the fast way: the small matmuls of 2D GANs use two threads poorly, two processes
well. And ``auto``: this on a CPU with several cores, else ``local``.

Workers never run the user's ``__main__`` (so a plain script may call ``ganbench.run``
without an ``if __name__ == "__main__":`` guard; entries registered in the script itself
make the suite train in this process instead) and write their stderr to files of their
own (:mod:`.spawning`). A worker that dies (killed, a crash, an error before it could
start) fails its own group, recorded with its exit code or signal and the end of its
stderr; the groups the broken pool cut short run again in a new pool.
"""
from __future__ import annotations

import multiprocessing as mp
import os
import queue
import signal
import warnings
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

from ...harness.device import bind
from .. import training
from ..groups import Group, longest_first
from ..progress import Progress
from ..store import RunFiles
from .base import Executor, Job, cpu_cores, executors
from .local import Local
from .spawning import WorkerContext, registered_in_main, replay, stderr_tail


# --- worker processes ---------------------------------------------------------------

_STEPS: "mp.Queue | None" = None
_PARENT: int | None = None


def _worker_init(parent: int, threads: int, imports: list[str], base: Path | None,
                 steps_queue, deterministic: bool = False) -> None:
    global _STEPS, _PARENT
    _PARENT = parent
    # Ctrl-C in a terminal reaches the whole process group: the suite's own process
    # stops the workers (SIGTERM), so they ignore SIGINT and never print a traceback
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    training.prepare_worker(threads, imports, base, deterministic)
    _STEPS = steps_queue


def _worker_run(slot: int, group: Group, device: str, resume=None) -> list[RunFiles]:
    def report(n: int) -> None:
        if os.getppid() != _PARENT:  # the suite was killed: stop, leave no orphan training
            os._exit(1)
        if _STEPS is not None:
            _STEPS.put((slot, "step", n))
    if _STEPS is not None:
        _STEPS.put((slot, "pid", os.getpid()))   # who trains this slot, should it die
    bind(device)        # this process's GPU (a process serves one GPU: see _pool_round)
    return training.train_group(group, device, report, resume)


def how_it_died(proc) -> str:
    """What ended a worker process, from its exit code (what the worker said comes from
    its stderr, :mod:`.spawning`): never a guess."""
    code = getattr(proc, "exitcode", None)
    if code is not None and code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = str(-code)
        how = f"was killed by signal {name}"
        if -code == signal.SIGKILL:
            how += " (kill -9, or the kernel's out-of-memory killer: dmesg says which)"
    else:
        how = f"exited with code {code}" if code is not None else "died"
    return f"worker process training this group {how}"


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
class Processes(Executor):
    """Groups spread over worker processes (--workers, default one per CPU core)."""

    def run(self, job: Job) -> None:
        own = registered_in_main()
        if own and job.groups:
            warnings.warn(f"{', '.join(own)} is registered in your script (__main__), which "
                          "worker processes do not run: training in this process. Register it "
                          "in a module named under the suite's 'imports:' to use workers.",
                          stacklevel=2)
            Local().run(job)
            return
        run_processes(job)


def run_processes(job: Job) -> None:
    if not job.groups:
        return
    configured = job.workers or default_workers(job.device)
    # threads per run depend on the machine and --workers only, never on how many groups
    # are left: a resumed suite computes with the same thread count, so the same numbers
    threads = max(1, cpu_cores() // configured)
    workers = max(1, min(configured, len(job.groups)))
    n_gpus = gpu_count() if job.device == "cuda" else 0
    # spawn (fork is unsafe once torch's OpenMP threads exist), without the user's
    # __main__ and with each worker's stderr kept (.spawning)
    ctx = WorkerContext()
    steps_q = ctx.Queue()
    progress = job.progress_display()
    pending = longest_first(job.groups)
    # per slot: its worker's pid, its last step; the workers whose stderr was passed on
    seen: dict = {"pid": {}, "step": {}, "replayed": set()}
    try:
        while pending:     # a new pool after a worker died; the groups it cut short go on
            pending = _pool_round(job, pending, workers, threads, n_gpus, ctx, steps_q,
                                  progress, seen)
    finally:
        progress.close()
        steps_q.close()
        ctx.close()


def _pool_round(job: Job, pending: list, workers: int, threads: int, n_gpus: int, ctx, steps_q,
                progress: Progress, seen: dict) -> list:
    """Train ``pending`` groups in one pool until they are done, or until a worker dies:
    then its group is recorded ``failed`` and the groups the broken pool cut short are
    returned to run again in a new pool. With several GPUs a worker process trains one
    group and exits (the pool does not tie processes to slots, so a reused process could
    open a CUDA context on every GPU)."""
    running: dict = {}
    free_slots = list(range(workers))
    pool = ProcessPoolExecutor(workers, mp_context=ctx, initializer=_worker_init,
                               initargs=(os.getpid(), threads, job.imports, job.base, steps_q,
                                         job.deterministic),
                               max_tasks_per_child=1 if n_gpus > 1 else None)
    try:
        while pending or running:
            while pending and free_slots:
                slot, group = free_slots.pop(0), pending.pop(0)
                progress.start(slot, group)
                seen["pid"].pop(slot, None)
                seen["step"].pop(slot, None)
                dev = slot_device(job.device, slot, n_gpus)
                running[pool.submit(_worker_run, slot, group, dev, job.resume_point(group))] = \
                    (slot, group)
            done, _ = wait(list(running), timeout=0.5, return_when=FIRST_COMPLETED)
            _drain(steps_q, progress, seen)
            for fut in done:
                slot, group = running.pop(fut)
                try:
                    files = fut.result()
                except BrokenProcessPool:
                    running[fut] = (slot, group)
                    return _after_death(job, pool, running, pending, progress, seen)
                progress.finish(slot, group, job.record(files, group))
                free_slots.append(slot)
    except BaseException:
        # interrupted (a signal), or the results cannot be written: stop the workers now
        # rather than wait for their groups, whose results would be lost anyway
        stop_workers(pool)
        raise
    procs = list((getattr(pool, "_processes", None) or {}).values())
    pool.shutdown(wait=True)
    replay(procs, seen["replayed"])
    return []


def stop_workers(pool: ProcessPoolExecutor) -> None:
    """Terminate a pool's worker processes (SIGTERM, then SIGKILL after 10 s) and wait
    until they are gone, so none outlives the suite."""
    procs = list((getattr(pool, "_processes", None) or {}).values())
    for p in procs:
        if p.is_alive():
            p.terminate()
    pool.shutdown(wait=False, cancel_futures=True)
    for p in procs:
        p.join(timeout=10)
        if p.is_alive():
            p.kill()
            p.join(timeout=5)


def _after_death(job: Job, pool, running: dict, pending: list, progress: Progress,
                 seen: dict) -> list:
    """A worker died: the groups whose worker was killed (not terminated by the pool
    after the death) are recorded ``failed``; the others go back to the queue."""
    procs = dict(getattr(pool, "_processes", None) or {})
    # the pool marks the futures broken before it terminates the other workers: wait for
    # it to finish that, then read each worker's exit code
    pool.shutdown(wait=True, cancel_futures=True)
    for p in procs.values():
        p.join(timeout=30)
    retry, quoted = [], set()
    for slot, group in running.values():
        proc = procs.get(seen["pid"].get(slot))
        code = getattr(proc, "exitcode", None)
        # the pool ended this one because another died, or it had not started the group
        # yet (which worker died is then unknown): run the group again, once
        if code == -signal.SIGTERM or (proc is None and not group.retried):
            group.retried = True
            retry.append(group)
            progress.finish(slot, group, [], retried=True)
            continue
        if proc is None:        # died before it took the group: one that did not start
            proc = _died_unassigned(procs, seen, quoted)
        quoted.add(getattr(proc, "pid", None))
        progress.finish(slot, group, job.record_death(group, how_it_died(proc),
                                                      seen["step"].get(slot), stderr_tail(proc)))
    return retry + pending


def _died_unassigned(procs: dict, seen: dict, quoted: set):
    """A worker of the pool that ended on its own (not terminated by the pool) without
    having taken a group (it died starting: importing, initialising), or None."""
    assigned = set(seen["pid"].values())
    dead = [p for pid, p in procs.items() if pid not in assigned
            and p.exitcode is not None and p.exitcode != -signal.SIGTERM]
    fresh = [p for p in dead if p.pid not in quoted]
    return (fresh or dead or [None])[0]


def _drain(q, progress: Progress, seen: dict | None = None) -> None:
    while True:
        try:
            slot, kind, n = q.get_nowait()
        except (queue.Empty, EOFError, OSError):
            return
        if seen is not None:
            seen[kind][slot] = n
        if kind == "step":
            progress.steps(slot, n)


@executors.register("auto")
class Auto(Executor):
    """process on a CPU with several cores, else local (one process drives the GPU)."""

    def run(self, job: Job) -> None:
        use_processes = job.device == "cpu" and (job.workers or cpu_cores()) > 1
        (Processes() if use_processes else Local()).run(job)
