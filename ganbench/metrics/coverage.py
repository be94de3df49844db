"""Mode coverage: on Gaussian mixtures (the VEEGAN / PacGAN convention), and over
classes or class tuples found by a classifier (digits, Stacked MNIST).

A generated sample is *high quality* (hq) if it lies within ``n_std`` (3) standard
deviations of its nearest mode centre. Inputs: ``samples`` (n, d), ``centres`` (K, d),
``stds`` (K,) or a scalar; numpy arrays or torch tensors.
"""
from __future__ import annotations

import numpy as np

from ._arrays import as_numpy
from .catalogue import Metric, declare

declare(
    Metric("modes_captured", "modes nearest to at least one high-quality sample among `n_eval` "
           "(2500) samples; a sample is high quality within 3 std of its nearest mode centre. "
           "Labelled image datasets: classes (of 10) / digit triples (of 1000 on stacked digits "
           "and stacked MNIST, 26,000 samples) the dataset's classifier finds",
           better="higher", order=60, curve="modes captured",
           summary=True, rule={"noise_margin": 0.25, "alpha": 0.01}, key=("2d", "images"), worst=0.0),
    Metric("modes_total", "the dataset's modes, of which `modes_captured` are captured (ring8 8, "
           "grid25 25, labelled image datasets 10, stacked digits and stacked MNIST 1000)", order=65),
    Metric("modes_effective", "the effective number of modes G's samples fall nearest to: "
           "exp(entropy) of the share of all samples (high quality or not) nearest each mode "
           "centre (digits: classified as each class/triple); about `modes_total` for a "
           "generator spread over the data, sharp or not; small when it collapsed",
           better="higher", order=66, worst=1.0),
    Metric("hq_fraction", "high-quality samples / all samples", better="higher", order=70,
           rule={"noise_margin": 0.25, "alpha": 0.01}, key=("2d",), kinds=("2d",), worst=0.0),
    Metric("reverse_kl", "KL(p̂ ‖ uniform) = log K − H(p̂) over the histogram of high-quality "
           "samples per mode (0 = all modes equally covered; log K = one mode); empty when no "
           "sample is high quality", better="lower", order=80, summary=True,
           rule={"noise_margin": 0.25, "alpha": 0.01}, key=("2d",), worst="log(modes_total)"),
    Metric("classifier_accuracy", "labelled image datasets: held-out accuracy of the classifier "
           "behind `modes_captured` (and `fid`/`kid` with `features: digits`); it must reach "
           "the dataset's floor (digits 0.95, MNIST 0.98, Fashion-MNIST 0.90, CIFAR-10 0.80)",
           order=220, kinds=("images",)),
    group="coverage")


def mode_assignment(samples, centres, stds, n_std: float = 3.0) -> tuple[np.ndarray, np.ndarray]:
    """(nearest mode index per sample, hq mask per sample)."""
    x, c = as_numpy(samples), as_numpy(centres)
    s = np.broadcast_to(as_numpy(stds), (len(c),))
    d2 = ((x[:, None, :] - c[None, :, :]) ** 2).sum(-1)
    nearest = d2.argmin(1)
    dist = np.sqrt(d2[np.arange(len(x)), nearest])
    hq = dist <= n_std * s[nearest]
    hq &= np.isfinite(x).all(1)
    return nearest, hq


def mode_counts(samples, centres, stds, n_std: float = 3.0) -> np.ndarray:
    """Number of high-quality samples whose nearest mode is k, for each k (K,)."""
    nearest, hq = mode_assignment(samples, centres, stds, n_std)
    return np.bincount(nearest[hq], minlength=len(as_numpy(centres)))


def hq_fraction(samples, centres, stds, n_std: float = 3.0) -> float:
    """High-quality samples / all samples."""
    return float(mode_assignment(samples, centres, stds, n_std)[1].mean())


def modes_captured(samples, centres, stds, min_hq: int = 1, n_std: float = 3.0) -> int:
    """Modes that are nearest to at least ``min_hq`` high-quality samples."""
    return int((mode_counts(samples, centres, stds, n_std) >= min_hq).sum())


def reverse_kl_from_counts(counts) -> float:
    """KL(p̂ || uniform) = log K - H(p̂) for a histogram of counts over K modes.

    NaN when there are no samples to make a histogram of.
    """
    counts = as_numpy(counts)
    total = counts.sum()
    if total <= 0:
        return float("nan")
    p = counts[counts > 0] / total
    return float(np.log(len(counts)) + (p * np.log(p)).sum())


def effective_modes(counts) -> float:
    """exp(entropy) of a histogram over modes: K for an even histogram over K modes, 1 when
    everything falls in one (the Hill number of order 1); NaN for an empty histogram."""
    counts = as_numpy(counts)
    total = counts.sum()
    if total <= 0:
        return float("nan")
    p = counts[counts > 0] / total
    return float(np.exp(-(p * np.log(p)).sum()))


def reverse_kl(samples, centres, stds, n_std: float = 3.0) -> float:
    """KL(p̂ || uniform) over the histogram of high-quality samples per mode (nats)."""
    return reverse_kl_from_counts(mode_counts(samples, centres, stds, n_std))


def mode_coverage(samples, centres, stds, min_hq: int = 1, n_std: float = 3.0) -> dict:
    """The coverage metrics at once (modes_total: the number of modes), plus two arrays,
    per-evaluation tracks for the harness: ``captured`` (mask of captured modes) and
    ``counts`` (high-quality samples per mode)."""
    nearest, hq = mode_assignment(samples, centres, stds, n_std)
    K = len(as_numpy(centres))
    counts = np.bincount(nearest[hq], minlength=K)
    finite = np.isfinite(as_numpy(samples)).all(1)
    n = len(hq)
    return {
        "modes_captured": int((counts >= min_hq).sum()),
        "modes_total": K,
        "modes_effective": effective_modes(np.bincount(nearest[finite], minlength=K)),
        "hq_fraction": float(counts.sum() / n) if n else float("nan"),
        "reverse_kl": reverse_kl_from_counts(counts),
        "captured": counts >= min_hq,
        "counts": counts,
    }


def label_mode_counts(labels, n_classes: int = 10) -> np.ndarray:
    """Histogram over the n_classes**C modes of (n, C) per-channel class labels; mode index
    = the labels read as a base-n_classes number (channel 0 most significant)."""
    labels = np.asarray(labels, dtype=np.int64)
    C = labels.shape[1]
    idx = (labels * n_classes ** np.arange(C - 1, -1, -1)).sum(1)
    return np.bincount(idx, minlength=n_classes**C)


def label_coverage(counts) -> dict:
    """modes_captured (modes with at least one sample), modes_total, modes_effective and
    reverse_kl = KL(p̂ || uniform) from a histogram of samples over class modes; the
    ``captured`` and ``counts`` tracks as :func:`mode_coverage` gives them."""
    counts = np.asarray(counts)
    return {"modes_captured": int((counts > 0).sum()), "modes_total": len(counts),
            "modes_effective": effective_modes(counts),
            "reverse_kl": reverse_kl_from_counts(counts), "captured": counts > 0,
            "counts": counts}
