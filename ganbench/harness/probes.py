"""Probes: what the harness measures at each evaluation, per seed.

A probe says whether it applies to a dataset and an objective (or, in a user's own
loop, which has no objective, what its D outputs: a :class:`~ganbench.objectives.DOutput`),
whether it needs D's outputs (``needs_d``: a user's loop may evaluate samples alone), and turns an
:class:`Evaluation` (fixed-noise generated samples, fresh real samples, D's outputs
on both) into named values. Users can register their own with
``@probes.register("name")`` on a factory returning a :class:`Probe`.

A probe returns numbers (the metric columns, declared in :mod:`ganbench.metrics`)
and may return arrays: those are per-evaluation tracks the loop keeps for metrics
over the whole run (``captured``: the mask of captured modes, for ``mode_hops``).
This module imports no torch: the costly probes import their machinery when called.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from ..metrics.coverage import label_coverage, label_mode_counts, mode_coverage
from ..metrics.frechet import frechet_distance
from ..metrics.gradients import d_saturation
from ..metrics.oscillation import d_output_means, nash_gap, sigmoid
from ..metrics.theory import theory_metrics
from ..objectives import DOutput
from ..registry import Registry

probes = Registry("probe")


@dataclass
class Evaluation:
    dataset: Any
    #: the run's objective (one slice's), or what its D outputs (a DOutput: a user's loop)
    objective: Any
    real: np.ndarray    # (n, dim) samples from the data
    fake: np.ndarray    # (n, dim) generated samples (fixed noise across evaluations)
    d_real: np.ndarray | None  # (n,) D's outputs on real (None: no D given)
    d_fake: np.ndarray | None  # (n,) D's outputs on fake
    min_hq: int = 1
    features: Any = None   # the FID/KID feature extractor, prepared (image datasets)
    classifier: Any = None  # the classifier that counts class modes (digit datasets)
    device: str = "cpu"

    @property
    def d_output(self) -> DOutput:
        """What ``d_real`` and ``d_fake`` are (the objective's :class:`DOutput`)."""
        return DOutput.of(self.objective)

    def d_probs(self) -> tuple[np.ndarray, np.ndarray]:
        """D's outputs on real and generated samples as probabilities (a D that models one)."""
        if self.d_output is DOutput.PROBABILITY:
            return np.asarray(self.d_real), np.asarray(self.d_fake)
        return sigmoid(self.d_real), sigmoid(self.d_fake)


@dataclass(frozen=True)
class Probe:
    name: str
    applies: Callable[[Any, Any], bool]
    measure: Callable[[Evaluation], dict]
    #: measure at the last evaluation only (for costly probes)
    final_only: bool = False
    #: reads D's outputs (d_real, d_fake)
    needs_d: bool = False


def applicable(dataset, objective) -> list[Probe]:
    """Every registered probe that applies to ``dataset`` and ``objective`` (or what its D
    outputs)."""
    return [pr for pr in (probes.build(n) for n in probes.names()) if pr.applies(dataset, objective)]


def _coverage(ev: Evaluation) -> dict:
    return mode_coverage(ev.fake, ev.dataset.centres, ev.dataset.stds, min_hq=ev.min_hq)


def _discriminator(ev: Evaluation) -> dict:
    pr, pf = ev.d_probs()
    return {"nash_gap": nash_gap(pr, pf), "d_saturation": d_saturation(pf)}


def _d_outputs(ev: Evaluation) -> dict:
    outputs = ev.d_probs() if ev.d_output.models_probability else (ev.d_real, ev.d_fake)
    return d_output_means(*outputs, probability=False)


def _theory(ev: Evaluation) -> dict:
    import torch
    # D's probabilities where it models them, each sample judged alone (PacGAN judges packs)
    judged = ev.d_real is not None and len(ev.d_real) == len(ev.real)
    probs = ev.d_probs() if ev.d_output.models_probability and judged else (None, None)
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
    from .features import fid_kid
    return fid_kid(ev.fake, ev.dataset, ev.features, ev.device)


def _digit_modes(ev: Evaluation) -> dict:
    if ev.classifier is None:       # below the dataset's accuracy floor (a warning said so)
        return {}
    from .classifier import part_labels
    labels = part_labels(ev.classifier, ev.fake, ev.dataset.image_shape, ev.dataset.mode_parts)
    return {**label_coverage(label_mode_counts(labels)), "classifier_accuracy": ev.classifier.accuracy}


@probes.register("fid")
def fid() -> Probe:
    """fid and kid by torch-fidelity at the last evaluation (image datasets)."""
    return Probe("fid", lambda ds, obj: ds.is_image, _fid, final_only=True)


@probes.register("digit_modes")
def digit_modes() -> Probe:
    """modes_captured (of 10 classes, or 1000 triples), reverse_kl, classifier_accuracy.

    Labelled image datasets: each image of a sample (each channel of a stack) is
    classified by the dataset's classifier (the one behind its FID features when those
    are a classifier's); none when that classifier is below the dataset's floor."""
    return Probe("digit_modes", lambda ds, obj: getattr(ds, "mode_parts", 0) > 0, _digit_modes)


@probes.register("discriminator")
def discriminator() -> Probe:
    """nash_gap and d_saturation (objectives whose D outputs a probability)."""
    return Probe("discriminator", lambda ds, obj: DOutput.of(obj).models_probability,
                 _discriminator, needs_d=True)


@probes.register("d_outputs")
def d_outputs() -> Probe:
    """d_real_mean, d_fake_mean: mean D output on real and generated samples (a probability
    where D models one, else D's raw output)."""
    return Probe("d_outputs", lambda ds, obj: True, _d_outputs, needs_d=True)


@probes.register("theory")
def theory() -> Probe:
    """jsd, v_star, d_star_gap at the last evaluation (datasets with an exact density)."""
    return Probe("theory", lambda ds, obj: ds.has_density, _theory, final_only=True)
