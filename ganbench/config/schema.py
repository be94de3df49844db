"""The suite schema: every run setting with its default and kind, which registry
each component comes from, and the checks that turn a suite's raw settings into a
resolved run config (every default filled in: a
:class:`~ganbench.harness.run_config.RunConfig`, made here and nowhere else). Errors
name the field's path.
"""
from __future__ import annotations

import copy
import inspect
import math
import re
from typing import Any

from ..schedules import merge as merge_optimizer_spec, resolve as resolve_schedule, \
    split as split_schedule
from ..errors import InputError, at
from ..harness import averaging
from ..harness.checkpoints import checkpoint_probes
from ..harness.features import extractors
from ..harness.run_config import RunConfig
from ..layout import RUN_FIELD_NAMES
from ..models import MODEL_CONTEXT, discriminators, generators
from ..objectives import objectives
from ..optimizers import optimizers
from ..registry import Registry, check_params, merge_spec, split_spec
from ..regularizers import regularizers
from ..updates import updates

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
    "ema": (None, "ema"),                  # G weight averaging {decay, start, evaluate}; None: off
    "log_every": (1, "positive_int"),      # history.csv keeps every log_every-th step (and evaluations)
    "checkpoint": (True, "bool"),          # model.pt (G, D, averaged G) in each run folder
    # a training checkpoint of the stacked group every this many steps (mid-run resume:
    # ganbench.harness.resume); None: none. Not a result setting (layout.NOT_SETTINGS)
    "checkpoint_every": (None, "positive_int_or_null"),
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
assert tuple(RUN_FIELDS) == RUN_FIELD_NAMES, "layout.RUN_FIELD_NAMES must list RUN_FIELDS"
TOP_FIELDS = ["name", "description", "imports", "seeds", "datasets", "variants", "defaults",
              "sweep", "published"]
NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.+-]*$")


# --- small checks -----------------------------------------------------------------

def unknown_field(path: str, key: str, allowed: list[str]) -> InputError:
    import difflib
    close = difflib.get_close_matches(key, allowed, n=1)
    hint = f" Did you mean {close[0]!r}?" if close else ""
    return at(f"{path}{key}", f"unknown field.{hint} Fields here: {', '.join(allowed)}.")


def _check_kind(path: str, value: Any, kind: str) -> Any:
    if kind == "positive_int_or_null":
        if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
            raise at(path, f"expected a whole number of steps >= 1, or null (none), got {value!r}.")
        return value
    if kind == "positive_int":
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise at(path, f"expected a whole number >= 1, got {value!r}.")
        return value
    if kind == "bool":
        if not isinstance(value, bool):
            raise at(path, f"expected true or false, got {value!r}.")
        return value
    if kind == "ema":
        if value is not None and not isinstance(value, dict):
            raise at(path, f"expected null or a mapping like {{decay: 0.999, start: 0, "
                           f"evaluate: true}}, got {value!r}.")
        return copy.deepcopy(value)
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


OPTIMIZER_FIELDS = ("optimizer", "g_optimizer", "d_optimizer")


def resolve_optimizer(spec: Any, path: str, reserved: set[str]) -> dict:
    """An optimizer spec resolved, with its ``schedule`` (kept only where one is given,
    so configs without one stay as they were)."""
    rest, schedule = split_schedule(spec)
    full = resolve_component(optimizers, rest, path, reserved)
    if schedule is not None:
        full["schedule"] = resolve_schedule(schedule, full.get("lr"), f"{path}.schedule")
    return full


# --- the parts of a suite ---------------------------------------------------------

def run_settings(path: str, raw: Any) -> dict:
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise at(path.rstrip("."), f"expected a mapping of run settings, got {raw!r}.")
    out = {}
    for key, value in raw.items():
        if key not in RUN_FIELDS:
            raise unknown_field(path, str(key), list(RUN_FIELDS))
        out[key] = _check_kind(f"{path}{key}", value, RUN_FIELDS[key][1])
    return out


def resolve_config(path: str, *layers: dict) -> RunConfig:
    """Built-in defaults, then each layer of settings on top (components merge by name)."""
    cfg = {k: copy.deepcopy(d) for k, (d, _) in RUN_FIELDS.items()}
    for layer in layers:
        for k, v in layer.items():
            kind = RUN_FIELDS[k][1]
            if k in OPTIMIZER_FIELDS:
                cfg[k] = merge_optimizer_spec(cfg[k], v)
            elif kind == "ema":
                cfg[k] = {**cfg[k], **v} if isinstance(cfg[k], dict) and isinstance(v, dict) else v
            else:
                cfg[k] = merge_spec(cfg[k], v) if kind.startswith("component") and \
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
                cfg[field_name] = resolve_optimizer(
                    merge_optimizer_spec(cfg["optimizer"], cfg[field_name]), p, reserved)
        elif field_name == "optimizer":
            cfg[field_name] = resolve_optimizer(cfg[field_name], p, reserved)
        else:
            cfg[field_name] = resolve_component(reg, cfg[field_name], p, reserved)
    cfg["ema"] = averaging.resolve(cfg["ema"], f"{path}ema")
    if cfg["eval_every"] > cfg["steps"]:
        cfg["eval_every"] = cfg["steps"]
    _check_finite(cfg, path)
    return RunConfig(**cfg)


def run_config(**settings) -> RunConfig:
    """One run's config from its settings, checked and resolved as a suite's variant is
    (from Python: tests, benchmarks, notebooks)."""
    return resolve_config("", run_settings("", settings))


def _check_finite(value: Any, path: str) -> None:
    """No NaN or infinity anywhere in a run config (YAML's .nan / .inf)."""
    if isinstance(value, float) and not math.isfinite(value):
        raise at(path.rstrip("."), f"{value} is not a finite number; give a number.")
    if isinstance(value, dict):
        for k, v in value.items():
            _check_finite(v, f"{path}{k}" if path.endswith(".") or not path else f"{path}.{k}")
    elif isinstance(value, list):
        for i, v in enumerate(value):
            _check_finite(v, f"{path.rstrip('.')}[{i}]")
