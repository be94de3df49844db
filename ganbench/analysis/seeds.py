"""Every seed counts: the one rule by which failed and diverged runs enter every mean,
interval, test and success rate of the analysis (tables, compare, check).

Per run and metric (docs/statistics.md):

1. an ``ok`` run with a value: that value;
2. a ``diverged`` run: its last finite evaluation before it diverged (history.csv holds
   the evaluation columns at the evaluation steps); with none, the worst value;
3. a ``failed`` run, or an ``ok`` run without a value (e.g. ``reverse_kl`` when no
   sample is high quality): the worst value of the metric's range, as the metric
   catalogue declares it (``worst``: 0 modes, hq 0, jsd log 2, reverse_kl log K, and
   +inf for unbounded metrics such as ``fd`` and ``fid``: rank statistics, the median
   and the IQM place such a seed after every finite one; the mean becomes inf, and says
   so);
4. a metric that does not apply to a variant stays empty: a metric only some variants
   have (the catalogue's ``variant_specific``: ``nash_gap`` of a WGAN critic) when none
   of the variant's runs has a value while some of them finished ``ok``; and any metric
   no run of the dataset has. Any other metric counts such seeds at its worst value (a
   variant whose every seed ends ``ok`` without a high-quality sample: ``reverse_kl``
   log K on every seed);
5. metrics with no better direction have no worst value: their runs without a value
   are left out, and the count of values says so.

A failed run is a failure in every success rate; tables show ok/N. The ``ok`` runs'
own values are never changed.
"""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd

from ..layout import SETTING_COLUMN, is_run_column, run_dir
from ..metrics.catalogue import is_variant_specific, worst_value

RULE = ("every seed counts: a diverged run at its last finite evaluation, a failed run "
        "(or one with none) at the metric's worst value; see docs/statistics.md")


def group_keys(summary: pd.DataFrame) -> list[str]:
    """The columns one group of seeds is keyed by: dataset, variant, and a swept suite's
    setting."""
    return ["dataset", "variant"] + ([SETTING_COLUMN] if SETTING_COLUMN in summary else [])


def is_categorical(values: pd.Series) -> bool:
    """A metric given as words (e.g. ``verdict``), not numbers."""
    vals = values.dropna()
    return len(vals) > 0 and pd.to_numeric(vals, errors="coerce").isna().all()


def metric_columns(summary: pd.DataFrame) -> list[str]:
    """The numeric metric columns of a summary."""
    return [c for c in summary.columns if not is_run_column(c) and c != "status"
            and not is_categorical(summary[c])]


def last_evaluations(run_id: str, outs, columns) -> dict:
    """A run's last finite value of each of ``columns`` in its history.csv (the first
    folder of ``outs`` that has the run); {} when there is none."""
    for out in outs:
        f = run_dir(Path(out), str(run_id)) / "history.csv"
        if not f.is_file():
            continue
        try:
            h = pd.read_csv(f)
        except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError, OSError):
            return {}
        found = {}
        for c in columns:
            if c in h:
                v = pd.to_numeric(h[c], errors="coerce").to_numpy(dtype=float)
                v = v[np.isfinite(v)]
                if len(v):
                    found[c] = float(v[-1])
        return found
    return {}


def counted(summary: pd.DataFrame, outs=()) -> pd.DataFrame:
    """``summary`` with every seed's value of each metric by the rule above (the module's
    docstring); ``outs``: the results folders whose runs' history.csv give the diverged
    runs' last evaluations (none: those count as having none)."""
    out = summary.copy()
    if out.empty or "status" not in out:
        return out
    metrics = metric_columns(out)
    status = out.status.astype(str)
    for m in metrics:
        out[m] = pd.to_numeric(out[m], errors="coerce").astype(float)
    diverged = out.index[status == "diverged"]
    last = {i: last_evaluations(out.at[i, "run_id"], outs, metrics) for i in diverged}
    for i, found in last.items():
        for m, v in found.items():
            if math.isnan(out.at[i, m]):
                out.at[i, m] = v
    for _, ds in out.groupby("dataset", sort=False):
        for m, worst in worst_values(ds, metrics).items():
            for _, g in ds.groupby(group_keys(ds), sort=False):
                ok = status[g.index] == "ok"
                has = g[m].notna()
                if is_variant_specific(m) and ok.any() and not has.any():
                    continue                        # does not apply to this variant
                out.loc[g.index[~has], m] = worst
    return out


def worst_values(dataset_rows: pd.DataFrame, metrics=None) -> dict:
    """{metric: its worst value on this dataset} for each of ``metrics`` (default: every
    numeric metric column) that has a worst value and some run of the dataset with a
    value (log(modes_total) read from the dataset's runs)."""
    metrics = metric_columns(dataset_rows) if metrics is None else metrics
    values = {c: pd.to_numeric(dataset_rows[c], errors="coerce") for c in metrics
              if c in dataset_rows}
    context = {c: v.max() for c, v in values.items() if v.notna().any()}
    if "modes_total" in dataset_rows and "modes_total" not in context:
        total = pd.to_numeric(dataset_rows["modes_total"], errors="coerce")
        if total.notna().any():
            context["modes_total"] = total.max()
    found = {}
    for m in context:
        worst = worst_value(m, context)
        if worst is not None and not math.isnan(worst):
            found[m] = worst
    return found


def ok_of(statuses) -> tuple[int, int]:
    """(runs that finished ok, runs)."""
    s = pd.Series(statuses).astype(str)
    return int((s == "ok").sum()), len(s)
