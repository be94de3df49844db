"""Mode coverage on hand-made sample sets with known answers."""
import math

import numpy as np
import pytest

from ganbench.metrics import (hq_fraction, mode_coverage, modes_captured, reverse_kl,
                              reverse_kl_from_counts)

C = np.array([[0.0, 0.0], [10.0, 0.0], [0.0, 10.0], [10.0, 10.0]])
STD = 0.5  # hq radius = 1.5


def pts(*groups):
    return np.array([p for centre, n, off in groups for p in [np.add(centre, off)] * n], dtype=float)


def test_all_modes_evenly_covered():
    x = pts(*[(c, 5, (0.1, 0.0)) for c in C])
    cov = mode_coverage(x, C, STD)
    assert cov["modes_captured"] == 4
    assert cov["hq_fraction"] == 1.0
    assert cov["reverse_kl"] == pytest.approx(0.0, abs=1e-12)


def test_collapse_onto_one_mode():
    x = pts((C[2], 7, (0.0, 1.0)))
    assert modes_captured(x, C, STD) == 1
    assert reverse_kl(x, C, STD) == pytest.approx(math.log(4))   # log K - H(delta) = log 4


def test_low_quality_samples_do_not_count():
    # 3 samples near mode 0; 2 samples 2.0 away from mode 1 (> 3 std = 1.5): not hq
    x = pts((C[0], 3, (0.0, 0.5)), (C[1], 2, (2.0, 0.0)))
    assert hq_fraction(x, C, STD) == pytest.approx(3 / 5)
    assert modes_captured(x, C, STD) == 1


def test_boundary_is_inclusive_at_three_std():
    x = pts((C[0], 1, (1.5, 0.0)), (C[1], 1, (1.5001, 0.0)))
    assert hq_fraction(x, C, STD) == 0.5


def test_min_hq_threshold():
    x = pts((C[0], 10, (0, 0)), (C[1], 2, (0, 0)))
    assert modes_captured(x, C, STD, min_hq=1) == 2
    assert modes_captured(x, C, STD, min_hq=3) == 1


def test_reverse_kl_of_a_known_histogram():
    # p = (1/2, 1/2, 0, 0) over K=4: KL(p||u) = log 4 - log 2 = log 2
    assert reverse_kl_from_counts([5, 5, 0, 0]) == pytest.approx(math.log(2))
    assert math.isnan(reverse_kl_from_counts([0, 0, 0]))


def test_per_mode_stds_and_non_finite_samples():
    stds = np.array([0.1, 1.0, 0.1, 0.1])
    x = np.array([[0.5, 0.0], [10.5, 0.0], [np.nan, 0.0]])
    assert hq_fraction(x, C, stds) == pytest.approx(1 / 3)   # only the mode-1 sample is hq


def test_accepts_torch_tensors():
    import torch
    x = torch.tensor(C[:2] + 0.1, dtype=torch.float32)
    assert modes_captured(x, torch.tensor(C), STD) == 2
