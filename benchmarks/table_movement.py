"""How far a table moved between two runs of the same suite (another torch, another
machine), in seed-noise units.

    python benchmarks/table_movement.py results/mog_torch214 results/mog_torch291 [--metric M ...]

For every dataset x variant x metric cell of the two folders' summary.csv: each side's
mean and standard deviation over its seeds (runs without a value, e.g. a diverged run's
metrics, are left out; n says how many count), and the movement
``|mean_A - mean_B| / SE`` with ``SE = sqrt(sd_A^2 / n_A + sd_B^2 / n_B)``, the standard
error of the difference of the two means (Welch's). A cell whose seeds agree exactly on
both sides (SE 0) moved 0 if the means are equal, else infinitely. Had nothing changed
but the seeds' luck, about 5-8% of cells would exceed 2 SE at 5 seeds per side (Welch's
t with 4-8 degrees of freedom): the script prints that expected count beside the
observed one (the sum over cells of P(|t_df| > 2), df by Welch-Satterthwaite), and how
many runs came out identical (every metric equal) on both sides.
"""
from __future__ import annotations

import argparse
import math
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

#: the flagship table's metric columns (README.md)
FLAGSHIP = ["modes_captured", "hq_fraction", "reverse_kl", "fd", "jsd", "d_star_gap",
            "grad_vanish_ratio", "nash_gap", "osc_amplitude"]
KEYS = ["dataset", "variant"]


def welch(a: np.ndarray, b: np.ndarray) -> tuple[float, float, float]:
    """(|mean difference| / SE, SE, Welch-Satterthwaite degrees of freedom)."""
    va, vb = a.var(ddof=1) / len(a), b.var(ddof=1) / len(b)
    se = math.sqrt(va + vb)
    diff = abs(a.mean() - b.mean())
    if se == 0:
        return (0.0 if diff == 0 else math.inf), 0.0, math.nan
    df = (va + vb) ** 2 / (va ** 2 / (len(a) - 1) + vb ** 2 / (len(b) - 1))
    return diff / se, se, df


def movement(a: pd.DataFrame, b: pd.DataFrame, metrics: list[str], z: float = 2.0) -> pd.DataFrame:
    """One row per dataset x variant x metric with a value on both sides (at least 2
    seeds each)."""
    rows = []
    for key, ga in a.groupby(KEYS, sort=False):
        gb = b.set_index(KEYS).loc[[key]] if key in set(map(tuple, b[KEYS].values)) else None
        if gb is None:
            continue
        for m in metrics:
            va = pd.to_numeric(ga[m], errors="coerce").dropna().to_numpy(float)
            vb = pd.to_numeric(gb[m], errors="coerce").dropna().to_numpy(float)
            if len(va) < 2 or len(vb) < 2:
                continue
            moved, se, df = welch(va, vb)
            rows.append({"dataset": key[0], "variant": key[1], "metric": m,
                         "n_a": len(va), "mean_a": va.mean(), "sd_a": va.std(ddof=1),
                         "n_b": len(vb), "mean_b": vb.mean(), "sd_b": vb.std(ddof=1),
                         "se": se, "moved_se": moved, "df": df,
                         "p_exceed_by_chance": 2 * stats.t.sf(z, df) if not math.isnan(df) else 0.0})
    return pd.DataFrame(rows)


def identical_runs(a: pd.DataFrame, b: pd.DataFrame, metrics: list[str]) -> tuple[int, int]:
    """(runs whose every metric is equal on both sides, runs on both sides)."""
    m = a.merge(b, on="run_id", suffixes=("_a", "_b"))
    same = np.ones(len(m), dtype=bool)
    for c in metrics:
        x, y = pd.to_numeric(m[f"{c}_a"], errors="coerce"), pd.to_numeric(m[f"{c}_b"], errors="coerce")
        same &= ((x == y) | (x.isna() & y.isna())).to_numpy()
    return int(same.sum()), len(m)


def fmt(x: float) -> str:
    return f"{x:.3g}"


def report(t: pd.DataFrame, names: tuple[str, str], z: float = 2.0) -> str:
    lines = [f"| dataset | variant | metric | {names[0]} (n) | {names[1]} (n) | moved (SE) |",
             "|---|---|---|---|---|---|"]
    for r in t.itertuples():
        lines.append(f"| {r.dataset} | {r.variant} | {r.metric} | {fmt(r.mean_a)} ± {fmt(r.sd_a)} ({r.n_a}) "
                     f"| {fmt(r.mean_b)} ± {fmt(r.sd_b)} ({r.n_b}) | "
                     + ("**" if r.moved_se > z else "") + f"{r.moved_se:.2f}" + ("**" if r.moved_se > z else "") + " |")
    return "\n".join(lines) + "\n"


def summary_text(t: pd.DataFrame, z: float = 2.0) -> str:
    over = int((t.moved_se > z).sum())
    finite = t.moved_se[np.isfinite(t.moved_se)]
    return (f"{len(t)} cells; {over} moved by more than {z:g} SE (expected by chance alone: "
            f"{t.p_exceed_by_chance.sum():.1f}); median movement {finite.median():.2f} SE, "
            f"largest {t.moved_se.max():.2f} SE")


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("a", type=Path)
    ap.add_argument("b", type=Path)
    ap.add_argument("--metric", action="append", default=None, help="default: the flagship table's")
    ap.add_argument("--z", type=float, default=2.0, help="the movement (in SE) to count (default 2)")
    args = ap.parse_args(argv)
    a, b = (pd.read_csv(p / "summary.csv") for p in (args.a, args.b))
    metrics = [m for m in (args.metric or FLAGSHIP) if m in a.columns and m in b.columns]
    t = movement(a, b, metrics, args.z)
    print(report(t, (args.a.name, args.b.name), args.z))
    print(summary_text(t, args.z))
    same, n = identical_runs(a, b, metrics)
    print(f"{same} of {n} runs identical on both sides (every metric above equal)")


if __name__ == "__main__":
    main()
