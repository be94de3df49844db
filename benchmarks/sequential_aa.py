"""The false-decision rate of seeds on demand (``ganbench run --until-decided``) on A/A
comparisons: the whole procedure simulated by resampling real runs of one variant.

    ganbench run suites/ci.yaml --seeds 48 --out results/ci48     # >= 48 seeds of a variant
    python benchmarks/sequential_aa.py results/ci48 --variant nonsaturating --jobs 2

Each simulated experiment has two arms, A (the reference) and A' (its twin), each
drawing its seeds with replacement from the pool's runs of ``--variant`` (every metric
of a seed together, and its status; every seed counted by the rule of
ganbench.analysis.seeds first). The design is the one ``--until-decided`` builds for a
suite with that variant twice: ``--first`` seeds a side, blocks of ``--block``, at most
``--max-seeds``, the dataset's key metrics (or ``--metric``), family alpha ``--alpha``
split over the comparisons, O'Brien-Fleming spending, equivalence where ``--margin``
states one; the looks are played by the same code (ganbench.analysis.decisions.play).
A false decision is an experiment in which any comparison ends better or worse.
Prints the rate with its 95% Clopper-Pearson interval, the experiments' seeds used,
and how many ended equivalent or undecided.
"""
from __future__ import annotations

import argparse
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats as sps

from ganbench.analysis.decisions import Design, play
from ganbench.analysis.seeds import counted, metric_columns
from ganbench.layout.summaries import load_summaries
from ganbench.metrics.catalogue import key_metrics


def clopper_pearson(k: int, n: int) -> tuple[float, float]:
    ci = sps.binomtest(k, n).proportion_ci(0.95, method="exact")
    return float(ci.low), float(ci.high)


def pool_of(out: Path, variant: str, dataset: str | None, metrics=None) -> pd.DataFrame:
    summary = load_summaries([out])
    rows = summary[summary.variant.astype(str) == variant]
    if dataset:
        rows = rows[rows.dataset.astype(str) == dataset]
    rows = counted(rows[rows.dataset == rows.dataset.iloc[0]], [out]).reset_index(drop=True)
    keep = set(metrics or key_metrics([c for c in metric_columns(rows) if rows[c].notna().any()]))
    # the seeds counted already: only the metrics decided on (and modes_total, which
    # a worst value reads) go on, so each look's counting reads fewer columns
    return rows[[c for c in rows.columns if c in keep | {"modes_total"} or
                 c not in metric_columns(rows)]]


def experiment(pool: pd.DataFrame, design: Design, rng, other: pd.DataFrame | None = None) -> dict:
    """One simulated A/A experiment: each arm's seeds drawn from the pool (arm b's from
    ``other`` when given: an A/B experiment)."""
    parts = []
    for arm in ("a", "b"):
        seeds = [s for j in range(1, len(design.seeds_at()) + 1)
                 for s in design.block_seeds(arm, j)]
        source = other if arm == "b" and other is not None else pool
        drawn = source.iloc[rng.integers(0, len(source), len(seeds))].copy()
        drawn["variant"], drawn["seed"] = arm, seeds
        drawn["run_id"] = [f"x__{arm}__seed{s}" for s in seeds]
        parts.append(drawn)
    played = play(pd.concat(parts, ignore_index=True), design)
    found = [r["decision"] for r in played.comparisons.values()]
    return {"false": any(d in ("better", "worse") for d in found),
            "decisions": {c[1]: r["decision"] for c, r in played.comparisons.items()},
            "equivalent": sum(d == "equivalent" for d in found),
            "undecided": sum(d == "undecided" for d in found),
            "seeds": played.seeds[(design.datasets[0], "b")],
            "looks": len(played.looks)}


def experiments(pool: pd.DataFrame, design: Design, n: int, seed) -> list[dict]:
    rng = np.random.default_rng(seed)
    return [experiment(pool, design, rng) for _ in range(n)]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("pool", type=Path)
    ap.add_argument("--variant", default="nonsaturating")
    ap.add_argument("--dataset", default=None)
    ap.add_argument("--sims", type=int, default=10000)
    ap.add_argument("--first", type=int, default=12)
    ap.add_argument("--block", type=int, default=12)
    ap.add_argument("--max-seeds", type=int, default=48)
    ap.add_argument("--alpha", type=float, default=0.05)
    ap.add_argument("--metric", action="append", default=None)
    ap.add_argument("--margin", action="append", default=[], metavar="METRIC=VALUE")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--jobs", type=int, default=1, help="worker processes (under the machine's "
                    "lock, one per core)")
    a = ap.parse_args()
    pool = pool_of(a.pool, a.variant, a.dataset, a.metric)
    margins = {m: float(v) for m, _, v in (x.partition("=") for x in a.margin)}
    design = Design(reference="a", first_seeds={"a": list(range(a.first)),
                                                "b": list(range(1000, 1000 + a.first))},
                    datasets=[str(pool.dataset.iloc[0])], block=a.block, max_seeds=a.max_seeds,
                    alpha=a.alpha, metrics=a.metric, margins=margins)
    start = time.perf_counter()
    shares = [a.sims // a.jobs + (i < a.sims % a.jobs) for i in range(a.jobs)]
    with ProcessPoolExecutor(a.jobs) as ex:     # each worker its own stream of the seed
        parts = ex.map(experiments, [pool] * a.jobs, [design] * a.jobs, shares,
                       [[a.seed, i] for i in range(a.jobs)])
        results = [r for part in parts for r in part]
    wall = time.perf_counter() - start
    k = sum(r["false"] for r in results)
    lo, hi = clopper_pearson(k, a.sims)
    seeds = np.array([r["seeds"] for r in results])
    family = results[0]["equivalent"] + results[0]["undecided"]
    print(f"pool: {len(pool)} runs of {a.variant} on {design.datasets[0]} in {a.pool} "
          f"({(pool.status == 'ok').sum()} ok); design: looks at "
          f"{', '.join(map(str, design.seeds_at()))} seeds a side, {family} comparisons "
          f"(family alpha {a.alpha:g}), margins {margins or 'none'}")
    print(f"false decisions (any comparison better or worse): {k}/{a.sims} = "
          f"{100 * k / a.sims:.2f}% [95% CI {100 * lo:.2f}, {100 * hi:.2f}]")
    print(f"seeds per arm at the end: mean {seeds.mean():.1f}, "
          f"{', '.join(f'{n}: {int((seeds == n).sum())}' for n in design.seeds_at())}")
    print(f"comparisons ended equivalent: {sum(r['equivalent'] for r in results)}, undecided: "
          f"{sum(r['undecided'] for r in results)} (of {family * a.sims}); {wall:.0f} s")


if __name__ == "__main__":
    main()
