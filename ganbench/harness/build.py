"""Building a run's parts from its dataset and its run config: the game (objective and
regularizers), the update scheme, both networks with their optimizers, the checkpoint
probes and the feature extractor. Bad settings raise an InputError naming ``path``;
nothing is trained here (suite validation calls this on one seed).

Each seed has its own random streams (initial weights, training batches, evaluation,
checkpoint probes), so seed s gets the same numbers alone or stacked with others.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from ..errors import at
from ..game import Game
from ..models import build_model, discriminators, generators, mixes_samples
from ..objectives import objectives
from ..regularizers import regularizers
from ..updates import Unrolled, unroll_rule, updates
from ..layout.run_config import RunConfig
from .checkpoints import checkpoint_probes
from .features import build_extractor
from .players import Players
from .stacking import slice_objective, slice_optimizer, slice_regularizers, slice_schedule


def probe_seeds(seed: int) -> tuple[int, int]:
    """Seeds of a seed's checkpoint probes (fresh D init, their batches), apart from training's."""
    return tuple(int(v) for v in np.random.SeedSequence(int(seed)).generate_state(6)[4:])


def seed_streams(seed: int, device: torch.device) -> dict[str, torch.Generator]:
    """Independent generators for one seed: model init (CPU), training, evaluation."""
    a, b, c, d = np.random.SeedSequence(int(seed)).generate_state(4)
    return {
        "init_g": torch.Generator().manual_seed(int(a)),
        "init_d": torch.Generator().manual_seed(int(b)),
        "train": torch.Generator(device=device).manual_seed(int(c)),
        "eval": torch.Generator(device=device).manual_seed(int(d)),
    }


@dataclass
class Parts:
    """A run's players (G, D, their optimizers, the game, the streams), and what trains
    and measures them besides."""

    players: Players
    update: Any
    checkpoint_probes: list
    features: Any = None    # FID/KID feature extractor (image datasets), not loaded yet
    #: lr schedulers of the two optimizers (those with a schedule), stepped once per training step
    schedulers: list = field(default_factory=list)


def has_gradient_penalty(configs: list[RunConfig], path: str = "") -> bool:
    """Whether any slice's game has a gradient penalty (its D must then be per-sample)."""
    objs = [objectives.build(c.objective, f"{path}objective") for c in configs]
    regs = [regularizers.build(r, f"{path}regularizers[{i}]")
            for c in configs for i, r in enumerate(c.regularizers)]
    return any(o.penalties for o in objs) or any(r.fn is not None for r in regs)


def build_discriminator(config: RunConfig, dataset, init: list, device, path: str = "",
                        per_sample: bool = False):
    """The run's discriminator, one seed per generator in ``init``; ``per_sample``: the
    game has a gradient penalty (see :func:`has_gradient_penalty`)."""
    return build_model(discriminators, config.discriminator, f"{path}discriminator", dataset,
                       init, per_sample).to(device)


def fresh_critic(configs: list[RunConfig], dataset, device):
    """A function init -> (a fresh D of the runs' kind, its optimizer), for probes."""
    per_sample = has_gradient_penalty(configs)

    def make(init: list):
        D = build_discriminator(configs[0], dataset, init, device, per_sample=per_sample)
        return D, slice_optimizer(configs, "d_optimizer", D)
    return make


def build_parts(ds, config: RunConfig | list[RunConfig], init_g: list, init_d: list,
                device: torch.device | str = "cpu", path: str = "",
                train_gens: list | None = None) -> Parts:
    """Build every part of a run on the dataset ``ds`` (errors name ``path``); trains
    nothing. ``config`` is one run config for every slice, or one per slice (runs with
    the same :func:`~ganbench.harness.stacking.stack_key`, stacked: per-slice
    objectives, penalty weights and optimizer numbers). Seed s's weights are drawn from
    ``init_g[s]`` and ``init_d[s]``, its training from ``train_gens[s]`` (default: fresh
    generators, for a build that trains nothing)."""
    configs = list(config) if isinstance(config, list) else [config] * len(init_g)
    config = configs[0]
    obj = slice_objective(configs, path, device)
    regs = slice_regularizers(configs, path, device)
    update = updates.build(config.update, f"{path}update")
    G = build_model(generators, config.generator, f"{path}generator", ds, init_g).to(device)
    penalties = [r for r in regs + list(obj.penalties) if r.fn is not None]
    D = build_discriminator(config, ds, init_d, device, path, per_sample=bool(penalties))
    game = Game(obj, regs + list(obj.penalties), packing=getattr(D, "packing", 1),
                split_batches=mixes_samples(D))
    if config.batch_size % game.packing:     # n_eval need not be: see Evaluator
        raise at(f"{path}batch_size", f"{config.batch_size} is not a multiple of the "
                                      f"discriminator's packing ({game.packing}); change one of them.")
    if isinstance(update, Unrolled) and game.consensus:
        raise at(f"{path}update", "unrolled updates cannot be combined with consensus; drop one.")
    opt_g = slice_optimizer(configs, "g_optimizer", G, path)
    opt_d = slice_optimizer(configs, "d_optimizer", D, path)
    if isinstance(update, Unrolled):
        try:
            unroll_rule(opt_d, list(D.parameters()))   # can D's optimizer be unrolled?
        except ValueError as e:
            raise at(f"{path}update", str(e)) from None
    cps = [checkpoint_probes.build(c, f"{path}checkpoint_probes[{i}]")
           for i, c in enumerate(config.checkpoint_probes)]
    for i, cp in enumerate(cps):
        if max(cp.at) > config.steps:
            raise at(f"{path}checkpoint_probes[{i}].at", f"step {max(cp.at)} is after the last "
                     f"step ({config.steps}); use steps between 0 and {config.steps}.")
    features = build_extractor(config.features, ds, f"{path}features")
    scheds = [slice_schedule(configs, "g_optimizer", opt_g, path),
              slice_schedule(configs, "d_optimizer", opt_d, path)]
    device = torch.device(device)
    gens = train_gens if train_gens is not None else [torch.Generator(device) for _ in init_g]
    players = Players(ds, game, G, D, opt_g, opt_d, gens, config.batch_size, config.n_critic, device)
    return Parts(players, update, cps, features, [s for s in scheds if s is not None])
