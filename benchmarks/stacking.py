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

Training's rate is marginal: each stacked model trains twice, STEPS and 2 × STEPS
steps, built and run whole both times, and the rate is the extra steps over the extra
time. Everything a group pays once (building its parts, the evaluation at the end,
D and D* on the plane, model.pt, every run's files) is the same in both and cancels;
it is printed apart as the group's fixed seconds, and the whole group's rate (every
fixed cost counted, 2 × STEPS steps) beside it. Periodic evaluation is off (one at
the end).
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


def group_wall(n_runs: int, steps: int, threads: int | None = None) -> float:
    """Seconds to build and train ganbench's stacked model of ``n_runs`` runs for
    ``steps`` steps, its end of run included."""
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
    t0 = time.perf_counter()
    Loop({"name": "ring8"}, [s.config for s in specs], [s.seed for s in specs]).run()
    return time.perf_counter() - t0


def rates(n_runs: int, walls: tuple[float, float], steps: int = STEPS) -> tuple[float, float, float]:
    """(marginal run-steps/s, the whole group's run-steps/s at 2 × steps, fixed seconds)
    of ``n_runs`` runs from the walls of ``steps`` and 2 × ``steps`` steps."""
    short, long = walls
    marginal = n_runs * steps / (long - short)
    return marginal, 2 * n_runs * steps / long, 2 * short - long


def stacked(n_runs: int) -> tuple[float, float, float]:
    return rates(n_runs, (group_wall(n_runs, STEPS), group_wall(n_runs, 2 * STEPS)))


def _worker(args):
    return group_wall(*args)


def two_workers(n_runs: int) -> tuple[float, float, float]:
    """Two processes x ``n_runs`` runs each, one thread each (`ganbench run` on 2 cores):
    the wall until both are done, at STEPS and 2 × STEPS steps."""
    ctx = mp.get_context("spawn")
    walls = []
    with ctx.Pool(2) as pool:
        pool.map(warm, range(2))
        for steps in (STEPS, 2 * STEPS):
            t0 = time.perf_counter()
            pool.map(_worker, [(n_runs, steps, 1)] * 2)
            walls.append(time.perf_counter() - t0)
    return rates(2 * n_runs, tuple(walls))


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
    rows = [("plain per-run loop", (plain, None, None))]
    for n in (5, 16, 48):
        rows.append((f"ganbench, 1 process, {n} runs deep", stacked(n)))
    rows.append(("ganbench, 2 workers x 48 runs (1 thread)", two_workers(48)))
    mm = max(mm, matmul_gflops())
    print(f"dense matmul (2048^2, fp32): {mm:.1f} GFLOP/s")
    print("run-steps/s: training's marginal rate (the plain loop: its whole run); whole group: "
          f"{2 * STEPS} steps, every fixed cost counted; fixed: seconds a group pays once")
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
