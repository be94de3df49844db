"""Worker processes that never run the user's script, and keep their own stderr.

multiprocessing's ``spawn`` start re-runs the parent's ``__main__`` file in every child
(as ``__mp_main__``) so that functions defined there can be unpickled. A plain script
that calls ``ganbench.run(...)`` at top level (no ``if __name__ == "__main__":`` guard)
would then call it again in every worker, which finds the results folder locked and
dies before training. ganbench's workers need nothing from ``__main__``: they run
functions of ganbench and import the suite's ``imports:`` modules themselves
(:func:`ganbench.runs.training.prepare_worker`). So :class:`WorkerContext` starts
spawn children with the main-module entries left out of their preparation data, the
way ``python -m`` starts already skip them. Something registered in the script itself
is therefore unknown in a worker: :func:`registered_in_main` finds such entries, and
the executor trains in this process instead.

Each child's stderr goes to a file of its own (the first thing the child does), so a
worker that dies, even before it could run any ganbench code, is reported with the end
of what it wrote, never with a guess; :func:`replay` passes the files of workers that
lived on to this process's stderr.

Written by hand because multiprocessing has no switch for either: ``_launch`` is
CPython 3.11's ``multiprocessing.popen_spawn_posix.Popen._launch`` with the preparation
data filtered and the command line's program prefixed (tests/runs/test_plain_script.py
checks both on the Python in use).
"""
from __future__ import annotations

import io
import os
import shutil
import sys
import tempfile
from multiprocessing import context, popen_spawn_posix, reduction, spawn, util

#: preparation-data keys that make a spawn child run the parent's __main__
MAIN_KEYS = ("init_main_from_path", "init_main_from_name")
#: characters of a dead worker's stderr quoted in its runs' error
TAIL_CHARS = 8000


class _Popen(popen_spawn_posix.Popen):
    """A spawn child without the parent's __main__, its stderr to ``stderr_path``."""

    stderr_path: str | None = None

    def _launch(self, process_obj):
        from multiprocessing import resource_tracker
        tracker_fd = resource_tracker.getfd()
        self._fds.append(tracker_fd)
        prep_data = {k: v for k, v in spawn.get_preparation_data(process_obj._name).items()
                     if k not in MAIN_KEYS}
        fp = io.BytesIO()
        context.set_spawning_popen(self)
        try:
            reduction.dump(prep_data, fp)
            reduction.dump(process_obj, fp)
        finally:
            context.set_spawning_popen(None)
        folder = getattr(process_obj, "stderr_dir", None)
        if folder:
            fd, self.stderr_path = tempfile.mkstemp(prefix="worker-", suffix=".stderr", dir=folder)
            os.close(fd)
        parent_r = child_w = child_r = parent_w = None
        try:
            parent_r, child_w = os.pipe()
            child_r, parent_w = os.pipe()
            cmd = _with_stderr(spawn.get_command_line(tracker_fd=tracker_fd, pipe_handle=child_r),
                               self.stderr_path)
            self._fds.extend([child_r, child_w])
            self.pid = util.spawnv_passfds(spawn.get_executable(), cmd, self._fds)
            self.sentinel = parent_r
            with open(parent_w, "wb", closefd=False) as f:
                f.write(fp.getbuffer())
        finally:
            fds_to_close = [fd for fd in (parent_r, parent_w) if fd is not None]
            self.finalizer = util.Finalize(self, util.close_fds, fds_to_close)
            for fd in (child_r, child_w):
                if fd is not None:
                    os.close(fd)


def _with_stderr(cmd: list[str], path: str | None) -> list[str]:
    """The spawn command line with its program first sending fd 2 to ``path``."""
    if not path or "-c" not in cmd:         # a frozen executable: no program to prefix
        return cmd
    i = cmd.index("-c") + 1
    redirect = (f"import os; os.dup2(os.open({path!r}, os.O_WRONLY | os.O_APPEND), 2); ")
    return cmd[:i] + [redirect + cmd[i]] + cmd[i + 1:]


class WorkerProcess(context.SpawnProcess):
    """A spawn process started by :class:`_Popen` (``stderr_dir``: where its stderr goes)."""

    stderr_dir: str | None = None

    @staticmethod
    def _Popen(process_obj):
        return _Popen(process_obj)


class WorkerContext(context.SpawnContext):
    """The ``spawn`` context, its processes started without the parent's __main__ and
    with their stderr in files under ``stderr_dir`` (a temporary folder; :meth:`close`
    removes it)."""

    def __init__(self):
        super().__init__()
        self.stderr_dir = tempfile.mkdtemp(prefix="ganbench-workers-")

    def Process(self, *args, **kwargs):  # noqa: N802 (multiprocessing's name)
        proc = WorkerProcess(*args, **kwargs)
        proc.stderr_dir = self.stderr_dir
        return proc

    def close(self) -> None:
        shutil.rmtree(self.stderr_dir, ignore_errors=True)


def stderr_path(proc) -> str | None:
    return getattr(getattr(proc, "_popen", None), "stderr_path", None)


def stderr_tail(proc, chars: int = TAIL_CHARS) -> str | None:
    """The end of what process ``proc`` wrote to stderr ("" if nothing; None: unknown)."""
    path = stderr_path(proc)
    if not path:
        return None
    try:
        with open(path, "rb") as f:
            f.seek(0, os.SEEK_END)
            f.seek(max(0, f.tell() - chars))
            text = f.read().decode("utf-8", "replace")
    except OSError:
        return None
    return text.strip()


def replay(procs, seen: set) -> None:
    """Copy the stderr of ``procs`` not in ``seen`` (pids) to this process's stderr, once."""
    for proc in procs:
        path = stderr_path(proc)
        if not path or proc.pid in seen:
            continue
        seen.add(proc.pid)
        try:
            text = open(path, encoding="utf-8", errors="replace").read()
        except OSError:
            continue
        if text:
            sys.stderr.write(text)
            sys.stderr.flush()


def registered_in_main() -> list[str]:
    """Registry entries defined in the parent's ``__main__`` (a script, a notebook):
    workers do not run ``__main__``, so they would not know them."""
    from ...registry import Registry
    return [f"{reg.kind} {name!r}" for reg in Registry.instances for name in reg.names()
            if getattr(reg.get(name), "__module__", None) == "__main__"]
