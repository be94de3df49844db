"""How wide a new baseline's margins should be: the false alarms and power that
``noise_margin`` gives, estimated from a results folder's own seeds as ``ganbench check
--update`` estimates them (ganbench/analysis/gate_estimate.py), for several widths and
for a given baseline's rules on the same seeds.

    ganbench run suites/ci.yaml --out results/ci
    python benchmarks/noise_margin.py results/ci --rules results/baselines/ci.yaml

Prints a markdown table (docs/statistics.md, "A new baseline").
"""
from __future__ import annotations

import argparse
import copy
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from ganbench.analysis.baseline import baseline_from, load_baseline  # noqa: E402
from ganbench.layout.summaries import load_summaries  # noqa: E402
from ganbench.analysis.gate_estimate import estimate  # noqa: E402
from ganbench.analysis.seeds import counted, worst_values  # noqa: E402
from ganbench.metrics.catalogue import default_rules  # noqa: E402


def row(name: str, baseline: dict, worsts: dict, draws: int) -> str:
    est = estimate(baseline, worsts, draws=draws)
    power = ", ".join("/".join(v.split(" = ")[1].split(" [")[0] for v in ks.values())
                      for ks in est["power"].values())
    return f"| {name} | {est['false_alarms']} | {est['of_which_cannot_test']} | {power} |"


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("out", type=Path, help="a results folder (e.g. of suites/ci.yaml)")
    p.add_argument("--widths", type=float, nargs="+", default=[0.0, 0.25, 0.5, 1.0])
    p.add_argument("--rules", type=Path, help="a baseline whose rules to estimate too")
    p.add_argument("--draws", type=int, default=400)
    a = p.parse_args(argv)
    summary = load_summaries([a.out])
    scores = counted(summary, [a.out])
    worsts = {ds: worst_values(g) for ds, g in scores.groupby("dataset", sort=False)}
    rules = default_rules()
    print(f"| noise_margin | false alarms | of which CANNOT TEST alone | power, worse by 1 / 2 "
          f"seed spreads: {', '.join(rules)} |\n|---|---|---|---|")
    for w in a.widths:
        ruled = {m: {**copy.deepcopy(r), "noise_margin": w} for m, r in rules.items()}
        print(row(f"{w:g}", baseline_from(summary, ruled, outs=[a.out]), worsts, a.draws))
    if a.rules:
        theirs = load_baseline(a.rules)["rules"]
        print(row(f"the rules of {a.rules}", baseline_from(summary, theirs, outs=[a.out]),
                  worsts, a.draws))


if __name__ == "__main__":
    main()
