"""A worker process of the ``process`` executor, from its first line.

Its stderr goes to a file of its own before anything else happens in it, so a worker
that dies (importing torch or the suite's ``imports:``, initialising a GPU, training)
is reported with the end of what it wrote, never with a guess. Until that redirect the
process has imported only the standard library: this module and its packages
(``ganbench``, ``ganbench.runs``) import nothing else when they load, and the process
object the parent pickles holds only this function, a pipe and plain values.

Then it ignores SIGINT (the suite's own process stops its workers), sets its threads,
imports the suite's modules, binds its device, says ``ready``, and trains the groups
its parent sends over the pipe, one at a time, until it is sent ``None`` or the pipe
closes. Messages to the parent: ``("ready", None)``, ``("step", n)`` at each evaluation
or checkpoint, ``("done", files)`` and ``("raised", (exception, traceback))``.
"""
from __future__ import annotations

import os
import pickle
import signal
import traceback


def serve(conn, stderr_path: str, parent: int, threads: int, imports: list[str], base,
          deterministic: bool, device: str) -> None:
    """The worker's whole life (``multiprocessing.Process``'s target)."""
    fd = os.open(stderr_path, os.O_WRONLY | os.O_APPEND)
    os.dup2(fd, 2)
    os.close(fd)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    from ..harness.device import bind
    from . import training
    training.prepare_worker(threads, imports, base, deterministic)
    bind(device)        # this process's GPU, for all its groups: one process per slot

    def report(n: int) -> None:
        if os.getppid() != parent:   # the suite was killed: stop, leave no orphan training
            os._exit(1)
        conn.send(("step", n))

    conn.send(("ready", None))
    while True:
        try:
            task = conn.recv()
        except EOFError:             # the suite's process is gone
            return
        if task is None:
            return
        group, resume = task
        try:
            files = training.train_group(group, device, report, resume)
        except BaseException as e:  # noqa: BLE001  (the parent raises it)
            conn.send(("raised", (_portable(e), traceback.format_exc())))
            return
        conn.send(("done", files))


def _portable(error: BaseException) -> BaseException:
    """``error`` if it pickles, else a RuntimeError naming it."""
    try:
        pickle.dumps(error)
        return error
    except Exception:  # noqa: BLE001
        return RuntimeError(f"{type(error).__name__}: {error}")
