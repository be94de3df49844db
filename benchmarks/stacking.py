"""Wide stacking against a plain per-run loop, on the sensitivity workload, in one run.

    python benchmarks/stacking.py               # ~5 minutes on a 2-core CPU
    python benchmarks/stacking.py --mog OLD     # also `ganbench run suites/mog.yaml` with
                                                # the checkout OLD and with this one, side by side

Workload: suites/sensitivity.yaml's networks (ring8, MLP 3x64, G ReLU, D LeakyReLU 0.2,
z_dim 16, batch 128), non-saturating loss, Adam with one (lr, beta1) setting per run
from the sensitivity grid. Prints, in one process and one run: the dense-matmul
GFLOP/s; run-steps/s of a plain per-run loop (nn.Linear, torch's Adam, one run after
another, as peers write it); ganbench's stacked model at 5, 16 and 48 runs deep (one
process, every core), and as `ganbench run` uses a 2-core CPU (two worker processes,
one thread each, 48 runs each); each as a ratio to the plain loop, in GFLOP/s of the
matmuls (forward and backward) and as % of the matmul figure.

Training's rate is marginal: from the first evaluation (step EVERY) to the last
(STEPS), the steps over the time, the evaluations' own time taken out (Loop.timings).
So nothing a group pays once counts in it: building its parts, the first steps'
warm-up, the evaluation at the end, D and D* on the plane, model.pt, every run's files
(the old benchmark subtracted only part of that). The whole group's rate (its STEPS
steps over its wall, every fixed cost counted) and its fixed seconds (the wall less its
steps at the marginal rate) are printed beside it. Evaluations run every EVERY steps
on 500 samples per run.
"""
from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import subprocess
import sys
import time

import torch

from common import matmul_gflops, mlp_flops_per_step, plain_loop, warm

WIDTH, BATCH, Z, STEPS, EVERY = 64, 128, 16, 400, 100
LRS = [1e-4, 3e-4, 1e-3, 3e-3]
BETAS = [[0.0, 0.9], [0.5, 0.999], [0.9, 0.999]]


def settings(n: int) -> list[tuple[float, list]]:
    grid = [(lr, b) for lr in LRS for b in BETAS]
    return [grid[i % len(grid)] for i in range(n)]


def group_rates(n_runs: int, threads: int | None = None) -> tuple[float, float]:
    """Build and train ganbench's stacked model of ``n_runs`` runs for STEPS steps (an
    evaluation every EVERY); (training's marginal run-steps/s, the whole group's wall)."""
    if threads:
        torch.set_num_threads(threads)
    from ganbench.config.suite import parse_suite
    from ganbench.harness.loop import Loop
    variants = {f"s{i}": {"optimizer": {"lr": lr, "betas": b}} for i, (lr, b) in enumerate(settings(n_runs))}
    raw = {"datasets": ["ring8"], "variants": variants,
           "defaults": {"steps": STEPS, "eval_every": EVERY, "batch_size": BATCH, "n_eval": 500,
                        "objective": "nonsaturating",
                        "generator": {"name": "mlp", "width": WIDTH, "depth": 3, "z_dim": Z},
                        "discriminator": {"name": "mlp", "width": WIDTH, "depth": 3}}}
    specs = parse_suite(raw).specs
    marks = []
    t0 = time.perf_counter()
    loop = Loop({"name": "ring8"}, [s.config for s in specs], [s.seed for s in specs])
    loop.run(lambda n: marks.append((n, time.perf_counter(), sum(loop.timings.values()))))
    wall = time.perf_counter() - t0
    (n0, t_0, spent0), (n1, t_1, spent1) = marks[0], marks[-1]
    return n_runs * (n1 - n0) / ((t_1 - t_0) - (spent1 - spent0)), wall


def stacked(n_runs: int) -> tuple[float, float, float]:
    """(marginal run-steps/s, the whole group's run-steps/s, its fixed seconds)."""
    rate, wall = group_rates(n_runs)
    return rate, n_runs * STEPS / wall, wall - n_runs * STEPS / rate


def _worker(args):
    return group_rates(*args)


def two_workers(n_runs: int) -> tuple[float, float, float]:
    """Two processes x ``n_runs`` runs each, one thread each (`ganbench run` on 2 cores):
    the sum of their marginal rates (they train at the same time), and the whole
    rate until both are done."""
    ctx = mp.get_context("spawn")
    with ctx.Pool(2) as pool:
        pool.map(warm, range(2))
        t0 = time.perf_counter()
        got = pool.map(_worker, [(n_runs, 1)] * 2)
        wall = time.perf_counter() - t0
    rate = sum(r for r, _ in got)
    return rate, 2 * n_runs * STEPS / wall, wall - 2 * n_runs * STEPS / rate


def mog_wall(checkout: str) -> float:
    """Minutes of `ganbench run suites/mog.yaml` with the package of ``checkout``."""
    env = dict(os.environ, PYTHONPATH=os.path.abspath(checkout))
    out = f"/tmp/ganbench_mog_{abs(hash(checkout))}"
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-m", "ganbench.cli", "run", "suites/mog.yaml", "--force",
                    "--no-progress", "--out", out], check=True, env=env, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL, cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    return (time.perf_counter() - t0) / 60


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mog", metavar="OLD", help="a checkout of the code before; time mog.yaml with both")
    args = ap.parse_args()
    torch.set_num_threads(len(os.sched_getaffinity(0)))
    fl = mlp_flops_per_step(WIDTH, BATCH, Z)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads; workload: ring8, MLP 3x{WIDTH}, "
          f"z {Z}, batch {BATCH}, Adam with a per-run (lr, beta1); {fl / 1e6:.2f} MFLOP per run-step")
    mm = matmul_gflops()
    plain = plain_loop(settings(4), 200, WIDTH, BATCH, Z)
    rows = [("plain per-run loop", (plain, None, None))]
    for n in (5, 16, 48):
        rows.append((f"ganbench, 1 process, {n} runs deep", stacked(n)))
    rows.append(("ganbench, 2 workers x 48 runs (1 thread)", two_workers(48)))
    mm = max(mm, matmul_gflops())
    print(f"dense matmul (2048^2, fp32): {mm:.1f} GFLOP/s")
    print("run-steps/s: training's marginal rate (the plain loop: its whole run); whole group: "
          f"{STEPS} steps, every fixed cost counted; fixed: the seconds of its wall that are not steps")
    print(f"{'':42}{'run-steps/s':>12}{'x plain':>9}{'GFLOP/s':>9}{'% matmul':>9}"
          f"{'whole group':>12}{'fixed s':>9}")
    for name, (r, whole, fixed) in rows:
        g = r * fl / 1e9
        tail = f"{whole:12.0f}{fixed:9.2f}" if whole is not None else ""
        print(f"{name:42}{r:12.0f}{r / plain:9.2f}{g:9.1f}{100 * g / mm:8.0f}%{tail}")
    if args.mog:
        old, new = mog_wall(args.mog), mog_wall(".")
        print(f"ganbench run suites/mog.yaml: before {old:.1f} min, now {new:.1f} min "
              f"({old / new:.2f}x faster), same machine, one after the other")


if __name__ == "__main__":
    main()
