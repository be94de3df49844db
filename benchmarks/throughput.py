"""Training throughput of ganbench against a plain per-run PyTorch loop, in one run.

    python benchmarks/throughput.py            # ~2 minutes on a 2-core CPU
    python benchmarks/throughput.py --suite    # also times `ganbench run suites/mog.yaml`

Reference workload (from the performance issue): ring8, MLP 3 hidden x 128 (G ReLU,
D LeakyReLU 0.2), z_dim 16, batch 256, Adam, non-saturating loss, 16 seeds. Prints
run-steps/s of a plain per-run loop written as peers write it (nn.Linear, default
Adam, one run after another) and of ganbench's seed-stacked trainer (one process,
16 seeds; and two worker processes x 8 seeds, how `ganbench run` uses a 2-core CPU),
their ratios, the achieved GFLOP/s (FLOPs of the forward and backward matmuls), the
same run's dense-matmul GFLOP/s, the share of wall time spent in evaluation, and the
one-off end-of-run work per seed (theory metrics, D/D* maps, model.pt, the run's
files; kept out of the rates).
Figures are ratios measured side by side, since the machine is shared and noisy.
"""
from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import resource
import subprocess
import sys
import time

import torch

from common import matmul_gflops, mlp_flops_per_step, plain_loop, warm

SEEDS, STEPS, BATCH, WIDTH, Z = 16, 150, 256, 128, 16
STATS: dict = {}
CFG = {
    "objective": {"name": "nonsaturating"}, "regularizers": [],
    "generator": {"name": "mlp", "width": WIDTH, "depth": 3, "z_dim": Z, "activation": "relu"},
    "discriminator": {"name": "mlp", "width": WIDTH, "depth": 3, "activation": "leaky_relu"},
    "optimizer": {"name": "adam", "lr": 1e-4, "betas": [0.5, 0.999]},
    "g_optimizer": None, "d_optimizer": None, "n_critic": 1, "steps": STEPS,
    "batch_size": BATCH, "eval_every": STEPS, "n_eval": 2500, "min_hq": 1,
}


def flops_per_step() -> float:
    return mlp_flops_per_step(WIDTH, BATCH, Z)


def plain(n_runs: int, steps: int) -> float:
    """Run-steps/s of a plain loop: one nn.Linear GAN per seed, one after another."""
    return plain_loop([(1e-4, (0.5, 0.999))] * n_runs, steps, WIDTH, BATCH, Z)


def stacked(seeds: list[int], steps: int, threads: int | None = None, eval_every: int | None = None):
    """Run-steps/s of ganbench's trainer on ``seeds`` stacked; and the evaluation share."""
    if threads:
        torch.set_num_threads(threads)
    from ganbench.harness.loop import Loop
    # without eval_every, one evaluation at the last step (a few ms of 16 x 2500 samples)
    cfg = dict(CFG, steps=steps, eval_every=eval_every or steps)
    loop = Loop({"name": "ring8"}, cfg, seeds)   # built outside the timed part
    t0 = time.perf_counter()
    loop.run()
    spent = {"eval": loop.timings["eval"], "end": loop.timings["final"]}
    wall = time.perf_counter() - t0 - spent["end"]      # training and periodic evaluation
    STATS["end_per_seed"] = spent["end"] / len(seeds)
    return len(seeds) * steps / wall, spent["eval"] / wall


def _stacked_worker(args):
    return stacked(*args)[0]


def two_workers(steps: int) -> float:
    """Two processes x 8 seeds, one thread each (what `ganbench run` does on 2 cores);
    timed after the workers have started and imported torch."""
    ctx = mp.get_context("spawn")
    with ctx.Pool(2) as pool:
        pool.map(warm, range(2))
        # each worker's rate over its own training (end-of-run work left out); they overlap
        return sum(pool.map(_stacked_worker, [(list(range(0, 8)), steps, 1),
                                              (list(range(8, 16)), steps, 1)]))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--suite", action="store_true", help="also time ganbench run suites/mog.yaml")
    args = ap.parse_args()
    torch.set_num_threads(len(os.sched_getaffinity(0)))
    fl = flops_per_step()
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads; workload: ring8, MLP 3x{WIDTH}, "
          f"z {Z}, batch {BATCH}, Adam, {SEEDS} seeds; {fl / 1e6:.1f} MFLOP per run-step")
    mm = matmul_gflops()
    plain_rate = plain(SEEDS, STEPS)
    one, _ = stacked(list(range(SEEDS)), STEPS)
    two = two_workers(STEPS)
    mm2 = matmul_gflops()
    mm = max(mm, mm2)
    rows = [("plain per-run loop", plain_rate), ("ganbench, 1 process x 16 seeds", one),
            ("ganbench, 2 workers x 8 seeds", two)]
    print(f"dense matmul (2048^2, fp32): {mm:.1f} GFLOP/s")
    print(f"{'':34}{'run-steps/s':>12}{'x plain':>9}{'GFLOP/s':>9}{'% matmul':>9}")
    for name, r in rows:
        g = r * fl / 1e9
        print(f"{name:34}{r:12.0f}{r / plain_rate:9.2f}{g:9.1f}{100 * g / mm:8.0f}%")
    _, share = stacked(list(range(5)), 1000, eval_every=100)
    print(f"evaluation share of wall time (5 seeds, eval every 100 steps on 2500 samples): {100 * share:.1f}%")
    print(f"end of run, once per seed (theory metrics, D/D* maps, model.pt, files): "
          f"{STATS['end_per_seed']:.2f} s, "
          "not counted above")
    if args.suite:
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-m", "ganbench.cli", "run", "suites/mog.yaml", "--force",
                        "--no-progress", "--out", "results/mog_bench"], check=True,
                       stdout=subprocess.DEVNULL)
        wall = time.perf_counter() - t0
        peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        print(f"ganbench run suites/mog.yaml: {wall / 60:.1f} min wall, peak memory of one process {peak:.0f} MB")


if __name__ == "__main__":
    main()
