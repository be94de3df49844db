"""Metrics as plain functions of arrays or tensors, usable without the harness.

>>> from ganbench.metrics import mode_coverage, frechet_distance
>>> mode_coverage(samples, centres, stds)   # modes_captured, hq_fraction, reverse_kl
"""
from .coverage import (hq_fraction, mode_assignment, mode_counts, mode_coverage,
                       modes_captured, reverse_kl, reverse_kl_from_counts)
from .frechet import frechet_distance
from .gradients import d_saturation, grad_vanish_ratio
from .oscillation import mode_hops, nash_gap, osc_amplitude, osc_period
from .probes import Evaluation, Probe, probes
from .series import history_metrics

__all__ = [
    "mode_assignment", "mode_counts", "mode_coverage", "modes_captured", "hq_fraction",
    "reverse_kl", "reverse_kl_from_counts", "frechet_distance", "grad_vanish_ratio",
    "d_saturation", "mode_hops", "nash_gap", "osc_amplitude", "osc_period",
    "history_metrics", "Evaluation", "Probe", "probes",
]
