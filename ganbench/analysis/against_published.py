"""Our numbers beside a paper's: ``ganbench compare OUT --published pacgan2018`` and the
report's "Published numbers" section.

Per cell of the comparison table (dataset × metric × variant) the published entry that
matches it (:mod:`ganbench.published`) is set beside ours, with two verdicts:

- ``published_in_ci``: does the published mean lie within our 95% bootstrap interval of
  the mean over seeds (``ci_low``..``ci_high`` of :func:`ganbench.analysis.compare.compare`)?
- ``ours_in_published``: does our mean lie within *their* 95% interval of the mean,
  mean ± t(0.975, n−1) · SE, where SE is their error when it is a standard error and
  error / √n when it is a standard deviation over n runs (n their number of runs; the
  normal 1.96 when a standard error comes without n). No interval (and the verdict
  "no interval") when they print no error, or one they do not explain.

Which entry is a cell's: the suite's ``published:`` block (kept in OUT/suite.yaml) may
name, per source, the ``table`` and ``setting`` to use and map dataset labels and
variant names to the paper's (``datasets: {ring: ring8}``, ``variants: {gan: GAN}``);
whatever it does not map is matched by name, ignoring case and punctuation (variant
``pacgan2`` is the paper's ``PacGAN2``; a dataset label, else its dataset's name, is the
file's dataset; :func:`ganbench.published.match`). A cell that several entries match
(the same method in two tables) is an error that says how to pick one, raised when the
suite is read.
"""
from __future__ import annotations

import html
import math
from pathlib import Path

import numpy as np
import pandas as pd
import yaml
from scipy import stats

from ..errors import InputError
from ..published import load as load_source, match
from .compare import BESIDE_HEAD, beside_cells, compare, numeric_metrics
from .tables import fmt

CONFIDENCE = 0.95
PUBLISHED_COLUMNS = ["published_method", "published_table", "published", "published_error",
                     "published_kind", "published_runs", "published_low", "published_high",
                     "published_in_ci", "ours_in_published"]


def their_interval(entry: dict, confidence: float = CONFIDENCE) -> tuple[float, float]:
    """The published mean's ``confidence`` interval from its error, kind and runs;
    (nan, nan) when it cannot be derived."""
    kind, err, n, mean = entry["error_kind"], entry["error"], entry["runs"], entry["mean"]
    if kind == "standard_error":
        se = err
    elif kind == "std" and n:
        se = err / math.sqrt(n)
    else:
        return (math.nan, math.nan)
    p = 0.5 + confidence / 2
    q = stats.t.ppf(p, n - 1) if n and n > 1 else stats.norm.ppf(p)
    return (mean - q * se, mean + q * se)


def suite_block(outs: list[Path], *keys: str) -> tuple[dict, dict]:
    """(the suite's ``published`` block under the first of ``keys`` it has (a source's name
    or the path it was given as), {dataset label: dataset name}) from the first results
    folder whose suite.yaml has one."""
    labels: dict = {}
    for out in outs:
        f = Path(out) / "suite.yaml"
        if not f.is_file():
            continue
        try:
            suite = yaml.safe_load(f.read_text(encoding="utf-8")) or {}
        except (yaml.YAMLError, UnicodeDecodeError, OSError):
            continue
        for ds in suite.get("datasets") or []:
            if isinstance(ds, dict) and "label" in ds:
                labels.setdefault(str(ds["label"]), str(ds.get("name", ds["label"])))
        blocks = suite.get("published") or {}
        for key in keys:
            if isinstance(blocks.get(key), dict):
                return blocks[key], labels
    return {}, labels


def attach(table: pd.DataFrame, source: str, block: dict | None = None,
           labels: dict | None = None) -> pd.DataFrame:
    """The comparison table with the published columns (empty where no entry matches)."""
    data = load_source(source)
    block, labels = block or {}, labels or {}
    rows = []
    for _, r in table.iterrows():
        label = str(r["dataset"])
        try:
            e = match(data["entries"], label, labels.get(label, label), str(r["group"]),
                      str(r["metric"]), block)
        except ValueError as err:
            raise InputError(f"--published {data['name']}: "
                             + str(err).replace("<source>", data["name"])) from None
        if e is None:
            rows.append({c: (math.nan if c in ("published", "published_error", "published_low",
                                               "published_high", "published_runs") else "")
                         for c in PUBLISHED_COLUMNS})
            continue
        lo, hi = their_interval(e)
        in_ci = ("" if not np.isfinite(r["ci_low"]) else
                 "yes" if r["ci_low"] <= e["mean"] <= r["ci_high"] else "no")
        ours = ("no interval" if not np.isfinite(lo) else
                "yes" if lo <= r["mean"] <= hi else "no")
        rows.append({"published_method": e["method"],
                     "published_table": e["table"] + (f", {e['setting']}" if e["setting"] else ""),
                     "published": e["mean"],
                     "published_error": math.nan if e["error"] is None else e["error"],
                     "published_kind": e["error_kind"],
                     "published_runs": math.nan if e["runs"] is None else e["runs"],
                     "published_low": lo, "published_high": hi,
                     "published_in_ci": in_ci or "no interval", "ours_in_published": ours})
    out = pd.concat([table.reset_index(drop=True), pd.DataFrame(rows, columns=PUBLISHED_COLUMNS)],
                    axis=1)
    out.attrs.update(table.attrs, published=data["name"], paper=data["paper"])
    return out


def published_html(out: Path, summary: pd.DataFrame) -> list[str]:
    """The report's section: for each source the suite names in ``published:``, a table of
    the cells with a published value (nothing when the suite names none)."""
    f = Path(out) / "suite.yaml"
    try:
        sources = list((yaml.safe_load(f.read_text(encoding="utf-8")) or {}).get("published") or {})
    except (OSError, yaml.YAMLError, UnicodeDecodeError):
        return []
    parts = []
    for source in sources:
        metrics = sorted({e["metric"] for e in load_source(source)["entries"]}
                         & set(numeric_metrics(summary)))
        if not metrics:
            continue
        block, labels = suite_block([Path(out)], source, load_source(source)["name"])
        try:
            table = attach(compare(summary, metrics=metrics), source, block, labels)
        except InputError as e:
            parts.append(f"<h2>Published numbers: {html.escape(source)}</h2>"
                         f"<p>{html.escape(str(e))}</p>")
            continue
        table = table[table.published_method != ""]
        if table.empty:
            continue
        head = ["dataset", "variant", "metric", "n", "ours: mean ± std", "our 95% CI",
                *BESIDE_HEAD]
        rows = []
        for _, r in table.iterrows():
            std = f" ± {fmt(r['std'])}" if np.isfinite(r["std"]) else ""
            ci = f"[{fmt(r['ci_low'])}, {fmt(r['ci_high'])}]" if np.isfinite(r["ci_low"]) else ""
            rows.append([str(r["dataset"]), str(r["group"]), str(r["metric"]), str(r["n"]),
                         fmt(r["mean"]) + std, ci] + beside_cells(r))
        parts.append(f"<h2>Published numbers: {html.escape(table.attrs['published'])}</h2>"
                     f"<p>{html.escape(table.attrs['paper'])}</p><table><tr>" +
                     "".join(f"<th>{html.escape(h)}</th>" for h in head) + "</tr>" +
                     "".join("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in cells)
                             + "</tr>" for cells in rows) + "</table>")
    return parts
