"""One reader of a run's folder, ``OUT/runs/<run_id>/``: its record (metrics.json: status,
steps, metrics with the diagnosis, the files it declares), its settings (config.json)
and its history (history.csv), each read once and None when it is missing or cannot be
read. The results store (what counts as finished), the Python API, the experiment
trackers, ``diagnose``, ``compare`` and ``check`` (settings hashes) and the report read
run folders through it.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from . import FINISHED, image_series, run_dir

RECORD, CONFIG, HISTORY = "metrics.json", "config.json", "history.csv"


def _json(path: Path) -> dict | None:
    try:
        value = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return value if isinstance(value, dict) else None


def _csv(path: Path) -> pd.DataFrame | None:
    try:
        return pd.read_csv(path)
    except (OSError, ValueError):       # none there, or not a readable table
        return None


@dataclass
class RunFolder:
    """The folder ``path`` of one run, read on demand (each file once)."""

    path: Path
    _read: dict = field(default_factory=dict, repr=False)

    @classmethod
    def of(cls, out: Path, run_id: str) -> "RunFolder":
        """The folder of run ``run_id`` in the results folder ``out``."""
        return cls(run_dir(out, str(run_id)))

    @classmethod
    def every(cls, out: Path) -> list["RunFolder"]:
        """Every run folder in ``out`` with a record, by run id."""
        return [cls(p.parent) for p in sorted(Path(out).glob(f"runs/*/{RECORD}"))]

    @property
    def run_id(self) -> str:
        return Path(self.path).name

    def _once(self, name: str, read):
        if name not in self._read:
            self._read[name] = read(Path(self.path) / name)
        return self._read[name]

    def record(self) -> dict | None:
        """metrics.json (None: the run has none, or it cannot be read)."""
        return self._once(RECORD, _json)

    def config(self) -> dict | None:
        """config.json: which run it is and its settings (None: none, or unreadable)."""
        return self._once(CONFIG, _json)

    def history(self) -> pd.DataFrame | None:
        """history.csv (None: the run has none, or it cannot be read)."""
        return self._once(HISTORY, _csv)

    def has(self, name: str) -> bool:
        """Whether the folder holds the file ``name`` (e.g. ``RECORD``)."""
        return (Path(self.path) / name).is_file()

    @property
    def finished(self) -> bool:
        """The run finished: its record says ``ok`` or ``diverged``."""
        return (self.record() or {}).get("status") in FINISHED

    def declared(self) -> list[dict]:
        """The files (and folders: ``image_series``) the record declares (``artifacts``)
        that exist."""
        return [a for a in (self.record() or {}).get("artifacts") or []
                if (Path(self.path) / a["file"]).exists()]

    def image_series(self) -> list[tuple[int, Path]]:
        """(step, picture) of each evaluation the declared picture folders hold, by step."""
        return image_series(Path(self.path), self.declared())
