"""Small pictures drawn with numpy and Pillow: a frame with ticks, points blended by
how many fall on a pixel, markers, lines, text, a legend, and PNG bytes.

The pictures a run makes in its worker (samples.png, the per-evaluation snapshots,
a checkpoint probe's curves) are drawn with these, not matplotlib: a matplotlib figure
costs about 90-220 ms to draw and encode (and its import about half a second in each
worker process), one of these a few ms (``python benchmarks/end_of_run.py``).

Coordinates: a :class:`Frame` maps data coordinates (x to the right, y up; y on a
log scale with ``log_y``) onto a rectangle of pixels (row 0 at the top).
"""
from __future__ import annotations

import functools
import io
import math
from dataclasses import dataclass

import numpy as np

GREY = (0.72, 0.72, 0.72)
BLUE = (0.12, 0.40, 0.75)
RED = (0.85, 0.10, 0.10)
INK = (0.15, 0.15, 0.15)
#: line colours in order (matplotlib's default cycle, so the curves look as they did)
CYCLE = ((0.12, 0.47, 0.71), (1.0, 0.50, 0.05), (0.17, 0.63, 0.17), (0.84, 0.15, 0.16),
         (0.58, 0.40, 0.74), (0.55, 0.34, 0.29), (0.89, 0.47, 0.76), (0.50, 0.50, 0.50))


def png(rgb: np.ndarray) -> bytes:
    """An (H, W, 3) array in [0, 1], or a Pillow image, as PNG bytes."""
    from PIL import Image
    img = rgb if isinstance(rgb, Image.Image) else \
        Image.fromarray((np.clip(rgb, 0, 1) * 255).round().astype(np.uint8))
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return buf.getvalue()


def pixels(points: np.ndarray, bounds, h: int, w: int) -> tuple[np.ndarray, np.ndarray]:
    """Row and column of each point inside ``bounds`` (x0, x1, y0, y1) on an h × w canvas
    (row 0 at the top, y1); points outside or not finite are left out."""
    x0, x1, y0, y1 = bounds
    p = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    p = p[np.isfinite(p).all(1)]
    col = np.floor((p[:, 0] - x0) / (x1 - x0) * w).astype(int)
    row = np.floor((y1 - p[:, 1]) / (y1 - y0) * h).astype(int)
    inside = (col >= 0) & (col < w) & (row >= 0) & (row < h)
    return row[inside], col[inside]


def counts(points: np.ndarray, bounds, h: int, w: int, size: int = 1) -> np.ndarray:
    """How many points fall on each pixel of an h × w canvas (h, w), each point
    covering ``size`` × ``size`` pixels around it."""
    r, c = pixels(points, bounds, h, w)
    off = (size - 1) // 2
    flat = [(np.clip(r + dr - off, 0, h - 1) * w + np.clip(c + dc - off, 0, w - 1))
            for dr in range(size) for dc in range(size)]
    n = np.bincount(np.concatenate(flat), minlength=h * w) if flat else np.zeros(h * w)
    return n.reshape(h, w).astype(np.float64)


def coverage(points: np.ndarray, bounds, h: int, w: int, alpha: float, size: int = 1) -> np.ndarray:
    """How opaque each pixel is with points of opacity ``alpha`` stacked on it (h, w);
    each point covers ``size`` × ``size`` pixels."""
    return 1.0 - (1.0 - alpha) ** counts(points, bounds, h, w, size)


@functools.lru_cache(maxsize=None)
def font(size: int):
    """Pillow's own font at ``size`` pixels (a fixed small bitmap font where Pillow is
    older than 10.1 or has no FreeType)."""
    from PIL import ImageFont
    try:
        return ImageFont.load_default(size=size)
    except Exception:  # noqa: BLE001 - any Pillow without scalable fonts
        return ImageFont.load_default()


def rgb255(colour) -> tuple[int, int, int]:
    return tuple(int(round(255 * c)) for c in colour)


def nice_ticks(lo: float, hi: float, n: int = 5) -> np.ndarray:
    """About ``n`` round values (1, 2, 2.5 or 5 × 10^k apart) between lo and hi."""
    raw = (hi - lo) / max(1, n)
    if not raw > 0:
        return np.array([lo])
    mag = 10.0 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw * 0.75)
    first = math.ceil(lo / step - 1e-9) * step
    return np.arange(first, hi + step * 1e-6, step)


def tick_label(v: float, log: bool = False) -> str:
    if log:
        k = int(round(math.log10(v)))
        return {0: "1", 1: "10", -1: "0.1"}.get(k, f"1e{k}")
    s = f"{v:.6g}"
    return "0" if s in ("-0", "0") else s


@dataclass
class Frame:
    """A plot area of ``box`` = (left, top, right, bottom) pixels showing ``bounds`` =
    (x0, x1, y0, y1) of the data (with ``log_y``, y0 and y1 are the values, > 0)."""

    box: tuple[int, int, int, int]
    bounds: tuple[float, float, float, float]
    log_y: bool = False

    def _y(self, y):
        return np.log10(y) if self.log_y else np.asarray(y, dtype=np.float64)

    def xy(self, x, y) -> tuple[np.ndarray, np.ndarray]:
        """Pixel columns and rows (floats) of data points."""
        l, t, r, b = self.box
        x0, x1, y0, y1 = self.bounds
        ylo, yhi = self._y(y0), self._y(y1)
        with np.errstate(divide="ignore", invalid="ignore"):
            col = l + (np.asarray(x, dtype=np.float64) - x0) / (x1 - x0) * (r - l)
            row = t + (yhi - self._y(y)) / (yhi - ylo) * (b - t)
        return col, row

    def shape(self) -> tuple[int, int]:
        l, t, r, b = self.box
        return b - t, r - l


