"""The suite schema: the checks that turn a suite's raw settings into a resolved run
config (every default filled in: a :class:`~ganbench.layout.run_config.RunConfig`, made
here and nowhere else), by each setting's declaration there (its default and kind),
and which registry each component comes from. Errors name the field's path.
"""
from __future__ import annotations

import copy
import dataclasses
import inspect
import math
import re
from typing import Any, Callable

from ..schedules import merge as merge_optimizer_spec, resolve as resolve_schedule, \
    split as split_schedule
from ..data.base import Dataset
from ..errors import InputError, at
from ..harness import averaging
from ..harness.checkpoints import checkpoint_probes
from ..harness.features import extractors
from ..layout.run_config import FIELDS, RunConfig
from ..models import MODEL_CONTEXT, discriminators, generators
from ..objectives import objectives
from ..optimizers import optimizers
from ..registry import Registry, check_params, merge_spec, split_spec
from ..regularizers import regularizers
from ..updates import updates

#: run settings: name -> (default, kind), as RunConfig declares them. Any of them can go
#: in ``defaults`` or a variant.
RUN_FIELDS: dict[str, tuple[Any, str]] = {f.name: (f.metadata["default"], f.metadata["kind"])
                                          for f in FIELDS}
#: the registries components come from (a setting's declaration names one), and the
#: arguments the harness supplies to each registry's factories
REGISTRIES: dict[str, tuple[Registry, set[str]]] = {
    "objective": (objectives, set()),
    "regularizer": (regularizers, set()),
    "generator": (generators, MODEL_CONTEXT),
    "discriminator": (discriminators, MODEL_CONTEXT),
    "optimizer": (optimizers, {"params"}),
    "update": (updates, set()),
    "checkpoint_probe": (checkpoint_probes, set()),
    "features": (extractors, {"dataset"}),
}
TOP_FIELDS = ["name", "description", "imports", "seeds", "datasets", "variants", "defaults",
              "sweep", "published"]
NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.+-]*$")


# --- small checks -----------------------------------------------------------------

def unknown_field(path: str, key: str, allowed: list[str]) -> InputError:
    import difflib
    close = difflib.get_close_matches(key, allowed, n=1)
    hint = f" Did you mean {close[0]!r}?" if close else ""
    return at(f"{path}{key}", f"unknown field.{hint} Fields here: {', '.join(allowed)}.")


def _whole(path: str, value: Any) -> Any:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise at(path, f"expected a whole number >= 1, got {value!r}.")
    return value


def _whole_or_null(path: str, value: Any) -> Any:
    if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
        raise at(path, f"expected a whole number of steps >= 1, or null (none), got {value!r}.")
    return value


def _bool(path: str, value: Any) -> Any:
    if not isinstance(value, bool):
        raise at(path, f"expected true or false, got {value!r}.")
    return value


def _ema(path: str, value: Any) -> Any:
    if value is not None and not isinstance(value, dict):
        raise at(path, f"expected null or a mapping like {{decay: 0.999, start: 0, "
                       f"evaluate: true}}, got {value!r}.")
    return copy.deepcopy(value)


def _component_list(path: str, value: Any) -> list:
    if value is None:
        return []
    if not isinstance(value, list):
        raise at(path, f"expected a list of {{name: ..., <settings>}}, got {value!r}.")
    return [_check_component(f"{path}[{i}]", v) for i, v in enumerate(value)]


def _or_null(check: Callable) -> Callable:
    return lambda path, value: None if value is None else check(path, value)


def _check_component(path: str, value: Any) -> Any:
    """A name, or a mapping of settings (its 'name' may come from the defaults below it)."""
    if not isinstance(value, (str, dict)):
        raise at(path, f"expected a name or a mapping like {{name: adam, lr: 0.001}}, got {value!r}.")
    return copy.deepcopy(value)


#: how a suite's value of each kind of setting is checked (ganbench.layout.run_config.KINDS)
CHECKS: dict[str, Callable[[str, Any], Any]] = {
    "component": _check_component, "component_list": _component_list,
    "component_or_null": _or_null(_check_component), "optimizer": _check_component,
    "optimizer_or_null": _or_null(_check_component), "positive_int": _whole,
    "positive_int_or_null": _whole_or_null, "bool": _bool, "ema": _ema,
}


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


