"""The samples of every evaluation as one small picture (``samples/step_000400.png`` in
the run's folder), so a run shows how G got where it ended, not only where (samples.png).

- 2D data: the generated points (blue) over the data (grey) on the dataset's frame,
  mode centres as red crosses beneath; SIZE pixels on the longer side.
- Image data: the first IMAGES generated images (the same evaluation noise at every
  evaluation, so the grid shows the same images forming) as a square grid, its pixels
  repeated to at least MIN_SIDE pixels a side (8 × 8 digits: 3 ×).

Drawn with numpy and Pillow (:mod:`.drawing`), as every picture a run makes in its
worker: one is made at every evaluation of every stacked seed, and a thumbnail needs
no axes or legend (the report's strip captions each picture with its step). Measured
on a busy 2-core CPU, 2,500 points: a bare matplotlib scatter figure 61 ms, this
picture 6 ms (2 ms to draw, 3 ms to encode; Pillow's ``optimize`` would add 18 ms for
8% fewer bytes). A 2D picture is 1–4 kB, a 4 × 4 grid of digits about 3 kB.
"""
from __future__ import annotations

import numpy as np

from .drawing import BLUE, GREY, RED, coverage as _coverage, pixels as _pixels, png

#: a 2D picture's longer side, in pixels
SIZE = 128
#: generated images in an image run's picture (a 4 × 4 grid)
IMAGES = 16
#: an image grid smaller than this (pixels a side) is enlarged by a whole factor
MIN_SIDE = 96
#: the folder (inside the run's folder) of the pictures, and a picture's name there
FOLDER = "samples"

_GREY, _BLUE, _RED = (np.array(c) for c in (GREY, BLUE, RED))


def file_name(step: int) -> str:
    """The picture of the evaluation at ``step``, relative to the run's folder."""
    return f"{FOLDER}/step_{int(step):06d}.png"


def step_of(name: str) -> int:
    """The step of a picture's file name (``step_000400.png`` -> 400)."""
    return int(name.rsplit("/", 1)[-1].removeprefix("step_").removesuffix(".png"))


def points_picture(dataset, real: np.ndarray, fake: np.ndarray) -> np.ndarray:
    """The (H, W, 3) picture of 2D samples ``fake`` over ``real`` on the dataset's frame."""
    bounds = dataset.bounds()
    x0, x1, y0, y1 = bounds
    ratio = (x1 - x0) / (y1 - y0)
    h, w = (SIZE, max(8, round(SIZE * ratio))) if ratio <= 1 else (max(8, round(SIZE / ratio)), SIZE)
    img = np.ones((h, w, 3))
    if getattr(dataset, "has_modes", False):        # a small red plus under each mode
        r, c = _pixels(dataset.centres, bounds, h, w)
        for dr, dc in ((0, 0), (-2, 0), (-1, 0), (1, 0), (2, 0), (0, -2), (0, -1), (0, 1), (0, 2)):
            img[np.clip(r + dr, 0, h - 1), np.clip(c + dc, 0, w - 1)] = _RED
    for pts, colour, alpha in ((real, _GREY, 0.5), (fake, _BLUE, 0.35)):
        a = _coverage(pts, bounds, h, w, alpha)[..., None]
        img = img * (1 - a) + colour * a
    return img


def image_grid(flat: np.ndarray, image_shape, n: int = 64, padding: int = 1) -> np.ndarray:
    """Up to ``n`` flattened images (C, H, W) in [-1, 1] as one (H', W', 3) grid in [0, 1],
    ceil(sqrt(n)) images a row, white between them."""
    x = np.asarray(flat[:n], dtype=np.float64).reshape(-1, *image_shape)
    x = (np.clip(x, -1, 1) + 1) / 2
    if x.shape[1] == 1:
        x = np.repeat(x, 3, axis=1)
    k, (_, hh, ww) = len(x), x.shape[1:]
    cols = int(np.ceil(np.sqrt(k)))
    rows = int(np.ceil(k / cols))
    grid = np.ones((rows * (hh + padding) + padding, cols * (ww + padding) + padding, 3))
    for i, im in enumerate(x):
        r, c = divmod(i, cols)
        top, left = padding + r * (hh + padding), padding + c * (ww + padding)
        grid[top:top + hh, left:left + ww] = im.transpose(1, 2, 0)
    return grid


def snapshot(dataset, real: np.ndarray | None, fake: np.ndarray) -> bytes | None:
    """The PNG of one evaluation's samples (None for data that is neither 2D nor images)."""
    if dataset.is_image:
        grid = image_grid(fake, dataset.image_shape, IMAGES)
        k = int(np.ceil(MIN_SIDE / max(grid.shape[:2])))
        return png(grid.repeat(k, 0).repeat(k, 1) if k > 1 else grid)
    if dataset.dim == 2:
        return png(points_picture(dataset, real if real is not None else np.zeros((0, 2)), fake))
    return None
