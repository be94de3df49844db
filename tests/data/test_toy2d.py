import math

import numpy as np
import pytest
import torch
from scipy import stats

from ganbench.data import datasets
from ganbench.metrics import mode_assignment


def draw(ds, n=40000, seed=0):
    return ds.sample(n, torch.Generator().manual_seed(seed)).numpy()


def test_ring8_has_8_distinct_modes_on_radius_2_with_std_002():
    ds = datasets.build("ring8")
    c = ds.centres
    assert c.shape == (8, 2)
    assert np.allclose(np.linalg.norm(c, axis=1), 2.0)
    angles = np.sort(np.mod(np.arctan2(c[:, 1], c[:, 0]), 2 * np.pi))
    assert np.allclose(np.diff(angles), 2 * np.pi / 8)          # 8 distinct, evenly spaced
    assert len({tuple(np.round(p, 6)) for p in c}) == 8
    x = draw(ds)
    nearest, _ = mode_assignment(x, c, ds.stds)
    counts = np.bincount(nearest, minlength=8)
    assert counts.min() > 0.11 * len(x)                          # every mode used, ~1/8 each
    for k in range(8):
        pts = x[nearest == k] - c[k]
        assert pts.std(0) == pytest.approx([0.02, 0.02], rel=0.05)


def test_grid25_centres_and_std():
    ds = datasets.build("grid25")
    assert sorted({round(v, 6) for v in ds.centres[:, 0]}) == [-4, -2, 0, 2, 4]
    assert len(ds.centres) == 25 and np.all(ds.stds == 0.05)
    x = draw(ds)
    nearest, _ = mode_assignment(x, ds.centres, ds.stds)
    assert (x - ds.centres[nearest]).std(0) == pytest.approx([0.05, 0.05], rel=0.05)


def test_parameters_are_overridable():
    ds = datasets.build({"name": "ring8", "n_modes": 6, "radius": 1.0, "std": 0.1})
    assert ds.centres.shape == (6, 2) and np.allclose(np.linalg.norm(ds.centres, axis=1), 1.0)
    assert np.all(ds.stds == 0.1)


def test_mixture_log_prob_is_exact():
    one = datasets.build({"name": "ring8", "n_modes": 1, "radius": 1.0, "std": 0.3})
    x = torch.tensor([[0.2, -0.1], [1.0, 0.0], [3.0, 3.0]])
    want = stats.multivariate_normal([1.0, 0.0], 0.09 * np.eye(2)).logpdf(x.numpy())
    assert np.allclose(one.log_prob(x).numpy(), want)
    # a K-mode mixture with well separated modes: log p ≈ log N(x; c_k) - log K at a centre
    ring = datasets.build("ring8")
    at_centre = ring.log_prob(torch.tensor(ring.centres[:1], dtype=torch.float32)).item()
    assert at_centre == pytest.approx(-math.log(2 * math.pi * 0.02**2) - math.log(8), rel=1e-4)


def test_curves_sample_and_state_no_modes_or_density():
    for name in ["spiral", "moons"]:
        ds = datasets.build(name)
        x = draw(ds, 1000)
        assert x.shape == (1000, 2) and np.isfinite(x).all()
        assert not ds.has_modes and not ds.has_density
    assert datasets.build("ring8").has_density and datasets.build("ring8").has_modes


def test_sampling_is_seeded():
    ds = datasets.build("grid25")
    assert np.array_equal(draw(ds, 100, 3), draw(ds, 100, 3))
    assert not np.array_equal(draw(ds, 100, 3), draw(ds, 100, 4))
