"""The report's figures, drawn from a results folder's files (matplotlib, no display):
D against D*, Dirac-GAN trajectories, the key metrics' distributions across seeds with
their confidence intervals, and the summary figure (report.png). The training curves are
in :mod:`ganbench.analysis.curve_figures`."""
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
from .stats import bootstrap_ci  # noqa: E402
from .tables import is_categorical  # noqa: E402


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


def outcome(diagnosis_cell, status) -> str:
    """A run's first outcome in the board's order (``failed`` for a failed run)."""
    if status == "failed":
        return "failed"
    labels = diag.label_names(diagnosis_cell)
    return next((o for o in OUTCOMES if o in labels), diag.NO_LABEL)


def key_metrics_figure(ds: str, runs: pd.DataFrame) -> bytes | None:
    """The key metrics' distributions across seeds, one small chart per metric: per variant
    every seed a dot coloured by what it did (its first diagnosis label); a seed without a
    value (failed, diverged before any finite evaluation, or a metric undefined for it,
    e.g. ``reverse_kl`` with no high-quality sample) an × at the worst end of the axis; the
    mean of the seeds with a value and its 95% bootstrap interval as a bar; the better
    end named."""
    metrics = key_metrics(runs)
    if not metrics:
        return None
    variants = list(dict.fromkeys(runs.variant))
    h = 1.15 + max(0.6, 0.25 * len(variants))     # titles, ticks and legend; the rows
    fig, axes = plt.subplots(1, len(metrics), figsize=(1.75 * len(metrics) + 1.2, h), dpi=100,
                             sharey=True, squeeze=False)
    y = np.arange(len(variants))[::-1]
    seen, no_value = set(), False
    for ax, m in zip(axes[0], metrics):
        worst_end = []
        for yi, var in zip(y, variants):
            g = runs[runs.variant == var]
            v = pd.to_numeric(g[m], errors="coerce").to_numpy(dtype=float)
            jitter = np.linspace(-0.22, 0.22, len(g)) if len(g) > 1 else np.zeros(len(g))
            for (_, r), val, dy in zip(g.iterrows(), v, jitter):
                o = outcome(r.get("diagnosis"), r.status)
                seen.add(o)
                if np.isfinite(val):
                    ax.plot([val], [yi + dy], "o", ms=3.2, color=OUTCOME_COLOURS.get(o, "0.55"),
                            zorder=3)
                else:
                    worst_end.append((yi + dy, OUTCOME_COLOURS.get(o, "0.55")))
            ok = v[np.isfinite(v)]
            if not len(ok):
                continue
            lo, hi = bootstrap_ci(ok)
            if np.isfinite(lo):
                ax.plot([lo, hi], [yi, yi], color="tab:blue", lw=2.5, alpha=0.35, zorder=1)
            ax.plot([ok.mean()], [yi], "|", ms=10, mew=2, color="tab:blue", alpha=0.8, zorder=2)
        if worst_end:
            no_value = True
            lo, hi = ax.get_xlim()
            x = hi if catalogue.direction(m) < 0 else lo
            for yy, c in worst_end:
                ax.plot([x], [yy], "x", ms=5, mew=1.5, color=c, zorder=4, clip_on=False)
        better = {1: "higher better", -1: "lower better"}.get(catalogue.direction(m), "")
        ax.set_title(m + (f"\n({better})" if better else ""), fontsize=8)
        ax.tick_params(axis="x", labelsize=6)
        ax.grid(axis="x", color="0.92")
    axes[0][0].set_yticks(y, variants, fontsize=7)
    axes[0][0].set_ylim(-0.7, len(variants) - 0.3)
    handles = [plt.Line2D([], [], ls="", marker="o", ms=4, color=OUTCOME_COLOURS[o], label=o)
               for o in OUTCOMES if o in seen]
    if no_value:
        handles.append(plt.Line2D([], [], ls="", marker="x", ms=5, mew=1.5, color="0.3",
                                  label="no value: at the worst end"))
    handles.append(plt.Line2D([], [], color="tab:blue", lw=2.5, alpha=0.5,
                              label="mean, 95% bootstrap CI"))
    fig.legend(handles=handles, loc="lower center", ncol=min(len(handles), 8), fontsize=6,
               frameon=False, handletextpad=0.2, columnspacing=0.9)
    fig.suptitle(f"{ds}: across seeds, every seed a dot coloured by its diagnosis", fontsize=8)
    fig.tight_layout(rect=(0, 0.22 / h, 1, 1), h_pad=0.2)
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
