"""The comparison table as text: a short markdown view (per dataset one row per group,
one cell per metric, then the tests worth reading), the long per-metric tables (HTML,
and markdown with ``--published``), and CSV (every column)."""
from __future__ import annotations

import math

import pandas as pd

from .seeds import RULE

#: the dataset column of the rows over all datasets (ganbench.analysis.compare)
ALL_DATASETS = "all datasets"
from .tables import fmt

#: metrics per markdown table (``--all`` splits a dataset's metrics over several)
PER_TABLE = 5
ARROW = {"higher": " ↑", "lower": " ↓", "": ""}
MARK = {"better": " ▲", "worse": " ▼", "differs": " ≠"}


def _p(p: float) -> str:
    if p is None or math.isnan(p):
        return ""
    return f"{p:.3f}" if p >= 0.001 else f"{p:.1e}"


def _interval(lo: float, hi: float) -> str:
    return f"[{fmt(lo)}, {fmt(hi)}]" if not math.isnan(lo) else ""


def _ok(r) -> str:
    return f"{int(r['ok'])}/{int(r['runs'])}"


def _value(r) -> str:
    """'mean [95% CI]', with the count of values when seeds are left out."""
    cell = fmt(r["mean"])
    ci = _interval(r["ci_low"], r["ci_high"])
    cell += f" {ci}" if ci else ""
    if int(r["n"]) < int(r["runs"]):
        cell += f" (n={int(r['n'])})"
    return cell


def _n(k: int, word: str) -> str:
    return f"{k} {word}{'' if k == 1 else 's'}"


def header(table: pd.DataFrame) -> list[str]:
    """What was tested and how: the lines above the tables."""
    a = table.attrs
    ref, family = a.get("reference", ""), a.get("family", 0)
    name = {"holm": "Holm", "bh": "Benjamini-Hochberg"}.get(a.get("correction"), "")
    tested = table[table.p_value.notna()]
    n_metrics = tested.metric.nunique()
    if tested.empty:
        why = sorted({v for v in table.vs_reference if v not in ("", "reference")
                      and not str(v).startswith("over ")})
        return [f"Against {ref}: no test" + (f" ({'; '.join(why)})." if why else "."),
                f"Cells: mean [95% bootstrap CI]; {RULE}."]
    lines = [f"Against {ref}: {_n(family, 'two-sided exact Mann-Whitney test')} "
             f"({_n(n_metrics, 'metric')} × {_n(tested.group.nunique(), a.get('by', 'variant'))} "
             f"× {_n(tested.dataset.nunique(), 'dataset')}), p adjusted by {name} over all "
             f"{family}; ▲/▼: better/worse at adjusted p < {a.get('alpha', 0.05):g}.",
             f"Cells: mean [95% bootstrap CI]; {RULE}."]
    if len(tested):
        floor = tested.p_min.min()
        if a.get("correction") == "holm" and floor * family >= a.get("alpha", 0.05):
            lines.append(f"Note: the smallest p these seeds allow is {floor:.2g}; Holm over "
                         f"{family} tests needs p < {a.get('alpha', 0.05) / family:.2g} for the "
                         "first rejection, so no difference can survive it here (add seeds, "
                         "test fewer metrics with --metric, or use --correction bh).")
    return lines


