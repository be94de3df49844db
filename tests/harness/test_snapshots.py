"""A picture of the samples at every evaluation (samples/step_NNNNNN.png): drawn where a
hand computation puts each point, the image grid as torchvision draws it, kept for every
evaluation before a seed diverged, written by a tiny 2D run, a tiny image run and Monitor."""
import io
import json

import numpy as np
import pytest
import torch
import yaml
from PIL import Image

from ganbench.config.suite import parse_suite
from ganbench.data import datasets
from ganbench.harness import snapshots
from ganbench.harness.loop import train_seeds
from ganbench.harness.recorder import Recorder
from helpers.digit_fixtures import digits  # noqa: F401  (fixture)

SMALL = {"generator": {"name": "mlp", "width": 16, "depth": 1, "z_dim": 4},
         "discriminator": {"name": "mlp", "width": 16, "depth": 1},
         "optimizer": {"name": "adam", "lr": 0.001}, "batch_size": 32, "n_eval": 200}


def pixels(png: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB"))


def test_a_point_lands_on_the_pixel_a_hand_computation_gives():
    ring = datasets.build("ring8")
    x0, x1, y0, y1 = ring.bounds()
    h = w = snapshots.SIZE                        # ring8's frame is square
    assert x1 - x0 == pytest.approx(y1 - y0)
    # a point at a quarter of the width and three quarters of the height
    p = np.array([[x0 + 0.25 * (x1 - x0) + 1e-9, y0 + 0.75 * (y1 - y0) - 1e-9]])
    img = snapshots.points_picture(ring, np.zeros((0, 2)), p)
    assert img.shape == (h, w, 3)
    row, col = int(0.25 * h), int(0.25 * w)           # y grows upwards, rows downwards
    blue = img[row, col]
    assert blue[2] > blue[0] + 0.1                    # blue over white, one point's opacity
    np.testing.assert_allclose(blue, 0.65 * 1 + 0.35 * snapshots._BLUE)
    # nothing else is blue; a point outside the frame or not finite is not drawn
    img2 = snapshots.points_picture(ring, np.zeros((0, 2)),
                                    np.vstack([p, [[x1 + 5, 0.0], [np.nan, 0.0]]]))
    np.testing.assert_array_equal(img, img2)
    # every mode centre has its red cross
    r, c = snapshots._pixels(ring.centres, ring.bounds(), h, w)
    np.testing.assert_array_equal(img[r - 2, c], np.tile(snapshots._RED, (len(r), 1)))


def test_image_grid_is_torchvisions_make_grid():
    from torchvision.utils import make_grid
    rng = np.random.default_rng(0)
    for shape, n in (((1, 8, 8), 16), ((3, 5, 7), 10)):
        flat = rng.uniform(-1.2, 1.2, (n, int(np.prod(shape))))
        x = torch.as_tensor(flat, dtype=torch.float32).reshape(-1, *shape)
        ref = make_grid((x.clamp(-1, 1) + 1) / 2, nrow=int(np.ceil(np.sqrt(n))), padding=1,
                        pad_value=1.0).permute(1, 2, 0).numpy()
        np.testing.assert_allclose(snapshots.image_grid(flat, shape, n), ref, atol=1e-6)


def test_the_recorder_keeps_a_picture_per_evaluation_until_a_seed_diverges():
    ring = datasets.build("ring8")
    rec = Recorder(ring, [0, 1], ["x"])
    fake = np.zeros((2, 50, 2))
    rec.steps([1, 2], torch.zeros(2, 2, 1))
    rec.evaluation(2, [({"m": 1.0}, {}), ({"m": 1.0}, {})], fake, fake)
    bad = torch.zeros(2, 2, 1)
    bad[1, 1, 0] = float("nan")                       # seed 1 diverges at step 4
    rec.steps([3, 4], bad)
    rec.evaluation(4, [({"m": 1.0}, {}), None], fake, fake)
    rec.evaluation(6, [({"m": 1.0}, {}), ({"m": 1.0}, {})], fake, fake)
    ok, diverged = rec.results(6, fake, fake)
    assert sorted(ok.pictures) == [2, 4, 6] and sorted(diverged.pictures) == [2]
    assert [f for f in ok.artifacts if f.startswith("samples/")] == \
        ["samples/step_000002.png", "samples/step_000004.png", "samples/step_000006.png"]
    assert {"file": "samples", "caption": "samples over training", "kind": "image_series"} in ok.declared
    assert snapshots.step_of("samples/step_000004.png") == 4


def test_a_tiny_2d_run_keeps_the_samples_of_every_evaluation():
    raw = {"datasets": ["ring8"], "defaults": SMALL,
           "variants": {"v": {"objective": "nonsaturating", "steps": 30, "eval_every": 10}}}
    spec = parse_suite(raw).specs[0]
    results, _ = train_seeds(spec.dataset_spec(), spec.config, [0, 1])
    for r in results:
        assert r.status == "ok"
        assert sorted(r.pictures) == [10, 20, 30]
        for step in (10, 20, 30):
            px = pixels(r.artifacts[snapshots.file_name(step)])
            assert px.shape == (snapshots.SIZE, snapshots.SIZE, 3)
            assert len(r.artifacts[snapshots.file_name(step)]) < 10_000   # a few kB
    # the last picture draws the samples samples.png draws (the last evaluation's)
    last = snapshots.points_picture(datasets.build("ring8"), results[0].real, results[0].fake)
    np.testing.assert_array_equal(pixels(results[0].artifacts[snapshots.file_name(30)]),
                                  (last * 255).round().astype(np.uint8))


def test_a_tiny_image_run_keeps_a_grid_per_evaluation(digits):  # noqa: F811
    suite = parse_suite(yaml.safe_load("""
        seeds: 1
        datasets: [digits]
        defaults: {steps: 4, batch_size: 8, eval_every: 2, n_eval: 64,
                   generator: {name: dcgan, width: 4, z_dim: 4},
                   discriminator: {name: dcgan, width: 4}}
        variants: {ns: {objective: nonsaturating}}"""))
    spec = suite.specs[0]
    (res,), _ = train_seeds(spec.dataset_spec(), spec.config, [0])
    assert res.status == "ok", res.error
    assert sorted(res.pictures) == [2, 4]
    px = pixels(res.pictures[4])
    side = 4 * (8 + 1) + 1                          # 4 × 4 digits of 8 × 8, 1 pixel apart
    assert px.shape == (3 * side, 3 * side, 3)      # enlarged 3 × to reach MIN_SIDE
    grid = snapshots.image_grid(res.fake, (1, 8, 8), snapshots.IMAGES)
    np.testing.assert_array_equal(px[::3, ::3], (grid * 255).round().astype(np.uint8))


def test_monitor_writes_the_samples_of_every_evaluation(tmp_path):
    from ganbench import Monitor
    torch.manual_seed(0)
    G = torch.nn.Sequential(torch.nn.Linear(2, 16), torch.nn.ReLU(), torch.nn.Linear(16, 2))
    mon = Monitor(tmp_path / "out", dataset="ring8", n_eval=200)
    for step in (5, 10, 15):
        mon.log(step, d_loss=1.0, g_loss=1.0)
        with torch.no_grad():
            mon.evaluate(step, samples=G(torch.randn(200, 2)))
    meta = mon.close()
    run = tmp_path / "out" / "runs" / "ring8__mine__seed0"
    assert sorted(p.name for p in (run / "samples").iterdir()) == \
        ["step_000005.png", "step_000010.png", "step_000015.png"]
    assert {"file": "samples", "caption": "samples over training", "kind": "image_series"} \
        in meta["artifacts"]
    assert json.loads((run / "metrics.json").read_text())["artifacts"] == meta["artifacts"]


def test_a_rerun_leaves_no_picture_of_the_old_run(tmp_path):
    from ganbench.runs.store import RunFiles, write_run_files
    old = {"samples/step_000010.png": b"a", "samples/step_000020.png": b"b"}
    write_run_files(tmp_path, RunFiles("r", {}, {}, None, old))
    write_run_files(tmp_path, RunFiles("r", {}, {}, None, {"samples/step_000015.png": b"c"}))
    assert [p.name for p in (tmp_path / "runs" / "r" / "samples").iterdir()] == ["step_000015.png"]
