"""Suite YAML: reading, validation with field paths, and the matrix of runs
(datasets × variants × sweep settings × seeds) -> RunSpecs.

A suite is validated completely before any training starts: every name is looked up
in its registry, every setting is checked against the factory that takes it, and
each (dataset, variant) pair is built once on a one-seed CPU model. Errors are one
line that starts with the field's path in the file.
"""
from __future__ import annotations

import importlib
import importlib.util
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ..data import datasets
from ..errors import InputError, at
from ..harness.build import build_parts
from ..harness.contract import DRY_RUNS, check_game
from ..harness.stacking import MAX_SLICES
from ..layout.run_config import RunConfig
from . import limits, sweep as sweeps
from .published import check_published
from .shipped import names_hint, suite_path
from .schema import (NAME_RE, TOP_FIELDS, for_dataset, resolve_component, resolve_settings,
                     run_settings, unknown_field)

@dataclass(frozen=True)
class RunSpec:
    """One training run: a dataset (spec with its label), a variant's config (with a
    sweep's setting applied), a seed."""

    run_id: str
    dataset: dict       # {"name": ..., "label": ..., **settings}
    variant: str
    seed: int
    config: RunConfig   # the resolved run settings
    #: the swept values of this run's setting, {config path: value} (empty: no sweep)
    setting: dict = field(default_factory=dict)

    @property
    def setting_label(self) -> str:
        return sweeps.label(self.setting)

    @property
    def group_key(self) -> tuple[str, str, str]:
        return (self.dataset["label"], self.variant, self.setting_label)

    def dataset_spec(self) -> dict:
        return {k: v for k, v in self.dataset.items() if k != "label"}


@dataclass
class Suite:
    name: str
    path: Path | None
    resolved: dict      # the suite as run: every default filled in
    specs: list[RunSpec]
    #: each dataset of the suite, built once, by its label
    datasets: dict = field(default_factory=dict)


def _datasets(raw: Any) -> list[tuple[dict, Any]]:
    if not isinstance(raw, list) or not raw:
        raise at("datasets", "expected a non-empty list, e.g. [ring8, {name: grid25, std: 0.05}].")
    out, labels = [], set()
    for i, entry in enumerate(raw):
        path = f"datasets[{i}]"
        entry = dict(entry) if isinstance(entry, dict) else entry
        label = entry.pop("label", None) if isinstance(entry, dict) else None
        spec = resolve_component(datasets, entry, path, set())
        label = str(label or spec["name"])
        if not NAME_RE.match(label):
            raise at(f"{path}.label", f"{label!r} is not a usable label (letters, digits, _ . + -).")
        if label in labels:
            raise at(path, f"dataset label {label!r} is used twice; give one entry a 'label:'.")
        labels.add(label)
        built = datasets.build(spec, path)
        out.append(({"name": spec["name"], "label": label,
                     **{k: v for k, v in spec.items() if k != "name"}}, built))
    return out


def _seeds(raw: Any) -> list[int]:
    if raw is None:
        return [0]
    if isinstance(raw, int) and not isinstance(raw, bool) and raw > limits.MAX_SEEDS:
        raise at("seeds", f"{raw} seeds is more than {limits.MAX_SEEDS}; use fewer.")
    if isinstance(raw, int) and not isinstance(raw, bool) and raw >= 1:
        return list(range(raw))
    if isinstance(raw, list) and raw and all(isinstance(s, int) and not isinstance(s, bool)
                                             and s >= 0 for s in raw):
        if len(set(raw)) != len(raw):
            raise at("seeds", "a seed is listed twice.")
        return list(raw)
    raise at("seeds", f"expected a count (e.g. 5) or a list of seeds >= 0, got {raw!r}.")


