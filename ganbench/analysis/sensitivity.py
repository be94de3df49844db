"""`ganbench sensitivity`: how much a variant's results depend on its hyperparameters.

After Lucic et al. (2018), "Are GANs created equal? A large-scale study": a variant
that scores well at one lucky setting is, in practice, worse than one that scores
well over most of the settings tried. For a results folder whose suite sweeps
hyperparameters (summary.csv has a ``setting`` column and one column per swept field,
named by its dotted config path, e.g. ``optimizer.lr`` or ``regularizers[0].weight``),
per dataset × variant × metric:

- a *setting* is one (dataset, variant, setting) combination; its value for a metric
  is the mean over all its seeds, failed and diverged ones counted by the rule of
  :mod:`ganbench.analysis.seeds` (so a setting whose runs fail scores the metric's
  worst, and fails every success condition on it);
- ``settings``: how many settings were tried; ``valued``: how many have a finite value
  (a setting with a seed counted at +inf, the worst of an unbounded metric such as
  ``fd``, has an infinite mean: it fails every success condition on that metric and is
  left out of the median and best-of-k below, which ``valued`` says);
- ``success_rate``: the fraction of the settings tried whose seed means satisfy the
  ``success`` expression (e.g. ``modes_captured >= 7 and hq_fraction >= 0.5``; a
  setting without a value for a metric the expression names does not succeed), with
  its 95% **Clopper-Pearson** (exact binomial) interval,
  ``scipy.stats.binomtest(successes, settings).proportion_ci(method="exact")``;
  empty without a ``success`` expression;
- ``median``, ``iqr_low``, ``iqr_high``: the median and the quartiles (numpy's linear
  interpolation) of the metric over the settings that have a value;
- ``best_setting``, ``best_value``: the best setting in the metric's better direction
  (first of equals); empty for a metric without a better direction;
- ``best_of_k``: for k = 1..n (n = the settings with a value), the expected best value
  among k settings drawn at random without replacement from those n: what one should
  expect from a search that can afford k trials. Exact, from order statistics: with
  v_(1) the best, ..., v_(n) the worst, the best of a random k-subset is v_(i) with
  probability C(n-i, k-1) / C(n, k) (v_(i) drawn, the k-1 others among the n-i worse
  ones), so E[best of k] = Σ_i v_(i) · C(n-i, k-1) / C(n, k); k = 1 gives the mean,
  k = n the best. ``best_of_k_low``/``best_of_k_high``: a 95% percentile bootstrap band
  (the n setting values resampled with replacement, 2000 times, fixed seed; the curve
  recomputed exactly on each resample). Empty for a metric without a better direction.

Without sweep columns each variant is one setting (labelled ``default``).
"""
from __future__ import annotations

import ast
import functools
import math
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from ..errors import InputError
from ..layout import SETTING_COLUMN, SUMMARY_COLUMNS, is_sweep_column, write_text
from ..layout.summaries import load_summaries
from ..metrics.catalogue import direction
from .compare import numeric_metrics as metric_columns
from .seeds import counted
from .expressions import BadExpression, evaluate
from .stats import BOOTSTRAP_RESAMPLES, BOOTSTRAP_SEED, better_word, clean
from .tables import fmt

#: summary.csv's column holding the readable label of a setting's swept values
SETTING = SETTING_COLUMN
#: the label of a variant's only setting when nothing of it is swept
DEFAULT_SETTING = "default"
CONFIDENCE = 0.95
SENSITIVITY_COLUMNS = [
    "dataset", "variant", "metric", "better", "settings", "valued", "successes",
    "success_rate", "success_ci_low", "success_ci_high", "median", "iqr_low", "iqr_high",
    "best_setting", "best_value", "best_of_k", "best_of_k_low", "best_of_k_high"]
CURVE_COLUMNS = ("best_of_k", "best_of_k_low", "best_of_k_high")
EXAMPLE = "modes_captured >= 7 and hq_fraction >= 0.5"


# --- the columns of a swept summary -------------------------------------------------

def sweep_columns(summary: pd.DataFrame) -> list[str]:
    """The swept fields: every column named by a config path (ganbench.layout.is_sweep_column)."""
    return [c for c in summary.columns if c not in SUMMARY_COLUMNS and c != SETTING
            and is_sweep_column(str(c))]


def has_sweep(summary: pd.DataFrame) -> bool:
    return SETTING in summary.columns or bool(sweep_columns(summary))


