"""Diagnosis: what a run did, in the words of the theory, with the numbers that say so.

Each run gets the labels that apply (several can), each with its evidence, the
numbers and the thresholds that triggered it:

- ``diverged``: the run blew up (NaN/Inf, or a value beyond 1e6: status ``diverged``),
  or, where the equilibrium is known (Dirac-GAN), its distance to it ended above 2× its
  start;
- ``unlearned``: the coverage counts of a collapse (at least a quarter of the modes lost,
  G's samples nearest to at most three quarters of them: ``modes_effective``), but
  almost none of G's samples look like data: ``hq_fraction`` (2D: within 3 std of a
  mode) or ``precision`` (images: inside the k-NN balls of the real images' features,
  Kynkäänniemi et al. 2019) below 0.05. G fits no mode: a blob or cloud off the
  modes, an untrained G, grey noise that a classifier puts in one class;
- ``collapsed``: the same counts, with G's samples on the modes it covers (that quality
  measure at least 0.05, or none recorded): G fits a few modes well. A diffuse or
  unsharp G spread over the data (``modes_effective`` above three quarters of the modes)
  that misses modes only because few of its samples are within 3 std of any is
  neither;
- ``vanishing``: G's gradient fell by a factor of 5 or more over training while D
  rejected most fakes with confidence (``grad_vanish_ratio`` ≤ 1/5 with
  ``d_saturation`` ≥ ½; the vanishing probe on an untrained G shows the saturating
  cost's gradient falling by ~450× as a fresh D learns);
- ``oscillating``: the D loss has a significant period (``osc_period``: a periodogram
  peak above the loss's own red-noise spectrum at p < 0.01), G keeps leaving modes it
  held in the last half of training (``mode_drops`` ≥ 3; ``mode_hops`` also counts the
  flicker of thinly covered modes, so it is not used), or, where the equilibrium is
  known, training neither converged nor diverged;
- ``converged``: near the equilibrium by every measure the run has: the Dirac-GAN's
  verdict, or ``jsd`` ≤ 0.03, ``d_star_gap`` ≤ 0.1 and ``nash_gap`` ≤ 0.05 (those that
  apply; ``jsd`` or ``d_star_gap`` must be among them, since D at ½ alone is no
  equilibrium: a strongly regularized D outputs ½ against any G).

A run with no label is ``unconverged``: no failure found, and not shown to be near the
equilibrium (its evidence says which measure is above its threshold, or that it has
none). The thresholds are declared once, below (:data:`THRESHOLDS`; docs/diagnosis.md's table
is generated from them), and calibrated where the answer is known
(tests/metrics/test_diagnosis.py, tests/test_diagnosis_runs.py): the Dirac-GAN's
verdicts and eigenvalues, sample sets drawn from the data itself, from some of its
modes, wider than it, spread over it, off it, an untrained G and grey-noise images
(docs/diagnosis_never_learned.md has the numbers), mode tracks that flicker or hop, the vanishing
probe against an untrained G, forced divergence, and simultaneous updates with a large
step on a 2D Gaussian.

Pure functions of a run's metrics (and, for richer evidence, its history table);
imports no torch.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .catalogue import Metric, declare
from .dynamics import CONVERGED_BELOW, DIVERGED_ABOVE, END_FRACTION
from .oscillation import PERIOD_ALPHA, PERSISTS_MIN, is_periodic, red_noise_peak

#: the labels, in the order they are shown; all but ``converged`` are failures
LABELS = ("diverged", "unlearned", "collapsed", "vanishing", "oscillating", "converged")
FAILURES = ("diverged", "unlearned", "collapsed", "vanishing", "oscillating")
#: the diagnosis of a run with no label
NO_LABEL = "unconverged"
#: between the labels' parts of an ``evidence`` cell
SEPARATOR = " | "


@dataclass(frozen=True)
class Threshold:
    label: str
    name: str
    value: float
    rule: str       # how it is used, for docs/diagnosis.md's table


LOST_FRACTION = 0.25       # collapsed / unlearned: modes lost >= this fraction of the modes
QUALITY_MIN = 0.05         # unlearned below, collapsed at or above: share of G's samples like data
#: the measures of "this sample looks like data", by preference: the name, and the words
#: the evidence uses for it
QUALITY = (("hq_fraction", "within 3 std of a mode"),
           ("precision", "inside the real images' k-NN feature balls"))
VANISH_FACTOR = 5.0        # vanishing: G's gradient fell at least this many times ...
SATURATED = 0.5            # ... while D(G(z)) < 0.01 on at least this fraction of fakes
DROPS_MIN = 3              # oscillating: G left modes it held this often
JSD_MAX = 0.03             # converged: jsd (nats) at most this
D_STAR_GAP_MAX = 0.1       # converged: mean |D - D*| at most this
NASH_GAP_MAX = 0.05        # converged: |E D(real) - ½| + |E D(fake) - ½| at most this

THRESHOLDS = (
    Threshold("collapsed", "LOST_FRACTION", LOST_FRACTION,
              "modes lost (`modes_total − modes_captured`) ≥ this fraction of `modes_total` "
              "(ring8: 2 of 8; grid25: 7 of 25; stacked digits: 250 of 1000), and "
              "`modes_effective` ≤ (1 − this)·`modes_total`; with `hq_fraction` (2D) or "
              "`precision` (images) ≥ `QUALITY_MIN`, or neither recorded"),
    Threshold("unlearned", "QUALITY_MIN", QUALITY_MIN,
              "`collapsed`'s mode counts, but `hq_fraction` (2D: within 3 std of a mode) or "
              "`precision` (images: k-NN precision on the FID features) < this: G fits no "
              "mode (measured: collapsed runs 0.15–0.33, one real digit class 1.0; blobs and "
              "clouds off the ring ≤ 0.006, an untrained G and grey noise 0)"),
    Threshold("vanishing", "VANISH_FACTOR", VANISH_FACTOR,
              "G's gradient fell at least this many times: `grad_vanish_ratio` ≤ 1/5 ..."),
    Threshold("vanishing", "SATURATED", SATURATED,
              "... while `d_saturation` ≥ this (D(G(z)) < 0.01 on half the fakes; probability Ds)"),
    Threshold("oscillating", "PERIOD_ALPHA", PERIOD_ALPHA,
              "`osc_period` exists: the D loss's periodogram peak (last half of training) is "
              "above its fitted AR(1) red-noise spectrum at p < this ..."),
    Threshold("oscillating", "PERSISTS_MIN", PERSISTS_MIN,
              "... and in each half of that window the same period is this many times its "
              "own red-noise spectrum (−ln 0.05: a transient or a step is no cycle)"),
    Threshold("oscillating", "DROPS_MIN", DROPS_MIN,
              "or `mode_drops` ≥ this: G left a mode it held (≥ 20 high-quality samples) "
              "this often in the last half of training"),
    Threshold("diverged", "DIVERGED_ABOVE", DIVERGED_ABOVE,
              "status `diverged`, or Dirac-GAN: `dist_eq` ends above this × its start"),
    Threshold("converged", "JSD_MAX", JSD_MAX,
              "`jsd` ≤ this (nats; 0 when pg = pdata, 0.04 with one of ring8's 8 modes "
              "missing, 0.05 with samples √2× wider than the data)"),
    Threshold("converged", "D_STAR_GAP_MAX", D_STAR_GAP_MAX,
              "`d_star_gap` ≤ this (0.04–0.06 at the equilibrium, from the KDE of pg; "
              "0.15 with samples √2× wider)"),
    Threshold("converged", "NASH_GAP_MAX", NASH_GAP_MAX, "`nash_gap` ≤ this"),
    Threshold("converged", "CONVERGED_BELOW", CONVERGED_BELOW,
              "or, Dirac-GAN: `dist_eq` ends below this × its start (`verdict` converged; "
              "between this and `DIVERGED_ABOVE`: `oscillating`)"),
)

declare(
    Metric("diagnosis", "what the run did: `diverged`, `unlearned`, `collapsed`, `vanishing`, "
           "`oscillating`, `converged` (several can apply), or `unconverged` when none does; "
           "the rules and thresholds are under Diagnosis below", order=5),
    Metric("evidence", "per label of `diagnosis`, the numbers and thresholds that triggered it",
           order=6, table=False),
    group="diagnosis")


@dataclass(frozen=True)
class Label:
    name: str
    evidence: str


def _num(metrics: dict, key: str) -> float:
    v = metrics.get(key)
    try:
        v = float(v)
    except (TypeError, ValueError):
        return math.nan
    return v


def _g(x: float) -> str:
    """A number for reading: 3 significant digits."""
    if not math.isfinite(x):
        return str(x)
    return f"{x:.3g}"


def diverged(metrics: dict, status: str, history=None, diverged_at=None) -> Label | None:
    if status == "diverged":
        where = f" at step {diverged_at}" if diverged_at is not None else ""
        what = _blown_up(history, diverged_at) if history is not None else ""
        return Label("diverged", f"blew up{where}{what} (NaN/Inf or |value| > 1e6)")
    if metrics.get("verdict") == "diverged":
        return Label("diverged", _dist_eq_text(metrics, history) + f" (> {DIVERGED_ABOVE:g}×)")
    return None


def _blown_up(history, diverged_at) -> str:
    """': d_loss = nan' - the values that went bad first, among the columns logged every
    step (those with a value at the first step; evaluations leave gaps between theirs)."""
    h = history.drop(columns=["step"], errors="ignore").select_dtypes("number")
    if h.empty:
        return ""
    h = h.loc[:, h.iloc[0].notna()]
    v = h.to_numpy(dtype=float)
    bad = ~np.isfinite(v) | (np.abs(np.nan_to_num(v)) > 1e6)
    rows = np.flatnonzero(bad.any(1))
    if not len(rows):
        return ""
    cols = [c for c, b in zip(h.columns, bad[rows[0]]) if b]
    return ": " + ", ".join(f"{c} = {_g(float(h[c].iloc[rows[0]]))}" for c in cols[:3])


def _dist_eq_text(metrics: dict, history) -> str:
    final = _num(metrics, "dist_eq_final")
    if history is not None and "dist_eq" in history:
        d = history["dist_eq"].to_numpy(dtype=float)
        d = d[np.isfinite(d)]
        if len(d):
            level = float(np.median(d[-max(1, int(round(END_FRACTION * len(d)))):]))
            return (f"dist_eq ends at {_g(level)}, {_g(level / max(d[0], 1e-12))}× its start "
                    f"{_g(d[0])}")
    return f"verdict {metrics.get('verdict')} (dist_eq_final {_g(final)})"


def _lost_modes(metrics: dict) -> tuple[int, int, int, float, float] | None:
    """(modes lost, modes, lost needed, modes_effective, its ceiling) when the coverage
    counts are those of a collapse (a quarter of the modes lost, G's samples nearest to at
    most three quarters of them); None otherwise."""
    captured, total = _num(metrics, "modes_captured"), _num(metrics, "modes_total")
    effective = _num(metrics, "modes_effective")
    if not all(math.isfinite(v) for v in (captured, total, effective)) or total <= 0:
        return None
    lost = int(round(total - captured))
    need = max(1, math.ceil(LOST_FRACTION * total - 1e-9))
    keep = (1 - LOST_FRACTION) * total
    if lost < need or effective > keep:
        return None
    return lost, int(total), need, effective, keep


def quality(metrics: dict) -> tuple[str, float, str] | None:
    """(name, value, meaning) of the run's share of samples that look like data: the first
    of :data:`QUALITY` it has (``hq_fraction`` on 2D mixtures, ``precision`` on images)."""
    for name, meaning in QUALITY:
        v = _num(metrics, name)
        if math.isfinite(v):
            return name, v, meaning
    return None


def _counts_text(lost: int, total: int, need: int, effective: float, keep: float) -> str:
    return (f"{lost} of {total} modes lost (modes_captured {total - lost}: ≥ {need} lost) and "
            f"G's samples fall nearest to {_g(effective)} modes' worth (modes_effective ≤ "
            f"{_g(keep)})")


def _best_during(history, name: str) -> str:
    """'; never ≥ 0.05 during training (best 0.04, step 100)': the best value of a quality
    measure over the run's evaluations, when its history has them."""
    if history is None or name not in history or "step" not in history:
        return ""
    h = history[["step", name]].dropna()
    if len(h) < 2:
        return ""
    i = h[name].to_numpy(dtype=float).argmax()
    best, step = float(h[name].iloc[i]), int(h["step"].iloc[i])
    if best < QUALITY_MIN:
        return f"; never ≥ {QUALITY_MIN:g} during training (best {_g(best)}, step {step})"
    return f"; it had {_g(best)} at step {step} (≥ {QUALITY_MIN:g}): G has left the data since"


