"""Suite YAML: schema, validation with field paths, and the matrix -> RunSpecs.

A suite is validated completely before any training starts: every name is looked up
in its registry, every setting is checked against the factory that takes it, and
each (dataset, variant) pair is built once on a one-seed CPU model. Errors are one
line that starts with the field's path in the file.
"""
from __future__ import annotations

import copy
import importlib
import importlib.util
import inspect
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from .data import datasets
from .errors import InputError, at
from .metrics.fid import extractors
from .metrics.vanishing import checkpoint_probes
from .models import MODEL_CONTEXT, discriminators, generators
from .objectives import objectives
from .optimizers import optimizers
from .registry import Registry, check_params, merge_spec, split_spec
from .regularizers import regularizers
from .updates import updates

#: run settings: name -> (default, kind). Any of them can go in ``defaults`` or a variant.
RUN_FIELDS: dict[str, tuple[Any, str]] = {
    "objective": ("nonsaturating", "component"),
    "regularizers": ([], "component_list"),
    "generator": ({"name": "mlp"}, "component"),
    "discriminator": ({"name": "mlp"}, "component"),
    "optimizer": ({"name": "adam", "lr": 1e-4}, "component"),
    "g_optimizer": (None, "component_or_null"),
    "d_optimizer": (None, "component_or_null"),
    "update": ("alternating", "component"),
    "n_critic": (1, "positive_int"),
    "steps": (2000, "positive_int"),
    "batch_size": (256, "positive_int"),
    "eval_every": (250, "positive_int"),
    "n_eval": (None, "positive_int"),      # None: the dataset's default (2500; stacked digits 26000)
    "min_hq": (1, "positive_int"),
    "checkpoint_probes": ([], "component_list"),
    "features": (None, "component_or_null"),  # FID/KID feature extractor; None: the dataset's
}
COMPONENT_REGISTRY: dict[str, tuple[Registry, set[str]]] = {
    # field -> (registry, arguments the harness supplies)
    "objective": (objectives, set()),
    "regularizers": (regularizers, set()),
    "generator": (generators, MODEL_CONTEXT),
    "discriminator": (discriminators, MODEL_CONTEXT),
    "optimizer": (optimizers, {"params"}),
    "update": (updates, set()),
    "checkpoint_probes": (checkpoint_probes, set()),
    "g_optimizer": (optimizers, {"params"}),
    "d_optimizer": (optimizers, {"params"}),
    "features": (extractors, {"dataset"}),
}
TOP_FIELDS = ["name", "description", "imports", "seeds", "datasets", "variants", "defaults"]
NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.+-]*$")


@dataclass(frozen=True)
class RunSpec:
    """One training run: a dataset (spec with its label), a variant's config, a seed."""

    run_id: str
    dataset: dict       # {"name": ..., "label": ..., **settings}
    variant: str
    seed: int
    config: dict        # the resolved run settings

    @property
    def group_key(self) -> tuple[str, str]:
        return (self.dataset["label"], self.variant)

    def dataset_spec(self) -> dict:
        return {k: v for k, v in self.dataset.items() if k != "label"}


@dataclass
class Suite:
    name: str
    path: Path | None
    resolved: dict      # the suite as run: every default filled in
    specs: list[RunSpec]


# --- small checks -----------------------------------------------------------------

def _unknown(path: str, key: str, allowed: list[str]) -> InputError:
    import difflib
    close = difflib.get_close_matches(key, allowed, n=1)
    hint = f" Did you mean {close[0]!r}?" if close else ""
    return at(f"{path}{key}", f"unknown field.{hint} Fields here: {', '.join(allowed)}.")


def _check_kind(path: str, value: Any, kind: str) -> Any:
    if kind == "positive_int":
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise at(path, f"expected a whole number >= 1, got {value!r}.")
        return value
    if kind == "component_or_null" and value is None:
        return None
    if kind == "component_list":
        if value is None:
            return []
        if not isinstance(value, list):
            raise at(path, f"expected a list of {{name: ..., <settings>}}, got {value!r}.")
        return [_check_component(f"{path}[{i}]", v) for i, v in enumerate(value)]
    return _check_component(path, value)


def _check_component(path: str, value: Any) -> Any:
    """A name, or a mapping of settings (its 'name' may come from the defaults below it)."""
    if not isinstance(value, (str, dict)):
        raise at(path, f"expected a name or a mapping like {{name: adam, lr: 0.001}}, got {value!r}.")
    return copy.deepcopy(value)


def resolve_component(registry: Registry, spec: Any, path: str, reserved: set[str]) -> dict:
    """``spec`` as a mapping with every setting filled from the factory's defaults."""
    name, params = split_spec(spec, path)
    factory = registry.get(name, f"{path}.name" if isinstance(spec, dict) else path)
    check_params(factory, params, path, reserved)
    full = {"name": name}
    for p in inspect.signature(factory).parameters.values():
        if p.name in reserved or p.kind not in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY):
            continue
        if p.name in params:
            full[p.name] = params[p.name]
        elif p.default is not inspect.Parameter.empty:
            d = p.default
            full[p.name] = list(d) if isinstance(d, tuple) else d
    return full


# --- the parts of a suite ---------------------------------------------------------

def _run_settings(path: str, raw: Any) -> dict:
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise at(path.rstrip("."), f"expected a mapping of run settings, got {raw!r}.")
    out = {}
    for key, value in raw.items():
        if key not in RUN_FIELDS:
            raise _unknown(path, str(key), list(RUN_FIELDS))
        out[key] = _check_kind(f"{path}{key}", value, RUN_FIELDS[key][1])
    return out


