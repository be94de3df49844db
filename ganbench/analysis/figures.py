"""The report's figures, drawn from a results folder's files (matplotlib, no display):
D against D*, Dirac-GAN trajectories, and the key metrics' distributions across seeds
(per dataset in the report, every dataset in report.png): every seed counted by the one
rule of :mod:`ganbench.analysis.seeds`, the mean over every seed with its labelled 95%
bootstrap interval, the numbers ``compare`` and the tables give. The training curves
are in :mod:`ganbench.analysis.curve_figures`."""
from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from ..layout import png_bytes  # noqa: E402
from ..metrics import catalogue  # noqa: E402
from ..metrics import diagnosis as diag  # noqa: E402
from .diagnose import OUTCOMES  # noqa: E402
from .aggregates import summarize  # noqa: E402
from .seeds import counted, is_categorical  # noqa: E402


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
    fig, axes = plt.subplots(rows, cols, figsize=(2.5 * cols, 2.5 * rows), dpi=100, squeeze=False)
    for ax in axes.flat[n:]:
        ax.axis("off")
    for ax, (_, r) in zip(axes.flat, runs.iterrows()):
        h = hist[r.run_id]
        ax.plot(h.theta, h.psi, lw=0.7)
        ax.plot(h.theta.iloc[0], h.psi.iloc[0], "go", ms=3)
        ax.plot(0, 0, "r+", ms=8)
        said = r.get("diagnosis", r.get("verdict", ""))     # the diagnosis, else the verdict
        ax.set_title(f"{r.variant}\n{said if isinstance(said, str) else ''}", fontsize=8)
        ax.set_xlabel("θ", fontsize=8)
        ax.set_ylabel("ψ", fontsize=8)
        ax.tick_params(labelsize=6)
    fig.suptitle(f"{ds}: Dirac-GAN trajectories (start ●, equilibrium +)", fontsize=10)
    fig.tight_layout()
    return png_bytes(fig)


def key_metrics(runs: pd.DataFrame) -> list[str]:
    """The summary metrics (catalogue) with values among ``runs``, numbers only."""
    return [m for m in catalogue.summary_metrics() if m in runs and runs[m].notna().any()
            and not is_categorical(runs[m])]


#: the colour of a seed's dot by its outcome (its first label, in the board's order)
OUTCOME_COLOURS = {"diverged": "black", "unlearned": "tab:purple", "collapsed": "tab:red",
                   "vanishing": "tab:brown", "oscillating": "tab:orange",
                   "converged": "tab:green", "unconverged": "0.55", "failed": "red"}
INTERVAL = "mean over every seed, 95% bootstrap CI"


def outcome(diagnosis_cell, status) -> str:
    """A run's first outcome in the board's order (``failed`` for a failed run)."""
    if status == "failed":
        return "failed"
    labels = diag.label_names(diagnosis_cell)
    return next((o for o in OUTCOMES if o in labels), diag.NO_LABEL)


def seed_rows(runs: pd.DataFrame, scores: pd.DataFrame, metric: str) -> list[dict]:
    """What a metric's panel draws, per variant: every seed's value by the every-seed rule
    (``scores``: :func:`.seeds.counted` of ``runs``), which seeds had none of their own
    (counted at the worst value), their outcomes, and the mean over every seed with its
    95% bootstrap interval, as ``compare`` and the tables compute them
    (:func:`.aggregates.summarize`: a seed at +inf makes the mean inf)."""
    out = []
    for var in dict.fromkeys(runs.variant):
        g = runs[runs.variant == var]
        raw = pd.to_numeric(g[metric], errors="coerce").to_numpy(dtype=float)
        vals = pd.to_numeric(scores.loc[g.index, metric], errors="coerce").to_numpy(dtype=float)
        out.append({"variant": var, "values": vals, "counted": np.isnan(raw) & ~np.isnan(vals),
                    "outcomes": [outcome(r.get("diagnosis"), r.status) for _, r in g.iterrows()],
                    **summarize(vals)})
    return out


def _log_axis(rows: list[dict]) -> bool:
    """A log axis where the finite values are all positive and span two decades or more
    (fd, fid: one collapsed seed would squeeze the rest into a corner)."""
    v = np.concatenate([r["values"] for r in rows])
    v = v[np.isfinite(v)]
    return len(v) > 1 and v.min() > 0 and v.max() / v.min() >= 100


