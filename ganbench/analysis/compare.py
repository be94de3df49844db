"""`ganbench compare`: variants side by side with seed statistics.

Reads the summary.csv of one or more results folders (merged: e.g. the same suite's
seeds run on two machines), and per dataset, metric and group (``--by``, default
variant) gives n, mean ± std, a 95% bootstrap interval, the rank (1 = best, in the
metric's better direction) and a two-sided Mann-Whitney U test against a reference
group, with the verdict ``better`` / ``worse`` (p < alpha, by the direction of the
difference in means), ``same``, or ``too few seeds`` when no outcome of the test
could reach alpha with so few values (e.g. one seed each).
"""
from __future__ import annotations

import math
import sys
from pathlib import Path

import pandas as pd

from ..errors import InputError
from ..layout import SUMMARY_COLUMNS, is_run_column
from ..metrics.catalogue import direction, order_key
from .stats import better_word, bootstrap_ci, mann_whitney, min_pvalue
from .tables import fmt, is_categorical

COMPARE_COLUMNS = ["dataset", "metric", "better", "group", "n", "mean", "std", "ci_low",
                   "ci_high", "rank", "u", "p_value", "vs_reference"]
DEFAULT_REFERENCE = "nonsaturating"


def load_summaries(outs: list[Path], warn=None) -> pd.DataFrame:
    """summary.csv of each folder, merged; a run id seen twice keeps the first folder's."""
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
        frames.append(df.assign(_source=str(out)))
    merged = pd.concat(frames, ignore_index=True)
    dup = merged.run_id.duplicated(keep="first")
    if dup.any() and warn:
        warn(f"{int(dup.sum())} run ids appear in more than one folder "
             f"(e.g. {merged.run_id[dup].iloc[0]}); keeping the first folder's.")
    return merged[~dup].drop(columns="_source").reset_index(drop=True)


def numeric_metrics(summary: pd.DataFrame) -> list[str]:
    cols = [c for c in summary.columns if not is_run_column(c)]
    cols = [c for c in cols if summary[c].notna().any() and not is_categorical(summary[c])]
    return sorted(cols, key=order_key)


def compare(summary: pd.DataFrame, by: str = "variant", metrics: list[str] | None = None,
            reference: str | None = None, alpha: float = 0.05) -> pd.DataFrame:
    """The comparison table (long format, one row per dataset × metric × group)."""
    if by not in summary.columns:
        raise InputError(f"--by {by}: no such column; use one of {', '.join(summary.columns[:7])}.")
    available = numeric_metrics(summary)
    metrics = list(metrics or available)
    for m in metrics:
        if m not in available:
            raise InputError(f"--metric {m}: no values for it in these results; "
                             f"available: {', '.join(available)}.")
    groups = list(dict.fromkeys(summary[by].astype(str)))
    if reference is None:
        reference = DEFAULT_REFERENCE if DEFAULT_REFERENCE in groups else groups[0]
    elif reference not in groups:
        raise InputError(f"--reference {reference}: no such {by}; known: {', '.join(groups)}.")
    rows = []
    for ds, dsf in summary.groupby("dataset", sort=False):
        values = {g: dsf.loc[dsf[by].astype(str) == g] for g in groups}
        for m in metrics:
            per = {g: pd.to_numeric(v[m], errors="coerce").dropna().to_numpy(dtype=float)
                   for g, v in values.items()}
            per = {g: v for g, v in per.items() if len(v)}
            if not per:
                continue
            d = direction(m)
            means = pd.Series({g: v.mean() for g, v in per.items()})
            ranks = (means * -d).rank(method="min") if d else pd.Series(math.nan, index=means.index)
            ref = per.get(reference)
            for g, v in per.items():
                lo, hi = bootstrap_ci(v)
                u = p = math.nan
                verdict = "reference" if g == reference else ""
                if g != reference and ref is not None:
                    u, p = mann_whitney(v, ref)
                    if 2 * min_pvalue(len(v), len(ref)) >= alpha:
                        verdict = "too few seeds"   # no outcome could reach alpha
                    elif d and p < alpha:
                        verdict = "better" if (v.mean() - ref.mean()) * d > 0 else "worse"
                    elif d:
                        verdict = "same"
                    else:
                        verdict = "differs" if p < alpha else "same"
                rows.append({"dataset": ds, "metric": m, "better": better_word(m), "group": g,
                             "n": len(v), "mean": v.mean(), "std": v.std(ddof=1) if len(v) > 1 else math.nan,
                             "ci_low": lo, "ci_high": hi, "rank": ranks[g], "u": u, "p_value": p,
                             "vs_reference": verdict})
    table = pd.DataFrame(rows, columns=COMPARE_COLUMNS)
    table.attrs["reference"] = reference
    return table


