"""`ganbench compare`: variants side by side with seed statistics, on a focused family of
tests corrected for multiplicity.

Reads the summary.csv of one or more results folders (merged: e.g. the same suite's
seeds run on two machines; runs of one group with different settings are refused,
:mod:`ganbench.layout.summaries`). Every seed counts by one rule
(:mod:`ganbench.analysis.seeds`). Per dataset, metric and group (``--by``, default
variant) it gives ok/N, the mean with its 95% bootstrap interval, the IQM with its
interval, P(better than the reference) with its interval (:mod:`.aggregates`), the
rank (1 = best IQM, in the metric's better direction) and a two-sided exact Mann-Whitney
test against the reference group.

Which metrics are tested: by default the dataset kind's key metrics (the metric
catalogue's ``key``: coverage, quality and divergence on 2D sets, FID, KID and classes
on images); ``--metric`` names them; ``--all`` takes every metric. Never tested: a
metric constant over the dataset's runs (e.g. ``modes_total``), a test that could not
reach alpha at its numbers of seeds (left out of the family), and a metric in a loss's
own units between groups of different objectives (shown, not ranked). The p-values of
the whole family (every dataset, metric and group tested in one call) are adjusted by
Holm (family-wise error) or Benjamini-Hochberg (false discovery rate); a verdict
``better`` / ``worse`` needs the adjusted p below alpha.
"""
from __future__ import annotations

import math
import sys

import numpy as np
import pandas as pd
from scipy import stats as sps

from ..errors import InputError
from ..layout import is_run_column
from ..layout.summaries import OBJECTIVE_COLUMN
from ..metrics.catalogue import direction, is_loss_units, key_metrics, order_key
from .aggregates import (iqm, mean_prob_improvement, prob_improvement,
                         prob_improvement_interval, summarize)
from .compare_render import (ALL_DATASETS, BESIDE_HEAD, beside_cells, html_tables,  # noqa: F401
                             render, sections, to_html, to_markdown)
from .seeds import counted, is_categorical
from .stats import better_word, mann_whitney, min_pvalue

COMPARE_COLUMNS = ["dataset", "metric", "better", "group", "ok", "runs", "n", "mean", "std",
                   "ci_low", "ci_high", "iqm", "iqm_low", "iqm_high", "p_better",
                   "p_better_low", "p_better_high", "rank", "u", "p_min", "p_value",
                   "p_adjusted", "vs_reference"]
DEFAULT_REFERENCE = "nonsaturating"
CORRECTIONS = ("holm", "bh")
CORRECTION_NAMES = {"holm": "Holm", "bh": "Benjamini-Hochberg"}


def numeric_metrics(summary: pd.DataFrame) -> list[str]:
    cols = [c for c in summary.columns if not is_run_column(c)]
    cols = [c for c in cols if summary[c].notna().any() and not is_categorical(summary[c])]
    return sorted(cols, key=order_key)


def holm(p) -> np.ndarray:
    """Holm's step-down adjusted p-values: sorted ascending, the i-th (from 0) of m is
    max over j <= i of min(1, (m - j) p_(j))."""
    p = np.asarray(p, dtype=float)
    order = np.argsort(p, kind="stable")
    m = len(p)
    adj = np.minimum(1.0, np.maximum.accumulate((m - np.arange(m)) * p[order]))
    out = np.empty(m)
    out[order] = adj
    return out


def adjust(p, method: str) -> np.ndarray:
    """Adjusted p-values of a family: Holm, or Benjamini-Hochberg (scipy)."""
    p = np.asarray(p, dtype=float)
    if len(p) == 0:
        return p
    return holm(p) if method == "holm" else sps.false_discovery_control(p, method="bh")


def _objectives(rows: pd.DataFrame) -> set:
    if OBJECTIVE_COLUMN not in rows:
        return {None}
    return set(rows[OBJECTIVE_COLUMN].where(rows[OBJECTIVE_COLUMN].notna(), None))


def compare(summary: pd.DataFrame, by: str = "variant", metrics: list[str] | None = None,
            reference: str | None = None, alpha: float = 0.05, all_metrics: bool = False,
            correction: str = "holm", outs=(), across: bool = True) -> pd.DataFrame:
    """The comparison table (long format, one row per dataset × metric × group).

    ``metrics``: the metrics to show and test (default: each dataset's key metrics;
    ``all_metrics``: every metric with values). ``outs``: the results folders, whose
    history files give diverged seeds' last evaluations; ``across``: add the rows of
    P(better) over all datasets. ``attrs`` of the table: the reference, the correction,
    alpha, and the family's size."""
    if by not in summary.columns:
        raise InputError(f"--by {by}: no such column; use one of {', '.join(summary.columns[:7])}.")
    if correction not in CORRECTIONS:
        raise InputError(f"--correction {correction}: use one of {', '.join(CORRECTIONS)}.")
    available = numeric_metrics(summary)
    for m in metrics or []:
        if m not in available:
            raise InputError(f"--metric {m}: no values for it in these results; "
                             f"available: {', '.join(available)}.")
    groups = list(dict.fromkeys(summary[by].astype(str)))
    if reference is None:
        reference = DEFAULT_REFERENCE if DEFAULT_REFERENCE in groups else groups[0]
    elif reference not in groups:
        raise InputError(f"--reference {reference}: no such {by}; known: {', '.join(groups)}.")
    scores = counted(summary, outs)
    rows, shown_on = [], {}
    for ds, dsf in scores.groupby("dataset", sort=False):
        present = [m for m in available if dsf[m].notna().any()]
        shown = [m for m in (metrics or (present if all_metrics else key_metrics(present)))
                 if m in present]
        parts = {g: dsf[dsf[by].astype(str) == g] for g in groups}
        parts = {g: p for g, p in parts.items() if len(p)}
        for m in shown:
            rows += _metric_rows(ds, m, parts, reference, alpha)
            shown_on.setdefault(m, []).append(ds)
    if across:
        rows += _across_datasets(scores, by, shown_on, groups, reference)
    table = pd.DataFrame(rows, columns=COMPARE_COLUMNS)
    tested = table.p_value.notna() & (table.vs_reference == "")
    table.loc[tested, "p_adjusted"] = adjust(table.loc[tested, "p_value"], correction)
    table.loc[tested, "vs_reference"] = [_verdict(r, alpha) for _, r in table[tested].iterrows()]
    table.attrs.update(reference=reference, correction=correction, alpha=alpha,
                       family=int(tested.sum()), by=by)
    return table


