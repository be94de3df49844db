"""summary.csv read back (:func:`load_summaries`): one results folder's, or several
merged, each run with its settings hash and its objective; and no silent pooling: the
seeds of one group (dataset, variant, and a sweep's setting) are pooled only when their
runs had the same settings. The analysis (compare, check, diagnose, sensitivity, the
tables) and the Python API read summaries here.

Every run records a hash of its resolved settings with the seed left out
(``settings_hash`` in metrics.json and summary.csv; :func:`ganbench.layout.settings_hash`).
Folders written before it existed get it from their runs' config.json. ``ganbench
compare`` and ``ganbench check`` refuse to merge a group whose runs have different
hashes (e.g. two folders of one variant name trained 800 and 400 steps): bad input,
one line naming the fields that differ, unless ``--pool`` asks for it. A sweep's
settings are separate groups already, never pooled.
"""
from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from ..errors import InputError
from . import (SETTING_COLUMN, SETTINGS_FIELDS, SETTINGS_HASH_COLUMN, SUMMARY_COLUMNS,
               settings_hash)
from .run_folder import CONFIG, RunFolder

#: the analysis's own column (never written): each run's objective, from config.json
OBJECTIVE_COLUMN = "_objective"


def load_summaries(outs: list[Path], warn=None, pool: bool = True) -> pd.DataFrame:
    """summary.csv of each folder, merged; a run id seen twice keeps the first folder's.
    Each run gets its settings hash (recorded, or from its config.json) and objective;
    ``pool=False``: a group whose runs have different settings is bad input."""
    frames = []
    for out in outs:
        f = Path(out) / "summary.csv"
        if not f.is_file():
            raise InputError(f"{out}: no summary.csv here; give a results folder written by "
                             "'ganbench run'.")
        try:
            df = pd.read_csv(f)
        except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as e:
            raise InputError(f"{f}: not a readable CSV ({str(e).splitlines()[0]}); rerun "
                             "'ganbench run' to rewrite it.") from None
        missing = [c for c in SUMMARY_COLUMNS if c not in df.columns]
        if missing:
            raise InputError(f"{f}: missing columns {', '.join(missing)}; is this a ganbench summary?")
        frames.append(with_settings(df, [out]))
    merged = pd.concat(frames, ignore_index=True)
    dup = merged.run_id.duplicated(keep="first")
    if dup.any() and not pool:
        clash = merged[merged.run_id.isin(merged.run_id[dup])].groupby("run_id", sort=False)
        differ = [rid for rid, g in clash if g[SETTINGS_HASH_COLUMN].dropna().nunique() > 1]
        if differ:
            raise InputError(
                f"{differ[0]}{f' (and {len(differ) - 1} more)' if len(differ) > 1 else ''}: "
                "the same run id with different settings in two folders; one would hide the "
                "other. Compare the folders apart, or pass --pool to keep the first folder's.")
    if dup.any() and warn:
        warn(f"{int(dup.sum())} run ids appear in more than one folder "
             f"(e.g. {merged.run_id[dup].iloc[0]}); keeping the first folder's.")
    merged = merged[~dup].reset_index(drop=True)
    if not pool:
        keys = ["dataset", "variant"] + ([SETTING_COLUMN] if SETTING_COLUMN in merged else [])
        refuse_mixed(merged, outs, keys)
    return merged


def read_config(run_id: str, outs) -> dict | None:
    """A run's config.json, from the first folder of ``outs`` that has it."""
    for out in outs:
        folder = RunFolder.of(Path(out), run_id)
        if folder.has(CONFIG):
            return folder.config()
    return None


def objective_name(record: dict | None):
    """The objective's name in a run's config.json record (None: unknown)."""
    obj = ((record or {}).get("config") or {}).get("objective")
    return obj.get("name") if isinstance(obj, dict) else obj


def with_settings(summary: pd.DataFrame, outs) -> pd.DataFrame:
    """``summary`` with ``settings_hash`` for every run whose config.json is at hand (the
    recorded hash first), and the runs' objective names (OBJECTIVE_COLUMN)."""
    out = summary.copy()
    recorded = out[SETTINGS_HASH_COLUMN] if SETTINGS_HASH_COLUMN in out else \
        pd.Series(None, index=out.index, dtype=object)
    hashes, objectives = [], []
    for i, run_id in out.run_id.items():
        rec = read_config(run_id, outs)
        have = recorded[i]
        hashes.append(have if isinstance(have, str) and have else
                      (settings_hash(rec) if rec else None))
        objectives.append(objective_name(rec))
    out[SETTINGS_HASH_COLUMN] = pd.Series(hashes, index=out.index, dtype=object)
    out[OBJECTIVE_COLUMN] = pd.Series(objectives, index=out.index, dtype=object)
    return out


def flatten(value, path: str = "") -> dict:
    """{dotted path: leaf value} of a nested record (lists indexed: ``regularizers[0].weight``)."""
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            out.update(flatten(v, f"{path}.{k}" if path else str(k)))
        return out
    if isinstance(value, list) and value and any(isinstance(v, (dict, list)) for v in value):
        out = {}
        for i, v in enumerate(value):
            out.update(flatten(v, f"{path}[{i}]"))
        return out
    return {path: value}


def differing_fields(records: list[dict]) -> list[str]:
    """'path: a vs b' for each settings field whose value differs among ``records``."""
    flat = [flatten({k: r.get(k) for k in SETTINGS_FIELDS if r.get(k) is not None})
            for r in records]
    paths = sorted(set().union(*flat), key=lambda p: (p.split(".")[0] != "config", p))
    out = []
    for p in paths:
        seen = list(dict.fromkeys(json.dumps(f.get(p, "absent"), sort_keys=True) for f in flat))
        if len(seen) > 1:
            out.append(f"{p.removeprefix('config.')}: {' vs '.join(seen[:3])}")
    return out


def refuse_mixed(summary: pd.DataFrame, outs, keys: list[str]) -> None:
    """Bad input when a group (``keys``) holds runs of different settings hashes: one
    line naming the group, the fields that differ, and ``--pool``."""
    if SETTINGS_HASH_COLUMN not in summary:
        return
    known = summary[summary[SETTINGS_HASH_COLUMN].notna()]
    mixed = [(key, g) for key, g in known.groupby(keys, sort=False)
             if g[SETTINGS_HASH_COLUMN].nunique() > 1]
    if not mixed:
        return
    key, g = mixed[0]
    firsts = g.drop_duplicates(SETTINGS_HASH_COLUMN)
    records = [read_config(r, outs) or {} for r in firsts.run_id]
    fields = differing_fields(records) or ["the settings hashes (no config.json to compare)"]
    more = f" (and {len(mixed) - 1} more groups)" if len(mixed) > 1 else ""
    counts = " vs ".join(str(int((g[SETTINGS_HASH_COLUMN] == h).sum()))
                         for h in firsts[SETTINGS_HASH_COLUMN])
    raise InputError(
        f"{'/'.join(str(k) for k in key)}{more}: runs with different settings would be pooled "
        f"({counts} runs; {'; '.join(fields[:4])}{' ...' if len(fields) > 4 else ''}); give them "
        "different variant names or compare them apart, or pass --pool to pool them anyway.")
