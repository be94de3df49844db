"""Pieces the benchmarks share: the machine's dense-matmul rate, the matmul FLOPs of
an MLP GAN step, and a plain per-run PyTorch loop written as peers write it."""
from __future__ import annotations

import math
import os
import time

import torch
import torch.nn.functional as F
from torch import nn


def matmul_gflops(n: int = 2048, reps: int = 10) -> float:
    """Dense fp32 matmul GFLOP/s of this process's threads."""
    a, b = torch.randn(n, n), torch.randn(n, n)
    a @ b
    t0 = time.perf_counter()
    for _ in range(reps):
        a @ b
    return 2 * n**3 * reps / (time.perf_counter() - t0) / 1e9


def mlp_flops_per_step(width: int, batch: int, z: int) -> float:
    """Matmul FLOPs of one G step + one D step of one run, MLPs of 3 hidden layers:
    forward 2·n·a·b per layer, backward twice that (weight and input grads); D step: G
    forward, D forward+backward on real+fake; G step: G forward+backward, D forward +
    input-grad backward."""
    def fwd(sizes):
        return 2 * batch * sum(a * b for a, b in zip(sizes[:-1], sizes[1:]))
    fg = fwd([z, width, width, width, 2])
    fd = fwd([2, width, width, width, 1])
    return float((fg + 3 * (2 * fd)) + (3 * fg + 2 * fd))


def plain_loop(settings: list[tuple[float, tuple]], steps: int, width: int, batch: int,
               z: int) -> float:
    """Run-steps/s of one nn.Linear GAN per (lr, betas) setting on ring8, one after
    another, torch's default Adam, non-saturating loss."""
    c = torch.tensor([[2 * math.cos(2 * math.pi * k / 8), 2 * math.sin(2 * math.pi * k / 8)]
                      for k in range(8)])

    def mlp(i, o, act):
        return nn.Sequential(nn.Linear(i, width), act(), nn.Linear(width, width), act(),
                             nn.Linear(width, width), act(), nn.Linear(width, o))
    t0 = time.perf_counter()
    for run, (lr, betas) in enumerate(settings):
        torch.manual_seed(run)
        G, D = mlp(z, 2, nn.ReLU), mlp(2, 1, lambda: nn.LeakyReLU(0.2))
        og = torch.optim.Adam(G.parameters(), lr, betas=tuple(betas))
        od = torch.optim.Adam(D.parameters(), lr, betas=tuple(betas))
        for _ in range(steps):
            x = c[torch.randint(8, (batch,))] + 0.02 * torch.randn(batch, 2)
            with torch.no_grad():
                fake = G(torch.randn(batch, z))
            ld = F.softplus(-D(x)).mean() + F.softplus(D(fake)).mean()
            od.zero_grad()
            ld.backward()
            od.step()
            lg = F.softplus(-D(G(torch.randn(batch, z)))).mean()
            og.zero_grad()
            lg.backward()
            og.step()
    return len(settings) * steps / (time.perf_counter() - t0)


def warm(_):
    """In a pool worker: import torch and ganbench before anything is timed."""
    import ganbench.harness.loop  # noqa: F401
    return os.getpid()
