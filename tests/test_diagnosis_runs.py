"""The diagnosis calibrated on runs whose answer is known, trained for real on tiny
budgets: the Dirac-GAN (verdicts and eigenvalues), the vanishing probe against an
untrained G, forced divergence, a 2D game that oscillates (simultaneous updates
with a large step) beside the same game with R1, a generator that has not learned, and
digit images (grey noise, an untrained DCGAN, real digits of a few classes) judged by
the digit classifier."""
import warnings

import pandas as pd
import pytest
import torch
import yaml

from helpers.digit_fixtures import digits, extractor  # noqa: F401  (fixtures)
from ganbench import run
from ganbench.metrics import diagnosis


def summary(suite: dict, tmp_path) -> pd.DataFrame:
    s = run(suite, out=tmp_path / "out", device="cpu", executor="local")
    return s.set_index("variant")


def test_dirac_gan_diagnosis_follows_its_eigenvalues(tmp_path):
    """suites/dirac.yaml's settings (SGD h = 0.1, 3000 steps): purely imaginary
    eigenvalues (eig_max_real 0) never converge, negative ones always do."""
    suite = yaml.safe_load(open("suites/dirac.yaml"))
    keep = ("minimax_sim", "wgan_sim", "nonsaturating_alt", "r1_alt")
    suite["variants"] = {k: v for k, v in suite["variants"].items() if k in keep}
    s = summary(suite, tmp_path)
    for var, r in s.iterrows():
        labels = diagnosis.label_names(r.diagnosis)
        assert ("converged" in labels) == (r.eig_max_real < 0), (var, r.diagnosis, r.evidence)
    assert diagnosis.label_names(s.loc["minimax_sim", "diagnosis"])[:2] == ["diverged", "vanishing"]
    assert "(> 2×)" in s.loc["minimax_sim", "evidence"]
    for var in ("wgan_sim", "nonsaturating_alt"):
        assert diagnosis.label_names(s.loc[var, "diagnosis"]) == ["oscillating"]
        assert "D loss period" in s.loc[var, "evidence"]
    assert s.loc["r1_alt", "diagnosis"] == "converged"


def test_vanishing_probe_on_an_untrained_generator_exceeds_the_vanishing_factor(tmp_path):
    """Against the untrained G (samples disjoint from the ring) a fresh D learns to reject
    them and the saturating cost's gradient falls far more than VANISH_FACTOR while the
    non-saturating cost's grows: the factor separates the two."""
    suite = yaml.safe_load(open("suites/vanishing.yaml"))
    suite["seeds"] = 2
    suite["defaults"].update(steps=1, eval_every=1, n_eval=500,
                             checkpoint_probes=[{"name": "vanishing", "at": [0], "d_steps": 300}])
    suite["variants"] = {"nonsaturating": suite["variants"]["nonsaturating"]}
    s = summary(suite, tmp_path)
    assert (s.sat_decay_step0 >= 4 * diagnosis.VANISH_FACTOR).all(), s.sat_decay_step0
    assert (s.ns_decay_step0 < 1).all(), s.ns_decay_step0


def test_forced_divergence_is_diagnosed_with_when_and_what(tmp_path):
    suite = {"name": "boom", "seeds": 2, "datasets": ["ring8"],
             "defaults": {"steps": 100, "batch_size": 64, "eval_every": 50, "n_eval": 200,
                          "generator": {"name": "mlp", "width": 32, "depth": 2, "z_dim": 4},
                          "discriminator": {"name": "mlp", "width": 32, "depth": 2},
                          "optimizer": {"name": "sgd", "lr": 1.0}, "update": "simultaneous"},
             "variants": {"ns": {"objective": "nonsaturating"}}}
    s = summary(suite, tmp_path)
    assert set(s.status) == {"diverged"} and set(s.diagnosis) == {"diverged"}
    for ev in s.evidence:
        assert ev.startswith("diverged: blew up at step ") and "=" in ev