def import_plugins(modules: list[str], base: Path | None, given: int | None = None) -> None:
    """Import user modules (names or .py paths, relative to the suite) that register things;
    ``given``: how many of them the suite names (the rest came from ``--import``)."""
    for i, mod in enumerate(modules):
        path = f"imports[{i}]" if given is None or i < given else f"--import {mod}"
        try:
            if str(mod).endswith(".py"):
                candidates = [Path(mod)] if base is None else [base / mod, Path(mod)]
                file = next((c for c in candidates if c.is_file()), None)
                if file is None:
                    raise at(path, f"file {mod} not found; give a path relative to the suite file.")
                spec = importlib.util.spec_from_file_location(file.stem, file)
                module = importlib.util.module_from_spec(spec)
                sys.modules[file.stem] = module
                spec.loader.exec_module(module)
            else:
                for p in [str(base) if base else None, "."]:
                    if p and p not in sys.path:
                        sys.path.insert(0, p)
                importlib.import_module(str(mod))
        except InputError:
            raise
        except ImportError as e:
            raise at(path, f"cannot import {mod!r} ({e}); check the module name and PYTHONPATH.")
        except Exception as e:  # noqa: BLE001 - a broken plugin is bad input
            raise at(path, f"importing {mod!r} raised {type(e).__name__}: {e}")


# --- reading YAML -------------------------------------------------------------------

#: a float written with an exponent and no dot or no exponent sign, as people write
#: learning rates (``1e-3``, ``5E4``, ``1.0e3``, ``.5e-3``): YAML 1.1, PyYAML's dialect,
#: reads these as strings
_EXPONENT_FLOAT = re.compile(r"^[-+]?(?:\d[\d_]*(?:\.[\d_]*)?|\.\d[\d_]*)[eE][-+]?\d+$")


class SuiteLoader(yaml.SafeLoader):
    """How suites and ``--set`` values are read: PyYAML's safe YAML 1.1, except that
    ``1e-3`` is a number, as in YAML 1.2 and JSON."""


SuiteLoader.add_implicit_resolver("tag:yaml.org,2002:float", _EXPONENT_FLOAT,
                                  list("-+0123456789."))


def parse_yaml(text: str) -> Any:
    """YAML text as suites are read (:class:`SuiteLoader`); raises yaml.YAMLError."""
    return yaml.load(text, Loader=SuiteLoader)  # noqa: S506 - a SafeLoader subclass


# --- the whole suite --------------------------------------------------------------

def load_suite(path: str | Path, extra_imports: list[str] = ()) -> Suite:
    """Read, validate and expand a suite file (or a shipped suite, by name)."""
    path = suite_path(path)
    raw = read_suite(path)
    try:
        return parse_suite(raw, default_name=path.stem, base=path.parent, extra_imports=extra_imports,
                           path=path)
    except InputError as e:
        raise InputError(f"{path}: {e}") from None


def read_suite(path: Path) -> Any:
    """A suite file's YAML content, unchecked (InputError if it cannot be read or parsed)."""
    if path.is_dir():
        raise InputError(f"{path}: a folder, not a suite file; give a suite YAML file (e.g. "
                         "suites/mog.yaml); to resume a results folder, give the suite it ran.")
    if not path.is_file():
        raise InputError(f"{path}: suite file not found; give a suite file's path{names_hint()}.")
    try:
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as e:
        raise InputError(f"{path}: not UTF-8 text (byte {e.start}); save the suite as UTF-8.") from None
    except OSError as e:
        raise InputError(f"{path}: cannot read the suite ({e.strerror}); check the path.") from None
    try:
        return parse_yaml(text)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(e, "problem", None) or str(e).splitlines()[0]
        raise InputError(f"{path}: not valid YAML{where}: {problem}; fix the syntax there.") from None


