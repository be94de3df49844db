"""Are re-cut groups the same experiment? Two one-sided tests (TOST) of every key metric,
per dataset and variant, between one suite trained by two checkouts that cut its
groups differently (e.g. before and after the 2D sets stacked across datasets).

    python benchmarks/recut_equivalence.py --old /tmp/i29-main --seeds 20 \\
        --variants nonsaturating,nonsaturating_r1,pacgan2 --out /tmp/recut
    python benchmarks/recut_equivalence.py --analyse /tmp/recut/old /tmp/recut/new

A stacked slice trains as its run alone would at the first steps, but a group cut
otherwise sums its operations in another order, and float rounding grows to seed-sized
differences within a few hundred steps (GAN training is chaotic). So two cuts are
compared the only way that means anything: through their seeds' distributions. Per
dataset x variant x metric (the dataset's key metrics), with the seeds' values (every
seed counted as `compare` counts it: a diverged run at its last evaluation, a
collapsed one at the metric's worst value):

- the margin δ is stated before looking: ``--margin-sd`` (default 1) times the pooled
  standard deviation of the two sides' seeds, at least ``--floor`` of the metric's unit
  (default 0.5 for ``modes_captured``, an integer; else 0);
- equivalent when both one-sided exact rank tests (tie-aware, as `compare`'s) reject a
  difference of δ or more at ``--alpha`` (default 0.05): max(p(new + δ ≤ old),
  p(new − δ ≥ old)) < alpha;
- different when the two-sided exact rank test says so at ``--alpha``;
- a cell whose seeds are one constant on both sides is equal (nothing to test).

Also per group: the runs that ended ok on each side (must be the same share), and the
runs whose every number is equal (cut the same: bit-identical). At δ = 1 SD and 20 seeds
a side, one truly equal cell is shown equivalent about 87% of the time (normal
approximation), so among many cells a few undecided ones are expected; a different one
at alpha 0.05 one time in twenty.
"""
from __future__ import annotations

import argparse
import math
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from ganbench.analysis.seeds import counted  # noqa: E402
from ganbench.analysis.sequential import equivalence_p  # noqa: E402
from ganbench.analysis.stats import rank_test  # noqa: E402
from ganbench.layout.summaries import load_summaries  # noqa: E402
from ganbench.metrics.catalogue import key_metrics  # noqa: E402

FLOORS = {"modes_captured": 0.5}