def collapsed(metrics: dict) -> Label | None:
    """Modes lost and G's samples concentrated on the rest, where they look like data (a
    diffuse or unsharp G that misses modes only because few of its samples are within
    3 std of any is no collapse; one whose samples are nowhere near the data is
    ``unlearned``)."""
    counts = _lost_modes(metrics)
    if counts is None:
        return None
    q = quality(metrics)
    if q is not None and q[1] < QUALITY_MIN:
        return None
    fits = (f", where they look like data ({q[0]} {_g(q[1])} ≥ {QUALITY_MIN:g}: {q[2]})"
            if q else " (no measure of sample quality: a G that never learned would read "
                      "the same)")
    return Label("collapsed", _counts_text(*counts) + fits)


def unlearned(metrics: dict, history=None) -> Label | None:
    """The counts of a collapse, but almost none of G's samples look like data: G fits no
    mode (a blob or a cloud off the modes, an untrained G, grey noise that a classifier
    puts in one class)."""
    counts = _lost_modes(metrics)
    q = quality(metrics)
    if counts is None or q is None or q[1] >= QUALITY_MIN:
        return None
    name, value, meaning = q
    return Label("unlearned", _counts_text(*counts) + f", but only {_g(100 * value)}% of its "
                 f"samples look like data ({name} {_g(value)} < {QUALITY_MIN:g}: {meaning}): "
                 f"G fits no mode" + _best_during(history, name))


