"""The ``process`` executor: groups spread over worker processes (``--workers``,
default one per CPU core, each with ``cores / workers`` torch threads; with ``--device
cuda`` and several GPUs, one per GPU, worker slot i on ``cuda:i``). On a small CPU this
is the fast way: the small matmuls of 2D GANs use two threads poorly, two processes
well. And ``auto``: this on a CPU with several cores, else ``local``.

The workers are processes this one starts and owns (:mod:`.spawning`), each with a pipe
of its own, and serve one slot (one GPU) for their whole life (:mod:`ganbench.runs.worker`).
They never run the user's ``__main__`` (so a plain script may call ``ganbench.run``
without an ``if __name__ == "__main__":`` guard; entries registered in the script itself
make the suite train in this process instead) and write their stderr to files of their
own. A worker that dies (killed, a crash, an error before it could start) fails its own
group only, recorded with its exit code or signal and the end of its stderr; the other
workers train on, and a new worker takes the dead one's slot while groups remain.
"""
from __future__ import annotations

import os
import signal
import warnings
from multiprocessing.connection import wait

from ..groups import Group, longest_first
from ..progress import Progress
from .base import Executor, Job, cpu_cores, executors
from .local import Local
from .spawning import Worker, registered_in_main, stderr_folder


def how_it_died(proc) -> str:
    """What ended a worker process, from its exit code (what the worker said comes from
    its stderr, :mod:`.spawning`): never a guess."""
    code = proc.exitcode
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

    def slots(self, device: str, workers: int | None) -> int:
        return workers or default_workers(device)


def run_processes(job: Job) -> None:
    """Train ``job``'s groups on worker processes, the longest first: each worker trains
    one group at a time and is sent the next when it is done; a worker that dies fails
    its own group only, and a new worker takes its slot while groups remain."""
    if not job.groups:
        return
    configured = job.workers or default_workers(job.device)
    # threads per run depend on the machine and --workers only, never on how many groups
    # are left: a resumed suite computes with the same thread count, so the same numbers
    threads = max(1, cpu_cores() // configured)
    n_gpus = gpu_count() if job.device == "cuda" else 0
    pending = longest_first(job.groups)
    progress = job.progress_display()
    slots: dict[int, Slot] = {}

    def start(slot: int) -> None:
        """A new worker in ``slot``, for the next pending group."""
        args = (os.getpid(), threads, job.imports, job.base, job.deterministic,
                slot_device(job.device, slot, n_gpus))
        slots[slot] = Slot(Worker(slot, folder, args))
        slots[slot].take(pending.pop(0), progress)

    with stderr_folder() as folder:
        try:
            for slot in range(min(configured, len(pending))):
                start(slot)
            while any(s.group is not None for s in slots.values()):
                wait([s.worker.conn for s in slots.values() if s.worker.open]
                     + [s.worker.process.sentinel for s in slots.values()], timeout=0.5)
                for slot, s in list(slots.items()):
                    for kind, body in s.worker.messages():
                        s.handle(kind, body, job, pending, progress)
                    if s.worker.ended():
                        del slots[slot]
                        s.close(job, progress)
                        if pending:
                            start(slot)
            # every group is done: the workers, idle since their last group, stop now
            for s in slots.values():
                s.worker.finish()
            for s in slots.values():
                s.close(job, progress)
        except BaseException:
            # interrupted (a signal), or the results cannot be written: stop the workers
            # now rather than wait for their groups, whose results would be lost anyway
            stop_workers([s.worker for s in slots.values()])
            raise
        finally:
            progress.close()


class Slot:
    """A worker slot: its worker process, the group it trains (None: told to stop) and
    that group's last reported step."""

    def __init__(self, worker: Worker):
        self.worker = worker
        self.group: Group | None = None
        self.step: int | None = None

    def take(self, group: Group, progress: Progress) -> None:
        self.group, self.step = group, None
        progress.start(self.worker.slot, group)

    def handle(self, kind: str, body, job: Job, pending: list, progress: Progress) -> None:
        """One message of the worker (:mod:`ganbench.runs.worker`)."""
        if kind == "step":
            self.step = body
            progress.steps(self.worker.slot, body)
            return
        if kind == "live":
            job.live(*body)
            return
        if kind == "raised":
            error, text = body
            raise error from RemoteTraceback(text)
        if kind == "done":
            group, self.group = self.group, None
            progress.finish(self.worker.slot, group, job.record(body, group))
            if pending:
                self.take(pending.pop(0), progress)
        if self.group is not None:  # ready, or done and given the next group (else idle)
            self.worker.send((self.group, job.resume_point(self.group), job.live is not None))

    def close(self, job: Job, progress: Progress) -> None:
        """The worker has ended: told to stop or idle (its stderr goes to ours), or dead
        while it had a group, which is then recorded ``failed`` with how it died and
        what it wrote."""
        self.worker.conn.close()
        if self.group is None:
            self.worker.replay()
            return
        proc = self.worker.process
        progress.finish(self.worker.slot, self.group,
                        job.record_death(self.group, how_it_died(proc), self.step,
                                         self.worker.stderr_tail()))


class RemoteTraceback(Exception):
    """The traceback of an exception raised in a worker process (its cause here)."""

    def __str__(self) -> str:
        return "\n" + self.args[0]


def stop_workers(workers: list[Worker]) -> None:
    """Terminate ``workers`` (SIGTERM, then SIGKILL after 10 s) and wait until they are
    gone, so none outlives the suite."""
    for w in workers:
        if w.process.is_alive():
            w.process.terminate()
    for w in workers:
        w.stop()


@executors.register("auto")
class Auto(Executor):
    """process on a CPU with several cores, else local (one process drives the GPU)."""

    def run(self, job: Job) -> None:
        (Processes() if self.slots(job.device, job.workers) > 1 else Local()).run(job)

    def slots(self, device: str, workers: int | None) -> int:
        return Processes().slots(device, workers) if device == "cpu" else 1
