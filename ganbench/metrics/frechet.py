"""Fréchet distance between Gaussians fitted to two sample sets (``fd`` on 2D data).

For images ganbench uses torch-fidelity's FID instead; this is the same formula on raw
coordinates: ‖μ₁ - μ₂‖² + Tr(Σ₁ + Σ₂ - 2 (Σ₁Σ₂)^½).
"""
from __future__ import annotations

import warnings

import math

import numpy as np
from scipy import linalg

from ._arrays import as_numpy
from .catalogue import Metric, declare

declare(
    Metric("fid", "image datasets, at the last evaluation: torch-fidelity's FID of the "
           "`n_eval` samples against the real train split (stacked digits: a fixed draw of "
           "10,000), on the `features:` extractor's features (the Fréchet distance of "
           "Gaussians fitted to features)", better="lower", order=40, curve="fid", log=True,
           summary=True, key=("images",), kinds=("images",), worst=math.inf),
    Metric("kid", "image datasets, at the last evaluation: torch-fidelity's KID, the mean over "
           "100 subsets of ≤ 1000, on the same samples and features as `fid`", better="lower",
           order=50, summary=True, key=("images",), kinds=("images",), worst=math.inf),
    Metric("fd", "Fréchet distance between Gaussians fitted to data and to samples (not on "
           "images)", better="lower", order=90, curve="fd", log=True, summary=True,
           rule={"noise_margin": 0.25, "alpha": 0.01}, key=("2d",),
           key_unless="jsd", kinds=("2d",), worst=math.inf),
    group="quality")


def frechet_distance(x, y) -> float:
    """FD between Gaussians fitted to samples ``x`` (n, d) and ``y`` (m, d). NaN if non-finite."""
    x, y = as_numpy(x), as_numpy(y)
    if not (np.isfinite(x).all() and np.isfinite(y).all()):
        return float("nan")
    mu1, mu2 = x.mean(0), y.mean(0)
    c1 = np.atleast_2d(np.cov(x, rowvar=False))
    c2 = np.atleast_2d(np.cov(y, rowvar=False))
    with warnings.catch_warnings():     # a singular product (collapsed samples) is handled below
        warnings.simplefilter("ignore", linalg.LinAlgWarning)
        covmean = linalg.sqrtm(c1 @ c2)
        if not np.isfinite(covmean).all():  # singular product: regularise, as FID code does
            eps = 1e-6 * np.eye(len(c1))
            covmean = linalg.sqrtm((c1 + eps) @ (c2 + eps))
    covmean = np.real(covmean)
    return float(((mu1 - mu2) ** 2).sum() + np.trace(c1) + np.trace(c2) - 2 * np.trace(covmean))