def vanishing(metrics: dict) -> Label | None:
    ratio, sat = _num(metrics, "grad_vanish_ratio"), _num(metrics, "d_saturation")
    if not (math.isfinite(ratio) and math.isfinite(sat)):
        return None
    if ratio <= 1 / VANISH_FACTOR and sat >= SATURATED:
        fell = f"{_g(1 / ratio)}×" if ratio > 0 else "to 0"
        return Label("vanishing", f"G's gradient fell {fell} (grad_vanish_ratio {_g(ratio)} ≤ "
                     f"1/{VANISH_FACTOR:g}) while D(G(z)) < 0.01 on {_g(100 * sat)}% of fakes "
                     f"(d_saturation ≥ {SATURATED:g})")
    return None


def oscillating(metrics: dict, history=None) -> Label | None:
    parts = []
    verdict = metrics.get("verdict")
    if verdict == "oscillating":
        parts.append(_dist_eq_text(metrics, history) + f" (between {CONVERGED_BELOW:g}× and "
                     f"{DIVERGED_ABOVE:g}×)")
    period = _num(metrics, "osc_period")
    if history is not None and "d_loss" in history and len(history) > 1:
        d = history["d_loss"].to_numpy(dtype=float)
        spacing = float(np.median(np.diff(history["step"].to_numpy(dtype=float))))
        peak = red_noise_peak(d, spacing)
        if is_periodic(peak):
            parts.append(f"D loss period {_g(peak['period'])} steps (peak {_g(peak['ratio'])}× "
                         f"its red-noise spectrum, p {peak['p']:.2g} < {PERIOD_ALPHA:g}; in "
                         f"each half of the window ≥ {_g(peak['persists'])}×, needs "
                         f"{PERSISTS_MIN:.2g})")
    elif math.isfinite(period):
        parts.append(f"D loss period {_g(period)} steps (osc_period, p < {PERIOD_ALPHA:g})")
    drops = _num(metrics, "mode_drops")
    if math.isfinite(drops) and drops >= DROPS_MIN:
        parts.append(f"G left modes it held {int(drops)} times in the last half (mode_drops ≥ "
                     f"{DROPS_MIN})")
    return Label("oscillating", "; ".join(parts)) if parts else None


