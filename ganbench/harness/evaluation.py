"""Evaluation of S runs trained together at a step: the probes on a fixed real sample
and the samples G made, with D's outputs on both; the final-only probes on the last
evaluation; D against D* on a grid over the plane at the end.

:class:`Evaluations` is the one path for both ways in: the training loop
(:class:`Evaluator`: the fixed noise of each seed through G, the stacked D) and a
user's own loop under ganbench.Monitor (S = 1: the samples it hands over, its plain D
as a stack of one seed, :class:`~ganbench.harness.one_seed.OneSeed`).

Each seed's evaluation uses its own stream: the same noise and data sample at every
evaluation of a run, so curves over steps compare like with like.
"""
from __future__ import annotations

import numpy as np
import torch

from ..game import pack
from ..metrics.theory import d_star_on
from ..objectives import DOutput
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


class Evaluations:
    """The evaluations of S runs (S = 1: a user's own loop), each seed against its fixed
    ``real`` sample (S, n, ...): per seed, ``objectives[s]`` (its objective, or anything
    :meth:`~ganbench.objectives.DOutput.of` reads: what its D outputs, decided when it is
    read) says which probes apply."""

    def __init__(self, dataset, objectives: list, real: torch.Tensor, min_hq: int = 1,
                 features=None, classifier=None):
        self.dataset, self.objectives = dataset, list(objectives)
        self.real, self.real_np = real, real.cpu().numpy()
        self.min_hq, self.features, self.classifier = int(min_hq), features, classifier
        #: per seed, its last evaluation that did not blow up (None: none yet)
        self.last: list[Evaluation | None] = [None] * len(self.objectives)
        #: the last evaluation's generated samples on the host, (S, n, ...)
        self.last_fake: np.ndarray | None = None

    @torch.no_grad()
    def judge(self, fake: torch.Tensor, D=None, packing: int = 1, chunk: int | None = None
              ) -> tuple[np.ndarray | None, np.ndarray | None]:
        """D's outputs (S, n') on the real sample and on ``fake`` (None without a D): a
        packed D (PacGAN) judges the first n // m · m samples in packs of m; ``chunk``:
        samples per call."""
        if D is None:
            return None, None
        d_chunk = chunk and max(1, chunk // packing)    # packs per chunk
        # a packed D sees whole packs only
        return tuple(chunked(D, pack(x[:, :x.shape[1] // packing * packing], packing),
                             d_chunk).float().cpu().numpy() for x in (self.real, fake))

    def measure(self, fake: torch.Tensor, d_real: np.ndarray | None = None,
                d_fake: np.ndarray | None = None) -> list[tuple[dict, dict] | None]:
        """Per seed (numbers, tracks) of the samples ``fake`` (S, n, ...), or None for a
        seed whose samples blew up: every probe that applies but the final-only ones, and
        those that read D's outputs only when they are given (:meth:`judge`)."""
        fake_np = self.last_fake = fake.float().cpu().numpy()
        rows = []
        for s, obj in enumerate(self.objectives):
            ds = self.dataset.of_slice(s)
            ev = Evaluation(ds, obj, self.real_np[s], fake_np[s],
                            None if d_real is None else d_real[s],
                            None if d_fake is None else d_fake[s], self.min_hq, self.features,
                            self.classifier, str(fake.device))
            chosen = [p for p in applicable(ds, obj)
                      if not p.final_only and (d_real is not None or not p.needs_d)]
            rows.append(measure(ev, chosen))
            if rows[-1] is not None:
                self.last[s] = ev
        return rows

    def finals(self, seeds: list[bool] | None = None) -> list[dict]:
        """Per seed, the final-only probes (theory, FID/KID) on its last evaluation that did
        not blow up ({}: none, or a seed left out by ``seeds``)."""
        out = []
        for s, ev in enumerate(self.last):
            chosen = [p for p in applicable(ev.dataset, ev.objective) if p.final_only] \
                if ev is not None and (seeds is None or seeds[s]) else []
            out.append(measure(ev, chosen)[0] if chosen else {})
        return out

    @torch.no_grad()
    def d_maps(self, D, packing: int = 1, n: int = 80) -> list[dict] | None:
        """Per seed: D's output on an n×n grid framing the data (a probability where D
        models one), and D* = p/(p+q) there (q a KDE of the last evaluation's samples)
        where the density is known. 2D data, unpacked D only (else None). Each seed's grid
        frames its own dataset (one grid for all when they share one)."""
        ds, fake = self.dataset, self.last_fake
        if ds.dim != 2 or ds.is_image or packing != 1 or fake is None:
            return None
        sets = [ds.of_slice(s) for s in range(len(fake))]
        grids = {id(d): plane_grid(d, n) for d in sets}
        if len(grids) == 1:
            pts = next(iter(grids.values()))[2].expand(len(fake), -1, -1)
        else:
            pts = torch.stack([grids[id(d)][2] for d in sets])
        out = D(pts.to(self.real.device).contiguous()).float()
        forms = [DOutput.of(obj) for obj in self.objectives]
        return [d_map(d, grids[id(d)], forms[s].as_probability(out[s]).cpu().numpy(),
                      forms[s].models_probability, fake[s]) for s, d in enumerate(sets)]


class Evaluator:
    """The training loop's evaluations: every probe that applies, on the fixed noise and
    data sample of each seed, G's samples judged by the stacked D."""

    def __init__(self, players, eval_gens: list, n_eval: int, min_hq: int,
                 features=None, classifier=None, generator=None):
        self.players = players
        #: the generator evaluated: G itself, or its average (ema with evaluate: true)
        self.generator = generator if generator is not None else players.G
        self.z = players.noise(n_eval, eval_gens)            # fixed noise for every evaluation
        self.features, self.classifier = features, classifier
        # per slice: stacked runs may have different objectives
        self.evaluations = Evaluations(
            players.dataset, [players.objective.of_slice(s) for s in range(players.n_seeds)],
            players.real_batch(n_eval, eval_gens), min_hq, features, classifier)

    @property
    def real_np(self) -> np.ndarray:
        return self.evaluations.real_np

    @property
    def last_fake(self) -> np.ndarray | None:
        return self.evaluations.last_fake

    @torch.no_grad()
    def evaluate(self, final: bool = False) -> list[tuple[dict, dict] | None]:
        """Per seed (numbers, tracks), or None for a seed whose samples blew up; at the
        last evaluation (``final``) with the final-only probes' numbers. Models with an
        ``eval_chunk`` (batch-norm generators) see the samples in chunks of that size. A
        packed D (PacGAN) judges the first n_eval // m · m samples in packs of m; the sample
        metrics use all n_eval (PacGAN3 on 2,500 samples: D sees 833 packs). The generator
        runs in eval mode (batch norm with its running statistics)."""
        pl, ev = self.players, self.evaluations
        fake = generate(self.generator, self.z)
        rows = ev.measure(fake, *ev.judge(fake, pl.D, pl.game.packing,
                                          getattr(self.generator, "eval_chunk", None)))
        if final:
            for row, more in zip(rows, ev.finals([row is not None for row in rows])):
                if row is not None:
                    row[0].update(more)
        return rows

    def discriminator_maps(self, n: int = 80) -> list[dict] | None:
        """Per seed, D against D* over the plane (:meth:`Evaluations.d_maps`)."""
        return self.evaluations.d_maps(self.players.D, self.players.game.packing, n)
