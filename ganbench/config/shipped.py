"""The suites that ship with ganbench, by name: ``ganbench run mog``, ``ganbench list``.

They are the checkout's ``suites/`` folder (``literature/`` included), which the wheel
installs as the package ``ganbench.suites`` (``setup.py`` maps the folder there and
pyproject.toml declares its YAML files package data), found through
``importlib.resources``. From a checkout (run with ``PYTHONPATH=.``, or installed
editable) they are read from its ``suites/`` folder beside ``ganbench/``: the same
files, and the ones this checkout holds even when another ganbench is installed.

A suite's name is its file name without ``.yaml``. A file that exists is always a path
(``ganbench run suites/mog.yaml`` works as before); a bare name is looked up here.

``suites/wall_times.yaml`` records each suite's measured wall time: a whole
``ganbench run`` of it on this project's 2-core CPU, with the commit, the machine and
the suite's settings it was measured with (written by ``benchmarks/suite_times.py``, or
taken from the docs' measurements with the commit that made them). ``ganbench list``
says when a suite's settings changed after its measurement.
"""
from __future__ import annotations

import hashlib
import json
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from . import sweep as sweeps

#: the record of measured wall times in the suites folder (not a suite)
WALL_TIMES = "wall_times.yaml"


def folder() -> Path | None:
    """Where the shipped suites are: a checkout's own ``suites/`` (this ``ganbench/``
    beside it and a pyproject.toml: run from the checkout or installed editable), else
    the installed package ``ganbench.suites`` (None: neither)."""
    checkout = Path(__file__).resolve().parents[2]
    if (checkout / "suites").is_dir() and (checkout / "pyproject.toml").is_file():
        return checkout / "suites"
    try:
        found = Path(str(resources.files("ganbench.suites")))
    except ModuleNotFoundError:
        return None
    return found if found.is_dir() else None


def suites() -> dict[str, Path]:
    """Every shipped suite by name, in the order ``ganbench list`` shows them."""
    root = folder()
    if root is None:
        return {}
    files = sorted(root.glob("*.yaml")) + sorted(root.glob("*/*.yaml"))
    return {p.stem: p for p in files if p.name != WALL_TIMES}


def suite_path(given: str | Path) -> Path:
    """A suite argument as a file: a file that exists, else the shipped suite of that
    name (``mog``, ``mog.yaml``; a folder of that name, say the results of ``--out mog``,
    does not hide it), else the path as given (whose reading then fails, naming the
    shipped suites)."""
    path = Path(given)
    if path.is_file() or len(path.parts) != 1:
        return path
    return suites().get(path.name.removesuffix(".yaml"), path)


def names_hint() -> str:
    """'or a shipped suite's name: ci, digits, ...' for a suite file not found."""
    names = list(suites())
    return f" or a shipped suite's name ({', '.join(names)})" if names else ""


def settings_hash(raw: Any) -> str:
    """A suite's settings as read (comments and layout do not count), hashed."""
    text = json.dumps(raw, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def count_runs(raw: Any) -> int | None:
    """Runs of a suite as written: datasets x seeds x each variant's sweep settings
    (None: the suite is malformed; reading it for real says how)."""
    try:
        variants = raw["variants"]
        settings = sum(len(sweeps.points(sweeps.merged(raw.get("sweep"), (v or {}).get("sweep"),
                                                       f"variants.{name}."), ""))
                       for name, v in variants.items())
        seeds = raw.get("seeds", 1)
        return len(raw["datasets"]) * (seeds if isinstance(seeds, int) else len(seeds)) * settings
    except Exception:  # noqa: BLE001 - counted for a listing only
        return None


def wall_times() -> dict:
    root = folder()
    path = root / WALL_TIMES if root else None
    if path is None or not path.is_file():
        return {}
    return yaml.safe_load(path.read_text(encoding="utf-8")) or {}


def listing() -> list[dict]:
    """Per shipped suite: its name, runs, measured wall time (seconds, None: not measured
    here), what it was measured on, and whether its settings changed since."""
    measured = wall_times()
    rows = []
    for name, path in suites().items():
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        m = measured.get(name) or {}
        rows.append({"name": name, "runs": count_runs(raw), "wall_s": m.get("wall_s"),
                     "machine": m.get("machine"), "note": m.get("note"),
                     "changed": bool(m.get("wall_s")) and m.get("settings") != settings_hash(raw)})
    return rows
