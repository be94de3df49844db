"""The diagnosis's thresholds, calibrated where the answer is known: sample sets drawn from
the data itself, from some of its modes, spread thinly or diffusely over it; mode
tracks that flicker or hop; gradient curves. (The runs that calibrate it for real, the
Dirac-GAN, the vanishing probe, forced divergence and an oscillating 2D game, are in
tests/test_diagnosis_runs.py.)"""
import math

import numpy as np
import pandas as pd
import pytest
import torch

from ganbench.data import datasets
from ganbench.metrics import diagnosis, mode_coverage, mode_drops, theory_metrics
from ganbench.metrics.diagnosis import columns, diagnose


def names(labels):
    return [lab.name for lab in labels]


def scored(ds, fake, seed=0):
    """The metrics the harness gives these samples, with D at ½ everywhere (D*'s value at
    the equilibrium)."""
    real = ds.sample(len(fake), torch.Generator().manual_seed(100 + seed))
    cov = mode_coverage(fake, ds.centres, ds.stds)
    half = torch.full((len(fake),), 0.5)
    m = {k: v for k, v in cov.items() if not isinstance(v, np.ndarray)}
    m.update(theory_metrics(real, fake, ds.log_prob, half, half), nash_gap=0.0)
    return m


def from_modes(ds, modes, n=2500, seed=0, scale=1.0):
    """n samples of the mixture restricted to ``modes`` (std times ``scale``)."""
    g = torch.Generator().manual_seed(seed)
    c = torch.tensor(ds.centres[modes], dtype=torch.float32)
    idx = torch.randint(len(modes), (n,), generator=g)
    return c[idx] + float(ds.stds[0]) * scale * torch.randn(n, 2, generator=g)


@pytest.fixture(scope="module")
def ring():
    return datasets.build("ring8")


@pytest.mark.parametrize("name", ["ring8", "grid25"])
def test_samples_of_the_data_itself_are_converged(name):
    ds = datasets.build(name)
    m = scored(ds, ds.sample(2500, torch.Generator().manual_seed(1)))
    assert m["jsd"] <= diagnosis.JSD_MAX and m["d_star_gap"] <= diagnosis.D_STAR_GAP_MAX
    assert names(diagnose(m)) == ["converged"]
    assert m["modes_effective"] > 0.95 * m["modes_total"]


@pytest.mark.parametrize("kept,lost", [([0], 7), ([0, 4], 6), ([0, 1, 2, 3], 4)])
def test_samples_of_some_modes_are_collapsed_with_the_modes_lost(ring, kept, lost):
    m = scored(ring, from_modes(ring, kept))
    labels = diagnose(m)
    assert names(labels) == ["collapsed"]
    assert labels[0].evidence.startswith(f"{lost} of 8 modes lost")
    assert m["modes_effective"] == pytest.approx(len(kept), rel=0.05)


def test_one_mode_missing_is_neither_collapse_nor_equilibrium(ring):
    """7 of 8 modes: below the collapse threshold (2 of 8), and the JSD (0.04; closed form
    0.045) is above JSD_MAX."""
    m = scored(ring, from_modes(ring, list(range(7))))
    assert m["modes_captured"] == 7 and m["jsd"] > diagnosis.JSD_MAX
    assert diagnose(m) == []
    assert columns(m)["diagnosis"] == diagnosis.NO_LABEL


def test_samples_wider_than_the_data_are_not_converged(ring):
    """Every mode covered, but samples sqrt(2)x wider than the data: jsd 0.05, D* gap 0.15."""
    m = scored(ring, from_modes(ring, list(range(8)), scale=2 ** 0.5))
    assert m["modes_captured"] == 8
    assert m["jsd"] > diagnosis.JSD_MAX and m["d_star_gap"] > diagnosis.D_STAR_GAP_MAX
    assert diagnose(m) == []


def test_a_diffuse_or_unsharp_generator_is_not_collapsed(ring):
    """Modes missed because few samples are within 3 std of any (a cloud over the data, or
    an arc just inside the ring) are no collapse: G's samples still fall nearest to every
    mode (modes_effective ~ 8). The runs of suites/mog.yaml show both pictures."""
    g = torch.Generator().manual_seed(2)
    cloud = (torch.rand(2500, 2, generator=g) - 0.5) * 5.2
    angle = torch.rand(2500, generator=g) * 2 * math.pi
    arc = 1.9 * torch.stack([angle.cos(), angle.sin()], 1) + 0.02 * torch.randn(2500, 2, generator=g)
    for fake in (cloud, arc):
        m = scored(ring, fake)
        assert m["modes_captured"] <= 8 and m["modes_effective"] > 7.5
        assert "collapsed" not in names(diagnose(m))


