"""Published numbers as data: one YAML file per paper in this folder (``pacgan2018.yaml``,
``veegan2017.yaml``), read and validated here. Pure Python and PyYAML (no torch), at the
bottom of the package: the suite loader checks a suite's ``published:`` block against
these files, and ``ganbench compare --published`` / the report set them beside our
numbers.

A file::

    name: pacgan2018                    # = the file's stem; what --published names
    paper: "Lin et al. PacGAN ... NeurIPS 2018 (arXiv:1712.04086)"
    groups:                             # shared fields, then the entries that inherit them
      - table: Table 1
        source: "paper Table 1; fjxmlzn/PacGAN synthetic_data_experiments/results/Table1.png"
        error_kind: standard_error      # standard_error | std | unstated | none (no error)
        runs: 10                        # runs behind each mean (null: not stated)
        entries:
          - {dataset: ring8, method: GAN, metric: modes_captured, mean: 6.3, error: 0.5}

Every entry ends up with ``table``, ``setting`` ("" when the table has one setting),
``dataset`` (ganbench's dataset name where there is one), ``method`` (the paper's
name), ``metric`` (ganbench's column name where one matches: ``modes_captured``,
``hq_fraction`` as a fraction 0-1, ``reverse_kl``), ``mean``, ``error``,
``error_kind``, ``runs``, ``source`` (never empty) and ``note``. A field an entry sets
overrides its group's. Errors name the file and the entry.
"""
from __future__ import annotations

import copy
import math
import re
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from ..errors import InputError

FOLDER = Path(__file__).resolve().parent
#: what a printed ± is: a standard error, a standard deviation over the runs, a number
#: the paper does not explain (no interval is derived from it), or no error printed
ERROR_KINDS = ("standard_error", "std", "unstated", "none")
FIELDS = ("table", "setting", "dataset", "method", "metric", "mean", "error", "error_kind",
          "runs", "source", "note")
REQUIRED = ("table", "dataset", "method", "metric", "mean", "error_kind", "source")
#: metrics whose values are fractions (the papers print percentages; the files hold 0-1)
FRACTIONS = ("hq_fraction",)
KEY = ("table", "setting", "dataset", "method", "metric")
NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.+-]*$")


def names() -> list[str]:
    """The published sources that ship with ganbench."""
    return sorted(p.stem for p in FOLDER.glob("*.yaml"))


def path_of(source: str | Path) -> Path:
    """The file of ``source``: a shipped name (``pacgan2018``) or a path to a YAML file."""
    s = str(source)
    if NAME.match(s) and (FOLDER / f"{s}.yaml").is_file():
        return FOLDER / f"{s}.yaml"
    p = Path(s)
    if p.suffix in (".yaml", ".yml") and p.is_file():
        return p
    raise InputError(f"published source {s!r}: unknown; use one of {', '.join(names())} "
                     "or the path of a YAML file in their format.")


def load(source: str | Path) -> dict:
    """``{"name", "paper", ..., "entries": [flat entry, ...]}`` of a source, validated."""
    return copy.deepcopy(_load(str(path_of(source).resolve())))