def _cells(r) -> list[str]:
    ci = f"[{fmt(r['ci_low'])}, {fmt(r['ci_high'])}]" if not math.isnan(r["ci_low"]) else ""
    pv = r["p_value"]
    p = "" if math.isnan(pv) else (f"{pv:.3f}" if pv >= 0.001 else f"{pv:.1e}")
    mean, std = fmt(r["mean"]), fmt(r["std"])
    return [str(r["group"]), str(r["n"]), mean + (f" ± {std}" if std else ""), ci,
            "" if math.isnan(r["rank"]) else str(int(r["rank"])), p, r["vs_reference"]]


#: the columns --published adds (ganbench.analysis.against_published.attach)
BESIDE_HEAD = ["published (n; method, table)", "their 95% CI", "published in our CI",
               "ours in their CI"]
KIND_LABEL = {"standard_error": "SE", "std": "std", "unstated": "±?", "none": ""}


def beside_cells(r) -> list[str]:
    """Text cells of one row's published columns: value, their interval, both verdicts."""
    if not isinstance(r.get("published_method"), str) or not r["published_method"]:
        return ["", "", "", ""]
    err, n = r["published_error"], r["published_runs"]
    value = fmt(r["published"]) + (f" ± {fmt(err)} {KIND_LABEL[r['published_kind']]}"
                                   if not math.isnan(err) else "")
    extra = ", ".join(x for x in [f"n={int(n)}" if not math.isnan(n) else "",
                                  f"{r['published_method']}, {r['published_table']}"] if x)
    lo, hi = r["published_low"], r["published_high"]
    interval = f"[{fmt(lo)}, {fmt(hi)}]" if not math.isnan(lo) else ""
    return [f"{value} ({extra})", interval, r["published_in_ci"], r["ours_in_published"]]


def sections(table: pd.DataFrame, by: str = "variant", reference: str = ""):
    """Header, then per dataset its rows of text cells (the metric named on its first row)."""
    head = ["metric", by, "n", "mean ± std", "95% CI", "rank", f"p vs {reference}", "vs reference"]
    beside = "published_method" in table.columns      # --published: the paper's value per cell
    if beside:
        head += BESIDE_HEAD
    out = []
    for ds, dsf in table.groupby("dataset", sort=False):
        rows = []
        for m, mf in dsf.groupby("metric", sort=False):
            label = f"{m} ({mf.better.iloc[0]} is better)" if mf.better.iloc[0] else m
            rows += [[label if i == 0 else ""] + _cells(r) + (beside_cells(r) if beside else [])
                     for i, (_, r) in enumerate(mf.iterrows())]
        out.append((str(ds), rows))
    return head, out


def to_markdown(table: pd.DataFrame, by: str = "variant", reference: str = "") -> str:
    """One section per dataset, one block of rows per metric."""
    head, secs = sections(table, by, reference)
    out = []
    for ds, rows in secs:
        out += [f"### {ds}", "", "| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        out += ["| " + " | ".join(cells) + " |" for cells in rows]
        out.append("")
    return "\n".join(out)


def html_tables(table: pd.DataFrame, by: str = "variant", reference: str = "") -> str:
    """The tables as an HTML fragment (one heading and table per dataset)."""
    import html
    head, secs = sections(table, by, reference)
    parts = []
    for ds, rows in secs:
        parts.append(f"<h3>{html.escape(ds)}</h3><table><tr>" +
                     "".join(f"<th>{html.escape(h)}</th>" for h in head) + "</tr>")
        parts += ["<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in cells) + "</tr>"
                  for cells in rows]
        parts.append("</table>")
    return "\n".join(parts)


def to_html(table: pd.DataFrame, by: str = "variant", reference: str = "") -> str:
    """The same tables as a standalone HTML page."""
    return ("<!doctype html><meta charset='utf-8'><title>ganbench compare</title>\n"
            "<style>body{font-family:sans-serif}table{border-collapse:collapse;margin-bottom:1.5em}"
            "td,th{border:1px solid #ccc;padding:2px 6px;text-align:right}"
            "td:first-child,td:nth-child(2){text-align:left}</style>\n"
            + html_tables(table, by, reference) + "\n")


def render(table: pd.DataFrame, fmt_name: str, by: str, reference: str) -> str:
    if fmt_name == "csv":
        return table.to_csv(index=False)
    if fmt_name == "html":
        return to_html(table, by, reference)
    return to_markdown(table, by, reference)


def warn(msg: str) -> None:
    print(f"ganbench: warning: {msg}", file=sys.stderr)
