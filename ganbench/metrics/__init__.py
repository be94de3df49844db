"""Metrics as plain functions of arrays or tensors, usable without the harness, and
the catalogue that declares every metric once (imports no torch).

>>> from ganbench.metrics import mode_coverage, frechet_distance
>>> mode_coverage(samples, centres, stds)   # modes_captured, hq_fraction, reverse_kl
"""
from . import catalogue, diagnosis
from .coverage import (effective_modes, hq_fraction, label_coverage, label_mode_counts, mode_assignment,
                       mode_counts, mode_coverage, modes_captured, reverse_kl,
                       reverse_kl_from_counts)
from .dynamics import verdict
from .frechet import frechet_distance
from .gradients import d_saturation, decay_factor, grad_vanish_ratio
from .oscillation import (d_output_means, mode_drops, mode_hops, nash_gap, osc_amplitude,
                          osc_period)
from .series import history_metrics
from .theory import theory_metrics

__all__ = [
    "catalogue", "diagnosis", "effective_modes", "mode_assignment", "mode_counts", "mode_coverage", "modes_captured",
    "hq_fraction", "reverse_kl", "reverse_kl_from_counts", "label_mode_counts",
    "label_coverage", "frechet_distance", "grad_vanish_ratio", "d_saturation", "decay_factor",
    "mode_hops", "mode_drops", "nash_gap", "osc_amplitude", "osc_period", "d_output_means", "verdict",
    "history_metrics", "theory_metrics",
]
