"""`ganbench report OUT`: one self-contained HTML page (images embedded) and a summary PNG.

From a results folder alone (no retraining): the table and the seed-statistics
comparison; per dataset the training curves (losses, grad_norm_g on a log scale,
modes captured, fd/fid) averaged over seeds per variant; per variant the generated
samples over the data, D's output over the plane beside the optimal D* (2D runs,
from each run's discriminator.npz) and every image its run declares (its metrics.json
``artifacts``: samples, the vanishing-gradient probe's curves, ...), and for Dirac-GAN
runs the trajectories in the (θ, ψ) plane. Which metrics are curves and which go in
the summary figure comes from the metric catalogue.

When the suite sweeps hyperparameters (summary.csv has ``setting`` and swept-field
columns), each dataset also gets a Sensitivity section (ganbench.analysis.sensitivity):
the sensitivity table, per variant a heat map of the first ranked metric's per-setting
seed means over the two swept fields with the most distinct values (a line plot when
one field is swept), and the expected best-of-k curves of every ranked metric, one
line per variant with its bootstrap band. The table and comparison then pool all the
settings of a variant.
"""
from __future__ import annotations

import base64
import html
import json
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from ..layout import atomic_write, png_bytes, run_dir, write_text  # noqa: E402
from ..metrics import catalogue  # noqa: E402
from .against_published import published_html  # noqa: E402
from .compare import compare, html_tables, load_summaries, numeric_metrics  # noqa: E402
from .sensitivity import (has_sweep, sections, sensitivity, setting_means,  # noqa: E402
                          sweep_columns, without_sweep)
from .tables import aggregate, fmt, is_categorical, table_rows  # noqa: E402
STYLE = """body{font-family:system-ui,sans-serif;margin:1.5em;max-width:1400px}
table{border-collapse:collapse;margin:0.5em 0 1.5em;font-size:12px}
td,th{border:1px solid #ccc;padding:2px 6px;text-align:right}
td:first-child,td:nth-child(2),th{text-align:left}
img{max-width:100%;border:1px solid #eee}
.grid{display:flex;flex-wrap:wrap;gap:10px}.grid figure{margin:0;width:440px}
figcaption{font-size:12px;color:#444}"""


def img_tag(data: bytes, alt: str) -> str:
    return (f'<img alt="{html.escape(alt)}" src="data:image/png;base64,'
            f'{base64.b64encode(data).decode()}">')