def without_sweep(summary: pd.DataFrame) -> pd.DataFrame:
    """``summary`` without the ``setting`` and swept-field columns (metrics only)."""
    drop = sweep_columns(summary) + ([SETTING] if SETTING in summary.columns else [])
    return summary.drop(columns=drop)


def _value_text(v) -> str:
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return f"{v:g}" if isinstance(v, float) else str(v)


def setting_labels(summary: pd.DataFrame) -> pd.Series:
    """Each run's setting: its ``setting`` cell, else ``path=value,...`` of its swept
    fields, else ``default``."""
    sweep = sweep_columns(summary)

    def label(row) -> str:
        s = row.get(SETTING)
        if isinstance(s, str):
            if s.strip():
                return s
        elif s is not None and not pd.isna(s):
            return _value_text(s)
        parts = [f"{c}={_value_text(row[c])}" for c in sweep if not pd.isna(row[c])]
        return ",".join(parts) or DEFAULT_SETTING

    if summary.empty:
        return pd.Series([], dtype=object, index=summary.index)
    return summary.apply(label, axis=1).astype(object)


def setting_means(summary: pd.DataFrame, metrics: list[str] | None = None,
                  outs=()) -> pd.DataFrame:
    """One row per (dataset, variant, setting), in order of appearance: ``seeds`` (runs),
    ``ok``, the value of each swept field, and per metric the mean over every seed
    (counted by the rule of :mod:`ganbench.analysis.seeds`; ``outs``: the folders with
    diverged runs' histories), NaN when none has a value."""
    metrics = metric_columns(summary) if metrics is None else list(metrics)
    summary = counted(summary, outs)
    sweep = sweep_columns(summary)
    df = summary.assign(_setting=setting_labels(summary))
    rows = []
    for (ds, var, st), g in df.groupby(["dataset", "variant", "_setting"], sort=False, dropna=False):
        row = {"dataset": ds, "variant": var, SETTING: st, "seeds": len(g),
               "ok": int((g.status == "ok").sum())}
        for c in sweep:
            vals = g[c].dropna()
            row[c] = vals.iloc[0] if len(vals) else math.nan
        for m in metrics:
            v = clean(pd.to_numeric(g[m], errors="coerce"))
            row[m] = float(v.mean()) if len(v) else math.nan
        rows.append(row)
    return pd.DataFrame(rows, columns=["dataset", "variant", SETTING, "seeds", "ok"] + sweep + metrics)


def success_mask(means: pd.DataFrame, success: str, available: list[str]) -> pd.Series:
    """Whether each setting (a row of :func:`setting_means`) satisfies ``success``.

    The expression may use the metric names in ``available``, numbers, ``+ - * / **``,
    comparisons (chained too), and ``and``/``or``/``not`` (or ``& | ~``); nothing else
    is evaluated. A setting with no value for a metric the expression names fails."""
    def bad(why: str) -> InputError:
        return InputError(f"--success {success!r}: {why}; write a condition on the metrics' "
                          f"seed means such as {EXAMPLE!r} using: {', '.join(available)}.")

    try:
        tree = ast.parse(str(success).strip(), mode="eval")
    except SyntaxError as e:
        raise bad(f"not a valid expression ({e.msg})") from None
    columns = {m: means[m].to_numpy(dtype=float) for m in available if m in means}
    names: set = set()
    try:
        with np.errstate(all="ignore"):
            ok = evaluate(tree, columns, names)
    except BadExpression as e:
        raise bad(str(e)) from None
    if ok.dtype != bool:
        raise bad("it gives a number, not a condition")
    if not names:
        raise bad("it names no metric")
    ok = np.broadcast_to(ok, (len(means),)).copy()
    for m in names:
        ok &= np.isfinite(columns[m])
    return pd.Series(ok, index=means.index)


# --- expected best of k ----------------------------------------------------------------

@functools.lru_cache(maxsize=64)
def best_of_k_weights(n: int) -> np.ndarray:
    """W[k-1, i-1]: the probability that the best of k values drawn at random without
    replacement from n ranked values is the i-th best, C(n-i, k-1) / C(n, k) (exact
    integers, one division each). Read-only (cached)."""
    w = np.zeros((n, n))
    for k in range(1, n + 1):
        total = math.comb(n, k)
        for i in range(1, n - k + 2):
            w[k - 1, i - 1] = math.comb(n - i, k - 1) / total
    w.flags.writeable = False
    return w


