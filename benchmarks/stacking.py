"""Wide stacking against a plain per-run loop, on the sensitivity workload, in one run.

    python benchmarks/stacking.py               # ~3 minutes on a 2-core CPU
    python benchmarks/stacking.py --mog OLD     # also `ganbench run suites/mog.yaml` with
                                                # the checkout OLD and with this one, side by side

Workload: suites/sensitivity.yaml's networks (ring8, MLP 3x64, G ReLU, D LeakyReLU 0.2,
z_dim 16, batch 128), non-saturating loss, Adam with one (lr, beta1) setting per run
from the sensitivity grid. Prints, in one process and one run: the dense-matmul
GFLOP/s; run-steps/s of a plain per-run loop (nn.Linear, torch's Adam, one run after
another, as peers write it); ganbench's stacked model at 5, 16 and 48 runs deep (one
process, every core), and as `ganbench run` uses a 2-core CPU (two worker processes,
one thread each, 48 runs each); each as a ratio to the plain loop, in GFLOP/s of the
matmuls (forward and backward) and as % of the matmul figure. Periodic evaluation
is off (one at the end, not timed) so the rates are training's.
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

WIDTH, BATCH, Z, STEPS = 64, 128, 16, 200
LRS = [1e-4, 3e-4, 1e-3, 3e-3]
BETAS = [[0.0, 0.9], [0.5, 0.999], [0.9, 0.999]]


def settings(n: int) -> list[tuple[float, list]]:
    grid = [(lr, b) for lr in LRS for b in BETAS]
    return [grid[i % len(grid)] for i in range(n)]


def stacked(n_runs: int, steps: int, threads: int | None = None) -> float:
    """Run-steps/s of ganbench's stacked model of ``n_runs`` runs (end of run not timed)."""
    if threads:
        torch.set_num_threads(threads)
    from ganbench.config.suite import parse_suite
    from ganbench.harness.loop import Loop
    variants = {f"s{i}": {"optimizer": {"lr": lr, "betas": b}} for i, (lr, b) in enumerate(settings(n_runs))}
    raw = {"datasets": ["ring8"], "variants": variants,
           "defaults": {"steps": steps, "eval_every": steps, "batch_size": BATCH, "n_eval": 500,
                        "objective": "nonsaturating",
                        "generator": {"name": "mlp", "width": WIDTH, "depth": 3, "z_dim": Z},
                        "discriminator": {"name": "mlp", "width": WIDTH, "depth": 3}}}
    specs = parse_suite(raw).specs
    loop = Loop({"name": "ring8"}, [s.config for s in specs], [s.seed for s in specs])
    t0 = time.perf_counter()
    loop.run()
    return n_runs * steps / (time.perf_counter() - t0 - loop.timings["final"])


def _worker(args):
    return stacked(*args)


def two_workers(n_runs: int, steps: int) -> float:
    """Two processes x ``n_runs`` runs each, one thread each (`ganbench run` on 2 cores)."""
    ctx = mp.get_context("spawn")
    with ctx.Pool(2) as pool:
        pool.map(warm, range(2))
        t0 = time.perf_counter()
        rates = pool.map(_worker, [(n_runs, steps, 1)] * 2)
        wall = time.perf_counter() - t0
    return min(sum(rates), 2 * n_runs * steps / wall)


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
    plain = plain_loop(settings(4), STEPS, WIDTH, BATCH, Z)
    rows = [("plain per-run loop", plain)]
    for n in (5, 16, 48):
        rows.append((f"ganbench, 1 process, {n} runs deep", stacked(n, STEPS)))
    rows.append(("ganbench, 2 workers x 48 runs (1 thread)", two_workers(48, STEPS)))
    mm = max(mm, matmul_gflops())
    print(f"dense matmul (2048^2, fp32): {mm:.1f} GFLOP/s")
    print(f"{'':42}{'run-steps/s':>12}{'x plain':>9}{'GFLOP/s':>9}{'% matmul':>9}")
    for name, r in rows:
        g = r * fl / 1e9
        print(f"{name:42}{r:12.0f}{r / plain:9.2f}{g:9.1f}{100 * g / mm:8.0f}%")
    if args.mog:
        old, new = mog_wall(args.mog), mog_wall(".")
        print(f"ganbench run suites/mog.yaml: before {old:.1f} min, now {new:.1f} min "
              f"({old / new:.2f}x faster), same machine, one after the other")


if __name__ == "__main__":
    main()