def resolve_optimizer(spec: Any, path: str, reserved: set[str]) -> dict:
    """An optimizer spec resolved, with its ``schedule`` (kept only where one is given,
    so configs without one stay as they were)."""
    rest, schedule = split_schedule(spec)
    full = resolve_component(optimizers, rest, path, reserved)
    if schedule is not None:
        full["schedule"] = resolve_schedule(schedule, full.get("lr"), f"{path}.schedule")
    return full


# --- resolving a run's settings ---------------------------------------------------

def _merge(kind: str, base: Any, value: Any) -> Any:
    """A layer's ``value`` of a setting over ``base`` (components merge by name)."""
    if kind.startswith("optimizer"):
        return merge_optimizer_spec(base, value)
    if kind == "ema":
        return {**base, **value} if isinstance(base, dict) and isinstance(value, dict) else value
    if kind.startswith("component") and not isinstance(value, list):
        return merge_spec(base, value)
    return value


def _resolved(f: dataclasses.Field, value: Any, cfg: dict, path: str) -> Any:
    """One setting's value resolved by its kind: components with every setting of their
    factory, G's and D's optimizers merged over ``optimizer`` (resolved before them)."""
    kind, p = f.metadata["kind"], f"{path}{f.name}"
    registry, reserved = REGISTRIES.get(f.metadata["registry"], (None, set()))
    if kind == "ema":
        return averaging.resolve(value, p)
    if value is None or registry is None:
        return value
    if kind == "component_list":
        return [resolve_component(registry, r, f"{p}[{i}]", reserved) for i, r in enumerate(value)]
    if kind == "optimizer_or_null":
        return resolve_optimizer(merge_optimizer_spec(cfg["optimizer"], value), p, reserved)
    if kind == "optimizer":
        return resolve_optimizer(value, p, reserved)
    return resolve_component(registry, value, p, reserved)


def resolve_settings(path: str, *layers: dict) -> dict:
    """Built-in defaults, then each layer of settings on top (components merge by name),
    every one resolved, as plain data; a setting the dataset fills (``n_eval``) stays
    None when no layer sets it (:func:`for_dataset` fills it)."""
    cfg = {f.name: copy.deepcopy(f.metadata["default"]) for f in FIELDS}
    for layer in layers:
        for k, v in layer.items():
            cfg[k] = _merge(RUN_FIELDS[k][1], cfg[k], v)
    for f in FIELDS:
        cfg[f.name] = _resolved(f, cfg[f.name], cfg, path)
    if cfg["eval_every"] > cfg["steps"]:
        cfg["eval_every"] = cfg["steps"]
    _check_finite(cfg, path)
    return cfg


def for_dataset(settings: dict | RunConfig, dataset) -> RunConfig:
    """Resolved ``settings`` (:func:`resolve_settings`, or a RunConfig) for one dataset:
    the settings the dataset fills when unset (``n_eval``: its
    :attr:`~ganbench.data.base.Dataset.default_n_eval`), as a RunConfig."""
    plain = settings.as_dict() if isinstance(settings, RunConfig) else settings
    filled = {f.name: getattr(dataset, f.metadata["from_dataset"])
              for f in FIELDS if f.metadata["from_dataset"] and plain[f.name] is None}
    return RunConfig.from_dict({**plain, **filled})


def resolve_config(path: str, *layers: dict, dataset=None) -> RunConfig:
    """Built-in defaults, then each layer of settings on top, for ``dataset`` (a built
    dataset; None: the defaults of datasets that state none, e.g. n_eval 2500)."""
    return for_dataset(resolve_settings(path, *layers), Dataset if dataset is None else dataset)


def run_config(dataset=None, **settings) -> RunConfig:
    """One run's config from its settings, checked and resolved as a suite's variant is
    (from Python: tests, benchmarks, notebooks); ``dataset`` as :func:`resolve_config`."""
    return resolve_config("", run_settings("", settings), dataset=dataset)


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
        out[key] = CHECKS[RUN_FIELDS[key][1]](f"{path}{key}", value)
    return out


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
