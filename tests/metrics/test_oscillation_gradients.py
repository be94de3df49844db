import numpy as np
import pytest

from ganbench.metrics import (d_saturation, grad_vanish_ratio, history_metrics, mode_hops,
                              nash_gap, osc_amplitude, osc_period)


def test_period_and_amplitude_of_a_sine_on_a_trend():
    t = np.arange(4000)
    loss = 0.001 * t + 0.5 * np.sin(2 * np.pi * t / 50)
    assert osc_period(loss) == pytest.approx(50, rel=0.02)
    assert osc_amplitude(loss) == pytest.approx(0.5 / np.sqrt(2), rel=0.02)   # std of A sin
    assert osc_period(loss[::5], step=5) == pytest.approx(50, rel=0.02)


def test_no_period_for_noise_or_drift():
    rng = np.random.default_rng(0)
    assert np.isnan(osc_period(rng.normal(size=2000)))                 # white noise
    t = np.arange(2000)
    drift = 0.5 - 1e-3 * t + 2e-7 * t**2          # polynomial drift (up to quadratic) + noise
    assert np.isnan(osc_period(drift + 0.01 * rng.normal(size=2000)))
    noisy = np.sin(2 * np.pi * t / 40) + rng.normal(size=2000)        # buried, but real
    assert osc_period(noisy) == pytest.approx(40, rel=0.03)


def ar1(phi, n, rng):
    from scipy.signal import lfilter
    return lfilter([1.0], [1.0, -phi], rng.normal(size=n))


def test_red_noise_has_no_period_at_the_stated_level():
    """Loss curves are red: each step moves a little from the last. Against its own fitted
    AR(1) spectrum, AR(1) noise shows a significant period about as often as alpha says
    (measured: 1%, 1%, 2%, 0% of 200 draws at phi 0, 0.5, 0.9, 0.99)."""
    rng = np.random.default_rng(0)
    for phi in (0.0, 0.5, 0.9, 0.99):
        found = [np.isfinite(osc_period(ar1(phi, 2000, rng))) for _ in range(200)]
        assert np.mean(found) <= 0.03, (phi, np.mean(found))


def test_a_period_in_red_noise_is_found():
    from ganbench.metrics.oscillation import red_noise_peak
    rng = np.random.default_rng(1)
    t = np.arange(4000)
    found = []
    for _ in range(20):
        x = np.sin(2 * np.pi * t / 62) + ar1(0.9, 4000, rng) * np.sqrt(1 - 0.81)   # noise var 1
        peak = red_noise_peak(x)
        found.append(peak["p"] < 0.01 and abs(peak["period"] - 62) < 2)
    assert all(found)
    assert red_noise_peak(np.full(100, 0.3))["p"] == 1.0         # flat: nothing to test


def test_converged_loss_has_no_amplitude():
    assert osc_amplitude(np.full(100, 0.7)) == pytest.approx(0.0)


def test_mode_hops_counts_changes_of_the_captured_set():
    seq = [[1, 1, 0], [1, 1, 0], [1, 0, 1], [1, 0, 1], [1, 1, 1]]
    assert mode_hops([np.array(s, bool) for s in seq]) == 2
    assert mode_hops([{0, 1}, {0, 1}]) == 0


def test_nash_gap_is_zero_at_equilibrium():
    assert nash_gap(np.full(10, 0.5), np.full(10, 0.5)) == 0.0
    assert nash_gap([0.9, 0.7], [0.1, 0.3]) == pytest.approx(0.3 + 0.3)


def test_grad_vanish_ratio_and_saturation():
    g = np.concatenate([np.full(10, 2.0), np.linspace(2, 0.02, 80), np.full(10, 0.02)])
    assert grad_vanish_ratio(g) == pytest.approx(0.01)
    assert d_saturation([0.001, 0.5, 0.009, 0.2]) == 0.5


def test_history_metrics_from_a_history_table():
    import pandas as pd
    steps = np.arange(1, 201)
    h = pd.DataFrame({"step": steps, "d_loss": np.sin(2 * np.pi * steps / 20),
                      "grad_norm_g": np.full(200, 1.0)})
    captured = [np.array([c == "1" for c in s]) for s in ["110", "111", "111", "011"]]
    m = history_metrics(h, {"captured": captured})
    assert m["mode_hops"] == 2 and m["grad_vanish_ratio"] == 1.0 and m["grad_norm_g"] == 1.0
    assert m["osc_period"] == pytest.approx(20, rel=0.05)
