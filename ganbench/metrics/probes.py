"""Probes: what the harness measures at each evaluation, per seed.

A probe says whether it applies to a (dataset, objective) pair and turns an
:class:`Evaluation` (fixed-noise generated samples, fresh real samples, D's outputs
on both) into named values. Users can register their own with
``@probes.register("name")`` on a factory returning a :class:`Probe`.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from ..registry import Registry
from .coverage import mode_coverage
from .frechet import frechet_distance
from .gradients import d_saturation
from .oscillation import nash_gap
from .theory import theory_metrics

probes = Registry("probe")


@dataclass
class Evaluation:
    dataset: Any
    objective: Any
    real: np.ndarray    # (n, dim) samples from the data
    fake: np.ndarray    # (n, dim) generated samples (fixed noise across evaluations)
    d_real: np.ndarray  # (n,) D's raw outputs on real
    d_fake: np.ndarray  # (n,) D's raw outputs on fake
    min_hq: int = 1
    features: Any = None   # the FID/KID feature extractor (image datasets)
    device: str = "cpu"


@dataclass(frozen=True)
class Probe:
    name: str
    applies: Callable[[Any, Any], bool]
    measure: Callable[[Evaluation], dict]
    #: measure at the last evaluation only (for costly probes)
    final_only: bool = False


def sigmoid(x: np.ndarray) -> np.ndarray:
    return 0.5 * (1 + np.tanh(0.5 * x))


def mask_to_str(mask: np.ndarray) -> str:
    """Captured-mode mask as a string of 0/1 (kept in history.csv for mode_hops)."""
    return "".join("1" if m else "0" for m in mask)


def _coverage(ev: Evaluation) -> dict:
    cov = mode_coverage(ev.fake, ev.dataset.centres, ev.dataset.stds, min_hq=ev.min_hq)
    cov["modes_set"] = mask_to_str(cov.pop("captured"))
    return cov


def _discriminator(ev: Evaluation) -> dict:
    pr, pf = sigmoid(ev.d_real), sigmoid(ev.d_fake)
    return {"nash_gap": nash_gap(pr, pf), "d_saturation": d_saturation(pf)}


def _d_outputs(ev: Evaluation) -> dict:
    prob = sigmoid if ev.objective.probability else (lambda x: x)
    return {"d_real_mean": float(np.mean(prob(ev.d_real))),
            "d_fake_mean": float(np.mean(prob(ev.d_fake)))}


def _theory(ev: Evaluation) -> dict:
    import torch
    per_sample = len(ev.d_real) == len(ev.real)   # not packed (PacGAN judges packs)
    probs = (sigmoid(ev.d_real), sigmoid(ev.d_fake)) if ev.objective.probability and per_sample \
        else (None, None)
    return theory_metrics(ev.real, ev.fake, lambda x: ev.dataset.log_prob(x).to(torch.float64), *probs)


@probes.register("coverage")
def coverage() -> Probe:
    """modes_captured, hq_fraction, reverse_kl (datasets with known modes)."""
    return Probe("coverage", lambda ds, obj: ds.has_modes, _coverage)


@probes.register("frechet")
def frechet() -> Probe:
    """fd: Fréchet distance between Gaussians fitted to data and samples (not images:
    they get fid)."""
    return Probe("frechet", lambda ds, obj: not ds.is_image,
                 lambda ev: {"fd": frechet_distance(ev.real, ev.fake)})


def _fid(ev: Evaluation) -> dict:
    from .fid import fid_kid
    return fid_kid(ev.fake, ev.dataset, ev.features, ev.device)


def _digit_modes(ev: Evaluation) -> dict:
    from .classifier import channel_labels, digit_classifier, digit_mode_coverage, mode_counts
    clf = digit_classifier(ev.dataset)
    counts = mode_counts(channel_labels(clf, ev.fake, ev.dataset.image_shape))
    return {**digit_mode_coverage(counts), "classifier_accuracy": clf.accuracy}


@probes.register("fid")
def fid() -> Probe:
    """fid and kid by torch-fidelity at the last evaluation (image datasets)."""
    return Probe("fid", lambda ds, obj: ds.is_image, _fid, final_only=True)


@probes.register("digit_modes")
def digit_modes() -> Probe:
    """modes_captured (of 10 digits, or 1000 triples), reverse_kl, classifier_accuracy.

    Each channel of a sample is classified by the digit classifier."""
    return Probe("digit_modes", lambda ds, obj: getattr(ds, "mode_channels", 0) > 0, _digit_modes)


@probes.register("discriminator")
def discriminator() -> Probe:
    """nash_gap and d_saturation (objectives whose D outputs a probability)."""
    return Probe("discriminator", lambda ds, obj: obj.probability, _discriminator)


@probes.register("d_outputs")
def d_outputs() -> Probe:
    """d_real_mean, d_fake_mean: mean D output on real and generated samples (a probability
    where D models one, else D's raw output)."""
    return Probe("d_outputs", lambda ds, obj: True, _d_outputs)


@probes.register("theory")
def theory() -> Probe:
    """jsd, v_star, d_star_gap at the last evaluation (datasets with an exact density)."""
    return Probe("theory", lambda ds, obj: ds.has_density, _theory, final_only=True)