def _resolve_config(path: str, *layers: dict) -> dict:
    """Built-in defaults, then each layer of settings on top (components merge by name)."""
    cfg = {k: copy.deepcopy(d) for k, (d, _) in RUN_FIELDS.items()}
    for layer in layers:
        for k, v in layer.items():
            cfg[k] = merge_spec(cfg[k], v) if RUN_FIELDS[k][1].startswith("component") and \
                not isinstance(v, list) else v
    for field_name, (reg, reserved) in COMPONENT_REGISTRY.items():
        p = f"{path}{field_name}"
        if RUN_FIELDS[field_name][1] == "component_list":
            cfg[field_name] = [resolve_component(reg, r, f"{p}[{i}]", reserved)
                               for i, r in enumerate(cfg[field_name])]
        elif field_name == "features":
            if cfg[field_name] is not None:
                cfg[field_name] = resolve_component(reg, cfg[field_name], p, reserved)
        elif field_name in ("g_optimizer", "d_optimizer"):
            if cfg[field_name] is not None:
                cfg[field_name] = resolve_component(
                    reg, merge_spec(cfg["optimizer"], cfg[field_name]), p, reserved)
        else:
            cfg[field_name] = resolve_component(reg, cfg[field_name], p, reserved)
    if cfg["eval_every"] > cfg["steps"]:
        cfg["eval_every"] = cfg["steps"]
    return cfg


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
    if isinstance(raw, int) and not isinstance(raw, bool) and raw >= 1:
        return list(range(raw))
    if isinstance(raw, list) and raw and all(isinstance(s, int) and not isinstance(s, bool)
                                             and s >= 0 for s in raw):
        if len(set(raw)) != len(raw):
            raise at("seeds", "a seed is listed twice.")
        return list(raw)
    raise at("seeds", f"expected a count (e.g. 5) or a list of seeds >= 0, got {raw!r}.")


def import_plugins(modules: list[str], base: Path | None) -> None:
    """Import user modules (names or .py paths, relative to the suite) that register things."""
    for i, mod in enumerate(modules):
        path = f"imports[{i}]"
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


# --- the whole suite --------------------------------------------------------------

def load_suite(path: str | Path, extra_imports: list[str] = ()) -> Suite:
    """Read, validate and expand a suite file."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: suite file not found; check the path (e.g. suites/mog.yaml).")
    try:
        raw = yaml.safe_load(path.read_text())
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(e, "problem", None) or str(e).splitlines()[0]
        raise InputError(f"{path}: not valid YAML{where}: {problem}; fix the syntax there.") from None
    try:
        return parse_suite(raw, default_name=path.stem, base=path.parent, extra_imports=extra_imports,
                           path=path)
    except InputError as e:
        raise InputError(f"{path}: {e}") from None


def parse_suite(raw: Any, default_name: str = "suite", base: Path | None = None,
                extra_imports: list[str] = (), path: Path | None = None) -> Suite:
    if not isinstance(raw, dict):
        raise InputError("the suite must be a mapping with 'datasets' and 'variants'.")
    for key in raw:
        if key not in TOP_FIELDS:
            raise _unknown("", str(key), TOP_FIELDS)
    imports = raw.get("imports") or []
    if not isinstance(imports, list):
        raise at("imports", "expected a list of module names or .py paths.")
    import_plugins(list(imports) + list(extra_imports), base)
    name = str(raw.get("name") or default_name)
    if not NAME_RE.match(name):
        raise at("name", f"{name!r} is not a usable name (letters, digits, _ . + -).")
    seeds = _seeds(raw.get("seeds"))
    dsets = _datasets(raw.get("datasets"))
    defaults = _run_settings("defaults.", raw.get("defaults"))
    variants_raw = raw.get("variants")
    if not isinstance(variants_raw, dict) or not variants_raw:
        raise at("variants", "expected a mapping of variant name -> settings, e.g. "
                             "{nonsaturating: {objective: nonsaturating}}.")
    variants = {}
    for vname, vraw in variants_raw.items():
        if not NAME_RE.match(str(vname)):
            raise at(f"variants.{vname}", "not a usable variant name (letters, digits, _ . + -).")
        settings = _run_settings(f"variants.{vname}.", vraw)
        variants[str(vname)] = _resolve_config(f"variants.{vname}.", defaults, settings)
    configs = {(ds["label"], vname): for_dataset(cfg, built)
               for ds, built in dsets for vname, cfg in variants.items()}
    for ds, _ in dsets:
        for vname in variants:
            _dry_build(ds, configs[ds["label"], vname], f"variants.{vname}.")
    specs = [RunSpec(f"{ds['label']}__{v}__seed{s}", ds, v, s, configs[ds["label"], v])
             for ds, _ in dsets for v in variants for s in seeds]
    resolved = {"name": name, "seeds": seeds, "imports": list(imports) + list(extra_imports),
                "datasets": [ds for ds, _ in dsets], "variants": variants}
    if raw.get("description"):
        resolved["description"] = str(raw["description"])
    return Suite(name, path, resolved, specs)


def for_dataset(cfg: dict, dataset) -> dict:
    """A variant's settings for one dataset: an unset ``n_eval`` becomes the dataset's default."""
    if cfg["n_eval"] is not None:
        return cfg
    return {**cfg, "n_eval": int(getattr(dataset, "default_n_eval", 2500))}


def _dry_build(ds: dict, cfg: dict, path: str) -> None:
    """Build every part once (one seed, CPU) so bad settings fail before training."""
    import torch
    from .train import build_parts
    g = [torch.Generator().manual_seed(0)]
    spec = {k: v for k, v in ds.items() if k != "label"}
    build_parts(spec, cfg, g, g, "cpu", path)