@lru_cache(maxsize=None)
def _load(path: str) -> dict:
    p = Path(path)
    try:
        raw = yaml.safe_load(p.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as e:
        raise InputError(f"{p}: not a readable YAML file ({str(e).splitlines()[0]}).") from None
    return validate(raw, str(p), p.stem)


def _fail(where: str, msg: str) -> InputError:
    return InputError(f"{where}: {msg}")


def validate(raw: Any, where: str = "published", stem: str | None = None) -> dict:
    """Check a published file's content; returns it with ``entries`` flattened."""
    if not isinstance(raw, dict):
        raise _fail(where, "expected a mapping with name, paper and groups.")
    name = raw.get("name")
    if not isinstance(name, str) or not NAME.match(name):
        raise _fail(f"{where}: name", "expected a short name (letters, digits, _ . + -).")
    if stem is not None and name != stem:
        raise _fail(f"{where}: name", f"{name!r} differs from the file name {stem!r}; make "
                    "them equal.")
    if not isinstance(raw.get("paper"), str) or not raw["paper"].strip():
        raise _fail(f"{where}: paper", "cite the paper (authors, title, venue, year).")
    groups = raw.get("groups")
    if not isinstance(groups, list) or not groups:
        raise _fail(f"{where}: groups", "expected a non-empty list of groups with entries.")
    entries, seen = [], set()
    for gi, group in enumerate(groups):
        gwhere = f"{where}: groups[{gi}]"
        if not isinstance(group, dict) or not isinstance(group.get("entries"), list) \
                or not group["entries"]:
            raise _fail(gwhere, "expected a mapping with a non-empty 'entries' list.")
        shared = {k: v for k, v in group.items() if k != "entries"}
        for k in shared:
            if k not in FIELDS:
                raise _fail(f"{gwhere}.{k}", f"unknown field; fields: {', '.join(FIELDS)}.")
        for ei, e in enumerate(group["entries"]):
            ewhere = f"{gwhere}.entries[{ei}]"
            if not isinstance(e, dict):
                raise _fail(ewhere, "expected a mapping such as {dataset: ring8, method: GAN, "
                                    "metric: modes_captured, mean: 6.3, error: 0.5}.")
            entry = _entry({**shared, **e}, ewhere)
            key = tuple(entry[k] for k in KEY)
            if key in seen:
                raise _fail(ewhere, f"a second entry for {key}; keep one.")
            seen.add(key)
            entries.append(entry)
    extra = {k: v for k, v in raw.items() if k != "groups"}
    return {**extra, "entries": entries}


def _number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def _entry(e: dict, where: str) -> dict:
    for k in e:
        if k not in FIELDS:
            raise _fail(f"{where}.{k}", f"unknown field; fields: {', '.join(FIELDS)}.")
    for k in REQUIRED:
        if k not in e or e[k] is None or (isinstance(e[k], str) and not e[k].strip()):
            raise _fail(f"{where}.{k}", "missing; every entry needs " + ", ".join(REQUIRED) + ".")
    for k in ("table", "dataset", "method", "metric", "source"):
        if not isinstance(e[k], str):
            raise _fail(f"{where}.{k}", f"expected text, got {e[k]!r}.")
    if not _number(e["mean"]):
        raise _fail(f"{where}.mean", f"expected a number, got {e['mean']!r}.")
    kind = e["error_kind"]
    if kind not in ERROR_KINDS:
        raise _fail(f"{where}.error_kind", f"{kind!r}; use one of {', '.join(ERROR_KINDS)}.")
    err = e.get("error")
    if kind == "none":
        if err is not None:
            raise _fail(f"{where}.error", "given with error_kind none; set the kind "
                                          "(standard_error or std) or drop the error.")
    elif not _number(err) or err < 0:
        raise _fail(f"{where}.error", f"expected a number >= 0 (its kind is {kind}), got {err!r}.")
    runs = e.get("runs")
    if runs is not None and (isinstance(runs, bool) or not isinstance(runs, int) or runs < 1):
        raise _fail(f"{where}.runs", f"expected a whole number >= 1 or null, got {runs!r}.")
    if e["metric"] in FRACTIONS and not 0 <= e["mean"] <= 1:
        raise _fail(f"{where}.mean", f"{e['metric']} is a fraction (0-1), got {e['mean']}; "
                                     "divide a percentage by 100.")
    out = {k: e.get(k) for k in FIELDS}
    out["setting"] = str(e.get("setting") or "")
    out["note"] = str(e.get("note") or "")
    out["mean"] = float(e["mean"])
    out["error"] = None if err is None else float(err)
    return out


def methods(entries: list[dict]) -> list[str]:
    return list(dict.fromkeys(e["method"] for e in entries))


def datasets(entries: list[dict]) -> list[str]:
    return list(dict.fromkeys(e["dataset"] for e in entries))


def normal_name(name: str) -> str:
    """How names are matched when a suite gives no mapping: case and punctuation ignored
    (``pacgan2`` matches ``PacGAN2``, ``dcgan`` matches ``DCGAN``)."""
    return re.sub(r"[^a-z0-9]", "", str(name).lower())


def _select(entries: list[dict], block: dict) -> list[dict]:
    for field in ("table", "setting"):
        if block.get(field):
            entries = [e for e in entries if e[field] == block[field]]
    return entries


def match(entries: list[dict], label: str, dataset: str, variant: str, metric: str,
          block: dict | None = None) -> dict | None:
    """The entry of one cell (a suite's dataset ``label`` of dataset ``dataset``, a
    ``variant``, a ``metric``), or None. ``block`` is the suite's ``published:`` settings
    for this source: ``table`` / ``setting`` restrict the entries, ``datasets`` /
    ``variants`` map labels and variants to the file's names; what they do not map is
    matched by :func:`normal_name` (the label, else the dataset's name). ValueError when
    several entries match, naming them."""
    block = block or {}
    mapped_ds = (block.get("datasets") or {}).get(label)
    method = (block.get("variants") or {}).get(variant)
    names = {normal_name(label), normal_name(dataset)}
    found = [e for e in _select(entries, block) if e["metric"] == metric
             and (e["dataset"] == mapped_ds if mapped_ds else normal_name(e["dataset"]) in names)
             and (e["method"] == method if method else
                  normal_name(e["method"]) == normal_name(variant))]
    if len(found) > 1:
        where = "; ".join(e["table"] + (f", {e['setting']}" if e["setting"] else "") for e in found)
        raise ValueError(f"{label} / {variant} / {metric} matches {len(found)} entries ({where}); "
                         "name one in the suite: published: {<source>: {table: ..., setting: "
                         "...}} (run the suite again to record it: finished runs are kept).")
    return found[0] if found else None
