"""Command-line overrides of a suite: ``--set PATH=VALUE`` (repeatable) and ``--seeds``.

    ganbench run suites/mog.yaml --set defaults.steps=500 \\
        --set variants.wgan_gp.n_critic=3 --set 'defaults.optimizer={name: adam, lr: 1e-3}' --seeds 3

Each override edits the suite as read from its file, in the order given, before the
suite is validated, so it means exactly what the same edit of the YAML file would
mean: ``defaults.steps`` changes the default, and a variant that sets its own ``steps``
keeps it. Paths:

- ``defaults.<setting path>`` and ``variants.<variant>.<setting path>``, where a setting
  path is written as in ``sweep:`` (:mod:`ganbench.config.sweep`): ``steps``,
  ``optimizer.lr``, ``objective.gp_weight``, ``regularizers[0].weight`` (or
  ``regularizers.0.weight``), or a whole component (``objective=hinge``,
  ``optimizer={name: adam, lr: 0.001}``);
- ``seeds`` (as ``--seeds``), ``datasets`` (a list, as in the file: ``--set
  datasets=[ring8]`` runs the suite on ring8 alone), ``name`` and ``description``.

Values are YAML (a number, a word, ``[0.5, 0.9]``, ``{name: adam, lr: 0.001}``, ``null``);
unlike plain YAML 1.1, ``1e-3`` reads as a number. Validation is the sweep's: the path
must exist in the variant's resolved settings and the value must be of the kind found
there; then the whole suite is validated as usual. Errors are one line naming
``--set PATH`` (or ``--seeds``). The suite as run (``OUT/suite.yaml``) lists the
overrides under ``overrides:``; a run whose resolved settings an override changed
no longer matches its ``config.json``, so resuming reruns it and only it.
"""
from __future__ import annotations

import copy
import difflib
import re
from pathlib import Path
from typing import Any

import yaml

from ..errors import InputError, at
from . import sweep as sweeps
from .schema import RUN_FIELDS, resolve_config, run_settings
from .shipped import suite_path
from .suite import Suite, load_suite, parse_suite, parse_yaml, read_suite

#: top-level fields an override may set (besides defaults.* and variants.*)
TOP = ("seeds", "datasets", "name", "description")


def parse_value(text: str, where: str) -> Any:
    """One value on the command line, read as a suite's values are (``1e-3`` a number)."""
    try:
        return parse_yaml(text)
    except yaml.YAMLError as e:
        problem = getattr(e, "problem", None) or str(e).splitlines()[0]
        raise at(where, f"{text!r} is not a YAML value ({problem}); quote the whole "
                        "--set argument, e.g. --set 'defaults.optimizer={name: adam, lr: 0.001}'.")


def parse_assignment(text: str) -> tuple[str, Any]:
    """``"defaults.steps=500"`` -> ``("defaults.steps", 500)``."""
    path, eq, value = text.partition("=")
    path = path.strip()
    if not eq or not path:
        raise InputError(f"--set {text}: expected PATH=VALUE, e.g. --set defaults.steps=500 or "
                         "--set variants.wgan_gp.n_critic=3.")
    return path, parse_value(value.strip(), f"--set {path}")


def parse_seeds(text: str) -> Any:
    """``--seeds 3`` (a count), ``--seeds 0,1,2`` or ``--seeds '[0, 1, 2]'`` (a list)."""
    value = parse_value(text, "--seeds")
    if isinstance(value, str) and "," in value:
        try:
            value = [int(s) for s in value.split(",")]
        except ValueError:
            pass
    return value


