"""The baseline file of ``ganbench check``: read and validated, built from a results
folder's summary, written with a header that says how its margins were chosen and what
error rates they give.

A baseline (YAML) holds ``rules`` (per gated metric, :mod:`.gate_rules`), ``ok_alpha``
and per group (``dataset/variant``, ``dataset/variant/setting`` in a swept suite) the
runs, how many finished ok or failed, the settings hash and the settings themselves
(the run's dataset spec, resolved config and sweep setting, as canonical JSON: what
``check`` names when they change), and the per-seed values of each gated metric (every
seed counted, :mod:`.seeds`), in seed order. ``operating`` (written by ``--update``)
holds the false-alarm rate and power its rules give, estimated from its own seeds
(:mod:`.gate_estimate`).
"""
from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import yaml

from ..errors import InputError
from ..layout import NOT_SETTINGS, SETTINGS_FIELDS, SETTINGS_HASH_COLUMN, write_text
from .gate_rules import stored
from ..layout.summaries import read_config
from .seeds import counted, group_keys

RULE_KEYS = {"better", "margin", "rel_margin", "noise_margin", "alpha"}
MARGIN_KEYS = ("margin", "rel_margin", "noise_margin")
OK_ALPHA = 0.01


def _check_rule(metric: str, rule, path: str) -> dict:
    where = f"{path}: rules.{metric}"
    if not isinstance(rule, dict):
        raise InputError(f"{where}: expected a mapping like {{better: higher, margin: 1.0}}.")
    unknown = set(rule) - RULE_KEYS
    if unknown:
        raise InputError(f"{where}: unknown key {sorted(unknown)[0]!r}; use {', '.join(sorted(RULE_KEYS))}.")
    if rule.get("better") not in ("higher", "lower"):
        raise InputError(f"{where}.better: expected higher or lower.")
    if not ((set(MARGIN_KEYS) | {"alpha"}) & set(rule)):
        raise InputError(f"{where}: give at least one of {', '.join(MARGIN_KEYS)}, alpha.")
    for k in (*MARGIN_KEYS, "alpha"):
        if k in rule and (not isinstance(rule[k], (int, float)) or rule[k] < 0):
            raise InputError(f"{where}.{k}: expected a number >= 0.")
    if "alpha" in rule and not 0 < rule["alpha"] < 1:
        raise InputError(f"{where}.alpha: expected a level between 0 and 1, e.g. 0.01.")
    return rule


def load_baseline(path: Path) -> dict:
    if not Path(path).is_file():
        raise InputError(f"--baseline {path}: file not found; write one with "
                         f"'ganbench check OUT --baseline {path} --update'.")
    try:
        raw = yaml.safe_load(Path(path).read_text())
    except yaml.YAMLError as e:
        raise InputError(f"{path}: not valid YAML ({str(e).splitlines()[0]}); fix or rewrite it "
                         "with --update.") from None
    if not isinstance(raw, dict) or not isinstance(raw.get("groups"), dict) or \
            not isinstance(raw.get("rules"), dict):
        raise InputError(f"{path}: a baseline needs 'rules' and 'groups' mappings; rewrite it "
                         "with --update.")
    for m, rule in raw["rules"].items():
        _check_rule(m, rule, str(path))
    ok_alpha = raw.get("ok_alpha", OK_ALPHA)
    if not isinstance(ok_alpha, (int, float)) or not 0 < ok_alpha < 1:
        raise InputError(f"{path}: ok_alpha: expected a level between 0 and 1, e.g. 0.01.")
    return raw


def settings_of(record: dict | None) -> dict | None:
    """The part of a run's config.json record its settings hash covers (the seed left
    out), or None without a record."""
    if not record:
        return None
    keep = {k: record[k] for k in SETTINGS_FIELDS if record.get(k) is not None}
    if isinstance(keep.get("config"), dict):
        keep["config"] = {k: v for k, v in keep["config"].items() if k not in NOT_SETTINGS}
    return keep


def group_name(key) -> str:
    """'dataset/variant' (and '/setting' in a swept suite) of a group key."""
    return "/".join(str(k) for k in (key if isinstance(key, tuple) else (key,)))


def baseline_from(summary: pd.DataFrame, rules: dict, suite: str = "", outs=()) -> dict:
    """A baseline holding ``summary``'s per-seed values of the ruled metrics (every seed
    counted; ``outs``: the folders with the runs' config and the diverged runs'
    histories), per group."""
    scores = counted(summary, outs)
    groups = {}
    for key, g in scores.groupby(group_keys(scores), sort=False):
        entry = {"runs": int(len(g)), "ok": int((g.status == "ok").sum()),
                 "failed": int((g.status == "failed").sum())}
        hashes = g[SETTINGS_HASH_COLUMN].dropna().unique() if SETTINGS_HASH_COLUMN in g else []
        if len(hashes) == 1:
            entry["settings_hash"] = str(hashes[0])
        settings = settings_of(read_config(g.run_id.iloc[0], outs)) if "run_id" in g else None
        if settings:
            entry["settings"] = json.dumps(settings, sort_keys=True, separators=(",", ":"))
        entry["values"] = {}
        for m in rules:
            if m in g:
                vals = pd.to_numeric(g.sort_values("seed")[m], errors="coerce")
                entry["values"][m] = [stored(v) for v in vals]
        groups[group_name(key)] = entry
    return {"suite": suite, "rules": rules, "ok_alpha": OK_ALPHA, "groups": groups}


def suite_name(out: Path) -> str:
    """The suite's name from OUT/suite.yaml (else the folder's name)."""
    try:
        return str(yaml.safe_load((Path(out) / "suite.yaml").read_text())["name"])
    except (OSError, yaml.YAMLError, KeyError, TypeError):
        return Path(out).name


HEADER = """\
# ganbench baseline: per dataset/variant, the per-seed values of the gated metrics
# (every seed counted: docs/statistics.md), its runs and how many finished ok, and its
# settings; per metric, the rule `ganbench check` applies (ganbench/analysis/gate_rules.py):
# now's seeds moved by the margin must not be worse than these by a one-sided exact rank
# test at p < alpha. The margin is the largest of `margin`, `rel_margin` x the group's
# baseline median and `noise_margin` x the group's seed spread (1.4826 x the median
# absolute deviation of its seeds here; their standard deviation where most agree).
# `operating`: the false-alarm rate and power these rules give, estimated by resampling
# the seeds below; measure them on your suite with
#   python benchmarks/gate_operating.py --suite SUITE --baseline {path}
# Rewrite with: ganbench check OUT --baseline {path} --update
"""


def write_baseline(path: Path, baseline: dict) -> None:
    write_text(Path(path), HEADER.format(path=path) +
               yaml.safe_dump(baseline, sort_keys=False, width=1000))
