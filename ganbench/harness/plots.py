"""Per-run plots (matplotlib, no display needed)."""
from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from ..layout import png_bytes  # noqa: E402,F401  (checkpoint probes draw with it too)
from ..metrics.coverage import mode_assignment  # noqa: E402
from .snapshots import image_grid  # noqa: E402,F401  (benchmarks draw grids with it too)


def missed_modes(dataset, fake: np.ndarray) -> np.ndarray:
    """Indices of the modes no generated point of ``fake`` is a high-quality sample of
    (the modes ``modes_captured`` does not count at min_hq 1)."""
    nearest, hq = mode_assignment(fake, dataset.centres, dataset.stds)
    return np.setdiff1d(np.arange(len(dataset.centres)), nearest[hq])


def samples_png(dataset, real: np.ndarray, fake: np.ndarray | None, title: str) -> bytes:
    """PNG of the generated points drawn over the data (faint, underneath, so a mode G
    misses shows as grey without blue), mode centres marked, and each mode without one
    high-quality sample circled (2D datasets; ``modes_captured`` at min_hq 1)."""
    fig, ax = plt.subplots(figsize=(4.2, 4.2), dpi=110)
    ax.scatter(real[:, 0], real[:, 1], s=2, c="0.7", label="data", linewidths=0)
    if fake is not None:
        ax.scatter(fake[:, 0], fake[:, 1], s=3, c="tab:blue", alpha=0.5, label="generated",
                   linewidths=0)
    if dataset.has_modes:
        ax.scatter(dataset.centres[:, 0], dataset.centres[:, 1], marker="+", c="tab:red", s=40,
                   linewidths=0.8, label="mode centres")
        if fake is not None and len(fake):
            missed = missed_modes(dataset, fake)
            if len(missed):
                ax.scatter(dataset.centres[missed, 0], dataset.centres[missed, 1], marker="o",
                           s=160, facecolors="none", edgecolors="tab:red", linewidths=1.0,
                           label=f"missed ({len(missed)})")
    x0, x1, y0, y1 = dataset.bounds()
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    ax.set_aspect("equal")
    ax.set_title(title, fontsize=8)
    legend = ax.legend(loc="upper right", fontsize=6)
    for handle in getattr(legend, "legend_handles", None) or legend.legendHandles:
        handle.set_sizes([30])     # one marker size in the legend, whatever the plot's
    fig.tight_layout()
    return png_bytes(fig)


def image_samples_png(dataset, real: np.ndarray, fake: np.ndarray | None, title: str) -> bytes:
    """PNG of generated images beside data images (image datasets)."""
    panels = ([("generated", fake)] if fake is not None else []) + [("data", real)]
    fig, axes = plt.subplots(1, len(panels), figsize=(3.6 * len(panels), 4.0), dpi=110,
                             squeeze=False)
    for ax, (name, x) in zip(axes[0], panels):
        ax.imshow(image_grid(x, dataset.image_shape), interpolation="nearest")
        ax.set_title(name, fontsize=8)
        ax.axis("off")
    fig.suptitle(title, fontsize=8)
    fig.tight_layout()
    return png_bytes(fig)
