"""The output contract: run records, summary.csv, and what counts as finished.

    OUT/suite.yaml, summary.csv, table.md, table.csv
    OUT/runs/<run_id>/config.json, history.csv, samples.png, metrics.json

Every file is written to a temporary name and renamed, and ``metrics.json`` is
written last: a run is finished exactly when its metrics.json exists, says ``ok`` or
``diverged``, and its config.json matches the spec (a changed suite reruns it).
"""
from __future__ import annotations

import json
import math
import os
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable

import pandas as pd
import yaml

from .suite import RunSpec

SUMMARY_COLUMNS = ["run_id", "dataset", "variant", "seed", "status", "steps", "wall_s"]
#: metric columns in the order tables show them; a dataset's runs fill those that apply.
METRIC_COLUMNS = ["verdict", "eig_max_real", "dist_eq_final",
                  "fid", "kid", "modes_captured", "hq_fraction", "reverse_kl", "fd",
                  "jsd", "v_star", "d_star_gap", "d_real_mean", "d_fake_mean",
                  "grad_norm_g", "grad_vanish_ratio", "d_saturation", "nash_gap", "mode_hops",
                  "osc_amplitude", "osc_period", "classifier_accuracy"]
FINISHED = ("ok", "diverged")
_UMASK = os.umask(0)
os.umask(_UMASK)


def atomic_write(path: Path, write: Callable[[Path], None]) -> None:
    """Call ``write(tmp)`` then rename tmp to ``path`` (never a half-written file)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        write(Path(tmp))
        os.chmod(tmp, 0o666 & ~_UMASK)     # as open() would make it (mkstemp makes 0600)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def write_text(path: Path, text: str) -> None:
    atomic_write(path, lambda p: p.write_text(text))


def _clean(v: Any) -> Any:
    """JSON-safe: NaN/inf -> None, numpy scalars -> Python."""
    if hasattr(v, "item"):
        v = v.item()
    if isinstance(v, float) and not math.isfinite(v):
        return None
    return v


def run_dir(out: Path, run_id: str) -> Path:
    return out / "runs" / run_id


def spec_record(spec: RunSpec) -> dict:
    return {"run_id": spec.run_id, "dataset": spec.dataset, "variant": spec.variant,
            "seed": spec.seed, "config": spec.config}


def is_finished(out: Path, spec: RunSpec) -> bool:
    d = run_dir(out, spec.run_id)
    try:
        meta = json.loads((d / "metrics.json").read_text())
        cfg = json.loads((d / "config.json").read_text())
    except (OSError, ValueError):
        return False
    same = {k: cfg.get(k) for k in ("dataset", "variant", "seed", "config")} == \
        json.loads(json.dumps({k: spec_record(spec)[k] for k in ("dataset", "variant", "seed", "config")}))
    return meta.get("status") in FINISHED and same


@dataclass
class RunFiles:
    """Everything a run's folder holds, made where the run trained (a worker process, a
    Ray node) and written by the process that owns OUT."""

    run_id: str
    config: dict
    meta: dict                      # metrics.json
    history_csv: str | None = None
    samples_png: bytes | None = None
    #: further files of the run folder by name (checkpoint probes' CSV tables and plots)
    extra_files: dict = field(default_factory=dict)


def run_files(spec: RunSpec, result, wall_s: float, group_size: int, device: str,
              png: bytes | None = None, extra_files: dict | None = None) -> RunFiles:
    meta = {
        "run_id": spec.run_id, "dataset": spec.dataset["label"], "variant": spec.variant,
        "seed": spec.seed, "status": result.status, "steps": result.steps,
        # seeds of a group train together: each gets an equal share of the group's time
        "wall_s": round(wall_s / group_size, 3), "group_wall_s": round(wall_s, 3),
        "group_size": group_size, "device": device,
        "metrics": {k: _clean(v) for k, v in result.metrics.items()},
    }
    if result.diverged_at is not None:
        meta["diverged_at"] = result.diverged_at
    if result.error:
        meta["error"] = result.error
    history = result.history.to_csv(index=False) if result.history is not None else None
    return RunFiles(spec.run_id, {**spec_record(spec), "device": device}, meta, history, png,
                    dict(extra_files or {}))


def write_run(out: Path, files: RunFiles) -> dict:
    """Write one run's folder, metrics.json last (its presence marks the run finished)."""
    d = run_dir(out, files.run_id)
    d.mkdir(parents=True, exist_ok=True)
    (d / "metrics.json").unlink(missing_ok=True)
    write_text(d / "config.json", json.dumps(files.config, indent=2))
    if files.history_csv is not None:
        write_text(d / "history.csv", files.history_csv)
    if files.samples_png is not None:
        atomic_write(d / "samples.png", lambda p: p.write_bytes(files.samples_png))
    for name, data in files.extra_files.items():
        if isinstance(data, str):
            write_text(d / name, data)
        else:
            atomic_write(d / name, lambda p, b=data: p.write_bytes(b))
    write_text(d / "metrics.json", json.dumps(files.meta, indent=2))
    return files.meta


def read_record(out: Path, spec: RunSpec) -> dict | None:
    try:
        return json.loads((run_dir(out, spec.run_id) / "metrics.json").read_text())
    except (OSError, ValueError):
        return None


def natural_key(name: str) -> list:
    """Sort key that orders numbers inside names by value (step500 before step2500)."""
    return [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", name)]


def summary_frame(records: Iterable[dict]) -> pd.DataFrame:
    rows = []
    for rec in records:
        row = {k: rec.get(k) for k in SUMMARY_COLUMNS}
        row.update(rec.get("metrics") or {})
        rows.append(row)
    df = pd.DataFrame(rows, columns=None if rows else SUMMARY_COLUMNS)
    metrics = [c for c in METRIC_COLUMNS if c in df] + \
        sorted((c for c in df if c not in METRIC_COLUMNS and c not in SUMMARY_COLUMNS), key=natural_key)
    return df.reindex(columns=SUMMARY_COLUMNS + metrics)


def write_summary(out: Path, specs: list[RunSpec]) -> pd.DataFrame:
    """summary.csv: one row per run of the suite that has a record, in suite order."""
    records = [r for r in (read_record(out, s) for s in specs) if r is not None]
    df = summary_frame(records)
    atomic_write(out / "summary.csv", lambda p: df.to_csv(p, index=False))
    return df


def write_suite(out: Path, resolved: dict) -> None:
    write_text(out / "suite.yaml", yaml.safe_dump(resolved, sort_keys=False))
