"""What seeds on demand decides on a real difference, and whether the power planning's
"about N seeds" holds: both by resampling real runs of two variants.

    ganbench run suites/ci.yaml --seeds 48 --out results/ci48
    python benchmarks/sequential_power.py results/ci48 --variant nonsaturating_r1

1. The whole ``--until-decided`` procedure (the design of benchmarks/sequential_aa.py)
   on experiments whose reference arm draws its seeds from the reference's pool and
   whose other arm from the variant's pool: per metric, how often it ends better,
   worse, equivalent or undecided, and the seeds a side it used.
2. The planning: from a pilot of the first ``--pilot`` seeds of each pool (seeds 0 ..
   pilot - 1, as a user would have them), the seeds a side that
   :func:`ganbench.analysis.sequential.seeds_for_power` says give 80% power at alpha
   over the family (compare's plan); then the power at that number measured by
   resampling the whole pools (2000 experiments), which stand for the truth.
"""
from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from ganbench.analysis.decisions import Design
from ganbench.analysis.sequential import power_at, seeds_for_power
from ganbench.analysis.stats import rank_test

from sequential_aa import experiment, pool_of


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("pool", type=Path)
    ap.add_argument("--variant", required=True)
    ap.add_argument("--variant-pool", type=Path, default=None, help="default: POOL")
    ap.add_argument("--reference", default="nonsaturating")
    ap.add_argument("--sims", type=int, default=1000)
    ap.add_argument("--pilot", type=int, default=12)
    ap.add_argument("--max-seeds", type=int, default=48)
    ap.add_argument("--alpha", type=float, default=0.05)
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args()
    ref = pool_of(a.pool, a.reference, None)
    var = pool_of(a.variant_pool or a.pool, a.variant, None)
    design = Design(reference="a", first_seeds={"a": list(range(a.pilot)),
                                                "b": list(range(1000, 1000 + a.pilot))},
                    datasets=[str(ref.dataset.iloc[0])], block=a.pilot, max_seeds=a.max_seeds,
                    alpha=a.alpha)
    rng = np.random.default_rng(a.seed)
    runs = [experiment(ref, design, rng, var) for _ in range(a.sims)]
    metrics = list(runs[0]["decisions"])
    seeds = np.array([r["seeds"] for r in runs])
    print(f"{a.variant} ({len(var)} runs) against {a.reference} ({len(ref)} runs), "
          f"{a.sims} experiments, looks at {', '.join(map(str, design.seeds_at()))} seeds a "
          f"side, family alpha {a.alpha:g} over {len(metrics)} comparisons; seeds a side used: "
          f"mean {seeds.mean():.1f}")
    for m in metrics:
        said = [r["decisions"][m] for r in runs]
        print(f"  {m}: " + ", ".join(f"{d} {100 * said.count(d) / a.sims:.1f}%"
                                     for d in ("better", "worse", "equivalent", "undecided")))
    level = a.alpha / len(metrics)
    print(f"planning from the first {a.pilot} seeds of each pool, at {level:.3g} "
          "(two-sided), checked by resampling the whole pools:")
    for m in metrics:
        x_all, y_all = var.sort_values("seed")[m].to_numpy(float), \
            ref.sort_values("seed")[m].to_numpy(float)
        x, y = x_all[:a.pilot], y_all[:a.pilot]
        n = seeds_for_power(x, y, level)
        if n is None:
            print(f"  {m}: the pilot says no count up to 256 (or no difference)")
            continue
        _, greater, less = rank_test(x, y)
        side = 1 if greater < less else -1
        got = power_at(x_all, y_all, n, level, side, resamples=2000, seed=a.seed + 1)
        print(f"  {m}: the pilot says about {n} seeds a side; power at {n} from the pools: "
              f"{100 * got:.0f}%")


if __name__ == "__main__":
    main()
