"""Metrics of a whole run, from its per-step history (history.csv: the columns a
training step logs, named by ganbench.updates.StepLog, and the evaluations' numbers)
and its per-evaluation tracks."""
from __future__ import annotations

import numpy as np
import pandas as pd

from .catalogue import Metric, declare
from .dynamics import verdict
from .gradients import grad_vanish_ratio
from .oscillation import mode_drops, mode_hops, osc_amplitude, osc_period

declare(
    Metric("d_loss", "D's game loss, every step", order=1, curve="D loss", column=False,
           loss_units=True),
    Metric("g_loss", "G's loss, every step", order=2, curve="G loss", column=False,
           loss_units=True),
    group="dynamics")


def history_metrics(history: pd.DataFrame, tracks: dict | None = None) -> dict:
    """grad_norm_g (final), grad_vanish_ratio, osc_amplitude, osc_period, and
    dist_eq_final and verdict where dist_eq is logged (Dirac-GAN); ``tracks`` (name ->
    one array per evaluation) give mode_hops from ``captured``, the captured-mode masks,
    and mode_drops from ``counts``, the high-quality samples per mode."""
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
    if tracks and tracks.get("captured"):
        out["mode_hops"] = mode_hops(tracks["captured"])
    if tracks and tracks.get("counts"):
        out["mode_drops"] = mode_drops(tracks["counts"])
    return out