def _panel(ax, metric: str, rows: list[dict], seen: set) -> None:
    """One metric: per variant its seeds as dots (× a seed counted at the worst value),
    the mean over every seed as a tick and its 95% interval as a bar; a value at +inf
    (a seed, or a mean over one) at the worst end of the axis."""
    y = np.arange(len(rows))[::-1]
    at_end = []
    if _log_axis(rows):
        ax.set_xscale("log")
    for yi, r in zip(y, rows):
        n = len(r["values"])
        jitter = np.linspace(-0.22, 0.22, n) if n > 1 else np.zeros(n)
        for val, counted, o, dy in zip(r["values"], r["counted"], r["outcomes"], jitter):
            seen.add(("×" if counted else "o", o))
            c = OUTCOME_COLOURS.get(o, "0.55")
            if np.isinf(val):
                at_end.append((val, yi + dy, "x", c))
            elif np.isfinite(val):
                ax.plot([val], [yi + dy], "x" if counted else "o", ms=4 if counted else 3.2,
                        mew=1.4, color=c, zorder=3)
        if np.isfinite(r["ci_low"]) and np.isfinite(r["ci_high"]):
            ax.plot([r["ci_low"], r["ci_high"]], [yi, yi], color="tab:blue", lw=2.5, alpha=0.35,
                    zorder=1)
        if np.isfinite(r["mean"]):
            ax.plot([r["mean"]], [yi], "|", ms=10, mew=2, color="tab:blue", alpha=0.8, zorder=2)
        elif np.isinf(r["mean"]):
            at_end.append((r["mean"], yi, ">" if r["mean"] > 0 else "<", "tab:blue"))
            seen.add(("inf", "mean"))
    lo, hi = ax.get_xlim()
    ends = ax.get_yaxis_transform()          # x in axes fractions: a mean just past the end
    for val, yy, marker, c in at_end:
        if marker == "x":
            ax.plot([hi if val > 0 else lo], [yy], marker, ms=5, mew=1.5, color=c, zorder=4,
                    clip_on=False)
        else:
            ax.plot([1.04 if val > 0 else -0.04], [yy], marker, ms=5, color=c, zorder=4,
                    clip_on=False, transform=ends)
    ax.set_xlim(lo, hi)
    better = {1: "higher better", -1: "lower better"}.get(catalogue.direction(metric), "")
    scale = ", log axis" if ax.get_xscale() == "log" else ""
    ax.set_title(metric + (f"\n({better}{scale})" if better or scale else ""), fontsize=8)
    ax.tick_params(axis="x", labelsize=6)
    ax.grid(axis="x", color="0.92")
    ax.set_yticks(y, [r["variant"] for r in rows], fontsize=7)
    ax.set_ylim(-0.7, len(rows) - 0.3)


def _legend(fig, seen: set, ncol: int) -> int:
    """The figure's legend (outcome colours, the × of a counted seed, the interval) in
    ``ncol`` columns; returns its number of rows."""
    outcomes = {o for _, o in seen}
    handles = [plt.Line2D([], [], ls="", marker="o", ms=4, color=OUTCOME_COLOURS[o], label=o)
               for o in OUTCOMES if o in outcomes]
    if any(k == "×" for k, _ in seen):
        handles.append(plt.Line2D([], [], ls="", marker="x", ms=5, mew=1.5, color="0.3",
                                  label="no value: counted at the worst value (+inf: axis end)"))
    handles.append(plt.Line2D([], [], color="tab:blue", lw=2.5, alpha=0.5, label=INTERVAL))
    if ("inf", "mean") in seen:
        handles.append(plt.Line2D([], [], ls="", marker=">", ms=5, color="tab:blue",
                                  label="mean +inf (a seed at +inf)"))
    fig.legend(handles=handles, loc="lower center", ncol=min(len(handles), ncol), fontsize=6,
               frameon=False, handletextpad=0.2, columnspacing=0.9)
    return -(-len(handles) // ncol)


def _rows_figure(datasets: list[tuple[str, pd.DataFrame, pd.DataFrame, list[str]]],
                 title: str) -> bytes:
    """One row of metric panels per (dataset, runs, their counted scores, metrics)."""
    cols = max(len(ms) for *_, ms in datasets)
    heights = [0.55 + max(0.6, 0.25 * r.variant.nunique()) for _, r, _, _ in datasets]
    width = 1.9 * cols + 1.3
    fig, axes = plt.subplots(len(datasets), cols, figsize=(width, sum(heights)), dpi=100,
                             squeeze=False, gridspec_kw={"height_ratios": heights})
    seen: set = set()
    for row, (ds, runs, scores, metrics) in zip(axes, datasets):
        for j, ax in enumerate(row):
            if j >= len(metrics):
                ax.axis("off")
                continue
            _panel(ax, metrics[j], seed_rows(runs, scores, metrics[j]), seen)
            if j:
                ax.tick_params(axis="y", labelleft=False)
            elif len(datasets) > 1:
                ax.set_ylabel(ds, fontsize=8)
    legend_h = 0.05 + 0.17 * _legend(fig, seen, 5 if width >= 8 else 3)
    h = sum(heights) + legend_h + 0.35
    fig.set_size_inches(width, h)
    fig.suptitle(title, fontsize=8)
    fig.tight_layout(rect=(0, legend_h / h, 1, 1), h_pad=0.4)
    return png_bytes(fig)


def key_metrics_figure(ds: str, runs: pd.DataFrame, outs=()) -> bytes | None:
    """The key metrics' distributions across seeds, one small chart per metric: per variant
    every seed a dot coloured by what it did (its first diagnosis label); every seed
    counted by the one rule (:mod:`.seeds`: ``outs``, the folders whose histories give
    diverged seeds' last evaluations), a seed without a value of its own as an × at the
    worst value it counts as (+inf: at the axis's worst end); the mean over every seed
    and its 95% bootstrap interval, as the tables and ``compare`` give them; the better
    end named, a log axis where the values span two decades."""
    metrics = key_metrics(runs)
    if not metrics:
        return None
    return _rows_figure([(ds, runs, counted(runs, outs), metrics)],
                        f"{ds}: across seeds, every seed a dot coloured by its diagnosis; "
                        f"{INTERVAL}")


def summary_figure(summary: pd.DataFrame, outs=()) -> bytes:
    """report.png: per dataset (a row) the key metrics across seeds, drawn as the
    report's key-metrics figure draws them (every seed counted, the mean over every seed
    with its 95% bootstrap interval)."""
    scores = counted(summary, outs)
    rows = []
    for ds in dict.fromkeys(summary.dataset):
        runs = summary[summary.dataset == ds]
        rows.append((str(ds), runs, scores.loc[runs.index], key_metrics(runs) or ["wall_s"]))
    return _rows_figure(rows, f"across seeds, every seed a dot coloured by its diagnosis; {INTERVAL}")
