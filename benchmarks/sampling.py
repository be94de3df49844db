"""Batched per-seed sampling and the fused gradient norm against the per-seed loops they
replaced, side by side in one run on this CPU.

    python benchmarks/sampling.py            # about two minutes on a 2-core CPU

Old: every draw calls each seed's generator (noise, data, penalties' draws: S calls per
draw) and the gradient norm takes 3 kernels per parameter. New: ganbench.streams draws
each seed's numbers a block of draws at a time and hands out one draw of every seed as
a slice; the norm is one sum of squares over the joined gradients. Both give each seed
its own numbers. Prints, per workload: the sampling alone (a step's noise and data
draws, per second) and whole training steps per second, old and new, and their ratios;
and the aten operations per step that would each be a kernel launch on a GPU (views
left out), counted with torch.profiler. Rates are in this process's CPU time (one
thread), best of 5 alternated rounds, since the machine is shared.
"""
from __future__ import annotations

import os
import tempfile
import time

import torch

import ganbench.game as game
import ganbench.updates as updates
from ganbench.config.suite import parse_suite
from ganbench.harness.loop import Loop
from ganbench.profiling import aten_kernels
from ganbench.streams import SeedStreams

def old_sqnorm(grads):
    """The norm before: three kernels per parameter."""
    return sum(g.pow(2).flatten(1).sum(1) for g in grads)


def loop_of(variant: dict, dataset: str, seeds: int) -> Loop:
    raw = {"seeds": seeds, "datasets": [dataset], "defaults": variant["defaults"],
           "variants": {"v": variant["v"]}}
    specs = parse_suite(raw).specs
    return Loop(specs[0].dataset_spec(), specs[0].config, [s.seed for s in specs])


def use(loop: Loop, old: bool) -> None:
    """Switch a loop between the per-seed loops (old) and batched streams (new)."""
    pl = loop.players
    pl.streams = list(pl.train_gens) if old else SeedStreams(pl.train_gens)
    game.sqnorm = updates.sqnorm = old_sqnorm if old else NEW_SQNORM


NEW_SQNORM = game.sqnorm


def rate(loop: Loop, steps: int) -> float:
    """Training steps per CPU second."""
    hist = torch.empty(steps, len(loop.seeds), len(loop.columns))
    t0 = time.process_time()
    for i in range(steps):
        loop.step(i, hist)
    return steps / (time.process_time() - t0)


def sampling_rate(loop: Loop, steps: int) -> float:
    """A step's draws (n_critic D batches of noise and data, one G batch of noise) per
    CPU second."""
    pl = loop.players
    t0 = time.process_time()
    for _ in range(steps):
        for _ in range(pl.n_critic):
            pl.real_batch(pl.batch_size)
            pl.noise(pl.batch_size)
        pl.noise(pl.batch_size)
    return steps / (time.process_time() - t0)


def kernels_per_step(loop: Loop) -> int:
    """Kernel launches of one training step (the second: the first makes optimizer state),
    counted as aten ops (ganbench.profiling.kernel_ops)."""
    hist = torch.empty(3, len(loop.seeds), len(loop.columns))
    loop.step(0, hist)
    return aten_kernels(lambda: loop.step(1, hist))


MLP = {"defaults": {"steps": 20000, "eval_every": 20000, "batch_size": 128, "n_eval": 100,
                    "generator": {"name": "mlp", "width": 64, "depth": 3, "z_dim": 16},
                    "discriminator": {"name": "mlp", "width": 64, "depth": 3},
                    "optimizer": {"name": "adam", "lr": 1e-3, "betas": [0.5, 0.999]}}}
DCGAN = {"defaults": {"steps": 20000, "eval_every": 20000, "batch_size": 64, "n_eval": 64,
                      "generator": {"name": "dcgan", "width": 64, "z_dim": 32},
                      "discriminator": {"name": "dcgan", "width": 64},
                      "optimizer": {"name": "adam", "lr": 2e-4, "betas": [0.5, 0.999]}}}
WORKLOADS = [
    ("mog nonsaturating, ring8, 5 seeds", MLP, {"objective": "nonsaturating"}, "ring8", 5, 60),
    ("mog wgan_gp (n_critic 5), grid25, 5 seeds", MLP,
     {"objective": {"name": "wgan_gp", "gp_weight": 0.1}, "n_critic": 5}, "grid25", 5, 15),
    ("mog nonsaturating, ring8, 48 seeds", MLP, {"objective": "nonsaturating"}, "ring8", 48, 15),
    ("digits DCGAN nonsaturating, 3 seeds", DCGAN, {"objective": "nonsaturating"}, "digits", 3, 10),
    ("stacked digits DCGAN r1, 3 seeds", DCGAN,
     {"objective": "nonsaturating", "regularizers": [{"name": "r1", "weight": 1.0}]},
     "stacked_digits", 3, 5),
]


def main() -> None:
    torch.set_num_threads(1)
    # the digit classifier of the image workloads goes to a scratch cache, not ~/.cache
    os.environ.setdefault("GANBENCH_CACHE", tempfile.mkdtemp(prefix="ganbench-cache-"))
    print(f"torch {torch.__version__}, 1 thread; per CPU second, best of 5 alternated rounds")
    print(f"{'':44}{'sampling per s':>22}{'':6}{'training steps/s':>19}{'':6}{'kernels/step':>14}")
    print(f"{'workload':44}{'old':>8}{'new':>8}{'new/old':>8}{'old':>9}{'new':>8}{'new/old':>8}"
          f"{'old':>8}{'new':>6}")
    for name, base, v, dataset, seeds, steps in WORKLOADS:
        loop = loop_of({**base, "v": v}, dataset, seeds)
        samp = {True: 0.0, False: 0.0}
        best = {True: 0.0, False: 0.0}
        for _ in range(5):
            for old in (True, False):
                use(loop, old)
                rate(loop, 2)                      # fills the new blocks / warms caches
                samp[old] = max(samp[old], sampling_rate(loop, 5 * steps))
                best[old] = max(best[old], rate(loop, steps))
        kern = {}
        for old in (True, False):
            use(loop, old)
            kern[old] = kernels_per_step(loop)
        print(f"{name[:44]:44}{samp[True]:8.0f}{samp[False]:8.0f}{samp[False] / samp[True]:8.2f}"
              f"{best[True]:9.1f}{best[False]:8.1f}{best[False] / best[True]:8.2f}"
              f"{kern[True]:8d}{kern[False]:6d}")
    use(loop, False)


if __name__ == "__main__":
    main()
