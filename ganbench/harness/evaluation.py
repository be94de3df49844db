"""Evaluation of S seed-stacked runs at a step: the probes on fixed samples, and D
against D* on a grid over the plane at the end (:func:`measure` and :func:`d_map` serve
a user's own loop under ganbench.Monitor as well).

Each seed's evaluation uses its own stream: the same noise and data sample at every
evaluation of a run, so curves over steps compare like with like.
"""
from __future__ import annotations

import numpy as np
import torch

from ..game import pack
from ..metrics.theory import d_star_on
from .probes import Evaluation, Probe, applicable
from .recorder import exploded


def chunked(net, x: torch.Tensor, chunk: int | None) -> torch.Tensor:
    """``net`` over the batch dimension of x (S, n, ...) in chunks of ``chunk`` (all at
    once when None)."""
    if not chunk or x.shape[1] <= chunk:
        return net(x)
    return torch.cat([net(x[:, i:i + chunk]) for i in range(0, x.shape[1], chunk)], 1)


def generate(G, z: torch.Tensor) -> torch.Tensor:
    """G's samples of the noise z (S, n, z_dim) as evaluations draw them: in eval mode,
    in chunks of G's ``eval_chunk`` if it has one (G's mode is restored after)."""
    training = G.training
    G.eval()
    try:
        return chunked(G, z, getattr(G, "eval_chunk", None))
    finally:
        G.train(training)


def split_tracks(row: dict) -> tuple[dict, dict]:
    """A probe row's numbers (metric columns) apart from its arrays (per-evaluation tracks)."""
    arrays = {k: v for k, v in row.items() if isinstance(v, np.ndarray)}
    return {k: v for k, v in row.items() if k not in arrays}, arrays


def measure(ev: Evaluation, chosen: list[Probe]) -> tuple[dict, dict] | None:
    """One seed's evaluation by the ``chosen`` probes: (numbers, tracks), or None when its
    samples blew up."""
    if exploded(ev.fake):
        return None
    row: dict = {}
    for pr in chosen:
        row.update(pr.measure(ev))
    return split_tracks(row)


def due(chosen: list[Probe], final: bool) -> list[Probe]:
    """The probes of an evaluation: those marked ``final_only`` at the last one only."""
    return [pr for pr in chosen if final or not pr.final_only]


def plane_grid(ds, n: int = 80) -> tuple[np.ndarray, np.ndarray, torch.Tensor]:
    """An n×n grid framing a 2D dataset: its x and y values and its points (n², 2),
    row by row (rows: y, columns: x)."""
    x0, x1, y0, y1 = ds.bounds()
    xs, ys = np.linspace(x0, x1, n), np.linspace(y0, y1, n)
    gx, gy = np.meshgrid(xs, ys)
    return xs, ys, torch.tensor(np.stack([gx.ravel(), gy.ravel()], 1), dtype=torch.float32)


def d_map(ds, grid: tuple, d: np.ndarray, probability: bool, fake: np.ndarray) -> dict:
    """One seed's discriminator.npz: D's outputs ``d`` on the points of ``grid`` (a
    probability where D models one), and D* = p/(p+q) there (q a KDE of the samples
    ``fake``) where the density is known."""
    xs, ys, pts = grid
    n = len(xs)
    m = {"xs": xs, "ys": ys, "d": d.reshape(n, n), "probability": probability, "fake": fake[:1000]}
    if ds.has_density and np.isfinite(fake).all():
        m["d_star"] = d_star_on(pts, fake, ds.log_prob).reshape(n, n)
    return m


@torch.no_grad()
def single_d_map(ds, D: torch.nn.Module, d_output, fake: np.ndarray) -> dict | None:
    """:func:`d_map` of one seed's plain D (a user's module) whose outputs have the form
    ``d_output`` (2D data only, else None)."""
    if ds.dim != 2 or ds.is_image:
        return None
    grid = plane_grid(ds)
    out = D(grid[2].to(next(D.parameters()).device)).reshape(-1).float()
    return d_map(ds, grid, d_output.as_probability(out).cpu().numpy(), d_output.models_probability,
                 fake)


class Evaluator:
    """Every probe that applies, on the fixed evaluation samples of each seed."""

    def __init__(self, players, eval_gens: list, n_eval: int, min_hq: int,
                 features=None, classifier=None, generator=None):
        self.players = players
        #: the generator evaluated: G itself, or its average (ema with evaluate: true)
        self.generator = generator if generator is not None else players.G
        self.z = players.noise(n_eval, eval_gens)            # fixed noise for every evaluation
        self.real = players.real_batch(n_eval, eval_gens)
        self.real_np = self.real.cpu().numpy()
        self.min_hq, self.features, self.classifier = int(min_hq), features, classifier
        ds, obj = players.dataset, players.objective
        # per slice: stacked runs may have different objectives
        self.probes = [applicable(ds, obj.of_slice(s)) for s in range(players.n_seeds)]
        self.last_fake: np.ndarray | None = None

    @torch.no_grad()
    def evaluate(self, final: bool = False) -> list[tuple[dict, dict] | None]:
        """Per seed (numbers, tracks), or None for a seed whose samples blew up; probes
        marked ``final_only`` run at the last evaluation only. Models with an
        ``eval_chunk`` (batch-norm generators) see the samples in chunks of that size. A
        packed D (PacGAN) judges the first n_eval // m · m samples in packs of m; the sample
        metrics use all n_eval (PacGAN3 on 2,500 samples: D sees 833 packs). The generator
        runs in eval mode (batch norm with its running statistics)."""
        pl = self.players
        fake = generate(self.generator, self.z)
        chunk = getattr(self.generator, "eval_chunk", None)
        m = pl.game.packing
        d_chunk = chunk and max(1, chunk // m)          # packs per chunk
        k = fake.shape[1] // m * m                      # a packed D sees whole packs only
        dr = chunked(pl.D, pack(self.real[:, :k], m), d_chunk).cpu().numpy()
        df = chunked(pl.D, pack(fake[:, :k], m), d_chunk).cpu().numpy()
        fake_np = self.last_fake = fake.cpu().numpy()
        return [measure(Evaluation(pl.dataset, pl.objective.of_slice(s), self.real_np[s], fake_np[s],
                                   dr[s], df[s], self.min_hq, self.features, self.classifier,
                                   str(pl.device)), due(self.probes[s], final))
                for s in range(pl.n_seeds)]

    @torch.no_grad()
    def discriminator_maps(self, n: int = 80) -> list[dict] | None:
        """Per seed: D's output on an n×n grid framing the data, and D* = p/(p+q) there
        (q a KDE of the last evaluation's samples) where the density is known. 2D,
        unpacked D only."""
        pl, fake = self.players, self.last_fake
        ds = pl.dataset
        if ds.dim != 2 or pl.game.packing != 1 or fake is None:
            return None
        grid = plane_grid(ds, n)
        pts = grid[2].to(pl.device).expand(pl.n_seeds, -1, -1).contiguous()
        out = pl.as_prob(pl.D(pts)).cpu().numpy()
        return [d_map(ds, grid, out[s], pl.d_outputs[s].models_probability, fake[s])
                for s in range(pl.n_seeds)]