def converged(metrics: dict, history=None) -> tuple[Label | None, str]:
    """(the label or None, why not: the measures above their thresholds)."""
    verdict = metrics.get("verdict")
    if isinstance(verdict, str) and verdict:
        if verdict == "converged":
            return Label("converged", _dist_eq_text(metrics, history) +
                         f" (< {CONVERGED_BELOW:g}×)"), ""
        return None, f"verdict {verdict}"
    checks = [("jsd", JSD_MAX), ("d_star_gap", D_STAR_GAP_MAX), ("nash_gap", NASH_GAP_MAX)]
    have = [(k, _num(metrics, k), t) for k, t in checks if math.isfinite(_num(metrics, k))]
    if not any(k in ("jsd", "d_star_gap") for k, _, t in have):
        return None, "no measure of the distance to the equilibrium (jsd, d_star_gap, dist_eq)"
    above = [f"{k} {_g(v)} > {t:g}" for k, v, t in have if v > t]
    if above:
        return None, "not near the equilibrium: " + ", ".join(above)
    return Label("converged", ", ".join(f"{k} {_g(v)} ≤ {t:g}" for k, v, t in have)), ""


def diagnose(metrics: dict, status: str = "ok", history=None, diverged_at=None) -> list[Label]:
    """The labels of one run, in :data:`LABELS` order (empty: ``unconverged``).

    ``metrics`` are the run's summary metrics (metrics.json's ``metrics``), ``history``
    its history table (history.csv) when at hand: it gives the red-noise test of the D
    loss (with its ratio and p-value), the mode losses behind ``mode_hops``, and which
    value blew up in a diverged run."""
    if status not in ("ok", "diverged"):
        return []
    found = [diverged(metrics, status, history, diverged_at)]
    if status == "ok":
        found += [unlearned(metrics, history), collapsed(metrics), vanishing(metrics), oscillating(metrics, history),
                  converged(metrics, history)[0]]
    return [lab for lab in found if lab is not None]


