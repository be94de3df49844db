"""``--log tensorboard``: one TensorBoard log directory per run, ``OUT/tb/<run_id>``
(``tensorboard --logdir OUT/tb``), written with torch.utils.tensorboard.

Per run: every history.csv column as a scalar at its steps, ``final/<metric>`` at the
last step, each declared picture at its step, the settings as text (``settings``) and
as TensorBoard hyperparameters (the HParams tab: the flattened settings against the
final metrics; suite, dataset, variant and seed among them, to filter and group by).
A run trained again (``--force``, a changed setting) replaces its directory, as it
replaces its run folder. While a run trains, its history rows arrive after each
evaluation (:meth:`TensorBoard.log_rows`) in the same directory, which the finished
run then replaces.
"""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np

from ..errors import InputError
from .base import FinishedRun, Tracker

INSTALL = "pip install 'ganbench[tensorboard]'"


class TensorBoard(Tracker):
    """TensorBoard event files under OUT/tb/<run_id> (torch.utils.tensorboard)."""

    name = "tensorboard"

    def __init__(self, out: Path, suite: str):
        try:
            from torch.utils.tensorboard import SummaryWriter  # needs the tensorboard package
            from torch.utils.tensorboard.summary import hparams
        except ImportError:
            raise InputError(f"--log tensorboard: TensorBoard is not installed; {INSTALL}.") from None
        self._writer, self._hparams = SummaryWriter, hparams
        self._live: dict = {}           # run id -> the writer of a run still training
        self.root = Path(out) / "tb"
        try:
            self.root.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise InputError(f"--log tensorboard: cannot create {self.root} ({e.strerror}); "
                             "choose a writable --out.") from None

    def where(self) -> str:
        return f"tensorboard --logdir {self.root}"

    def log_rows(self, run_id: str, rows: list[tuple[int, dict]], whole: bool) -> None:
        """A training run's new rows, flushed at once (TensorBoard's curves grow); its
        first rows (``whole``) start its log directory anew."""
        if whole or run_id not in self._live:
            self._end_live(run_id)
            if whole:
                shutil.rmtree(self.root / run_id, ignore_errors=True)
            self._live[run_id] = self._writer(log_dir=str(self.root / run_id))
        w = self._live[run_id]
        for step, values in rows:
            for tag, v in values.items():
                w.add_scalar(tag, v, step)
        w.flush()

    def _end_live(self, run_id: str) -> None:
        w = self._live.pop(run_id, None)
        if w is not None:
            w.close()

    def close(self) -> None:
        for run_id in list(self._live):
            self._end_live(run_id)

    def log_run(self, run: FinishedRun) -> None:
        self._end_live(run.run_id)
        logdir = self.root / run.run_id
        shutil.rmtree(logdir, ignore_errors=True)        # replaces a rerun's or the live events
        w = self._writer(log_dir=str(logdir))
        try:
            w.add_text("settings", "```\n" + json.dumps(run.settings(), indent=2) + "\n```", 0)
            for step, values in run.rows():
                for tag, v in values.items():
                    w.add_scalar(tag, v, step)
            numbers, text = run.finals()
            for tag, v in numbers.items():
                w.add_scalar(tag, v, run.steps)
            for tag, v in text.items():
                w.add_text(tag, v, run.steps)
            for pic in run.pictures:
                w.add_image(pic.name, _chw(pic.path), pic.step, dataformats="CHW")
            # the HParams tab, in this run's own event file (SummaryWriter.add_hparams
            # would write a second run in a subfolder)
            params = {k: v if isinstance(v, (int, float, str, bool)) else str(v)
                      for k, v in {**run.tags, **run.params()}.items()}
            for summary in self._hparams(params, numbers):
                w.file_writer.add_summary(summary)
        finally:
            w.close()


def _chw(path: Path) -> np.ndarray:
    """A PNG as (3, H, W) uint8."""
    from PIL import Image
    with Image.open(path) as im:
        return np.asarray(im.convert("RGB")).transpose(2, 0, 1).copy()
