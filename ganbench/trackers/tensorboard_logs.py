"""``--log tensorboard``: one TensorBoard log directory per run, ``OUT/tb/<run_id>``
(``tensorboard --logdir OUT/tb``), written with torch.utils.tensorboard.

Per run: every history.csv column as a scalar at its steps, ``final/<metric>`` at the
last step, each declared picture at its step, the settings as text (``settings``) and
as TensorBoard hyperparameters (the HParams tab: the flattened settings against the
final metrics; suite, dataset, variant and seed among them, to filter and group by).
A run trained again (``--force``, a changed setting) replaces its directory, as it
replaces its run folder.
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
        self.root = Path(out) / "tb"
        try:
            self.root.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise InputError(f"--log tensorboard: cannot create {self.root} ({e.strerror}); "
                             "choose a writable --out.") from None

    def where(self) -> str:
        return f"tensorboard --logdir {self.root}"

    def log_run(self, run: FinishedRun) -> None:
        logdir = self.root / run.run_id
        shutil.rmtree(logdir, ignore_errors=True)        # a rerun replaces the old events
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
