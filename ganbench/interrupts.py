"""Stopping a suite cleanly on SIGINT (Ctrl-C) and SIGTERM.

While :func:`handled` is active, both signals raise :class:`Interrupted` in the main
thread, so every ``finally`` runs: worker processes are stopped, progress bars closed,
and the folder lock released. Writes are :func:`deferred`: a signal that arrives while
a file (or a group's run folders) is being written takes effect when the write is
done, so no temporary file is left and no run is half recorded. The command line
exits ``128 + signal`` (130 for SIGINT, 143 for SIGTERM); the finished runs are kept
and the same command resumes.

Bottom layer: imports nothing from ganbench (``layout.atomic_write`` uses it).
"""
from __future__ import annotations

import signal
import threading
from contextlib import contextmanager


class Interrupted(KeyboardInterrupt):
    """The suite was stopped by ``signum``; ``exit_code`` is 128 + signum."""

    def __init__(self, signum: int):
        super().__init__(signum)
        self.signum = signum
        self.name = signal.Signals(signum).name
        self.exit_code = 128 + signum
        #: filled in by the run API: where, and how many runs are finished
        self.out = None
        self.finished = None
        self.total = None


_state = threading.local()


def _depth() -> int:
    return getattr(_state, "depth", 0)


def _handler(signum, frame) -> None:
    if _depth() > 0:
        _state.pending = signum           # raised when the write in progress is done
        return
    raise Interrupted(signum)


@contextmanager
def handled(signals=(signal.SIGINT, signal.SIGTERM)):
    """Turn ``signals`` into :class:`Interrupted` for the duration (main thread only;
    elsewhere, e.g. a notebook's worker thread, the handlers stay as they are)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    old = {s: signal.signal(s, _handler) for s in signals}
    try:
        yield
    finally:
        for s, h in old.items():
            signal.signal(s, h)


@contextmanager
def deferred():
    """Postpone :class:`Interrupted` until the block is done (blocks nest)."""
    _state.depth = _depth() + 1
    try:
        yield
    finally:
        _state.depth -= 1
    pending = getattr(_state, "pending", None)
    if pending is not None and _state.depth == 0:
        _state.pending = None
        raise Interrupted(pending)