def to_markdown_short(table: pd.DataFrame) -> str:
    """Per dataset: one row per group (ok/N, mean [CI] per metric, ▲/▼ where the
    adjusted test says so), then the tests with raw p < alpha, raw and adjusted."""
    a = table.attrs
    by, ref, alpha = a.get("by", "variant"), a.get("reference", ""), a.get("alpha", 0.05)
    out = header(table) + [""]
    across = table[table.dataset == ALL_DATASETS]
    for ds, dsf in table[table.dataset != ALL_DATASETS].groupby("dataset", sort=False):
        metrics = list(dict.fromkeys(dsf.metric))
        out.append(f"### {ds}")
        for start in range(0, len(metrics), PER_TABLE):
            chunk = metrics[start:start + PER_TABLE]
            head = [by, "ok/N"] + [m + ARROW[dsf[dsf.metric == m].better.iloc[0]] for m in chunk]
            out += ["", "| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
            for g in dict.fromkeys(dsf.group):
                cells, okn = [], ""
                for m in chunk:
                    r = dsf[(dsf.metric == m) & (dsf.group == g)]
                    if r.empty:
                        cells.append("")
                        continue
                    r = r.iloc[0]
                    okn = _ok(r)
                    cells.append(_value(r) + MARK.get(r["vs_reference"], ""))
                name = f"{g} (reference)" if g == ref else g
                out.append("| " + " | ".join([name, okn] + cells) + " |")
        notable = dsf[dsf.p_value < alpha]
        out.append("")
        if notable.empty:
            out.append(f"No test against {ref} has raw p < {alpha:g}.")
        else:
            out.append(f"Tests with raw p < {alpha:g} (P = P(better than {ref}) [95% CI]):")
            out.append("")
            head = ["metric", by, "P", "p", "p adjusted", "verdict"]
            out += ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
            for _, r in notable.iterrows():
                pb = fmt(r["p_better"]) + " " + _interval(r["p_better_low"], r["p_better_high"])
                out.append("| " + " | ".join([r["metric"], str(r["group"]), pb.strip(),
                                              _p(r["p_value"]), _p(r["p_adjusted"]),
                                              r["vs_reference"]]) + " |")
        out += _plan_lines(dsf, a) + [""]
    if len(across):
        out += _across_markdown(across, by, ref)
    return "\n".join(out)


def _plan_lines(dsf: pd.DataFrame, a: dict) -> list[str]:
    """The tests that did not decide, with the seeds a side that would (compare's plan)."""
    if "plan_level" not in a or "seeds_to_decide" not in dsf:
        return []
    rows = dsf[dsf.vs_reference.isin(["not significant"]) |
               dsf.vs_reference.astype(str).str.startswith("too few seeds")]
    if rows.empty:
        return []
    said = []
    for _, r in rows.iterrows():
        n = r["seeds_to_decide"]
        what = ("no difference in these seeds" if n == 0 else
                "more than 256" if pd.isna(n) else f"about {int(n)}")
        said.append(f"{r['metric']} {r['group']}: {what}")
    return ["", f"Undecided: seeds per variant that would decide each (80% power, resampling "
                f"these seeds, two-sided at {a['plan_level']:.2g} = alpha over the family): "
                + "; ".join(said) + "."]


def _across_markdown(across: pd.DataFrame, by: str, ref: str) -> list[str]:
    """The rows over all datasets: P(better than the reference) per group and metric."""
    metrics = list(dict.fromkeys(across.metric))
    out = [f"### {ALL_DATASETS}", "",
           f"P(better than {ref}), the mean over datasets [95% stratified bootstrap CI]:", "",
           "| " + " | ".join([by] + metrics) + " |", "|" + "---|" * (len(metrics) + 1)]
    for g, gf in across.groupby("group", sort=False):
        cells = []
        for m in metrics:
            r = gf[gf.metric == m]
            cells.append("" if r.empty else (fmt(r.iloc[0]["p_better"]) + " " + _interval(
                r.iloc[0]["p_better_low"], r.iloc[0]["p_better_high"])).strip())
        out.append("| " + " | ".join([str(g)] + cells) + " |")
    return out + [""]


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


def _cells(r) -> list[str]:
    mean, std = fmt(r["mean"]), fmt(r["std"])
    pb = fmt(r["p_better"]) + (" " + _interval(r["p_better_low"], r["p_better_high"])
                               if not math.isnan(r["p_better_low"]) else "")
    return [str(r["group"]), _ok(r) + (f" (n={int(r['n'])})" if r["n"] < r["runs"] else ""),
            mean + (f" ± {std}" if std else ""), _interval(r["ci_low"], r["ci_high"]),
            (fmt(r["iqm"]) + " " + _interval(r["iqm_low"], r["iqm_high"])).strip(),
            "" if math.isnan(r["rank"]) else str(int(r["rank"])), pb.strip(),
            _p(r["p_value"]), _p(r["p_adjusted"]), r["vs_reference"]]


def sections(table: pd.DataFrame, by: str = "variant", reference: str = ""):
    """Header, then per dataset its rows of text cells (the metric named on its first row)."""
    head = ["metric", by, "ok/N", "mean ± std", "95% CI", "IQM [95% CI]", "rank",
            f"P(better than {reference})", "p", "p adjusted", "vs reference"]
    beside = "published_method" in table.columns      # --published: the paper's value per cell
    if beside:
        head += BESIDE_HEAD
    out = []
    for ds, dsf in table[table.dataset != ALL_DATASETS].groupby("dataset", sort=False):
        rows = []
        for m, mf in dsf.groupby("metric", sort=False):
            label = f"{m} ({mf.better.iloc[0]} is better)" if mf.better.iloc[0] else m
            rows += [[label if i == 0 else ""] + _cells(r) + (beside_cells(r) if beside else [])
                     for i, (_, r) in enumerate(mf.iterrows())]
        out.append((str(ds), rows))
    return head, out


def to_markdown(table: pd.DataFrame, by: str = "variant", reference: str = "") -> str:
    """The long form: one section per dataset, one block of rows per metric."""
    head, secs = sections(table, by, reference)
    out = header(table) + [""] if table.attrs else []
    for ds, rows in secs:
        out += [f"### {ds}", "", "| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        out += ["| " + " | ".join(cells) + " |" for cells in rows]
        out.append("")
    return "\n".join(out)


def html_tables(table: pd.DataFrame, by: str = "variant", reference: str = "") -> str:
    """The tables as an HTML fragment (one heading and table per dataset)."""
    import html
    head, secs = sections(table, by, reference)
    parts = [f"<p>{html.escape(line)}</p>" for line in header(table)] if table.attrs else []
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
    if "published_method" in table.columns:
        return to_markdown(table, by, reference)
    return to_markdown_short(table)