def parse_suite(raw: Any, default_name: str = "suite", base: Path | None = None,
                extra_imports: list[str] = (), path: Path | None = None) -> Suite:
    if not isinstance(raw, dict):
        raise InputError("the suite must be a mapping with 'datasets' and 'variants'.")
    for key in raw:
        if key not in TOP_FIELDS:
            raise unknown_field("", str(key), TOP_FIELDS)
    imports = raw.get("imports") or []
    if not isinstance(imports, list):
        raise at("imports", "expected a list of module names or .py paths.")
    import_plugins(list(imports) + list(extra_imports), base, given=len(imports))
    name = str(raw.get("name") or default_name)
    if not NAME_RE.match(name):
        raise at("name", f"{name!r} is not a usable name (letters, digits, _ . + -).")
    seeds = _seeds(raw.get("seeds"))
    dsets = _datasets(raw.get("datasets"))
    defaults = run_settings("defaults.", raw.get("defaults"))
    variants_raw = raw.get("variants")
    if not isinstance(variants_raw, dict) or not variants_raw:
        raise at("variants", "expected a mapping of variant name -> settings, e.g. "
                             "{nonsaturating: {objective: nonsaturating}}.")
    variants, settings_of = {}, {}
    for vname, vraw in variants_raw.items():
        where = f"variants.{vname}."
        if not NAME_RE.match(str(vname)):
            raise at(f"variants.{vname}", "not a usable variant name (letters, digits, _ . + -).")
        vraw = dict(vraw) if isinstance(vraw, dict) else vraw
        own_sweep = vraw.pop("sweep", None) if isinstance(vraw, dict) else None
        settings = run_settings(where, vraw)
        variants[str(vname)] = resolve_settings(where, defaults, settings)
        settings_of[str(vname)] = _settings(where, variants[str(vname)], defaults, settings,
                                            sweeps.merged(raw.get("sweep"), own_sweep, where))
    published = check_published(raw.get("published"), {ds["label"]: ds["name"] for ds, _ in dsets},
                                list(variants), base)
    total = len(dsets) * len(seeds) * sum(len(st) for st in settings_of.values())
    if total > limits.MAX_RUNS:
        raise at("sweep" if raw.get("sweep") else "seeds", f"the suite has {total} runs, more than "
                 f"{limits.MAX_RUNS}; sweep fewer values or use fewer seeds.")
    specs = []
    for ds, built in dsets:
        for vname, settings in settings_of.items():
            slices = min(MAX_SLICES, len(seeds) * len(settings))
            for point, cfg in settings:
                cfg = for_dataset(cfg, built)
                where = f"variants.{vname}." + (f"sweep[{sweeps.label(point)}]." if point else "")
                limits.check_counts(cfg, where)
                limits.check_memory(cfg, int(built.dim), slices, where)
                _dry_build(built, cfg, where)
                tag = f"{sweeps.label(point)}__" if point else ""
                specs += [RunSpec(f"{ds['label']}__{vname}__{tag}seed{s}", ds, vname, s, cfg, point)
                          for s in seeds]
    resolved = {"name": name, "seeds": seeds, "imports": list(imports) + list(extra_imports),
                "datasets": [ds for ds, _ in dsets],
                "variants": variants}
    swept = {v: [p for p, _ in st] for v, st in settings_of.items() if st[0][0]}
    if swept:
        resolved["sweeps"] = swept
    if raw.get("description"):
        resolved["description"] = str(raw["description"])
    if published:
        resolved["published"] = published
    return Suite(name, path, resolved, specs, {ds["label"]: built for ds, built in dsets})


def _settings(path: str, base: dict, defaults: dict, settings: dict, sweep: dict) -> list:
    """(point, resolved settings) per setting of a variant's sweep (one without a sweep)."""
    out = []
    for point in sweeps.points(sweep, path):
        if not point:
            return [({}, base)]
        sweeps.check(point, base, path)
        try:
            cfg = resolve_settings(path, defaults, settings, sweeps.layer(point, base))
        except InputError as e:
            raise at(f"{path}sweep[{sweeps.label(point)}]", str(e)) from None
        out.append((point, cfg))
    return out


def _dry_build(dataset, cfg: RunConfig, path: str) -> None:
    """Build every part once (a few stacked runs, CPU) and check the loss contract on a
    tiny batch (:mod:`ganbench.harness.contract`), so bad settings and a loss that does
    not return one value per run fail before training (nothing is trained: feature
    extractors are loaded by :func:`prepare_features`)."""
    import torch
    g = [torch.Generator().manual_seed(s) for s in range(DRY_RUNS)]
    check_game(build_parts(dataset, cfg, g, g, "cpu", path).players, cfg, path)
