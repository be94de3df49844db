"""What every tracker shares: a finished run as read back from its folder, and the
interface each backend implements.

A tracker is handed runs whose folder is complete (``metrics.json`` written, status
``ok`` or ``diverged``), and logs from the files alone:

- the run's settings: config.json (dataset, variant, seed, config, setting), flattened
  to dotted keys (``config.optimizer.lr``) where a backend wants flat parameters;
- every history.csv row at its step: the values logged at ``log_every`` and each
  evaluation's numbers (merged into the rows at the evaluation steps), under their
  history.csv column names, NaN (not logged at that step) left out;
- metrics.json's metrics (the final evaluation, the history metrics, the diagnosis) as
  ``final/<name>``;
- every picture the run declares (metrics.json ``artifacts`` of kind ``image``) at the
  declaration's ``step``, else the step its file name carries (``samples_step000500.png``,
  ``samples/000500.png``), else the run's last step (``samples.png``): a run that
  declares a samples picture per evaluation has each logged at its evaluation.

Grouping, as the results folder groups runs: suite, dataset (label), variant and seed,
with the setting of a sweep and the status.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from ..layout.run_folder import RunFolder


@dataclass
class Picture:
    step: int
    name: str           # the tag it is logged under (the file's stem: ``samples``)
    path: Path


@dataclass
class FinishedRun:
    """One finished run, read from ``OUT/runs/<run_id>/``."""

    suite: str
    run_id: str
    dataset: str
    variant: str
    seed: int
    status: str
    steps: int
    record: dict                    # config.json
    history: pd.DataFrame
    metrics: dict                   # metrics.json's metrics
    setting: str | None = None
    pictures: list[Picture] = field(default_factory=list)

    @property
    def group(self) -> str:
        """``suite/dataset/variant`` (with the sweep's setting, when there is one)."""
        parts = [self.suite, self.dataset, self.variant] + ([self.setting] if self.setting else [])
        return "/".join(parts)

    @property
    def tags(self) -> dict[str, str]:
        tags = {"suite": self.suite, "dataset": self.dataset, "variant": self.variant,
                "seed": str(self.seed), "status": self.status, "run_id": self.run_id}
        if self.setting:
            tags["setting"] = self.setting
        return tags

    def settings(self) -> dict:
        """config.json without where it ran (device, environment): what was asked for."""
        return {k: v for k, v in self.record.items() if k not in ("device", "environment")}

    def params(self) -> dict[str, object]:
        """The settings flattened to dotted keys, lists by index (``regularizers.0.weight``);
        values are numbers, strings, booleans or None."""
        return flatten(self.settings())

    def rows(self):
        """Each history row as (step, {column: value}) with the NaNs left out."""
        cols = [c for c in self.history.columns if c != "step"]
        values = self.history[cols].to_numpy(dtype=float, na_value=math.nan)
        for step, row in zip(self.history["step"].astype(int), values):
            got = {c: float(v) for c, v in zip(cols, row) if math.isfinite(v)}
            if got:
                yield int(step), got

    def finals(self) -> tuple[dict[str, float], dict[str, str]]:
        """metrics.json's metrics as ``final/<name>``: the numbers, and the rest as text
        (the diagnosis and its evidence); None is left out."""
        numbers, text = {}, {}
        for k, v in self.metrics.items():
            if isinstance(v, bool) or v is None:
                continue
            if isinstance(v, (int, float)):
                if math.isfinite(v):
                    numbers[f"final/{k}"] = float(v)
            else:
                text[f"final/{k}"] = str(v)
        return numbers, text


def flatten(value, prefix: str = "") -> dict[str, object]:
    """A nested mapping as {dotted.key: scalar}; an empty list or mapping is kept as ``[]``
    or ``{}`` text so the key still says it was empty."""
    out: dict[str, object] = {}
    if isinstance(value, dict):
        items = [(str(k), v) for k, v in value.items()]
    elif isinstance(value, (list, tuple)):
        items = [(str(i), v) for i, v in enumerate(value)]
    else:
        return {prefix: value}
    if not items and prefix:
        return {prefix: "[]" if isinstance(value, (list, tuple)) else "{}"}
    for k, v in items:
        out.update(flatten(v, f"{prefix}.{k}" if prefix else k))
    return out


#: a picture file named for its step: ``samples_step000500.png``, ``samples/000500.png``
STEP_IN_NAME = re.compile(r"(?:^|[_-])step[_-]?(\d+)$|^(\d+)$")


def picture_tag(file: str) -> str:
    """The tag a picture is logged under: its file's name without a step number
    (``samples.png``, ``samples_step000500.png`` and ``samples/000500.png`` are all
    ``samples``), so a backend shows one picture per step under one tag."""
    path = Path(file)
    stem = STEP_IN_NAME.sub("", path.stem)
    return stem or path.parent.name or path.stem


def picture_step(declared: dict, last: int) -> int:
    """A declared picture's step: the declaration's ``step``, else the step its file name
    says (:data:`STEP_IN_NAME`), else the run's last step (``samples.png``)."""
    if declared.get("step") is not None:
        return int(declared["step"])
    m = STEP_IN_NAME.search(Path(declared["file"]).stem)
    return int(m.group(1) or m.group(2)) if m else last


def read_run(out: Path, run_id: str, suite: str) -> FinishedRun | None:
    """The run's files, or None when it is not finished (no metrics.json, or failed)."""
    folder = RunFolder.of(out, run_id)
    meta, record = folder.record(), folder.config()
    if meta is None or record is None or not folder.finished:
        return None
    history = folder.history()
    if history is None:
        history = pd.DataFrame({"step": []})
    steps = int(meta.get("steps") or 0)
    d = folder.path
    pictures = [Picture(picture_step(a, steps), picture_tag(a["file"]), d / a["file"])
                for a in folder.declared() if a.get("kind") == "image" and (d / a["file"]).is_file()]
    # the samples at every evaluation, each at its step under a tag of their own
    pictures += [Picture(step, f"{f.parent.name}_evaluations", f)
                 for step, f in folder.image_series()]
    return FinishedRun(suite, run_id, str(meta.get("dataset")), str(meta.get("variant")),
                       int(meta.get("seed", 0)), meta["status"], steps, record, history,
                       dict(meta.get("metrics") or {}), meta.get("setting"),
                       sorted(pictures, key=lambda p: p.step))


class Tracker:
    """One backend: made (and checked: installed, reachable) before any training, then
    handed each finished run once, then closed. ``INSTALL`` is the extra that brings
    its library."""

    name = ""
    INSTALL = ""

    def log_run(self, run: FinishedRun) -> None:
        raise NotImplementedError

    def close(self) -> None:
        """Flush what is buffered (default: nothing)."""

    def where(self) -> str:
        """Where the runs go, for the one line the CLI prints."""
        return ""
