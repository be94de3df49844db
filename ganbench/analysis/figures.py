"""The report's figures, drawn from a results folder's files (matplotlib, no display):
training curves, D against D*, Dirac-GAN trajectories, the key metrics with their
confidence intervals, and the summary figure (report.png)."""
from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from ..layout import png_bytes, run_dir  # noqa: E402
from ..metrics import catalogue  # noqa: E402
from .stats import bootstrap_ci  # noqa: E402
from .tables import is_categorical  # noqa: E402


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


def key_metrics_figure(ds: str, runs: pd.DataFrame) -> bytes | None:
    """Small charts, one per key metric: per variant its seeds (dots) and the mean with its
    95% bootstrap interval (bar), the better end marked."""
    metrics = key_metrics(runs)
    if not metrics:
        return None
    variants = list(dict.fromkeys(runs.variant))
    h = 0.9 + 0.24 * len(variants)
    fig, axes = plt.subplots(1, len(metrics), figsize=(1.9 * len(metrics) + 1.3, h), dpi=100,
                             sharey=True, squeeze=False)
    y = np.arange(len(variants))[::-1]
    for ax, m in zip(axes[0], metrics):
        for yi, var in zip(y, variants):
            v = pd.to_numeric(runs.loc[runs.variant == var, m], errors="coerce").dropna().to_numpy()
            if not len(v):
                continue
            ax.plot(v, np.full(len(v), yi), "o", ms=3, color="0.65", zorder=1)
            lo, hi = bootstrap_ci(v)
            if np.isfinite(lo):
                ax.plot([lo, hi], [yi, yi], color="tab:blue", lw=2.5, alpha=0.6, zorder=2)
            ax.plot([v.mean()], [yi], "|", ms=9, mew=2, color="tab:blue", zorder=3)
        better = {1: "higher better", -1: "lower better"}.get(catalogue.direction(m), "")
        ax.set_title(m + (f"\n({better})" if better else ""), fontsize=8)
        ax.tick_params(axis="x", labelsize=6)
        ax.grid(axis="x", color="0.92")
    axes[0][0].set_yticks(y, variants, fontsize=7)
    axes[0][0].set_ylim(-0.7, len(variants) - 0.3)
    fig.suptitle(f"{ds}: mean over seeds, 95% bootstrap interval, seeds as dots", fontsize=8)
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
