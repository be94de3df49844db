"""The results store: run records, summary.csv, and what counts as finished.

    OUT/suite.yaml, summary.csv, table.md, table.csv
    OUT/runs/<run_id>/config.json, history.csv, metrics.json, and the files the run
                      declares (samples.png, samples/step_000400.png, ...:
                      ganbench.harness.artifacts)

Every file is written to a temporary name and renamed (:mod:`ganbench.layout`), and
``metrics.json`` is written last: a run is finished exactly when its metrics.json
exists, says ``ok`` or ``diverged``, and its config.json matches the spec (a changed
suite reruns it).
"""
from __future__ import annotations

import fcntl
import hashlib
import json
import math
import os
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

import pandas as pd
import yaml

from ..config import sweep as sweeps
from ..config.suite import RunSpec
from ..errors import InputError, OutputError
from ..harness.artifacts import ERROR, error_artifact
from ..harness.recorder import SeedResult
from ..harness.resume import ResumePoint
from ..layout import (CHECKPOINTS_DIR, NOT_SETTINGS, SETTING_COLUMN,
                      SETTINGS_HASH_COLUMN, SUMMARY_COLUMNS, atomic_write, group_checkpoint_path,
                      run_dir, settings_hash, write_bytes, write_text)
from ..interrupts import deferred
from ..layout.run_config import DEFAULTS
from ..layout.run_folder import CONFIG, HISTORY, RECORD, RunFolder
from ..metrics.catalogue import order_key


def _clean(v: Any) -> Any:
    """JSON-safe: NaN/inf -> None, numpy scalars -> Python."""
    if hasattr(v, "item"):
        v = v.item()
    if isinstance(v, float) and not math.isfinite(v):
        return None
    return v


def spec_record(spec: RunSpec) -> dict:
    rec = {"run_id": spec.run_id, "dataset": spec.dataset, "variant": spec.variant,
           "seed": spec.seed, "config": spec.config.as_dict()}
    if spec.setting:
        rec["setting"] = spec.setting
    return rec


def is_finished(out: Path, spec: RunSpec) -> bool:
    """The run's folder says it finished (ok or diverged) with the spec's settings."""
    folder = RunFolder.of(out, spec.run_id)
    cfg = folder.config()
    if not folder.finished or cfg is None:
        return False
    if isinstance(cfg.get("config"), dict):   # written before a run field existed: its default
        cfg = {**cfg, "config": {**DEFAULTS, **cfg["config"]}}
    return _comparable(cfg) == _comparable(json.loads(json.dumps(spec_record(spec))))


def _comparable(record: dict) -> dict:
    """What of a run record must match for a finished run to count: its dataset, variant,
    seed and config, without the settings that change no result (layout.NOT_SETTINGS)."""
    out = {k: record.get(k) for k in ("dataset", "variant", "seed", "config")}
    if isinstance(out["config"], dict):
        out["config"] = {k: v for k, v in out["config"].items() if k not in NOT_SETTINGS}
    return out


def resume_point(out: Path, specs: list[RunSpec], device: str, fresh: bool = False) -> ResumePoint:
    """Where the stacked group of ``specs`` keeps its training checkpoint, and the key it
    must carry: the runs, each one's settings hash and seed, and the device kind (a
    checkpoint made on the CPU is not continued on a GPU)."""
    runs = [[s.run_id, s.seed, settings_hash(spec_record(s))] for s in specs]
    key = json.dumps({"runs": runs, "device": str(device).split(":")[0]}, sort_keys=True)
    return ResumePoint(group_checkpoint_path(out, [s.run_id for s in specs]),
                       hashlib.sha256(key.encode()).hexdigest(), fresh)


def prune_checkpoints(out: Path, keep: Iterable[Path]) -> None:
    """Delete the training checkpoints in OUT/checkpoints/ that no pending group can use
    (their runs finished, or changed), and the folder when it is empty. Called with the
    folder's lock held."""
    keep = {Path(p).name for p in keep}
    folder = Path(out) / CHECKPOINTS_DIR
    for f in folder.glob("*.pt"):
        if f.name not in keep:
            f.unlink(missing_ok=True)
    try:
        folder.rmdir()
    except OSError:
        pass            # checkpoints remain, or there is no folder


@dataclass
class RunFiles:
    """Everything a run's folder holds, made where the run trained (a worker process, a
    Ray node) and written by the process that owns OUT."""

    run_id: str
    config: dict
    meta: dict                      # metrics.json
    history_csv: str | None = None
    #: the files the run declares (samples.png, probes' tables and plots, ...) by name
    artifacts: dict = field(default_factory=dict)


