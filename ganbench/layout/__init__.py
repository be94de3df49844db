"""The results folder's layout, and the one way files are written into it.

    OUT/suite.yaml, summary.csv, table.md, table.csv
    OUT/runs/<run_id>/config.json, history.csv, metrics.json, samples.png, ...
    OUT/checkpoints/<group>.pt   a training group's last checkpoint, while it trains

Every file is written to a temporary name and renamed (:func:`atomic_write`), so no
reader ever sees half a file. The run settings are declared here too
(:mod:`.run_config`: what config.json holds). This package imports neither torch nor
the harness: the analysis commands (compare, report, check) and the harness (the
classifier cache) both write through it.
"""
from __future__ import annotations

import hashlib
import io
import json
import os
import tempfile
from pathlib import Path
from typing import Callable

from ..errors import OutputError
from ..interrupts import deferred
from .run_config import NOT_SETTINGS, RUN_FIELD_NAMES

#: the first columns of summary.csv; the metric columns follow (ganbench.metrics.catalogue)
SUMMARY_COLUMNS = ["run_id", "dataset", "variant", "seed", "status", "steps", "wall_s"]
#: statuses of a finished run (a failed run is redone when the suite runs again)
FINISHED = ("ok", "diverged")
#: summary.csv of a suite with a sweep: the setting's label, then one column per swept
#: config path (``optimizer.lr``, ``regularizers[0].weight``, or a whole field such as
#: ``n_critic``), before the metric columns
SETTING_COLUMN = "setting"

#: summary.csv: a hash of the run's resolved settings with the seed left out (the dataset
#: spec, the resolved config and a sweep's setting): runs with equal hashes are seeds of
#: one experiment, and only those are pooled (ganbench.layout.summaries)
SETTINGS_HASH_COLUMN = "settings_hash"
#: what the settings hash covers, from a run's config.json
SETTINGS_FIELDS = ("dataset", "config", "setting")


def settings_hash(record: dict) -> str:
    """The first 12 hex digits of the SHA-256 of a run record's SETTINGS_FIELDS (its
    config.json, or the record it is written from), as canonical JSON: the same for
    every seed of one setting, on any machine."""
    keep = {k: record[k] for k in SETTINGS_FIELDS if record.get(k) is not None}
    if isinstance(keep.get("config"), dict):
        keep["config"] = {k: v for k, v in keep["config"].items() if k not in NOT_SETTINGS}
    text = json.dumps(json.loads(json.dumps(keep)), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def is_sweep_column(name: str) -> bool:
    """A summary column that holds a swept config value (by its dotted path)."""
    return "." in name or "[" in name or name in RUN_FIELD_NAMES


def is_run_column(name: str) -> bool:
    """A summary column that says which run it is (not a metric); names starting with
    ``_`` are the analysis's own, never written."""
    return (name in SUMMARY_COLUMNS or name in (SETTING_COLUMN, SETTINGS_HASH_COLUMN)
            or name.startswith("_") or is_sweep_column(name))

_UMASK = os.umask(0)
os.umask(_UMASK)


def atomic_write(path: Path, write: Callable[[Path], None]) -> None:
    """Call ``write(tmp)`` then rename tmp to ``path``: never a half-written file, and no
    temporary file left behind, whether the write fails (:class:`OutputError`, e.g. a
    full disk) or a signal arrives (deferred until the file is complete)."""
    path = Path(path)
    with deferred():
        tmp = None
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
            os.close(fd)
            write(Path(tmp))
            os.chmod(tmp, 0o666 & ~_UMASK)     # as open() would make it (mkstemp makes 0600)
            os.replace(tmp, path)
        except OSError as e:
            raise OutputError(path, e) from None
        finally:
            if tmp is not None and os.path.exists(tmp):
                try:
                    os.unlink(tmp)
                except OSError:
                    pass


def write_text(path: Path, text: str) -> None:
    atomic_write(path, lambda p: p.write_text(text))


def write_bytes(path: Path, data: bytes) -> None:
    atomic_write(path, lambda p: p.write_bytes(data))


def run_dir(out: Path, run_id: str) -> Path:
    return Path(out) / "runs" / run_id


def image_series(run: Path, declared: list[dict]) -> list[tuple[int, Path]]:
    """(step, picture) of each evaluation that a run's ``image_series`` artifacts hold
    (``samples/step_000400.png``, written by ganbench.harness.snapshots), by step; read
    by the report's strips and by the experiment trackers."""
    out = []
    for a in declared:
        if a.get("kind") != "image_series":
            continue
        for p in (Path(run) / a["file"]).glob("step_*.png"):
            try:
                out.append((int(p.stem.removeprefix("step_")), p))
            except ValueError:
                continue
    return sorted(out)


#: OUT/checkpoints/: the training checkpoints of groups still training (mid-run resume)
CHECKPOINTS_DIR = "checkpoints"


def group_checkpoint_path(out: Path, run_ids: list[str]) -> Path:
    """OUT/checkpoints/<16 hex digits>.pt: the training checkpoint of the stacked group of
    these runs (named by their ids, so the same group finds it again)."""
    name = hashlib.sha256(json.dumps(sorted(run_ids)).encode()).hexdigest()[:16]
    return Path(out) / CHECKPOINTS_DIR / f"{name}.pt"


def png_bytes(fig) -> bytes:
    """A matplotlib figure as PNG bytes; the figure is closed (matplotlib is imported by
    the caller that made the figure)."""
    import matplotlib.pyplot as plt
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    plt.close(fig)
    return buf.getvalue()