def test_a_generator_off_the_data_lost_every_mode(ring):
    """One blob between two modes (the collapse pictured in the sensitivity runs)."""
    fake = torch.tensor([1.6, 0.6]) + 0.15 * torch.randn(2500, 2, generator=torch.Generator().manual_seed(3))
    m = scored(ring, fake)
    labels = diagnose(m)
    assert names(labels) == ["collapsed"] and labels[0].evidence.startswith("8 of 8 modes lost")


def test_flickering_thin_coverage_is_no_mode_drop():
    """A diffuse G reaches modes by chance: a sample or two, there at one evaluation and
    gone at the next (mode_hops counts every such change; mode_drops none)."""
    rng = np.random.default_rng(0)
    counts = [rng.poisson(1.0, size=8) for _ in range(25)]
    from ganbench.metrics import mode_hops
    assert mode_hops([c > 0 for c in counts]) >= 15
    assert mode_drops(counts) == 0
    assert "oscillating" not in names(diagnose({"mode_hops": 20, "mode_drops": 0}))


def test_a_generator_hopping_between_modes_is_oscillating():
    """G's mass moves from mode to mode: each mode it leaves in the last half is a drop
    (12 evaluations: drops at the 6 of the last half)."""
    counts = []
    for t in range(12):
        c = np.zeros(8, int)
        c[t % 4] = 300
        counts.append(c)
    assert mode_drops(counts) == 6
    labels = diagnose({"mode_drops": mode_drops(counts)})
    assert names(labels) == ["oscillating"] and "6 times" in labels[0].evidence
    # hopping while it learns, then settled on all modes: no drop in the last half
    settled = counts[:6] + [np.full(8, 200)] * 6
    assert mode_drops(settled) == 0
    # learning modes one after another is no drop
    learning = [np.array([100] * k + [0] * (8 - k)) for k in range(1, 9)]
    assert mode_drops(learning) == 0


def test_vanishing_needs_the_gradient_to_fall_while_d_saturates():
    v = diagnose({"grad_vanish_ratio": 0.1, "d_saturation": 0.9})
    assert names(v) == ["vanishing"] and "fell 10×" in v[0].evidence
    # a gradient that fell at the equilibrium (D at ½, not saturated) is no vanishing
    assert diagnose({"grad_vanish_ratio": 0.0, "d_saturation": 0.0}) == []
    # a saturated D against a gradient that held up is none either
    assert diagnose({"grad_vanish_ratio": 0.5, "d_saturation": 1.0}) == []


def test_dirac_verdict_and_distance_are_the_evidence():
    t = np.arange(1, 301)
    hist = pd.DataFrame({"step": t, "dist_eq": 1.4 * np.exp(-t / 30), "d_loss": np.full(300, 1.386)})
    c = columns({"verdict": "converged", "dist_eq_final": 0.0}, history=hist)
    assert c["diagnosis"] == "converged" and "(< 0.05×)" in c["evidence"]
    spiral = pd.DataFrame({"step": t, "dist_eq": 1.4 * np.exp(t / 200)})
    c = columns({"verdict": "diverged"}, history=spiral)
    assert c["diagnosis"] == "diverged" and "(> 2×)" in c["evidence"]


def test_a_blown_up_run_says_what_and_when():
    hist = pd.DataFrame({"step": [1, 2, 3], "d_loss": [1.3, 1.2, float("nan")],
                         "g_loss": [0.7, 5e6, 1e9], "modes_captured": [np.nan, np.nan, np.nan]})
    c = columns({}, status="diverged", history=hist, diverged_at=2)
    assert c["diagnosis"] == "diverged"
    assert "at step 2: g_loss = 5e+06" in c["evidence"]


def test_failed_runs_have_no_labels_and_the_thresholds_table_lists_every_threshold():
    assert columns({}, status="failed") == {"diagnosis": "failed", "evidence": ""}
    table = diagnosis.thresholds_markdown()
    for t in diagnosis.THRESHOLDS:
        assert f"`{t.name}`" in table
    assert diagnosis.is_failure("collapsed, oscillating") and not diagnosis.is_failure("converged")