def test_simultaneous_steps_on_a_2d_gaussian_oscillate_and_r1_stops_it(tmp_path):
    """A 2D Gaussian, an MLP G against a linear D (a logit ψ·x: the Dirac-GAN's D in 2D),
    simultaneous SGD with step 0.3: the means circle, the D loss has a sharp period
    (measured: 20 steps, 130-160× its red-noise spectrum); R1 damps it."""
    suite = {"name": "osc", "seeds": 2,
             "datasets": [{"name": "ring8", "n_modes": 1, "radius": 1.0, "std": 0.1,
                           "label": "gauss"}],
             "defaults": {"steps": 600, "batch_size": 64, "eval_every": 300, "n_eval": 300,
                          "generator": {"name": "mlp", "width": 16, "depth": 1, "z_dim": 2},
                          "discriminator": {"name": "linear"}, "objective": "nonsaturating",
                          "optimizer": {"name": "sgd", "lr": 0.3}, "update": "simultaneous"},
             "variants": {"sim": {}, "sim_r1": {"regularizers": [{"name": "r1", "weight": 1.0}]}}}
    s = summary(suite, tmp_path)
    for _, r in s.loc[["sim"]].iterrows():
        assert "oscillating" in diagnosis.label_names(r.diagnosis), r.evidence
        assert r.osc_period == pytest.approx(20, rel=0.25)
    for _, r in s.loc[["sim_r1"]].iterrows():
        assert "oscillating" not in diagnosis.label_names(r.diagnosis), r.evidence


def test_a_generator_trained_one_step_is_unlearned(tmp_path):
    """suites/mog.yaml's networks after one step: G's samples are still its initial blob
    near 0, on no ring mode."""
    suite = yaml.safe_load(open("suites/mog.yaml"))
    suite.update(seeds=3, datasets=["ring8"])
    suite["defaults"].update(steps=1, eval_every=1, n_eval=1000)
    suite["variants"] = {"nonsaturating": suite["variants"]["nonsaturating"]}
    s = summary(suite, tmp_path)
    assert (s.hq_fraction == 0).all() and set(s.diagnosis) == {"unlearned"}, s.evidence


def precision(x: torch.Tensor, ds, ex) -> float:
    """k-NN precision (Kynkäänniemi et al. 2019, k = 3) of images x (flattened, in [-1, 1])
    against the dataset's reference images, on the digit classifier's features: what
    torch-fidelity computes with prc=True."""
    import torch_fidelity
    from ganbench.data.images import to_uint8
    from ganbench.harness.features import _Images
    fake, real = to_uint8(x, ds.image_shape), ds.reference()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        m = torch_fidelity.calculate_metrics(
            input1=_Images(lambda: fake), input2=_Images(lambda: real), prc=True, cuda=False,
            feature_extractor=ex.fidelity_name, batch_size=500, verbose=False, cache=False)
    return float(m["precision"])


def test_grey_noise_on_digits_is_unlearned_and_one_real_class_is_collapsed(digits, extractor):  # noqa: F811
    """Images the digit classifier puts in a few classes: grey noise and an untrained
    DCGAN (precision 0: no sample is near a real digit in feature space) are unlearned;
    real digits of one class, or of three, are collapsed (precision ~1)."""
    from ganbench.harness.classifier import part_labels
    from ganbench.metrics.coverage import label_coverage, label_mode_counts
    from ganbench.models import build_model, generators
    ds, n, g = digits, 1000, torch.Generator().manual_seed(0)

    def real(classes):
        x = ds.train[torch.isin(ds.labels, torch.tensor(classes))]
        return x[torch.randint(len(x), (n,), generator=g)].reshape(n, -1)

    G = build_model(generators, {"name": "dcgan", "width": 32, "z_dim": 64}, "generator", ds,
                    [torch.Generator().manual_seed(0)])
    with torch.no_grad():
        untrained = G.eval()(torch.randn(1, n, 64, generator=g))[0]
    cases = {"grey noise": ((0.1 * torch.randn(n, ds.dim, generator=g)).clamp(-1, 1), "unlearned"),
             "untrained G": (untrained, "unlearned"),
             "class 1": (real([1]), "collapsed"), "classes 3, 5, 8": (real([3, 5, 8]), "collapsed")}
    for name, (x, label) in cases.items():
        cov = label_coverage(label_mode_counts(part_labels(extractor.classifier, x, ds.image_shape)))
        m = {k: cov[k] for k in ("modes_captured", "modes_total", "modes_effective")}
        m["precision"] = precision(x, ds, extractor)
        assert m["modes_captured"] <= 7 and m["modes_effective"] <= 7.5, (name, m)  # a collapse's counts
        assert diagnosis.label_names(diagnosis.columns(m)["diagnosis"]) == [label], (name, m)
        assert (m["precision"] < 0.01) if label == "unlearned" else (m["precision"] > 0.9), (name, m)