def _metric_rows(ds, m: str, parts: dict, reference: str, alpha: float) -> list[dict]:
    """One metric's rows on one dataset: the aggregates per group, and the test of each
    group against the reference where one applies (vs_reference empty: to be adjusted)."""
    d = direction(m)
    values = {g: pd.to_numeric(p[m], errors="coerce").to_numpy(dtype=float) for g, p in parts.items()}
    values = {g: v[~np.isnan(v)] for g, v in values.items()}
    values = {g: v for g, v in values.items() if len(v)}
    if not values:
        return []
    every = np.concatenate(list(values.values()))
    constant = bool(np.all(every == every[0]))
    objectives = {g: _objectives(parts[g]) for g in values}
    one_objective = len(set().union(*objectives.values())) == 1 and None not in \
        set().union(*objectives.values())
    comparable = d != 0 and (not is_loss_units(m) or one_objective)
    keys = pd.Series({g: float(iqm(v)) for g, v in values.items()})     # ranked by the IQM
    ranks = (keys * -d).rank(method="min") if comparable and not constant else \
        pd.Series(math.nan, index=keys.index)
    ref = values.get(reference)
    rows = []
    for g, v in values.items():
        s = summarize(v)
        ok = int((parts[g].status.astype(str) == "ok").sum())
        row = {"dataset": ds, "metric": m, "better": better_word(m), "group": g, "ok": ok,
               "runs": len(parts[g]), **s, "p_better": math.nan, "p_better_low": math.nan,
               "p_better_high": math.nan, "rank": ranks[g], "u": math.nan,
               "p_min": 2 * min_pvalue(len(v), len(ref)) if ref is not None and g != reference
               else math.nan, "p_value": math.nan, "p_adjusted": math.nan, "vs_reference": ""}
        if g == reference:
            row["vs_reference"] = "reference"
        elif ref is None:
            row["vs_reference"] = "no reference values"
        elif constant:
            row["vs_reference"] = "constant: not tested"
        elif is_loss_units(m) and not (objectives[g] == objectives[reference] and
                                       None not in objectives[g] and len(objectives[g]) == 1):
            row["vs_reference"] = "loss units: not compared across objectives"
        elif row["p_min"] >= alpha:
            row["vs_reference"] = f"too few seeds ({len(v)} vs {len(ref)}) to reach p < {alpha:g}"
        else:
            row["u"], row["p_value"] = mann_whitney(v, ref)
        if d and g != reference and ref is not None and not row["vs_reference"].startswith("loss"):
            row["p_better"] = float(prob_improvement(d * v, d * ref))
            row["p_better_low"], row["p_better_high"] = prob_improvement_interval(d * v, d * ref)
        rows.append(row)
    return rows


def _across_datasets(scores: pd.DataFrame, by: str, shown_on: dict, groups: list,
                     reference: str) -> list[dict]:
    """Rows of dataset ALL_DATASETS: per metric shown on two datasets or more, each
    group's mean over datasets of P(better than the reference) with its stratified
    bootstrap interval (each dataset's seeds of each side resampled on their own:
    rliable's average probability of improvement). Loss-unit metrics are left out."""
    rows = []
    for m, datasets in shown_on.items():
        d = direction(m)
        if len(datasets) < 2 or not d or is_loss_units(m):
            continue
        for g in groups:
            if g == reference:
                continue
            pairs = []
            for ds in datasets:
                dsf = scores[scores.dataset == ds]
                x, y = (pd.to_numeric(dsf.loc[dsf[by].astype(str) == k, m], errors="coerce")
                        .dropna().to_numpy(dtype=float) for k in (g, reference))
                if len(x) and len(y):
                    pairs += [d * x, d * y]
            if len(pairs) < 4:
                continue
            lo, hi = prob_improvement_interval(*pairs)
            rows.append({**{c: math.nan for c in COMPARE_COLUMNS}, "dataset": ALL_DATASETS,
                         "metric": m, "better": better_word(m), "group": g,
                         "n": sum(len(x) for x in pairs[::2]),
                         "p_better": float(mean_prob_improvement(*pairs)),
                         "p_better_low": lo, "p_better_high": hi,
                         "vs_reference": f"over {len(pairs) // 2} datasets"})
    return rows


def _verdict(r, alpha: float) -> str:
    d = direction(r["metric"])
    if not r["p_adjusted"] < alpha:
        return "not significant"
    if not d:
        return "differs"
    return "better" if r["p_better"] > 0.5 else "worse"


def warn(msg: str) -> None:
    print(f"ganbench: warning: {msg}", file=sys.stderr)