def columns(metrics: dict, status: str = "ok", history=None, diverged_at=None) -> dict:
    """``diagnosis`` and ``evidence``, the two summary columns of a run."""
    if status not in ("ok", "diverged"):
        return {"diagnosis": status, "evidence": ""}
    labels = diagnose(metrics, status, history, diverged_at)
    if labels:
        return {"diagnosis": ", ".join(lab.name for lab in labels),
                "evidence": SEPARATOR.join(f"{lab.name}: {lab.evidence}" for lab in labels)}
    why = converged(metrics, history)[1]
    captured, total = _num(metrics, "modes_captured"), _num(metrics, "modes_total")
    lost = int(round(total - captured)) if math.isfinite(captured + total) else 0
    if lost > 0:
        why += (f"; {lost} of {int(total)} modes lost (collapse: ≥ "
                f"{max(1, math.ceil(LOST_FRACTION * total - 1e-9))} lost with modes_effective ≤ "
                f"{_g((1 - LOST_FRACTION) * total)}; it is {_g(_num(metrics, 'modes_effective'))})")
    drops = _num(metrics, "mode_drops")
    if math.isfinite(drops) and drops > 0:
        why += f"; G left modes it held {int(drops)} times in the last half (< {DROPS_MIN})"
    return {"diagnosis": NO_LABEL, "evidence": f"{NO_LABEL}: no failure found; {why}"}


def evidence_parts(evidence) -> dict:
    """An ``evidence`` cell by label ('collapsed: 6 of 8 ... | oscillating: ...')."""
    if not isinstance(evidence, str):
        return {}
    out = {}
    for part in evidence.split(SEPARATOR):
        name, _, text = part.partition(": ")
        out[name.strip()] = text
    return out


def label_names(diagnosis) -> list[str]:
    """The labels of a ``diagnosis`` cell ('collapsed, oscillating' -> both)."""
    if not isinstance(diagnosis, str) or not diagnosis:
        return []
    return [s.strip() for s in diagnosis.split(",") if s.strip()]


def is_failure(diagnosis, fail_on=FAILURES) -> bool:
    return any(lab in fail_on for lab in label_names(diagnosis))


def thresholds_markdown() -> str:
    """docs/diagnosis.md's table of thresholds, from :data:`THRESHOLDS`."""
    rows = ["| label | threshold | value | rule |", "|---|---|---|---|"]
    rows += [f"| `{t.label}` | `{t.name}` | {t.value:g} | {t.rule} |" for t in THRESHOLDS]
    return "\n".join(rows) + "\n"
