"""The report's training curves, read from each run's history.csv (matplotlib, no display).

Two figures per dataset, each variant one colour in both (:func:`variant_colours`):

- the curves whose units every variant shares (modes captured, fd, fid, G's gradient
  norm, the Dirac-GAN's distance to the equilibrium): one panel each, every variant on it;
- the D and G losses: one pair of panels per objective. A loss is in its objective's own
  units (a cross-entropy near log 4, a least-squares error near 0.5, a critic's score that
  drifts to -15, RaSGAN's G loss near 50): on one shared axis the largest flattens the
  others, and the numbers are not comparable across objectives anyway. A symlog axis
  would keep them on one panel, but it squeezes the band [-1, 1] where most of these
  losses live into its linear core and bends every oscillation above it, so its shape
  depends on the level it oscillates at. Per objective, each loss keeps a linear axis of
  its own, and the variants that share an objective (a penalty, packing) share it.
"""
from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402

from ..layout import png_bytes  # noqa: E402
from ..layout.run_folder import RunFolder  # noqa: E402
from ..layout.summaries import objective_name  # noqa: E402
from ..metrics import catalogue  # noqa: E402

#: the training curves in each objective's own units (drawn one panel per objective)
LOSS_CURVES = ("d_loss", "g_loss")
#: objectives side by side in the loss figure before it wraps to another row of panels
OBJECTIVES_PER_ROW = 5


def histories(out: Path, runs: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """history.csv of each run that has one, by run id."""
    got = {rid: RunFolder.of(out, rid).history() for rid in runs.run_id}
    return {rid: h for rid, h in got.items() if h is not None}


def objective_of(out: Path, run_id: str) -> str | None:
    """The objective's name in a run's config.json (None when it names none)."""
    obj = objective_name(RunFolder.of(out, run_id).config())
    return obj if isinstance(obj, str) and obj else None


def objectives(out: Path, runs: pd.DataFrame) -> dict[str, str]:
    """Variant -> its objective (its runs' first; the variant's own name when its config
    names none, e.g. a Monitor run of the user's own loop)."""
    got = {}
    for var, g in runs.groupby("variant", sort=False):
        got[var] = next((o for o in map(lambda r: objective_of(out, r), g.run_id) if o), str(var))
    return got


def variant_colours(variants) -> dict:
    """One colour per variant, the same in every figure of the report."""
    variants = list(dict.fromkeys(variants))
    cmap = plt.get_cmap("tab10" if len(variants) <= 10 else "tab20")
    return {v: cmap(i % cmap.N) for i, v in enumerate(variants)}


def mean_curve(frames: list[pd.DataFrame], col: str) -> pd.Series | None:
    """The mean over seeds of one column by step; dense per-step curves smoothed for
    reading (a rolling mean over 1/200 of their length)."""
    parts = [f.set_index("step")[col].dropna() for f in frames if col in f]
    parts = [p for p in parts if len(p)]
    if not parts:
        return None
    mean = pd.concat(parts, axis=1).mean(axis=1)
    if len(mean) > 400:
        mean = mean.rolling(max(1, len(mean) // 200), min_periods=1).mean()
    return mean


def _frames(runs: pd.DataFrame, hist: dict) -> dict[str, list[pd.DataFrame]]:
    return {var: [hist[r] for r in g.run_id if r in hist]
            for var, g in runs.groupby("variant", sort=False)}


def shared_curves_figure(ds: str, runs: pd.DataFrame, hist: dict, colours: dict) -> bytes | None:
    """One panel per curve whose units the variants share, every variant on it."""
    frames = _frames(runs, hist)
    cols = [m for m in catalogue.curves() if m.name not in LOSS_CURVES
            and any(m.name in f for fs in frames.values() for f in fs)]
    if not cols:
        return None
    fig, axes = plt.subplots(1, len(cols), figsize=(3.3 * len(cols), 3.0), dpi=100, squeeze=False)
    for ax, m in zip(axes[0], cols):
        for var, fs in frames.items():
            mean = mean_curve(fs, m.name)
            if mean is not None:
                ax.plot(mean.index, mean.to_numpy(), label=var, lw=1, color=colours[var])
        ax.set_title(m.curve, fontsize=9)
        ax.tick_params(labelsize=7)
        if m.log:
            ax.set_yscale("log")
    axes[0][0].legend(fontsize=6)
    fig.suptitle(f"{ds}: training curves, mean over seeds", fontsize=10)
    fig.tight_layout()
    return png_bytes(fig)


def loss_curves_figure(ds: str, runs: pd.DataFrame, hist: dict, objective: dict,
                       colours: dict) -> bytes | None:
    """The D and G losses, one pair of panels per objective (D above G), each on its own
    linear axis; ``objective``: variant -> objective name."""
    frames = _frames(runs, hist)
    losses = [m for m in catalogue.curves() if m.name in LOSS_CURVES
              and any(m.name in f for fs in frames.values() for f in fs)]
    groups: dict[str, list[str]] = {}
    for var in frames:
        if frames[var]:
            groups.setdefault(objective.get(var, var), []).append(var)
    if not losses or not groups:
        return None
    names = list(groups)
    per_row = min(OBJECTIVES_PER_ROW, len(names))
    blocks = -(-len(names) // per_row)
    rows = blocks * len(losses)
    fig, axes = plt.subplots(rows, per_row, figsize=(2.75 * per_row, 1.75 * rows + 0.5), dpi=100,
                             squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    for i, obj in enumerate(names):
        block, col = divmod(i, per_row)
        for j, m in enumerate(losses):
            ax = axes[block * len(losses) + j][col]
            ax.axis("on")
            for var in groups[obj]:
                mean = mean_curve(frames[var], m.name)
                if mean is not None:
                    ax.plot(mean.index, mean.to_numpy(), lw=1, color=colours[var], label=var)
            ax.set_title(f"{obj}: {m.curve}", fontsize=8)
            ax.tick_params(labelsize=6)
            ax.grid(color="0.93")
            if j == 0:
                ax.legend(fontsize=5.5, loc="best")
    fig.suptitle(f"{ds}: D and G losses, mean over seeds, one axis per objective (each in its "
                 "own units)", fontsize=9)
    fig.tight_layout()
    return png_bytes(fig)