def run_files(record: dict, result: SeedResult, wall_s: float, group_size: int, device: str,
              environment: dict | None = None) -> RunFiles:
    """The files of one run: ``record`` says which run it is (:func:`spec_record`: its
    id, dataset, variant, seed, settings and a sweep's setting), ``result`` what it did
    (its metrics with the diagnosis, history, files), ``wall_s`` its group's time."""
    setting = record.get("setting") or {}
    meta = {
        "run_id": record["run_id"], "dataset": record["dataset"]["label"],
        "variant": record["variant"], "seed": record["seed"], "status": result.status,
        "steps": result.steps,
        # seeds of a group train together: each gets an equal share of the group's time
        "wall_s": round(wall_s / group_size, 3), "group_wall_s": round(wall_s, 3),
        "group_size": group_size, "device": device,
        # the same for every seed of this setting (ganbench.layout.settings_hash)
        SETTINGS_HASH_COLUMN: settings_hash(record),
        "metrics": {k: _clean(v) for k, v in result.metrics.items()},
    }
    if setting:
        meta[SETTING_COLUMN] = sweeps.label(setting)
        meta["swept"] = {p: sweeps.column_value(v) for p, v in setting.items()}
    if result.diverged_at is not None:
        meta["diverged_at"] = result.diverged_at
    if result.error:
        meta["error"] = result.error
    files, errors = error_artifact(result)      # error.txt: a failed run's traceback
    artifacts, declared = {**result.artifacts, **files}, list(result.declared) + errors
    if result.resumed_at is not None:           # continued from a training checkpoint
        meta["resumed_at"] = result.resumed_at
    if declared:
        meta["artifacts"] = declared
    history = result.history.to_csv(index=False) if result.history is not None else None
    config = {**record, "device": device}
    if environment:     # device name, torch/CUDA/cuDNN versions (ganbench.harness.device)
        config["environment"] = environment
    return RunFiles(record["run_id"], config, meta, history, artifacts)


def write_run(out: Path, files: RunFiles) -> dict:
    """Write one run's folder, metrics.json last (its presence marks the run finished)."""
    write_run_files(out, files)
    return mark_finished(out, files)


def write_runs(out: Path, files: list[RunFiles], run_ids: Iterable[str] | None = None,
               tables: bool = False) -> list[dict]:
    """Write finished runs' folders, then summary.csv of ``run_ids`` (:func:`write_summary`)
    and, with ``tables``, its tables. Every run's files come first, then the runs'
    metrics.json markers, so a write that fails part-way (a full disk) leaves the runs
    unfinished as a whole; a signal waits until all is written. Returns the records."""
    with deferred():
        for f in files:
            write_run_files(out, f)
        records = [mark_finished(out, f) for f in files]
        (write_results if tables else write_summary)(out, run_ids)
    return records


def write_run_files(out: Path, files: RunFiles) -> None:
    """Every file of a run's folder but the marker: a run rewritten loses its
    metrics.json first, so it is never taken as finished with half its new files."""
    d = run_dir(out, files.run_id)
    try:
        d.mkdir(parents=True, exist_ok=True)
        (d / RECORD).unlink(missing_ok=True)
    except OSError as e:
        raise OutputError(d, e) from None
    write_text(d / CONFIG, json.dumps(files.config, indent=2))
    if files.history_csv is not None:
        write_text(d / HISTORY, files.history_csv)
    _remove_stale_pictures(d, files.artifacts)
    for name, data in files.artifacts.items():
        (write_text if isinstance(data, str) else write_bytes)(d / name, data)
    if ERROR.file not in files.artifacts:       # a rerun that did not fail: no old error
        try:
            (d / ERROR.file).unlink(missing_ok=True)
        except OSError as e:
            raise OutputError(d / ERROR.file, e) from None


def _remove_stale_pictures(d: Path, artifacts: dict) -> None:
    """Files in the run folder's subfolders (samples/) that the new files do not replace:
    a rerun with other evaluation steps leaves no picture of the old run behind."""
    for sub in [p for p in d.iterdir() if p.is_dir()]:
        for old in sub.glob("*"):
            if old.is_file() and old.relative_to(d).as_posix() not in artifacts:
                try:
                    old.unlink()
                except OSError:
                    pass


def mark_finished(out: Path, files: RunFiles) -> dict:
    """metrics.json: the run's record, written last."""
    write_text(run_dir(out, files.run_id) / RECORD, json.dumps(files.meta, indent=2))
    return files.meta


