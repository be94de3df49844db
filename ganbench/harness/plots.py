"""Each run's end-of-run pictures, drawn with numpy and Pillow (:mod:`.drawing`): the
samples over the data (samples.png) and a checkpoint probe's curves. A run's worker
draws them, so they cost a few ms each (a matplotlib figure cost 90-220 ms a picture
and its import half a second a worker: ``python benchmarks/end_of_run.py``)."""
from __future__ import annotations

import numpy as np

from ..metrics.coverage import mode_assignment
from . import drawing as dr
from .snapshots import image_grid  # noqa: F401  (benchmarks draw grids with it too)

#: samples.png of 2D data: the canvas's side, and the margins around the plot area
#: (left for the y ticks' labels, top for the title, bottom for the x ticks' labels)
SIDE, LEFT, TOP, RIGHT, BOTTOM = 460, 46, 26, 12, 30
#: an image run's samples.png: each grid's longer side at least this many pixels
GRID_SIDE = 330


def missed_modes(dataset, fake: np.ndarray) -> np.ndarray:
    """Indices of the modes no generated point of ``fake`` is a high-quality sample of
    (the modes ``modes_captured`` does not count at min_hq 1)."""
    nearest, hq = mode_assignment(fake, dataset.centres, dataset.stds)
    return np.setdiff1d(np.arange(len(dataset.centres)), nearest[hq])


def _plot_box(bounds, width: int, height: int) -> tuple[int, int, int, int]:
    """The largest plot area of the data's aspect (x and y equally scaled) inside the
    canvas's margins, centred."""
    x0, x1, y0, y1 = bounds
    w, h = width - LEFT - RIGHT, height - TOP - BOTTOM
    scale = min(w / (x1 - x0), h / (y1 - y0))
    pw, ph = int(round((x1 - x0) * scale)), int(round((y1 - y0) * scale))
    left, top = LEFT + (w - pw) // 2, TOP + (h - ph) // 2
    return left, top, left + pw, top + ph


def samples_png(dataset, real: np.ndarray, fake: np.ndarray | None, title: str) -> bytes:
    """PNG of the generated points (blue, about half opaque) drawn over the data (grey,
    underneath, so a mode G misses shows as grey without blue), mode centres marked
    with red crosses, and each mode without one high-quality sample circled in red (2D
    datasets; ``modes_captured`` at min_hq 1); axes with the data's coordinates."""
    from PIL import Image, ImageDraw
    bounds = dataset.bounds()
    frame = dr.Frame(_plot_box(bounds, SIDE, SIDE), bounds)
    canvas = np.full((SIDE, SIDE, 3), 255, dtype=np.uint8)
    dr.blend(canvas, frame, real, dr.GREY, 0.7, size=2)
    entries = [("dot", "data", dr.GREY)]
    if fake is not None:
        dr.blend(canvas, frame, fake, dr.CYCLE[0], 0.45, size=2)
        entries.append(("dot", "generated", dr.CYCLE[0]))
    img = Image.fromarray(canvas)
    draw = ImageDraw.Draw(img)
    if dataset.has_modes:
        cols, rows = frame.xy(dataset.centres[:, 0], dataset.centres[:, 1])
        dr.plus(draw, cols, rows, dr.RED)
        entries.append(("plus", "mode centres", dr.RED))
        if fake is not None and len(fake):
            missed = missed_modes(dataset, fake)
            if len(missed):
                dr.rings(draw, cols[missed], rows[missed], dr.RED)
                entries.append(("ring", f"missed ({len(missed)})", dr.RED))
    x0, x1, y0, y1 = bounds
    dr.axes(draw, frame, dr.nice_ticks(x0, x1), dr.nice_ticks(y0, y1))
    dr.text(draw, (SIDE / 2, TOP / 2), title, 11, "mm")
    dr.legend(draw, (frame.box[2] - 4, frame.box[1] + 4), entries)
    return dr.png(img)


