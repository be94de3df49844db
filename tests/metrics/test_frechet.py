import numpy as np
import pytest

from ganbench.metrics import frechet_distance


def test_identical_sets_have_zero_distance():
    x = np.random.default_rng(0).normal(size=(500, 2))
    assert frechet_distance(x, x) == pytest.approx(0.0, abs=1e-8)


def test_closed_form_for_isotropic_gaussians():
    # N(μ1, a²I) vs N(μ2, b²I) in d dims: ‖μ1-μ2‖² + d (a - b)²
    rng = np.random.default_rng(1)
    z = rng.normal(size=(200000, 2))
    z = (z - z.mean(0)) / z.std(0)
    x, y = 1.0 * z + [0.0, 0.0], 3.0 * z + [3.0, 4.0]
    assert frechet_distance(x, y) == pytest.approx(25 + 2 * (3 - 1) ** 2, rel=1e-3)


def test_non_finite_gives_nan():
    x = np.ones((10, 2))
    y = x.copy()
    y[0, 0] = np.inf
    assert np.isnan(frechet_distance(x, y))
