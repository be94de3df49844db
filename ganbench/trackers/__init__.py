"""Experiment trackers: ``ganbench run SUITE --log tensorboard,wandb,mlflow`` and
``ganbench.Monitor(..., log="tensorboard")``.

Each backend is one class behind one interface (:class:`base.Tracker`), registered in
:data:`trackers`, its library an optional extra (``pip install 'ganbench[wandb]'``):

- ``tensorboard``: OUT/tb/<run_id> (:mod:`.tensorboard_logs`);
- ``wandb``: offline runs in OUT/wandb unless WANDB_MODE says online (:mod:`.wandb_runs`);
- ``mlflow``: experiment = suite, in MLFLOW_TRACKING_URI or sqlite:///OUT/mlflow.db
  (:mod:`.mlflow_runs`).

Who writes: the process that owns OUT (the suite's driver; a Monitor's own process),
right after it has written a group's run folders, from those folders' files. Never the
training process: the driver is the only writer of OUT's run folders already (a Ray
worker or a SLURM job may not see OUT), so no run is logged twice or by two processes;
a tracker holds exactly the finished runs of the results folder, each once per training
(a resumed suite does not log its finished runs again); and the training step does no
tracker work. Stacked runs (the seeds of a group) are separate tracker runs, one per run
folder.

While a group trains, every tracker shows its runs live: after each evaluation the
training process hands the runs' new history rows to the driver (over the worker's
pipe, Ray's queue, or a SLURM job's ``live.jsonl`` in its staging folder), which logs
them (:meth:`Trackers.live`, each backend's ``log_rows``). The first rows of a training
(resumed or not) carry the run's whole history and replace what an earlier try logged
(TensorBoard's folder, W&B's live run, MLflow's unfinished run), and the finished run
replaces or completes its live log, so nothing is logged twice.

Every tracker named is made before any training: not installed, or its store not
reachable, is bad input (exit 2) with the line that fixes it.
"""
from __future__ import annotations

from pathlib import Path
from typing import Callable, Iterable, Sequence

from ..errors import InputError
from ..registry import Registry
from .base import FinishedRun, Tracker, read_run
from .mlflow_runs import MLflow
from .tensorboard_logs import TensorBoard
from .wandb_runs import WandB

trackers = Registry("tracker")
trackers.register("tensorboard", TensorBoard)
trackers.register("wandb", WandB)
trackers.register("mlflow", MLflow)


def parse_names(log: str | Sequence[str] | None, option: str = "--log") -> list[str]:
    """``--log`` values (repeatable, each a comma list) as known tracker names, in the
    order given, each once; an unknown name is bad input naming the known ones."""
    if log is None:
        return []
    items = [log] if isinstance(log, str) else list(log)
    names = [n.strip().lower() for item in items for n in str(item).split(",") if n.strip()]
    for n in names:
        if n not in trackers:
            trackers.get(n, option)          # raises, naming the known trackers
    if items and not names:
        raise InputError(f"{option}: no tracker named; give one or more of "
                         f"{', '.join(trackers.names())} (comma-separated or repeated).")
    return list(dict.fromkeys(names))


class Trackers:
    """The trackers of one results folder: each finished run is handed to each."""

    def __init__(self, out: Path, suite: str, names: Sequence[str],
                 warn: Callable[[str], None] | None = None):
        self.out, self.suite = Path(out), suite
        self.warn = warn or (lambda msg: None)
        self.open: list[Tracker] = [trackers.get(n, "--log")(self.out, suite) for n in names]
        self.logged: set[str] = set()       # the runs logged finished, which take no live rows

    def __bool__(self) -> bool:
        return bool(self.open)

    def where(self) -> list[str]:
        return [t.where() for t in self.open]

    def log(self, run_ids: Iterable[str]) -> int:
        """Log the finished ones of ``run_ids`` (failed runs are trained again next time,
        and logged then) to every tracker; returns how many were logged. A tracker that
        fails on a run is a warning: the run folder holds everything."""
        n = 0
        for run_id in run_ids:
            run = read_run(self.out, run_id, self.suite)
            if run is None:
                continue
            n += 1
            self.logged.add(run_id)
            for t in self.open:
                try:
                    t.log_run(run)
                except Exception as e:  # noqa: BLE001 - a tracker never fails the suite
                    why = " ".join(str(e).split())[:200]
                    self.warn(f"ganbench: warning: --log {t.name}: run {run_id} not logged "
                              f"({type(e).__name__}: {why}); its run folder holds everything.")
        return n

    def live(self, rows: dict[str, list], whole: bool) -> None:
        """Runs still training: each one's new history rows (:meth:`Tracker.log_rows`), to
        the trackers that show runs live. A failure is a warning, as in :meth:`log`."""
        for run_id, got in rows.items():
            if run_id in self.logged:
                continue
            for t in self.open:
                try:
                    t.log_rows(run_id, got, whole)
                except Exception as e:  # noqa: BLE001 - a tracker never fails the suite
                    why = " ".join(str(e).split())[:200]
                    self.warn(f"ganbench: warning: --log {t.name}: run {run_id}'s live rows not "
                              f"logged ({type(e).__name__}: {why}); it is logged when it ends.")

    def close(self) -> None:
        for t in self.open:
            t.close()


def open_trackers(log, out: Path, suite: str,
                  warn: Callable[[str], None] | None = None) -> Trackers:
    """The trackers ``log`` names (see :func:`parse_names`), each checked now."""
    return Trackers(out, suite, parse_names(log), warn)


__all__ = ["trackers", "Tracker", "FinishedRun", "Trackers", "open_trackers", "parse_names",
           "read_run"]