def blend(canvas: np.ndarray, frame: Frame, points: np.ndarray, colour, alpha: float,
          size: int = 1) -> np.ndarray:
    """``canvas`` (H, W, 3, uint8) with ``points`` blended into the frame's plot area
    (only the pixels they fall on are touched)."""
    l, t, r, b = frame.box
    h, w = frame.shape()
    n = counts(points, frame.bounds, h, w, size)
    rows, cols = np.nonzero(n)
    a = (1.0 - (1.0 - alpha) ** n[rows, cols])[:, None]
    old = canvas[t + rows, l + cols].astype(np.float64)
    canvas[t + rows, l + cols] = (old * (1 - a) + np.asarray(rgb255(colour)) * a).round().astype(np.uint8)
    return canvas


def text(draw, xy, s: str, size: int = 11, anchor: str = "la", colour=INK) -> None:
    """Text at ``xy`` (Pillow's anchors: 'mm' centred, 'ra' right-top, ...)."""
    f = font(size)
    try:
        draw.text(xy, s, fill=rgb255(colour), font=f, anchor=anchor)
    except ValueError:                          # a bitmap font takes no anchor
        draw.text(xy, s, fill=rgb255(colour), font=f)


def axes(draw, frame: Frame, xticks, yticks, size: int = 11) -> None:
    """The plot area's frame, its tick marks and their labels (left and below)."""
    l, t, r, b = frame.box
    draw.rectangle((l - 1, t - 1, r, b), outline=rgb255(INK))
    cols, _ = frame.xy(np.asarray(xticks, dtype=float), np.full(len(xticks), frame.bounds[3]))
    for v, c in zip(xticks, cols):
        draw.line((c, b, c, b + 4), fill=rgb255(INK))
        text(draw, (c, b + 6), tick_label(v), size, "mt")
    _, rows = frame.xy(np.zeros(len(yticks)), np.asarray(yticks, dtype=float))
    for v, row in zip(yticks, rows):
        draw.line((l - 5, row, l - 1, row), fill=rgb255(INK))
        text(draw, (l - 7, row), tick_label(v, frame.log_y), size, "rm")


def plus(draw, cols, rows, colour, arm: int = 4) -> None:
    for c, r in zip(cols, rows):
        draw.line((c - arm, r, c + arm, r), fill=rgb255(colour))
        draw.line((c, r - arm, c, r + arm), fill=rgb255(colour))


def rings(draw, cols, rows, colour, radius: int = 8) -> None:
    for c, r in zip(cols, rows):
        draw.ellipse((c - radius, r - radius, c + radius, r + radius), outline=rgb255(colour))


def polyline(draw, cols, rows, colour, dashed: bool = False, width: int = 2) -> None:
    """A line through the finite points (broken where one is not finite); ``dashed``:
    6 pixels drawn, 4 left out, along its length."""
    pts = np.stack([cols, rows], 1)
    ok = np.isfinite(pts).all(1)
    runs = np.split(pts, np.flatnonzero(np.diff(ok.astype(int))) + 1)
    for seg in runs:
        if len(seg) < 2 or not np.isfinite(seg).all():
            continue
        if not dashed:
            draw.line([tuple(p) for p in seg], fill=rgb255(colour), width=width)
            continue
        along = np.concatenate([[0], np.cumsum(np.hypot(*np.diff(seg, axis=0).T))])
        for start in np.arange(0, along[-1], 10.0):
            s = np.linspace(start, min(start + 6, along[-1]), 4)
            xs, ys = np.interp(s, along, seg[:, 0]), np.interp(s, along, seg[:, 1])
            draw.line(list(zip(xs, ys)), fill=rgb255(colour), width=width)


def legend_size(draw, entries: list[tuple[str, str, tuple]], size: int = 10) -> tuple[int, int]:
    """The width and height of :func:`legend`'s box for ``entries``."""
    widths = [draw.textbbox((0, 0), label, font=font(size))[2] for _, label, _ in entries]
    return 36 + max(widths, default=0), (size + 5) * len(entries) + 6


def legend(draw, xy, entries: list[tuple[str, str, tuple]], corner: str = "top right",
           size: int = 10) -> None:
    """A legend box with its ``corner`` ('top right', 'bottom left', ...) at ``xy``:
    per entry (marker, label, colour), marker one of 'dot', 'plus', 'ring', 'line',
    'dashed'."""
    w, h = legend_size(draw, entries, size)
    l = xy[0] - w if "right" in corner else xy[0]
    top = xy[1] - h if "bottom" in corner else xy[1]
    draw.rectangle((l, top, l + w, top + h), fill=(255, 255, 255), outline=rgb255((0.8, 0.8, 0.8)))
    for i, (marker, label, colour) in enumerate(entries):
        y = top + 3 + (size + 5) * i + (size + 5) / 2
        x = l + 14
        if marker == "dot":
            draw.ellipse((x - 3, y - 3, x + 3, y + 3), fill=rgb255(colour))
        elif marker == "plus":
            plus(draw, [x], [y], colour)
        elif marker == "ring":
            rings(draw, [x], [y], colour, 5)
        else:
            polyline(draw, np.array([x - 10, x + 10]), np.array([y, y]), colour, marker == "dashed")
        text(draw, (l + 28, y), label, size, "lm")
