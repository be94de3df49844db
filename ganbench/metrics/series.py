"""Metrics of a whole run, computed from its logged history (history.csv)."""
from __future__ import annotations

import numpy as np
import pandas as pd

from .dynamics import verdict
from .gradients import grad_vanish_ratio
from .oscillation import mode_hops, osc_amplitude, osc_period


def history_metrics(history: pd.DataFrame) -> dict:
    """grad_norm_g (final), grad_vanish_ratio, osc_amplitude, osc_period, mode_hops, and
    dist_eq_final and verdict where dist_eq is logged (Dirac-GAN)."""
    out: dict = {}
    if "grad_norm_g" in history:
        g = history["grad_norm_g"].to_numpy(dtype=float)
        out["grad_norm_g"] = float(g[-1]) if len(g) else float("nan")
        out["grad_vanish_ratio"] = grad_vanish_ratio(g)
    if "d_loss" in history:
        d = history["d_loss"].to_numpy(dtype=float)
        spacing = float(np.median(np.diff(history["step"]))) if len(history) > 1 else 1.0
        out["osc_amplitude"] = osc_amplitude(d)
        out["osc_period"] = osc_period(d, step=spacing)
    if "dist_eq" in history:
        d = history["dist_eq"].to_numpy(dtype=float)
        out["dist_eq_final"] = float(d[-1]) if len(d) else float("nan")
        out["verdict"] = verdict(d)
    if "modes_set" in history:
        sets = history["modes_set"].dropna().astype(str)
        out["mode_hops"] = mode_hops([np.array([c == "1" for c in s]) for s in sets])
    return out