def image_samples_png(dataset, real: np.ndarray, fake: np.ndarray | None, title: str) -> bytes:
    """PNG of generated images beside data images (image datasets), each an 8 × 8 grid
    enlarged by a whole factor, captioned, under the run's title."""
    from PIL import Image, ImageDraw
    panels = ([("generated", fake)] if fake is not None else []) + [("data", real)]
    grids = [image_grid(x, dataset.image_shape) for _, x in panels]
    k = max(1, int(np.ceil(GRID_SIDE / max(max(g.shape[:2]) for g in grids))))
    grids = [g.repeat(k, 0).repeat(k, 1) for g in grids]
    gap, top = 20, 44
    width = sum(g.shape[1] for g in grids) + gap * (len(grids) + 1)
    height = top + max(g.shape[0] for g in grids) + gap
    canvas = np.ones((height, width, 3))
    left, lefts = gap, []
    for g in grids:
        canvas[top:top + g.shape[0], left:left + g.shape[1]] = g
        lefts.append(left)
        left += g.shape[1] + gap
    img = Image.fromarray((canvas * 255).round().astype(np.uint8))
    draw = ImageDraw.Draw(img)
    dr.text(draw, (width / 2, 12), title, 11, "mm")
    for (name, _), g, x in zip(panels, grids, lefts):
        dr.text(draw, (x + g.shape[1] / 2, top - 10), name, 11, "mm")
    return dr.png(img)


def curves_png(curves: list[tuple[str, np.ndarray, np.ndarray, int, bool]], title: str,
               xlabel: str, ylabel: str, log_y: bool = False) -> bytes:
    """PNG of line curves: per curve (label, x, y, colour index, dashed), on one pair of
    axes (y on a log scale with ``log_y``: values <= 0 or not finite break a line),
    with a legend at the lower left."""
    from PIL import Image, ImageDraw
    width, height = 620, 420
    xs = np.concatenate([np.asarray(x, dtype=float) for _, x, _, _, _ in curves])
    ys = np.concatenate([np.asarray(y, dtype=float) for _, _, y, _, _ in curves])
    ys = ys[np.isfinite(ys) & ((ys > 0) if log_y else True)]
    x0, x1 = (float(xs.min()), float(xs.max())) if len(xs) else (0.0, 1.0)
    pad = 0.04 * (x1 - x0 or 1.0)
    x0, x1 = x0 - pad, x1 + pad
    if log_y:
        lo, hi = (np.floor(np.log10(ys.min())), np.ceil(np.log10(ys.max()))) if len(ys) else (0, 1)
        hi = max(hi, lo + 1)
        y0, y1, yticks = 10.0 ** (lo - 0.04), 10.0 ** (hi + 0.04), 10.0 ** np.arange(lo, hi + 1)
    else:
        y0, y1 = (float(ys.min()), float(ys.max())) if len(ys) else (0.0, 1.0)
        pad = 0.05 * (y1 - y0 or 1.0)
        y0, y1 = y0 - pad, y1 + pad
        yticks = dr.nice_ticks(y0, y1)
    frame = dr.Frame((64, 40, width - 14, height - 46), (x0, x1, y0, y1), log_y)
    img = Image.new("RGB", (width, height), (255, 255, 255))
    draw = ImageDraw.Draw(img)
    entries, drawn = [], []
    for label, x, y, colour, dashed in curves:
        y = np.asarray(y, dtype=float)
        if log_y:
            y = np.where(y > 0, y, np.nan)
        cols, rows = frame.xy(x, y)
        c = dr.CYCLE[colour % len(dr.CYCLE)]
        dr.polyline(draw, cols, rows, c, dashed)
        entries.append(("dashed" if dashed else "line", label, c))
        drawn.append(np.stack([cols, rows], 1))
    dr.axes(draw, frame, dr.nice_ticks(x0, x1), yticks)
    dr.text(draw, (width / 2, 14), title, 11, "mm")
    l, t, r, b = frame.box
    dr.text(draw, ((l + r) / 2, height - 12), xlabel, 12, "mm")
    dr.text(draw, (8, t - 8), ylabel, 12, "ld")
    if entries:
        corner, xy = _emptiest_corner(frame, dr.legend_size(draw, entries), np.concatenate(drawn))
        dr.legend(draw, xy, entries, corner)
    return dr.png(img)


def _emptiest_corner(frame: dr.Frame, size: tuple[int, int], points: np.ndarray) -> tuple[str, tuple]:
    """The corner of the plot area where a legend box of ``size`` covers the fewest of
    the curves' ``points`` (pixels), and the point it is anchored at."""
    l, t, r, b = frame.box
    w, h = size
    best = None
    for corner, (x, y) in (("top right", (r - 4, t + 4)), ("bottom left", (l + 4, b - 4)),
                           ("top left", (l + 4, t + 4)), ("bottom right", (r - 4, b - 4))):
        x0 = x - w if "right" in corner else x
        y0 = y - h if "bottom" in corner else y
        inside = ((points[:, 0] >= x0) & (points[:, 0] <= x0 + w)
                  & (points[:, 1] >= y0) & (points[:, 1] <= y0 + h)).sum()
        if best is None or inside < best[0]:
            best = (inside, corner, (x, y))
    return best[1], best[2]
