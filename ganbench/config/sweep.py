"""Hyperparameter sweeps: ``sweep:`` at the top of a suite and in a variant.

A sweep maps dotted paths into the resolved run config to values:

    sweep: {optimizer.lr: [1.0e-4, 3.0e-4, 1.0e-3], optimizer.betas: [[0.0, 0.9], [0.5, 0.999]]}
    sweep: {random: {n: 20, seed: 0}, optimizer.lr: {log_uniform: [1.0e-5, 1.0e-2]},
            regularizers[0].weight: {uniform: [0.1, 10]}, n_critic: [1, 5]}

A grid (the default) tries every combination of the lists; ``random: {n, seed}``
draws n settings, each path independently: ``log_uniform: [a, b]``, ``uniform:
[a, b]``, ``int_uniform: [a, b]`` or a list to choose from. Drawn numbers are rounded
to 3 significant digits (so a run id shows the value that was used); settings that
coincide after rounding are tried once. A variant's ``sweep`` is added to the
suite's (a path in both takes the variant's values).

Paths: ``field``, ``field.setting`` (``optimizer.lr``, ``generator.width``,
``objective.gp_weight``), ``list_field[i].setting`` or ``list_field.i.setting``
(``regularizers[0].weight``; write ``regularizers.0.weight`` inside a YAML ``{...}``,
where brackets would start a list);
a whole component may be swept by name (``objective: [minimax, nonsaturating]``).
Each setting is a layer on top of the variant's own settings, so per-network
optimizer settings (``d_optimizer``) still apply on top of a swept ``optimizer``.
"""
from __future__ import annotations

import copy
import itertools
import math
import re
from typing import Any

import numpy as np

from ..errors import at
from .schema import RUN_FIELDS

PATH_RE = re.compile(r"^([a-z_]+)(?:\[(\d+)\]|\.(\d+))?((?:\.[A-Za-z_][A-Za-z0-9_]*)*)$")
DISTRIBUTIONS = ("log_uniform", "uniform", "int_uniform")
#: at most this many settings per variant (grid or random)
MAX_SETTINGS = 10_000


def merged(top: dict | None, own: dict | None, path: str) -> dict:
    """The suite's sweep with a variant's on top (``random`` merges too)."""
    out: dict = {}
    for where, raw in (("sweep", top), (f"{path}sweep", own)):
        if raw is None:
            continue
        if not isinstance(raw, dict):
            raise at(where, f"expected a mapping of config paths to lists of values, got {raw!r}.")
        out.update(raw)
    return out


def _split(path: str, where: str) -> tuple[str, int | None, list[str]]:
    m = PATH_RE.match(path)
    if not m or m.group(1) not in RUN_FIELDS:
        raise at(where, f"not a run setting path; use field, field.setting or "
                        f"list_field[i].setting (list_field.i.setting) with a field among "
                        f"{', '.join(RUN_FIELDS)}.")
    index = m.group(2) or m.group(3)
    index = int(index) if index is not None else None
    keys = [k for k in m.group(4).split(".") if k]
    return m.group(1), index, keys


def _lookup(cfg: dict, path: str, where: str) -> Any:
    """The resolved config's value at ``path`` (InputError naming ``where`` if absent)."""
    field, index, keys = _split(path, where)
    value = cfg[field]
    if index is not None:
        if not isinstance(value, list) or index >= len(value):
            n = len(value) if isinstance(value, list) else 0
            raise at(where, f"{field} has {n} entries here; index {index} does not exist.")
        value = value[index]
    for k in keys:
        if not isinstance(value, dict) or k not in value:
            known = ", ".join(k2 for k2 in value if k2 != "name") if isinstance(value, dict) else ""
            raise at(where, f"no setting {k!r} here" + (f"; settings: {known}." if known else "."))
        value = value[k]
    return value


def _same_kind(old: Any, new: Any) -> bool:
    number = (int, float)
    if isinstance(old, bool) or isinstance(new, bool):
        return isinstance(old, bool) and isinstance(new, bool)
    if isinstance(old, number):
        return isinstance(new, number) and (isinstance(new, int) or not isinstance(old, int)
                                            or float(new).is_integer())
    if isinstance(old, (list, tuple)):
        return isinstance(new, (list, tuple)) and len(new) == len(old)
    if isinstance(old, (str, dict)):
        return isinstance(new, (str, dict))
    return True


def _round3(x: float) -> float:
    return float(f"{x:.3g}")


def _draw(spec: Any, rng: np.random.Generator, where: str) -> Any:
    if isinstance(spec, list):
        if not spec:
            raise at(where, "an empty list: give at least one value.")
        return copy.deepcopy(spec[int(rng.integers(len(spec)))])
    if isinstance(spec, dict) and len(spec) == 1 and next(iter(spec)) in DISTRIBUTIONS:
        kind, bounds = next(iter(spec.items()))
        ok = isinstance(bounds, list) and len(bounds) == 2 and all(
            isinstance(b, (int, float)) and not isinstance(b, bool) and math.isfinite(b) for b in bounds)
        if not ok or bounds[0] > bounds[1] or (kind == "log_uniform" and bounds[0] <= 0):
            raise at(f"{where}.{kind}", "expected [low, high] with low <= high"
                     + (" and low > 0" if kind == "log_uniform" else "") + f", got {bounds!r}.")
        lo, hi = bounds
        if kind == "log_uniform":
            return _round3(math.exp(rng.uniform(math.log(lo), math.log(hi))))
        if kind == "uniform":
            return _round3(rng.uniform(lo, hi))
        return int(rng.integers(int(lo), int(hi) + 1))
    raise at(where, f"expected a list of values or one of {', '.join(f'{{{d}: [low, high]}}' for d in DISTRIBUTIONS)}, "
                    f"got {spec!r}.")


