"""Aggregation of summary.csv: by (dataset, variant), mean ± std over every seed (failed
and diverged ones by the rule of :mod:`ganbench.analysis.seeds`), ok/N."""
from __future__ import annotations

import math

import numpy as np
import pandas as pd

from ..layout import SETTING_COLUMN, is_run_column
from ..metrics import catalogue
from ..metrics.catalogue import in_table, order_key
from .seeds import counted, is_categorical


def metric_columns(summary: pd.DataFrame) -> list[str]:
    """The metric columns with a value, that the aggregated table shows (not per-run text
    such as the diagnosis's evidence)."""
    cols = [c for c in summary.columns if not is_run_column(c) and in_table(c)]
    return [c for c in cols if summary[c].notna().any()]


def counts_text(values: pd.Series) -> str:
    """'3 converged, 2 oscillating': how many seeds gave each value, most common first."""
    return ", ".join(f"{n} {v}" for v, n in values.dropna().value_counts().items())


def aggregate(summary: pd.DataFrame, outs=()) -> pd.DataFrame:
    """One row per (dataset, variant), or per (dataset, variant, setting) in a suite with
    a sweep: run counts by status, then mean and std per metric.

    Means and stds are over every seed, failed and diverged ones counted by the rule of
    :mod:`ganbench.analysis.seeds` (``outs``: the results folders whose history files
    give diverged seeds' last evaluations); a metric with no worst value (no better
    direction) over the seeds that have a value. std is the sample std (ddof=1), NaN for
    a single seed (or an infinite value). A metric given as words (``verdict``) gets one
    column with the count of each value instead.
    """
    metrics = metric_columns(summary)
    raw, summary = summary, counted(summary, outs)
    keys = ["dataset", "variant"] + ([SETTING_COLUMN] if SETTING_COLUMN in summary else [])
    rows = []
    for key, g in summary.groupby(keys, sort=False):
        row = dict(zip(keys, key))
        row.update({"runs": len(g),
               "ok": int((g.status == "ok").sum()), "diverged": int((g.status == "diverged").sum()),
               "failed": int((g.status == "failed").sum())})
        for m in metrics:
            if is_categorical(raw[m]):
                row[m] = counts_text(raw.loc[g.index, m])
                continue
            vals = pd.to_numeric(g[m], errors="coerce").dropna()
            finite = bool(np.isfinite(vals).all())
            row[f"{m}_mean"] = vals.mean() if len(vals) else math.nan
            row[f"{m}_std"] = vals.std(ddof=1) if len(vals) > 1 and finite else math.nan
        row["wall_s_mean"] = pd.to_numeric(g["wall_s"], errors="coerce").mean()
        rows.append(row)
    return pd.DataFrame(rows)


def ok_text(r) -> str:
    """'4/5 (1 diverged)': runs that finished ok of all, and what the others did."""
    rest = ", ".join(f"{int(r[k])} {k}" for k in ("diverged", "failed") if r[k])
    return f"{int(r.ok)}/{int(r.runs)}" + (f" ({rest})" if rest else "")


def fmt(x: float) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return ""
    if x != 0 and (abs(x) >= 1e4 or abs(x) < 1e-3):
        return f"{x:.2e}"
    return f"{x:.3g}" if abs(x) < 100 else f"{x:.0f}"


def table_rows(table: pd.DataFrame) -> tuple[list[str], list[list[str]]]:
    """Header and text cells of the aggregated table: `mean ± std`, or the counts of
    each value for a categorical metric; one row per (dataset, variant)."""
    fixed = {"dataset", "variant", SETTING_COLUMN, "runs", "ok", "diverged", "failed"}
    metrics = [c[:-5] if c.endswith("_mean") else c for c in table.columns
               if c not in fixed and not c.endswith("_std") and c != "wall_s_mean"]
    order = sorted(metrics, key=order_key)
    rows = []
    for _, r in table.iterrows():
        cells = [str(r.dataset), str(r.variant)] + \
            ([str(r[SETTING_COLUMN])] if SETTING_COLUMN in table else []) + \
            [ok_text(r)]
        for m in order:
            if m in table.columns:          # categorical: counts of each value
                cells.append(str(r[m]) if isinstance(r[m], str) else "")
                continue
            mean, std = r[f"{m}_mean"], r[f"{m}_std"]
            cells.append(fmt(mean) + (f" ± {fmt(std)}" if fmt(std) else ""))
        rows.append(cells)
    lead = ["dataset", "variant"] + ([SETTING_COLUMN] if SETTING_COLUMN in table else [])
    return lead + ["ok/N"] + order, rows


def to_markdown(table: pd.DataFrame) -> str:
    """table.md: `mean ± std` cells, one row per (dataset, variant)."""
    head, rows = table_rows(table)
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join(cells) + " |" for cells in rows]
    return "\n".join(lines) + "\n"


def key_metrics(table: pd.DataFrame) -> list[str]:
    """The metrics ``ganbench run`` prints when it ends: the report's key metrics and the
    ones ``ganbench check`` gates by default (both from the catalogue), those with a
    value in ``table``, in column order."""
    names = [m.name for m in catalogue.metrics() if (m.summary or m.rule) and "{" not in m.name]
    return [m for m in names if f"{m}_mean" in table and table[f"{m}_mean"].notna().any()]


def key_text(summary: pd.DataFrame, outs=()) -> str:
    """The short table for the terminal, from a summary: per (dataset, variant) the runs
    that ended ok of all (``ok/N``), the key metrics' mean ± std over every seed (a failed
    or diverged seed counted by the rule of :mod:`ganbench.analysis.seeds`; ``outs``: the
    folders with diverged runs' histories), and what the runs did (``diagnosis``: seeds
    per label, ``;`` between labels, since one label may be two, ``collapsed,
    oscillating``), aligned."""
    table = aggregate(summary, outs)
    metrics = key_metrics(table)
    lead = ["dataset", "variant"] + ([SETTING_COLUMN] if SETTING_COLUMN in table else [])
    did = {}
    if "diagnosis" in summary and summary.diagnosis.notna().any():
        did = {key: "; ".join(f"{n} {v}" for v, n in g.diagnosis.dropna().value_counts().items())
               for key, g in summary.groupby(lead, sort=False)}
    head = lead + ["ok/N"] + metrics + (["diagnosis"] if did else [])
    rows = [[str(r[c]) for c in lead] + [f"{r.ok}/{r.runs}"] +
            [fmt(r[f"{m}_mean"]) + (f" ± {fmt(r[f'{m}_std'])}" if fmt(r[f"{m}_std"]) else "")
             for m in metrics] + ([did.get(tuple(r[c] for c in lead), "")] if did else [])
            for _, r in table.iterrows()]
    widths = [max(len(c) for c in col) for col in zip(head, *rows)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(cells, widths)).rstrip()
             for cells in [head, ["-" * w for w in widths], *rows]]
    return "\n".join(lines) + "\n"
