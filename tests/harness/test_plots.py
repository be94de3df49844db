"""The per-run sample picture circles the modes G missed: the same modes that
``modes_captured`` leaves out."""
import numpy as np
import torch

from ganbench.data import datasets
from ganbench.harness.plots import missed_modes, samples_png
from ganbench.metrics.coverage import modes_captured


def test_missed_modes_are_the_modes_without_a_high_quality_sample():
    ring = datasets.build({"name": "ring8"}, "dataset")
    rng = np.random.default_rng(0)
    kept = [0, 1, 2, 4, 5, 7]
    fake = np.concatenate([ring.centres[k] + rng.normal(0, ring.stds[k], (50, 2)) for k in kept])
    fake = np.concatenate([fake, [[0.0, 0.0]]])     # one far sample: near mode 0, not high quality
    assert missed_modes(ring, fake).tolist() == [3, 6]
    assert modes_captured(fake, ring.centres, ring.stds) == 8 - 2
    real = ring.sample(200, torch.Generator().manual_seed(0)).numpy()
    png = samples_png(ring, real, fake, "six of eight")
    assert png[:8] == b"\x89PNG\r\n\x1a\n"


def _pixels(png: bytes) -> np.ndarray:
    import io
    from PIL import Image
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB")).astype(int)


def _red(px: np.ndarray) -> np.ndarray:
    return (px[..., 0] > 180) & (px[..., 1] < 90) & (px[..., 2] < 90)


def test_the_picture_circles_exactly_the_missed_modes():
    from ganbench.harness import plots
    from ganbench.harness.drawing import Frame
    ring = datasets.build({"name": "ring8"}, "dataset")
    rng = np.random.default_rng(1)
    kept = [0, 1, 2, 4, 5, 7]
    fake = np.concatenate([ring.centres[k] + rng.normal(0, ring.stds[k], (50, 2)) for k in kept])
    real = ring.sample(500, torch.Generator().manual_seed(0)).numpy()
    px = _pixels(samples_png(ring, real, fake, "six of eight"))
    assert px.shape == (plots.SIDE, plots.SIDE, 3)
    frame = Frame(plots._plot_box(ring.bounds(), plots.SIDE, plots.SIDE), ring.bounds())
    cols, rows = frame.xy(ring.centres[:, 0], ring.centres[:, 1])
    angles = np.linspace(0, 2 * np.pi, 64, endpoint=False)
    for k, (c, r) in enumerate(zip(cols, rows)):
        ring_px = [(int(round(r + 8 * np.sin(a))), int(round(c + 8 * np.cos(a)))) for a in angles]
        red = np.mean([_red(px[y - 1:y + 2, x - 1:x + 2]).any() for y, x in ring_px])
        assert (red > 0.9) == (k in (3, 6)), (k, red)
        assert _red(px[int(r) - 3:int(r) + 4, int(c)]).any()      # every centre's cross


def test_curves_on_a_log_scale_put_each_decade_where_it_belongs():
    from ganbench.harness.plots import curves_png
    x = np.arange(1, 101)
    png = curves_png([("down", x, 10.0 ** (-x / 50), 3, False),
                      ("with a zero", x, np.where(x == 50, 0.0, 0.5), 0, True)],
                     "t", "x", "y", log_y=True)
    px = _pixels(png)
    # the red curve (colour 3) falls 1.98 decades from its first x to its last; the
    # axis shows 1e-2 .. 1 and 0.04 decade beyond each end on the frame's 334 pixels
    red = np.argwhere(_red(px))
    left, right = red[red[:, 1] == red[:, 1].min()], red[red[:, 1] == red[:, 1].max()]
    assert abs(right[:, 0].mean() - left[:, 0].mean() - 1.98 / 2.08 * 334) < 4


def test_nice_ticks_are_round_and_inside():
    from ganbench.harness.drawing import nice_ticks, tick_label
    np.testing.assert_allclose(nice_ticks(-5.2, 5.2), [-4, -2, 0, 2, 4])
    np.testing.assert_allclose(nice_ticks(-2.6, 2.6), [-2, -1, 0, 1, 2])
    np.testing.assert_allclose(nice_ticks(0, 1000), [0, 200, 400, 600, 800, 1000])
    assert [tick_label(v) for v in (-0.0, 2.5, -4.0)] == ["0", "2.5", "-4"]
    assert [tick_label(v, log=True) for v in (1e-3, 0.1, 1.0, 10.0)] == ["1e-3", "0.1", "1", "10"]