def train(checkout: str, suite: dict, out: Path) -> float:
    """Train ``suite`` with ``checkout``'s package (``now``: this one) into ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    path = out / "suite.in.yaml"
    path.write_text(yaml.safe_dump(suite, sort_keys=False))
    where = ROOT if checkout == "now" else Path(checkout).resolve()
    env = dict(os.environ, PYTHONPATH=str(where))
    t0 = time.perf_counter()
    # run from the checkout: `python -m` puts the working folder first on sys.path
    subprocess.run([sys.executable, "-m", "ganbench.cli", "run", str(path.resolve()), "--out",
                    str(out.resolve()), "--no-progress"], env=env, check=True, cwd=where)
    return time.perf_counter() - t0


def cell(old: np.ndarray, new: np.ndarray, metric: str, margin_sd: float,
         alpha: float) -> dict:
    """One dataset x variant x metric: δ, the TOST p, the two-sided p, the verdict."""
    o, n = old[np.isfinite(old)], new[np.isfinite(new)]
    if len(o) < 2 or len(n) < 2:
        return {"delta": math.nan, "p_tost": math.nan, "p_diff": math.nan, "verdict": "too few"}
    if np.ptp(np.concatenate([o, n])) == 0:
        return {"delta": 0.0, "p_tost": 0.0, "p_diff": 1.0, "verdict": "equal (constant)"}
    sd = math.sqrt((o.var(ddof=1) * (len(o) - 1) + n.var(ddof=1) * (len(n) - 1))
                   / (len(o) + len(n) - 2))
    delta = max(margin_sd * sd, FLOORS.get(metric, 0.0))
    p_tost = equivalence_p(n, o, delta)
    _, greater, less = rank_test(n, o)
    p_diff = min(1.0, 2 * min(greater, less))
    verdict = ("different" if p_diff < alpha else
               "equivalent" if p_tost < alpha else "undecided")
    return {"delta": delta, "p_tost": p_tost, "p_diff": p_diff, "verdict": verdict}


def identical_runs(old: pd.DataFrame, new: pd.DataFrame, metrics: list[str]) -> int:
    """Runs (by run_id) whose every metric is equal on both sides."""
    a, b = old.set_index("run_id")[metrics], new.set_index("run_id")[metrics]
    common = a.index.intersection(b.index)
    same = [(a.loc[r].fillna(-1e300) == b.loc[r].fillna(-1e300)).all() for r in common]
    return int(sum(same))


def analyse(old_out: Path, new_out: Path, margin_sd: float, alpha: float) -> pd.DataFrame:
    old, new = load_summaries([old_out]), load_summaries([new_out])
    so, sn = counted(old, [old_out]), counted(new, [new_out])
    rows = []
    for (ds, var), go in so.groupby(["dataset", "variant"], sort=False):
        gn = sn[(sn.dataset == ds) & (sn.variant == var)]
        ro, rn = old[(old.dataset == ds) & (old.variant == var)], new[(new.dataset == ds) & (new.variant == var)]
        cols = [c for c in go.columns if go[c].notna().any()]
        metrics = [m for m in key_metrics(cols) if m in gn]
        ok = f"{(ro.status == 'ok').sum()}/{len(ro)} vs {(rn.status == 'ok').sum()}/{len(rn)}"
        same = identical_runs(ro, rn, metrics)
        for m in metrics:
            o, n = (pd.to_numeric(g[m], errors="coerce").to_numpy(float) for g in (go, gn))
            rows.append({"dataset": ds, "variant": var, "metric": m, "ok old vs new": ok,
                         "identical runs": f"{same}/{len(ro)}",
                         "old mean": np.nanmean(o), "new mean": np.nanmean(n),
                         **cell(o, n, m, margin_sd, alpha)})
    return pd.DataFrame(rows)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--suite", default=str(ROOT / "suites" / "mog.yaml"))
    ap.add_argument("--old", help="the checkout that cuts the groups the old way")
    ap.add_argument("--variants", default="nonsaturating,nonsaturating_r1,pacgan2")
    ap.add_argument("--seeds", type=int, default=20)
    ap.add_argument("--out", default="/tmp/recut_equivalence")
    ap.add_argument("--analyse", nargs=2, metavar=("OLD", "NEW"), type=Path)
    ap.add_argument("--margin-sd", type=float, default=1.0)
    ap.add_argument("--alpha", type=float, default=0.05)
    a = ap.parse_args()
    if a.analyse:
        old_out, new_out = a.analyse
    else:
        raw = yaml.safe_load(Path(a.suite).read_text())
        keep = [v.strip() for v in a.variants.split(",") if v.strip()]
        suite = {**raw, "name": f"recut_{raw['name']}", "seeds": a.seeds,
                 "variants": {k: v for k, v in raw["variants"].items() if k in keep}}
        old_out, new_out = Path(a.out) / "old", Path(a.out) / "new"
        for side, checkout, out in (("old", a.old, old_out), ("new", "now", new_out)):
            print(f"recut_equivalence: {side} ({checkout}): {train(checkout, suite, out):.0f} s",
                  flush=True)
    table = analyse(old_out, new_out, a.margin_sd, a.alpha)
    pd.set_option("display.width", 200)
    print(table.to_string(index=False, float_format=lambda x: f"{x:.4g}"))
    counts = table.verdict.value_counts().to_dict()
    print(f"cells: {len(table)}; " + ", ".join(f"{k} {v}" for k, v in counts.items())
          + f" (δ = {a.margin_sd:g} pooled SD, at least {FLOORS}; alpha {a.alpha:g})")


if __name__ == "__main__":
    main()
