"""The Sensitivity section of a report on a swept suite: per variant a heat map (or line
plot) of a metric's per-setting seed means over the swept fields, and the expected
best-of-k curves with their bootstrap bands."""
from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from ..layout import png_bytes  # noqa: E402
from ..metrics import catalogue  # noqa: E402
from .html import esc, figure, img_tag, table  # noqa: E402
from .sensitivity import sections, setting_means, sweep_columns  # noqa: E402
from .tables import fmt  # noqa: E402


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


def sensitivity_html(ds: str, runs: pd.DataFrame, sens: pd.DataFrame, outs=()) -> list[str]:
    """The Sensitivity section of one dataset of a swept suite (``outs``: the folders with
    diverged runs' histories, for the every-seed rule)."""
    sens = sens[sens.dataset.astype(str) == str(ds)]
    if sens.empty:
        return []
    parts = [f"<h3>{esc(ds)}: Sensitivity to hyperparameters</h3>",
             "<p>Per setting, the mean over its seeds; over the settings tried: median [IQR], "
             "the best setting, and E[best of k], the expected best among k settings drawn at "
             "random (exact; [95% bootstrap band]) (Lucic et al. 2018).</p>"]
    head, secs = sections(sens, success=False)
    for _, rows in secs:
        parts.append(table(head, rows))
    metric = sens.metric.iloc[0]
    means = setting_means(runs, [metric], outs)
    cells = []
    for var, vm in means.groupby("variant", sort=False):
        got = sensitivity_map_figure(str(ds), str(var), vm, metric, runs[runs.variant == var])
        if got:
            png, kind = got
            cells.append(figure(img_tag(png, f"{ds} {var} sensitivity {kind} of {metric}"),
                                f"{var}: {metric} per setting (seed means)"))
        else:
            cells.append(figure("", f"{var}: no swept field takes two values, or no setting "
                                "has a value"))
    parts.append("<div class='grid maps'>" + "".join(cells) + "</div>")
    fig = best_of_k_figure(str(ds), sens)
    if fig:
        parts.append(img_tag(fig, f"{ds} expected best-of-k curves"))
    return parts