def _section(raw: dict, path: str, where: str) -> tuple[list[str], str]:
    """Which part of the suite ``path`` edits (``["defaults"]`` or ``["variants", v]``) and
    the setting path inside it."""
    head, _, rest = path.partition(".")
    if head == "defaults" and rest:
        return ["defaults"], rest
    if head == "variants":
        variants = raw.get("variants") if isinstance(raw.get("variants"), dict) else {}
        names = sorted((str(v) for v in variants if rest.startswith(f"{v}.")), key=len)
        if names:
            return ["variants", names[-1]], rest[len(names[-1]) + 1:]
        name = rest.partition(".")[0]
        if name in map(str, variants):
            raise at(where, f"name one setting of the variant, e.g. variants.{name}.steps=500.")
        close = difflib.get_close_matches(name, [str(v) for v in variants], n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise at(where, f"no variant {name!r} in the suite.{hint} Variants: "
                        f"{', '.join(map(str, variants)) or 'none'}; write variants.<variant>.<setting>.")
    close = difflib.get_close_matches(head, ["defaults", "variants", *TOP], n=1)
    hint = f" Did you mean {close[0]!r}?" if close else ""
    raise at(where, f"not a path --set can change.{hint} Use defaults.<setting>, "
                    f"variants.<variant>.<setting> (settings written as in sweep:, e.g. "
                    f"defaults.optimizer.lr), or one of {', '.join(TOP)}.")


def _split(setting: str, where: str) -> tuple[str, int | None, list[str]]:
    field = re.match(r"[A-Za-z_]*", setting).group(0)
    if field not in RUN_FIELDS:
        close = difflib.get_close_matches(field, list(RUN_FIELDS), n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise at(where, f"unknown setting {field!r}.{hint} Settings: {', '.join(RUN_FIELDS)}.")
    return sweeps._split(setting, where)


def _inherited(raw: dict, section: list[str], field: str) -> Any:
    """The value a section's ``field`` has before the override: its own, else the
    defaults' (for a variant), else the built-in default."""
    chain = [_get(raw, section)] + ([_get(raw, ["defaults"])] if section[0] == "variants" else [])
    for part in chain:
        if isinstance(part, dict) and field in part:
            return copy.deepcopy(part[field])
    return copy.deepcopy(RUN_FIELDS[field][0])


def _get(raw: dict, section: list[str]) -> Any:
    node = raw
    for key in section:
        node = node.get(key) if isinstance(node, dict) else None
    return node


def _resolved(raw: dict, section: list[str]) -> dict | None:
    """The section's resolved run settings, or None when they cannot be resolved yet (a
    plugin's component before its module is imported, a suite error the full
    validation will name)."""
    try:
        layers = [run_settings("defaults.", raw.get("defaults"))]
        if section[0] == "variants":
            own = dict(_get(raw, section) or {})
            own.pop("sweep", None)
            layers.append(run_settings(f"variants.{section[1]}.", own))
        return resolve_config("", *layers).as_dict()
    except (InputError, AttributeError, TypeError):
        return None


def _check(raw: dict, section: list[str], setting: str, value: Any, where: str) -> None:
    """As a sweep checks its paths: the path exists in the resolved settings and the value
    is of the kind it holds there; but a list may change its length, as in the file
    (``regularizers=[]``): the suite's validation then checks its entries."""
    cfg = _resolved(raw, section)
    if cfg is None:
        return
    old = sweeps._lookup(cfg, setting, where)
    if isinstance(old, (list, tuple)) and isinstance(value, list):
        return
    if not sweeps._same_kind(old, value):
        raise at(where, f"{value!r} is not of the kind this setting takes (it is {old!r} "
                        "without the override).")


def _put(raw: dict, section: list[str], setting: str, value: Any, where: str) -> None:
    field, index, keys = _split(setting, where)
    node = raw
    for key in section:
        if node.get(key) is None:
            node[key] = {}
        if not isinstance(node[key], dict):
            raise at(where, f"{'.'.join(section)} is not a mapping in the suite; fix the file.")
        node = node[key]
    if index is None and not keys:
        node[field] = copy.deepcopy(value)
        return
    current = _inherited(raw, section, field)
    if index is not None:
        if not isinstance(current, list) or index >= len(current):
            n = len(current) if isinstance(current, list) else 0
            raise at(where, f"{field} has {n} entries here; index {index} does not exist.")
        if not keys:
            current[index] = copy.deepcopy(value)
            node[field] = current
            return
        entry = current[index]
        target = current[index] = {"name": entry} if isinstance(entry, str) else dict(entry or {})
    else:
        target = {"name": current} if isinstance(current, str) else dict(current or {})
        current = target
    for k in keys[:-1]:
        nxt = target.get(k)
        target[k] = {"name": nxt} if isinstance(nxt, str) else dict(nxt or {})
        target = target[k]
    target[keys[-1]] = copy.deepcopy(value)
    node[field] = current


def apply(raw: Any, assignments: list[tuple[str, Any]]) -> dict:
    """A copy of the suite's raw content with each ``(path, value)`` applied in order."""
    if not isinstance(raw, dict):
        raise InputError("the suite must be a mapping with 'datasets' and 'variants'.")
    raw = copy.deepcopy(raw)
    for path, value in assignments:
        where = "--seeds" if path == "seeds" else f"--set {path}"
        if path in TOP:
            raw[path] = copy.deepcopy(value)
            continue
        section, setting = _section(raw, path, where)
        _split(setting, where)
        _check(raw, section, setting, value, where)
        _put(raw, section, setting, value, where)
    return raw


def load(path: str | Path, sets: tuple[str, ...] = (), seeds: str | None = None,
         extra_imports: list[str] = ()) -> Suite:
    """:func:`ganbench.config.suite.load_suite` with overrides; the resolved suite records
    them under ``overrides``. Errors an override causes name it (``--set PATH``)."""
    path = suite_path(path)
    assignments = [parse_assignment(s) for s in sets]
    if seeds is not None:
        assignments.append(("seeds", parse_seeds(seeds)))
    if not assignments:
        return load_suite(path, extra_imports)
    raw = apply(read_suite(path), assignments)
    try:
        suite = parse_suite(raw, default_name=path.stem, base=path.parent,
                            extra_imports=extra_imports, path=path)
    except InputError as e:
        raise _attributed(str(e), path, assignments) from None
    suite.resolved["overrides"] = {p: v for p, v in assignments}
    return suite


def _attributed(message: str, path: Path, assignments: list[tuple[str, Any]]) -> InputError:
    """An error of the overridden suite: at an overridden path it names the override (a
    default's override also where a variant inherits it); anywhere else, the file and
    the overrides it was read with."""
    for p, v in reversed(assignments):
        if re.match(rf"{re.escape(p)}[.\[:]", message):
            return InputError(f"--seeds{message[len(p):]}" if p == "seeds" else f"--set {message}")
        field = re.match(r"defaults\.([a-z_]+)", p)
        if field and re.match(rf"variants\.\S+?\.[a-z_]*{field.group(1)}[.\[:]", message):
            return InputError(f"--set {p}={_show(v)}: {message}")
    given = ", ".join(f"{p}={_show(v)}" for p, v in assignments)
    return InputError(f"{path} (with {given}): {message}")


def _show(value: Any) -> str:
    """A value as it would be typed: ``{name: adam, lr: 0.001}``."""
    return yaml.safe_dump(value, default_flow_style=True, width=10**6).strip().removesuffix("...").strip()