def histories(out: Path, runs: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """history.csv of each run that has one, by run id."""
    got = {}
    for rid in runs.run_id:
        f = run_dir(out, rid) / "history.csv"
        if f.is_file():
            got[rid] = pd.read_csv(f)
    return got


def curves_figure(ds: str, runs: pd.DataFrame, hist: dict) -> bytes | None:
    curves = [(m.name, m.curve, m.log) for m in catalogue.curves()]
    cols = [c for c in curves if any(c[0] in hist.get(r, {}) for r in runs.run_id)]
    if not cols:
        return None
    fig, axes = plt.subplots(1, len(cols), figsize=(3.3 * len(cols), 3.0), dpi=100, squeeze=False)
    for var, g in runs.groupby("variant", sort=False):
        frames = [hist[r] for r in g.run_id if r in hist]
        if not frames:
            continue
        for ax, (col, title, log) in zip(axes[0], cols):
            parts = [f.set_index("step")[col].dropna() for f in frames if col in f]
            if not parts:
                continue
            mean = pd.concat(parts, axis=1).mean(axis=1)
            if len(mean) > 400:           # smooth dense per-step curves for reading
                mean = mean.rolling(max(1, len(mean) // 200), min_periods=1).mean()
            ax.plot(mean.index, mean.to_numpy(), label=var, lw=1)
            ax.set_title(title, fontsize=9)
            if log:
                ax.set_yscale("log")
    axes[0][0].legend(fontsize=6)
    fig.suptitle(f"{ds}: training curves, mean over seeds", fontsize=10)
    fig.tight_layout()
    return png_bytes(fig)


def discriminator_figure(npz: Path, title: str) -> bytes:
    """D's output over the plane beside D* = pdata / (pdata + pg) (when known)."""
    m = np.load(npz)
    panels = [("D(x)", m["d"])] + ([("D*(x) = p/(p+q)", m["d_star"])] if "d_star" in m else [])
    fig, axes = plt.subplots(1, len(panels), figsize=(3.4 * len(panels), 3.1), dpi=100, squeeze=False)
    ext = [m["xs"][0], m["xs"][-1], m["ys"][0], m["ys"][-1]]
    prob = bool(m["probability"])
    for ax, (name, grid) in zip(axes[0], panels):
        im = ax.imshow(grid, origin="lower", extent=ext, cmap="RdBu_r",
                       vmin=0 if prob or name.startswith("D*") else None,
                       vmax=1 if prob or name.startswith("D*") else None)
        if "fake" in m:
            ax.scatter(m["fake"][:, 0], m["fake"][:, 1], s=1, c="k", alpha=0.3, linewidths=0)
        ax.set_title(name if prob or name.startswith("D*") else "D(x) (raw output)", fontsize=9)
        fig.colorbar(im, ax=ax, fraction=0.046)
    fig.suptitle(title, fontsize=8)
    fig.tight_layout()
    return png_bytes(fig)


def trajectories_figure(ds: str, runs: pd.DataFrame, hist: dict) -> bytes | None:
    runs = runs[[r in hist and {"theta", "psi"} <= set(hist[r].columns) for r in runs.run_id]]
    if runs.empty:
        return None
    n = len(runs)
    cols = min(n, 4)
    rows = -(-n // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(2.8 * cols, 2.8 * rows), dpi=100, squeeze=False)
    for ax in axes.flat[n:]:
        ax.axis("off")
    for ax, (_, r) in zip(axes.flat, runs.iterrows()):
        h = hist[r.run_id]
        ax.plot(h.theta, h.psi, lw=0.7)
        ax.plot(h.theta.iloc[0], h.psi.iloc[0], "go", ms=3)
        ax.plot(0, 0, "r+", ms=8)
        verdict = r.get("verdict", "")
        ax.set_title(f"{r.variant}\n{verdict if isinstance(verdict, str) else ''}", fontsize=8)
        ax.set_xlabel("θ", fontsize=8)
        ax.set_ylabel("ψ", fontsize=8)
        ax.tick_params(labelsize=6)
    fig.suptitle(f"{ds}: Dirac-GAN trajectories (start ●, equilibrium +)", fontsize=10)
    fig.tight_layout()
    return png_bytes(fig)


def summary_figure(summary: pd.DataFrame) -> bytes:
    """Per dataset, mean ± std over seeds of the main metrics, one bar per variant."""
    datasets = list(dict.fromkeys(summary.dataset))
    metrics = [m for m in catalogue.summary_metrics() if m in summary and summary[m].notna().any()
               and not is_categorical(summary[m])] or ["wall_s"]
    fig, axes = plt.subplots(len(datasets), len(metrics), squeeze=False, dpi=100,
                             figsize=(3.2 * len(metrics), 2.9 * len(datasets)))
    for i, ds in enumerate(datasets):
        d = summary[summary.dataset == ds]
        for j, m in enumerate(metrics):
            ax = axes[i][j]
            g = d.groupby("variant", sort=False)[m]
            mean, std = g.mean(), g.std()
            ax.bar(range(len(mean)), mean.to_numpy(), yerr=std.fillna(0).to_numpy(), capsize=2,
                   color="tab:blue", alpha=0.8)
            ax.set_xticks(range(len(mean)), mean.index, rotation=60, ha="right", fontsize=6)
            ax.set_title(f"{ds}: {m}", fontsize=8)
            ax.tick_params(axis="y", labelsize=6)
    fig.tight_layout()
    return png_bytes(fig)


def sweep_axes(means: pd.DataFrame) -> list[str]:
    """The swept fields that take two or more values in ``means`` (one variant's
    settings), most distinct values first (ties: column order)."""
    counts = {c: means[c].dropna().astype(str).nunique() for c in sweep_columns(means)}
    axes = [c for c, n in counts.items() if n >= 2]
    return sorted(axes, key=lambda c: -counts[c])


def _axis_order(values: pd.Series) -> list:
    """The distinct values of a swept field: by value when all are numbers, else as text."""
    vals = list(dict.fromkeys(values.dropna()))
    nums = pd.to_numeric(pd.Series(vals, dtype=object), errors="coerce")
    if nums.notna().all():
        return [v for _, v in sorted(zip(nums, vals), key=lambda t: t[0])]
    return sorted(vals, key=lambda v: catalogue.natural_key(str(v)))


def _tick(v) -> str:
    return f"{v:g}" if isinstance(v, float) else str(v)


def sensitivity_map_figure(ds: str, var: str, means: pd.DataFrame, metric: str,
                           runs: pd.DataFrame) -> tuple[bytes, str] | None:
    """One variant's per-setting seed means of ``metric``: a heat map over its two swept
    fields with the most distinct values (cells averaging over any other swept field),
    or a line plot over its one swept field (seeds as dots). (PNG, kind) or None."""
    axes = sweep_axes(means)
    if not axes or not np.isfinite(means[metric].to_numpy(dtype=float)).any():
        return None
    d = catalogue.direction(metric)
    better = {1: "higher is better", -1: "lower is better"}.get(d, "")
    if len(axes) == 1:
        x = axes[0]
        order = _axis_order(means[x])
        pos = {str(v): i for i, v in enumerate(order)}
        fig, ax = plt.subplots(figsize=(4.4, 3.0), dpi=100)
        m = means.dropna(subset=[x]).assign(_x=lambda f: f[x].astype(str).map(pos))
        m = m.groupby("_x")[metric].mean().reindex(range(len(order)))
        vals = pd.to_numeric(runs[metric], errors="coerce")
        seeds = runs.assign(_x=runs[x].astype(str).map(pos), _v=vals).dropna(subset=["_x", "_v"])
        ax.plot(seeds._x, seeds._v, ".", color="0.6", ms=4, label="seeds")
        ax.plot(m.index, m.to_numpy(), "o-", color="tab:blue", label="seed mean")
        ax.set_xticks(range(len(order)), [_tick(v) for v in order], rotation=45, ha="right", fontsize=7)
        ax.set_xlabel(x, fontsize=8)
        ax.set_ylabel(metric, fontsize=8)
        ax.tick_params(axis="y", labelsize=7)
        ax.legend(fontsize=6)
        ax.set_title(f"{ds} / {var}: {metric}" + (f" ({better})" if better else ""), fontsize=9)
        fig.tight_layout()
        return png_bytes(fig), "line"
    x, y = axes[0], axes[1]
    xs, ys = _axis_order(means[x]), _axis_order(means[y])
    grid = means.assign(_x=means[x].astype(str), _y=means[y].astype(str)) \
        .groupby(["_y", "_x"])[metric].mean().unstack("_x") \
        .reindex(index=[str(v) for v in ys], columns=[str(v) for v in xs])
    values = np.ma.masked_invalid(grid.to_numpy(dtype=float))
    fig, ax = plt.subplots(figsize=(1.0 + 0.6 * len(xs) + 1.2, 1.2 + 0.45 * len(ys) + 0.6), dpi=100)
    cmap = plt.get_cmap("viridis" if d >= 0 else "viridis_r").with_extremes(bad="0.85")
    im = ax.imshow(values, cmap=cmap, origin="lower", aspect="auto")
    if len(xs) * len(ys) <= 144:
        for (i, j), v in np.ndenumerate(grid.to_numpy(dtype=float)):
            r, g, b, _ = cmap(im.norm(v)) if np.isfinite(v) else (1, 1, 1, 1)
            ax.text(j, i, fmt(v) if np.isfinite(v) else "×", ha="center", va="center", fontsize=6,
                    color="k" if 0.299 * r + 0.587 * g + 0.114 * b > 0.5 else "w")
    ax.set_xticks(range(len(xs)), [_tick(v) for v in xs], rotation=45, ha="right", fontsize=7)
    ax.set_yticks(range(len(ys)), [_tick(v) for v in ys], fontsize=7)
    ax.set_xlabel(x, fontsize=8)
    ax.set_ylabel(y, fontsize=8)
    fig.colorbar(im, ax=ax, fraction=0.046).ax.tick_params(labelsize=6)
    rest = f"; mean over {', '.join(axes[2:])}" if len(axes) > 2 else ""
    ax.set_title(f"{ds} / {var}: {metric}" + (f" ({better}: brighter)" if better else "") + rest,
                 fontsize=8)
    fig.tight_layout()
    return png_bytes(fig), "heat map"


def best_of_k_figure(ds: str, table: pd.DataFrame) -> bytes | None:
    """Per ranked metric, the expected best-of-k curve of each variant with its 95%
    bootstrap band (k = settings tried, drawn at random)."""
    table = table[[len(c) > 0 for c in table.best_of_k]]
    metrics = list(dict.fromkeys(table.metric))
    if not metrics:
        return None
    cols = min(len(metrics), 4)
    rows = -(-len(metrics) // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(3.4 * cols, 2.9 * rows), dpi=100, squeeze=False)
    for ax in axes.flat[len(metrics):]:
        ax.axis("off")
    for ax, m in zip(axes.flat, metrics):
        for _, r in table[table.metric == m].iterrows():
            k = np.arange(1, len(r.best_of_k) + 1)
            line, = ax.plot(k, r.best_of_k, "o-", ms=3, lw=1, label=str(r.variant))
            ax.fill_between(k, r.best_of_k_low, r.best_of_k_high, color=line.get_color(), alpha=0.2,
                            lw=0)
        better = table[table.metric == m].better.iloc[0]
        ax.set_title(f"{m} ({better} is better)" if better else m, fontsize=9)
        ax.set_xlabel("k settings tried (at random)", fontsize=7)
        ax.set_ylabel("E[best of k]", fontsize=7)
        ax.tick_params(labelsize=6)
        ax.xaxis.get_major_locator().set_params(integer=True)
        ax.legend(fontsize=6)
    fig.suptitle(f"{ds}: expected best of k settings (95% bootstrap band)", fontsize=10)
    fig.tight_layout()
    return png_bytes(fig)


def sensitivity_html(ds: str, runs: pd.DataFrame, table: pd.DataFrame) -> list[str]:
    """The Sensitivity section of one dataset of a swept suite."""
    table = table[table.dataset.astype(str) == str(ds)]
    if table.empty:
        return []
    parts = [f"<h3>{html.escape(str(ds))}: Sensitivity to hyperparameters</h3>",
             "<p>Per setting, the mean over its seeds; over the settings tried: median [IQR], "
             "the best setting, and E[best of k], the expected best among k settings drawn at "
             "random (exact; [95% bootstrap band]) (Lucic et al. 2018).</p>"]
    head, secs = sections(table, success=False)
    for _, rows in secs:
        parts.append("<table><tr>" + "".join(f"<th>{html.escape(h)}</th>" for h in head) + "</tr>" +
                     "".join("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>"
                             for row in rows) + "</table>")
    metric = table.metric.iloc[0]
    means = setting_means(runs, [metric])
    cells = []
    for var, vm in means.groupby("variant", sort=False):
        got = sensitivity_map_figure(str(ds), str(var), vm, metric, runs[runs.variant == var])
        if got:
            png, kind = got
            cells.append(f"<figure>{img_tag(png, f'{ds} {var} sensitivity {kind} of {metric}')}"
                         f"<figcaption>{html.escape(str(var))}: {html.escape(metric)} per setting "
                         "(seed means)</figcaption></figure>")
        else:
            cells.append(f"<figure><figcaption>{html.escape(str(var))}: no swept field takes two "
                         "values, or no setting has a value</figcaption></figure>")
    parts.append("<div class='grid'>" + "".join(cells) + "</div>")
    fig = best_of_k_figure(str(ds), table)
    if fig:
        parts.append(img_tag(fig, f"{ds} expected best-of-k curves"))
    return parts


def _table_html(table: pd.DataFrame) -> str:
    head, rows = table_rows(table)
    cells = "".join("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>"
                    for row in rows)
    return ("<table><tr>" + "".join(f"<th>{html.escape(h)}</th>" for h in head) + "</tr>"
            + cells + "</table>")


def declared_artifacts(d: Path) -> list[dict]:
    """The files a run declares in its metrics.json (``artifacts``), that exist."""
    try:
        meta = json.loads((d / "metrics.json").read_text())
    except (OSError, ValueError):
        return []
    return [a for a in meta.get("artifacts") or [] if (d / a["file"]).is_file()]


def artifact_images(d: Path, rid: str) -> list[str]:
    """<img> tags of a run's declared images and D maps, in declaration order."""
    imgs = []
    for a in declared_artifacts(d):
        if a["kind"] == "image":
            imgs.append(img_tag((d / a["file"]).read_bytes(), f"{rid} {a['caption']}"))
        elif a["kind"] == "d_map":
            imgs.append(img_tag(discriminator_figure(d / a["file"], rid), f"{rid} {a['caption']}"))
    return imgs


def build_html(out: Path) -> tuple[str, bytes]:
    summary = load_summaries([out])
    hist = histories(out, summary[summary.status != "failed"])
    name = html.escape(out.resolve().name)
    counts = summary.status.value_counts().to_dict()
    swept = has_sweep(summary)
    pooled = without_sweep(summary) if swept else summary    # swept fields are no metrics
    parts = [f"<!doctype html><html><head><meta charset='utf-8'><title>ganbench report: {name}"
             f"</title><style>{STYLE}</style></head><body>",
             f"<h1>ganbench report: {name}</h1>",
             "<p>" + html.escape(", ".join(f"{v} {k}" for k, v in counts.items())) +
             f" runs, from <code>{html.escape(str(out))}</code>.</p>",
             "<h2>Table (mean ± std over seeds)</h2>", _table_html(aggregate(pooled))]
    if swept:
        parts.append("<p>A hyperparameter sweep: the table and the comparison pool every setting "
                     "of a variant; see each dataset's Sensitivity section.</p>")
    sens = sensitivity(summary) if swept else pd.DataFrame()
    if summary.variant.nunique() > 1:
        ranked = [m for m in numeric_metrics(pooled) if catalogue.direction(m)]
        cmp = compare(pooled, metrics=ranked) if ranked else pd.DataFrame()
        if len(cmp):
            body = html_tables(cmp, "variant", cmp.attrs["reference"])
            parts += ["<h2>Comparison (95% bootstrap CI, rank, Mann-Whitney U vs "
                      f"{html.escape(cmp.attrs['reference'])})</h2>", body]
    parts += published_html(out, pooled)          # the papers the suite names in published:
    for ds, runs in summary.groupby("dataset", sort=False):
        parts.append(f"<h2>{html.escape(str(ds))}</h2>")
        fig = curves_figure(ds, runs, hist)
        if fig:
            parts.append(img_tag(fig, f"{ds} training curves"))
        traj = trajectories_figure(ds, runs[runs.status == "ok"], hist)
        if traj:
            parts.append(img_tag(traj, f"{ds} Dirac-GAN trajectories"))
        cells = []
        for var, g in runs.groupby("variant", sort=False):
            ok = g[g.status == "ok"]
            if ok.empty:
                cells.append(f"<figure><figcaption>{html.escape(var)}: no run finished ok "
                             f"({html.escape(', '.join(g.status))})</figcaption></figure>")
                continue
            rid = ok.run_id.iloc[0]
            imgs = artifact_images(run_dir(out, rid), rid)
            if imgs:
                cells.append(f"<figure>{''.join(imgs)}<figcaption>{html.escape(var)} "
                             f"({html.escape(rid)})</figcaption></figure>")
        if cells:
            parts.append("<div class='grid'>" + "".join(cells) + "</div>")
        if swept:
            parts += sensitivity_html(ds, runs, sens)
    png = summary_figure(summary)
    parts += ["<h2>Summary figure</h2>", img_tag(png, "summary figure"), "</body></html>"]
    return "\n".join(parts), png


def write_report(out: Path, output: Path | None = None) -> tuple[Path, Path]:
    out = Path(out)
    page, png = build_html(out)
    html_path = Path(output) if output else out / "report.html"
    png_path = html_path.with_suffix(".png")
    write_text(html_path, page)
    atomic_write(png_path, lambda p: p.write_bytes(png))
    return html_path, png_path
