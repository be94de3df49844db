"""Per-run plots (matplotlib, no display needed)."""
from __future__ import annotations

import io

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402


def samples_png(dataset, real: np.ndarray, fake: np.ndarray | None, title: str) -> bytes:
    """PNG of the generated points over the data, mode centres marked (2D datasets)."""
    fig, ax = plt.subplots(figsize=(4.2, 4.2), dpi=110)
    if fake is not None:
        ax.scatter(fake[:, 0], fake[:, 1], s=3, c="tab:blue", alpha=0.5, label="generated",
                   linewidths=0)
    ax.scatter(real[:, 0], real[:, 1], s=2, c="black", label="data", linewidths=0)
    if dataset.has_modes:
        ax.scatter(dataset.centres[:, 0], dataset.centres[:, 1], marker="+", c="tab:red", s=40,
                   linewidths=0.8, label="mode centres")
    x0, x1, y0, y1 = dataset.bounds()
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    ax.set_aspect("equal")
    ax.set_title(title, fontsize=8)
    ax.legend(loc="upper right", fontsize=6, markerscale=2)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    plt.close(fig)
    return buf.getvalue()
