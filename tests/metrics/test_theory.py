"""jsd, v_star and d_star_gap against closed forms.

Partial coverage (the closed form the test below checks): pdata puts mass 1/K on each
of K well-separated modes φ_i; pg puts 1/k on k of them, with the same shape. Where a
covered mode is, p = φ/K and q = φ/k; on an uncovered mode q = 0. With M = (p + q)/2,
JSD = ½ KL(p || M) + ½ KL(q || M):
  ½ KL(p || M) = ½ [ (k/K) log(2k/(k + K)) + ((K - k)/K) log 2 ]
  ½ KL(q || M) = ½ log(2K/(k + K))
k = K gives 0 and k -> 0 gives log 2; K = 8, k = 4 gives 0.2158 nats.
"""
import math

import numpy as np
import pytest
import torch

from ganbench.data import datasets
from ganbench.metrics.theory import kde_log_density, select_bandwidth, theory_metrics

RING = datasets.build("ring8")


def closed_form_jsd(k: int, K: int) -> float:
    return 0.5 * ((k / K) * math.log(2 * k / (k + K)) + ((K - k) / K) * math.log(2)) \
        + 0.5 * math.log(2 * K / (k + K))


def draw(n, seed, modes=None):
    g = torch.Generator().manual_seed(seed)
    if modes is None:
        return RING.sample(n, g).numpy()
    idx = torch.tensor(modes)[torch.randint(len(modes), (n,), generator=g)]
    c = torch.tensor(RING.centres, dtype=torch.float32)
    return (c[idx] + float(RING.stds[0]) * torch.randn(n, 2, generator=g)).numpy()


def test_closed_form_ends():
    assert closed_form_jsd(8, 8) == pytest.approx(0.0)
    assert closed_form_jsd(1, 10**9) == pytest.approx(math.log(2), abs=1e-6)
    assert closed_form_jsd(4, 8) == pytest.approx(0.2158, abs=1e-4)


def test_pg_equal_pdata_gives_zero_and_d_star_one_half():
    real, fake = draw(2500, 1), draw(2500, 2)
    m = theory_metrics(real, fake, RING.log_prob, np.full(2500, 0.5), np.full(2500, 0.5))
    assert m["jsd"] < 0.01
    assert m["v_star"] == pytest.approx(-math.log(4), abs=0.02)
    assert m["d_star_gap"] < 0.06     # D = ½ is (about) optimal when pg = pdata


def test_disjoint_supports_give_log_two_and_a_perfect_d_is_optimal():
    real, fake = draw(1000, 1), draw(1000, 2) + 10.0
    m = theory_metrics(real, fake, RING.log_prob, np.ones(1000), np.zeros(1000))
    assert m["jsd"] == pytest.approx(math.log(2), abs=1e-3)
    assert m["v_star"] == pytest.approx(0.0, abs=2e-3)
    assert m["d_star_gap"] < 1e-3


@pytest.mark.parametrize("k", [2, 4, 6])
def test_partial_mode_coverage_gives_the_closed_form(k):
    real, fake = draw(2500, 1), draw(2500, 2, modes=list(range(k)))
    assert theory_metrics(real, fake, RING.log_prob)["jsd"] == pytest.approx(
        closed_form_jsd(k, 8), abs=0.015)


def test_kde_of_one_sample_is_that_gaussian():
    x = torch.tensor([[0.3, -0.1], [1.0, 2.0]], dtype=torch.float64)
    h = 0.5
    got = kde_log_density(x, torch.zeros(1, 2), h)
    want = -(x**2).sum(1) / (2 * h * h) - math.log(2 * math.pi * h * h)
    assert torch.allclose(got, want, atol=1e-5)


def test_leave_one_out_drops_each_points_own_kernel():
    y = torch.tensor([[0.0, 0.0], [1.0, 0.0]])
    got = kde_log_density(y, y, 1.0, leave_out_self=True)
    want = -0.5 - math.log(2 * math.pi)           # the other point, at distance 1
    assert torch.allclose(got, torch.full((2,), want, dtype=torch.float64), atol=1e-6)


def test_bandwidth_tracks_the_mode_width():
    h = select_bandwidth(draw(2000, 3))
    assert 0.002 < h < 0.05      # modes have std 0.02; the ring spans 4