def _ranked(values: np.ndarray, better: int) -> np.ndarray:
    """Values best first along the last axis."""
    s = np.sort(values, axis=-1)
    return s[..., ::-1] if better > 0 else s


def expected_best_of_k(values, better: int = 1) -> np.ndarray:
    """E[best of k] for k = 1..n: the expected best of k of ``values`` drawn at random
    without replacement (``better``: +1 higher is better, -1 lower); NaNs dropped."""
    if better not in (1, -1):
        raise ValueError("better must be +1 (higher is better) or -1 (lower is better)")
    v = clean(values)
    return best_of_k_weights(len(v)) @ _ranked(v, better)


def best_of_k_band(values, better: int = 1, confidence: float = CONFIDENCE,
                   resamples: int = BOOTSTRAP_RESAMPLES,
                   seed: int = BOOTSTRAP_SEED) -> tuple[np.ndarray, np.ndarray]:
    """Percentile bootstrap band of :func:`expected_best_of_k`: the values resampled
    with replacement ``resamples`` times (fixed seed), the curve computed exactly on
    each resample; (low, high) per k."""
    if better not in (1, -1):
        raise ValueError("better must be +1 (higher is better) or -1 (lower is better)")
    v = clean(values)
    n = len(v)
    if n == 0:
        return np.array([]), np.array([])
    if np.ptp(v) == 0:
        return np.full(n, v[0]), np.full(n, v[0])
    rng = np.random.default_rng(seed)
    samples = _ranked(rng.choice(v, size=(resamples, n), replace=True), better)
    curves = samples @ best_of_k_weights(n).T
    alpha = 100 * (1 - confidence) / 2
    low, high = np.percentile(curves, [alpha, 100 - alpha], axis=0)
    return low, high


# --- the table ---------------------------------------------------------------------------

def _check_metrics(metrics, available: list[str]) -> list[str]:
    if not metrics:
        return [m for m in available if direction(m)]
    for m in metrics:
        if m not in available:
            raise InputError(f"--metric {m}: no values for it in these results; "
                             f"available: {', '.join(available) or 'none'}.")
    return list(dict.fromkeys(metrics))


def sensitivity(summary: pd.DataFrame, metrics: list[str] | None = None,
                success: str | None = None, outs=()) -> pd.DataFrame:
    """The sensitivity table: one row per dataset × variant × metric (see the module's
    doc for the columns). ``metrics`` default to every numeric metric with a better
    direction that has values; ``success`` is a condition on a setting's seed means,
    e.g. ``"modes_captured >= 7 and hq_fraction >= 0.5"`` (success rate with a 95%
    Clopper-Pearson interval). A metric without any value in a dataset gets no rows
    there."""
    available = metric_columns(summary)
    metrics = _check_metrics(metrics, available)
    means = setting_means(summary, available, outs)
    ok = success_mask(means, success, available) if success is not None else None
    rows = []
    for ds, dsf in means.groupby("dataset", sort=False, dropna=False):
        for var, g in dsf.groupby("variant", sort=False, dropna=False):
            n = len(g)
            base = {"dataset": ds, "variant": var, "settings": n, "successes": math.nan,
                    "success_rate": math.nan, "success_ci_low": math.nan,
                    "success_ci_high": math.nan}
            if ok is not None:
                k = int(ok[g.index].sum())
                ci = stats.binomtest(k, n).proportion_ci(confidence_level=CONFIDENCE, method="exact")
                base.update(successes=k, success_rate=k / n, success_ci_low=float(ci.low),
                            success_ci_high=float(ci.high))
            for m in metrics:
                if not np.isfinite(dsf[m].to_numpy(dtype=float)).any():
                    continue
                vals = g[m].to_numpy(dtype=float)
                has = np.isfinite(vals)
                v, labels = vals[has], g[SETTING].to_numpy()[has]
                d = direction(m)
                row = dict(base, metric=m, better=better_word(m), valued=int(has.sum()),
                           median=math.nan, iqr_low=math.nan, iqr_high=math.nan,
                           best_setting="", best_value=math.nan,
                           best_of_k=[], best_of_k_low=[], best_of_k_high=[])
                if len(v):
                    q1, med, q3 = np.percentile(v, [25, 50, 75])
                    row.update(median=float(med), iqr_low=float(q1), iqr_high=float(q3))
                if len(v) and d:
                    i = int(np.argmax(v * d))
                    low, high = best_of_k_band(v, d)
                    row.update(best_setting=str(labels[i]), best_value=float(v[i]),
                               best_of_k=[float(x) for x in expected_best_of_k(v, d)],
                               best_of_k_low=[float(x) for x in low],
                               best_of_k_high=[float(x) for x in high])
                rows.append(row)
    table = pd.DataFrame(rows, columns=SENSITIVITY_COLUMNS)
    table.attrs["success"] = success
    return table