def points(sweep: dict, path: str) -> list[dict]:
    """The settings a sweep asks for: a list of {config path: value} (one empty dict
    without a sweep)."""
    sweep = dict(sweep)
    random = sweep.pop("random", None)
    if not sweep:
        return [{}]
    if random is None:
        for p, values in sweep.items():
            if not isinstance(values, list) or not values:
                raise at(f"{path}sweep.{p}", f"expected a non-empty list of values (a grid), got "
                         f"{values!r}; for distributions add random: {{n: 20, seed: 0}}.")
        size = math.prod(len(v) for v in sweep.values())
        if size > MAX_SETTINGS:
            raise at(f"{path}sweep", f"the grid has {size} settings, more than {MAX_SETTINGS}; "
                                     "sweep fewer values or use random: {n: ..., seed: ...}.")
        return [dict(zip(sweep, combo)) for combo in itertools.product(*sweep.values())]
    if not isinstance(random, dict) or set(random) - {"n", "seed"} or not isinstance(random.get("n"), int) \
            or isinstance(random.get("n"), bool) or not 1 <= random["n"] <= MAX_SETTINGS:
        raise at(f"{path}sweep.random", f"expected {{n: 1..{MAX_SETTINGS}, seed: 0}}, got {random!r}.")
    seed = random.get("seed", 0)
    if not isinstance(seed, int) or isinstance(seed, bool) or seed < 0:
        raise at(f"{path}sweep.random.seed", f"expected a whole number >= 0, got {seed!r}.")
    rng = np.random.default_rng(seed)
    out, seen = [], set()
    for _ in range(random["n"]):
        point = {p: _draw(spec, rng, f"{path}sweep.{p}") for p, spec in sweep.items()}
        key = repr(sorted(point.items()))
        if key not in seen:
            seen.add(key)
            out.append(point)
    return out


def check(point: dict, cfg: dict, path: str) -> None:
    """Every path of ``point`` exists in the resolved config ``cfg`` and gets a value of
    the kind it holds (a number for a number, a list of the same length for a list)."""
    for p, value in point.items():
        where = f"{path}sweep.{p}"
        old = _lookup(cfg, p, where)
        if not _same_kind(old, value):
            raise at(where, f"{value!r} is not of the kind this setting takes (it is {old!r} "
                            "without the sweep).")


def layer(point: dict, cfg: dict) -> dict:
    """Run settings that put ``point``'s values in place, on top of the variant's own:
    ``optimizer.lr`` -> {optimizer: {lr: v}}; ``regularizers[0].weight`` -> the resolved
    list with that entry changed."""
    out: dict = {}
    for p, value in point.items():
        field, index, keys = _split(p, p)
        if index is not None:
            target = out.setdefault(field, copy.deepcopy(cfg[field]))[index]
        elif not keys:
            out[field] = copy.deepcopy(value)
            continue
        else:
            target = out.setdefault(field, {})
            if not isinstance(target, dict):
                target = out[field] = {"name": target}
        for k in keys[:-1]:
            target = target.setdefault(k, {})
        if keys:
            target[keys[-1]] = copy.deepcopy(value)
        else:
            out[field][index] = copy.deepcopy(value)
    return out


def fmt_value(v: Any) -> str:
    """A swept value as run ids and tables show it: 3e-4, 0.5-0.999, minimax."""
    if isinstance(v, bool):
        return str(v).lower()
    if isinstance(v, float):
        if v != 0 and (abs(v) < 1e-2 or abs(v) >= 1e4):
            mant, exp = f"{v:.2e}".split("e")
            return f"{mant.rstrip('0').rstrip('.')}e{int(exp)}"
        return f"{v:.4g}"
    if isinstance(v, (list, tuple)):
        return "-".join(fmt_value(x) for x in v)
    if isinstance(v, dict):
        return str(v.get("name", "x"))
    return str(v)


def label(point: dict) -> str:
    """``lr=3e-4,betas=0.5-0.999``: each path by its last name (the whole path where two
    share one), its value formatted."""
    if not point:
        return ""
    short = {p: re.split(r"[.\]]", p)[-1] or p for p in point}
    names = {p: (s if list(short.values()).count(s) == 1 else p) for p, s in short.items()}
    text = ",".join(f"{names[p]}={fmt_value(v)}" for p, v in point.items())
    return re.sub(r"[^A-Za-z0-9_.+=,\-\[\]]", "_", text)


def column_value(v: Any) -> Any:
    """A swept value as a summary.csv cell: numbers as they are, anything else as text."""
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        return v
    return fmt_value(v)