def summary_frame(records: Iterable[dict]) -> pd.DataFrame:
    """One row per run record: the run columns, the setting and swept values (suites
    with a sweep), then the metrics in catalogue order."""
    rows, swept, hashed = [], {}, False
    for rec in records:
        row = {k: rec.get(k) for k in SUMMARY_COLUMNS}
        if rec.get(SETTINGS_HASH_COLUMN):
            row[SETTINGS_HASH_COLUMN] = rec[SETTINGS_HASH_COLUMN]
            hashed = True
        if rec.get("swept"):
            row[SETTING_COLUMN] = rec.get(SETTING_COLUMN, "")
            row.update(rec["swept"])
            swept.update(dict.fromkeys(rec["swept"]))
        row.update(rec.get("metrics") or {})
        rows.append(row)
    df = pd.DataFrame(rows, columns=None if rows else SUMMARY_COLUMNS)
    lead = SUMMARY_COLUMNS + ([SETTING_COLUMN] + list(swept) if swept else []) + \
        ([SETTINGS_HASH_COLUMN] if hashed else [])
    metrics = sorted((c for c in df if c not in lead), key=order_key)
    return df.reindex(columns=lead + metrics)


def write_summary(out: Path, run_ids: Iterable[str] | None = None) -> pd.DataFrame:
    """summary.csv: one row per run of ``run_ids`` that has a record, in that order (a
    suite's order); None: every run folder in ``out``, by run id (a folder that
    ganbench.Monitor runs write, one run at a time)."""
    folders = RunFolder.every(out) if run_ids is None else [RunFolder.of(out, r) for r in run_ids]
    df = summary_frame([r for r in (f.record() for f in folders) if r is not None])
    atomic_write(Path(out) / "summary.csv", lambda p: df.to_csv(p, index=False))
    return df


def write_tables(out: Path, summary: pd.DataFrame) -> str:
    """table.csv and table.md of a summary; returns the markdown."""
    from ..analysis.tables import aggregate, to_markdown
    table = aggregate(summary, [out])
    atomic_write(Path(out) / "table.csv", lambda p: table.to_csv(p, index=False))
    md = to_markdown(table)
    write_text(Path(out) / "table.md", md)
    return md


def write_results(out: Path, run_ids: Iterable[str] | None = None) -> pd.DataFrame:
    """summary.csv (:func:`write_summary`) and its tables, table.csv and table.md (a
    signal waits until they are written)."""
    with deferred():
        summary = write_summary(out, run_ids)
        write_tables(out, summary)
    return summary


def write_suite(out: Path, resolved: dict) -> None:
    write_text(out / "suite.yaml", yaml.safe_dump(resolved, sort_keys=False))


LOCK_FILE = ".ganbench.lock"


def _remove_stale_temporaries(out: Path) -> None:
    """Delete the temporary files a killed writer left (``atomic_write`` renames a
    ``.NAME.*.tmp`` into place; a kill -9 between the two leaves it). Called with the
    folder's lock held, so no live writer owns one."""
    for tmp in [*out.glob(".*.tmp"), *out.glob("runs/*/.*.tmp"), *out.glob("runs/*/*/.*.tmp"),
                *out.glob(f"{CHECKPOINTS_DIR}/.*.tmp")]:
        try:
            tmp.unlink()
        except OSError:
            pass


@contextmanager
def folder_lock(out: Path):
    """Hold OUT for one writer: an exclusive ``flock`` on ``OUT/.ganbench.lock`` for as
    long as the block runs. The operating system releases it when the process dies, so
    a lock left by a killed run never blocks; a second ``ganbench run`` on a held folder
    is bad input naming the process that holds it."""
    path = Path(out) / LOCK_FILE
    try:
        f = open(path, "a+")
    except OSError as e:
        raise InputError(f"--out {out}: cannot write in this folder ({e.strerror}); choose a "
                         "writable folder.") from None
    try:
        fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        f.seek(0)
        holder = f.read().strip() or "unknown"
        f.close()
        raise InputError(f"--out {out}: another ganbench run (pid {holder}) is writing this "
                         "folder; wait for it to finish, or choose another --out.") from None
    try:
        f.seek(0)
        f.truncate()
        f.write(f"{os.getpid()}\n")
        f.flush()
        _remove_stale_temporaries(Path(out))
        yield
    finally:
        fcntl.flock(f, fcntl.LOCK_UN)
        f.close()