# --- output ------------------------------------------------------------------------------

def to_csv(table: pd.DataFrame) -> str:
    """The table as CSV, each curve a ``;``-separated string (k = 1..n)."""
    out = table.copy()
    for c in CURVE_COLUMNS:
        out[c] = [";".join(format(x, ".10g") for x in curve) for curve in out[c]]
    return out.to_csv(index=False)


def _curve_cell(r, k: int) -> str:
    curve = r["best_of_k"]
    if k < 1 or k > len(curve):
        return ""
    band = (r["best_of_k_low"][k - 1], r["best_of_k_high"][k - 1])
    return fmt(curve[k - 1]) + (f" [{fmt(band[0])}, {fmt(band[1])}]" if band[0] != band[1] else "")


def _escape(text: str) -> str:
    return str(text).replace("|", "\\|")


def sections(table: pd.DataFrame, success: bool):
    """Header, then per dataset its rows of text cells (the success rate on each
    variant's first row)."""
    head = ["variant", "metric", "settings"] + (["success rate [95% CI]"] if success else []) + \
        ["median [IQR]", "best setting: value", "E[best of 1]", "E[best of 3]", "best of n"]
    out = []
    for ds, dsf in table.groupby("dataset", sort=False, dropna=False):
        rows = []
        for var, vf in dsf.groupby("variant", sort=False, dropna=False):
            for j, (_, r) in enumerate(vf.iterrows()):
                cells = [str(var) if j == 0 else "",
                         f"{r.metric} ({r.better})" if r.better else str(r.metric),
                         f"{r.settings}" + (f" ({r.valued} with a value)" if r.valued < r.settings else "")]
                if success:
                    cells.append("" if j or math.isnan(r.success_rate) else
                                 f"{r.successes}/{r.settings} = {fmt(r.success_rate)} "
                                 f"[{fmt(r.success_ci_low)}, {fmt(r.success_ci_high)}]")
                cells.append("" if math.isnan(r["median"]) else
                             f"{fmt(r['median'])} [{fmt(r.iqr_low)}, {fmt(r.iqr_high)}]")
                cells.append(f"{r.best_setting}: {fmt(r.best_value)}" if r.best_setting else "")
                n = len(r.best_of_k)
                cells += [_curve_cell(r, 1), _curve_cell(r, 3) if n >= 3 else "",
                          f"n={n}: {_curve_cell(r, n)}" if n else ""]
                rows.append(cells)
        out.append((str(ds), rows))
    return head, out


def to_markdown(table: pd.DataFrame, title: str = "") -> str:
    success = table.attrs.get("success")
    lines = [f"# Sensitivity to hyperparameters{': ' + title if title else ''}", "",
             "Per setting (dataset × variant × swept values) the mean over all its seeds (failed "
             "and diverged ones counted: docs/statistics.md); then over "
             "the settings tried: the median and interquartile range, the best setting, and "
             "E[best of k], the expected best value among k settings drawn at random from "
             "those tried (exact; [95% bootstrap band]; k = 1 is the mean, k = n the best) "
             "(Lucic et al. 2018).", ""]
    if success is not None:
        lines += [f"Success: `{success}` on a setting's seed means; success rate with a 95% "
                  "Clopper-Pearson interval.", ""]
    if table.empty:
        return "\n".join(lines + ["No metric with values in these results.", ""])
    head, secs = sections(table, success is not None)
    for ds, rows in secs:
        lines += [f"## {ds}", "", "| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        lines += ["| " + " | ".join(_escape(c) for c in cells) + " |" for cells in rows]
        lines.append("")
    return "\n".join(lines)


def write_sensitivity(out: Path, metrics: list[str] | None = None,
                      success: str | None = None) -> tuple[Path, Path]:
    """Write OUT/sensitivity.md and OUT/sensitivity.csv from OUT/summary.csv."""
    out = Path(out)
    table = sensitivity(load_summaries([out]), metrics, success, [out])
    md_path, csv_path = out / "sensitivity.md", out / "sensitivity.csv"
    write_text(md_path, to_markdown(table, out.resolve().name))
    write_text(csv_path, to_csv(table))
    return md_path, csv_path
