"""Would stacks across penalty kinds and across n_critic be faster? Measured, one thread.

    python benchmarks/penalty_stacking.py          # ~4 minutes on a 2-core CPU

A run without a penalty could join a stack of runs with it as a slice whose penalty
weight is 0, and a run of n_critic 1 a stack of n_critic 5 with its four extra critic
steps masked. Either way the joining slice computes what the others compute (the
double backward of R1 or the gradient penalty; five critic steps), and the stack
saves a group's fixed costs and the launches of one stack. So "together" costs what a
stack of both sizes of the costlier kind costs, and the question is whether that beats
the two kinds apart:

- apart: N plain runs as one stack + N penalized (or n_critic 5) runs as another;
- together: 2N runs of the penalized (n_critic 5) kind as one stack (the arithmetic of
  N weight-0 (masked) slices beside N real ones).

Each stack trains as a worker of `ganbench run` trains a group (runs/training.py, one
torch thread; benchmarks/costs.measure): ms per training step (warm, evaluations out)
and the group's whole seconds. Every stack is measured twice (in order, then reversed)
and keeps its lesser numbers. Stacks of suites/mog.yaml's networks and settings.
"""
from __future__ import annotations

import argparse
import time

import torch

from costs import BASE, R1, measure

KINDS = {
    "r1": ("nonsaturating", {}, "nonsaturating + R1", R1),
    "gp": ("wgan (clip)", {"objective": {"name": "wgan", "clip": 0.01}},
           "wgan + GP", {"objective": {"name": "wgan", "clip": 0.01},
                         "regularizers": [{"name": "gp", "weight": 0.1}]}),
    "n_critic": ("nonsaturating, n_critic 1", {}, "nonsaturating, n_critic 5", {"n_critic": 5}),
}


def stack(name: str, changes: dict, runs: int) -> dict:
    r = measure((name, "ring8", changes), runs)
    return {"step": r["step"], "whole": r["build"] + BASE["steps"] * r["step"]
            + 2 * r["eval"] + r["end"]}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, nargs="+", default=[5, 10, 24],
                    help="N, the runs of each kind")
    args = ap.parse_args()
    torch.set_num_threads(1)
    stack("warm-up", {}, 1)
    jobs = [(k, what, n) for k in KINDS for n in args.runs for what in ("plain", "kind", "both")]
    best: dict = {}
    t0 = time.perf_counter()
    for job in jobs + jobs[::-1]:
        kind, what, n = job
        plain_name, plain, kind_name, penalized = KINDS[kind]
        r = stack(plain_name, plain, n) if what == "plain" else \
            stack(kind_name, penalized, 2 * n if what == "both" else n)
        old = best.get(job)
        best[job] = r if old is None else {k: min(old[k], r[k]) for k in r}
    print(f"torch {torch.__version__}, 1 thread; {len(jobs) * 2} stacks in "
          f"{time.perf_counter() - t0:.0f} s; {BASE['steps']} steps, ms per step of the "
          "training alone and seconds of the whole group (build, steps, evaluations, end)")
    print(f"{'kinds':44}{'N':>4}{'apart ms':>10}{'together':>10}{'ratio':>7}"
          f"{'apart s':>9}{'together':>10}{'ratio':>7}")
    for kind, (plain_name, _, kind_name, _) in KINDS.items():
        for n in args.runs:
            p, k, b = (best[(kind, w, n)] for w in ("plain", "kind", "both"))
            step_apart, whole_apart = p["step"] + k["step"], p["whole"] + k["whole"]
            print(f"{plain_name + ' with ' + kind_name:44}{n:4}{1e3 * step_apart:10.1f}"
                  f"{1e3 * b['step']:10.1f}{b['step'] / step_apart:7.2f}{whole_apart:9.2f}"
                  f"{b['whole']:10.2f}{b['whole'] / whole_apart:7.2f}")
    print("ratio: together / apart (below 1: stacking the kinds together is faster)")


if __name__ == "__main__":
    main()
