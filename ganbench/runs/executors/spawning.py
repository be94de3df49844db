"""The worker processes of the ``process`` executor: started and owned by the suite's
process, with multiprocessing's public API only.

Each :class:`Worker` is a ``spawn`` ``Process`` this process starts itself (fork is
unsafe once torch's OpenMP threads exist), with a pipe of its own and a stderr file of
its own. Owning the process object is what lets the executor stop a worker
(``terminate``, ``kill``), see it end (its ``sentinel``) and say how it ended (its
``exitcode``: a signal or a code), which a ``ProcessPoolExecutor`` gives no public way
to do. A pipe per worker (rather than one queue for all) means a worker killed in the
middle of a message loses only its own pipe, and the others train on.

**The user's script is not run again.** ``spawn`` prepares each child from the
parent's ``__main__``: by its file (a plain script, re-run as ``__mp_main__``) or by its
``__spec__`` name (``python -m module``, imported again), except a spec named
``__main__`` or ``*.__main__``, which the child leaves alone (how ``python -m package``
starts work). :func:`main_left_alone` gives ``__main__`` such a spec for the instant a
worker starts (the preparation data is read then, in ``Process.start``), so a plain
script that calls ``ganbench.run(...)`` with no ``if __name__ == "__main__":`` guard is
not run in every worker. Workers need nothing from ``__main__``: they run ganbench's
own functions and import the suite's ``imports:`` themselves. Something registered in
the script itself is therefore unknown in a worker: :func:`registered_in_main` finds
such entries, and the executor trains in this process instead.

**Its own stderr.** The worker's first act (:func:`ganbench.runs.worker.serve`) sends
its fd 2 to its file, so a worker that dies is reported with the end of what it wrote
(:meth:`Worker.stderr_tail`); :meth:`Worker.replay` passes the file of a worker that
ended normally to this process's stderr.

Checked on CPython 3.10, 3.11, 3.12 and 3.13 (tests/runs/test_plain_script.py,
test_worker_death.py, test_faults.py; .ci/smoke runs a plain script on each).
"""
from __future__ import annotations

import multiprocessing as mp
import os
import shutil
import sys
import tempfile
from contextlib import contextmanager
from importlib.machinery import ModuleSpec

from .. import worker

#: characters of a dead worker's stderr quoted in its runs' error
TAIL_CHARS = 8000


@contextmanager
def main_left_alone():
    """While it lasts, ``__main__`` has a ``__spec__`` named ``__main__``, so that a
    spawn child started now does not run the parent's main module (see the module)."""
    main = sys.modules.get("__main__")
    spec = getattr(main, "__spec__", None)
    name = getattr(spec, "name", None) or ""
    if main is None or name == "__main__" or name.endswith(".__main__"):
        yield
        return
    had = "__spec__" in vars(main)
    main.__spec__ = ModuleSpec("__main__", None)
    try:
        yield
    finally:
        if had:
            main.__spec__ = spec
        else:
            del main.__spec__


class Worker:
    """One worker process: started at once, training the groups sent with :meth:`send`
    (``args``: what :func:`ganbench.runs.worker.serve` takes after its pipe and stderr
    file; ``folder``: where its stderr file goes)."""

    def __init__(self, slot: int, folder: str, args: tuple):
        self.slot = slot
        fd, self.stderr_path = tempfile.mkstemp(prefix=f"worker{slot}-", suffix=".stderr",
                                                dir=folder)
        os.close(fd)
        ctx = mp.get_context("spawn")
        self.conn, child = ctx.Pipe()
        self.process = ctx.Process(target=worker.serve, args=(child, self.stderr_path, *args),
                                   name=f"ganbench-worker-{slot}")
        with main_left_alone():
            self.process.start()
        child.close()               # the pipe's far end lives in the worker only
        self.open = True            # its pipe may still hold messages

    @property
    def pid(self) -> int | None:
        return self.process.pid

    def send(self, task) -> None:
        self.conn.send(task)

    def messages(self) -> list:
        """What the worker sent that has arrived; at the pipe's end (the worker ended,
        or died in the middle of a message), ``open`` turns False."""
        got = []
        try:
            while self.open and self.conn.poll():
                got.append(self.conn.recv())
        except (EOFError, OSError):
            self.open = False
        return got

    def ended(self) -> bool:
        return self.process.exitcode is not None

    def finish(self, grace: float = 60.0) -> None:
        """Tell the worker to stop (it is idle) and wait until it has; SIGTERM after
        ``grace`` seconds."""
        try:
            self.send(None)
        except OSError:         # it is gone already
            pass
        self.process.join(grace)
        self.stop()

    def stop(self, grace: float = 10.0) -> None:
        """SIGTERM, then SIGKILL after ``grace`` seconds; returns once it is gone."""
        if self.process.is_alive():
            self.process.terminate()
        self.process.join(grace)
        if self.process.is_alive():
            self.process.kill()
            self.process.join(5)
        self.conn.close()

    def stderr_tail(self, chars: int = TAIL_CHARS) -> str | None:
        """The end of what the worker wrote to stderr ("" if nothing; None: unknown)."""
        try:
            with open(self.stderr_path, "rb") as f:
                f.seek(0, os.SEEK_END)
                f.seek(max(0, f.tell() - chars))
                return f.read().decode("utf-8", "replace").strip()
        except OSError:
            return None

    def replay(self) -> None:
        """Copy the worker's stderr to this process's stderr."""
        try:
            text = open(self.stderr_path, encoding="utf-8", errors="replace").read()
        except OSError:
            return
        if text:
            sys.stderr.write(text)
            sys.stderr.flush()


@contextmanager
def stderr_folder():
    """A temporary folder for the workers' stderr files, removed afterwards."""
    folder = tempfile.mkdtemp(prefix="ganbench-workers-")
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def registered_in_main() -> list[str]:
    """Registry entries defined in the parent's ``__main__`` (a script, a notebook):
    workers do not run ``__main__``, so they would not know them."""
    from ...registry import Registry
    return [f"{reg.kind} {name!r}" for reg in Registry.instances for name in reg.names()
            if getattr(reg.get(name), "__module__", None) == "__main__"]
