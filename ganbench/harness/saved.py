"""End-of-run checkpoints (``model.pt`` in each run folder) and loading them back.

A run trains stacked with other seeds; its checkpoint holds its own slice of every
tensor (leading dimension 1) of G, D and the averaged G (``ema``), what rebuilds the
networks (their specs, the data's size and image shape) and the evaluation's fixed
noise, so the loaded G turns that noise into the run's final evaluation samples: bit
for bit for the MLP models, up to float rounding where the stacked computation sums in
another order with one seed than with several (DCGAN's grouped convolutions, plain
modules under vmap)::

    import ganbench
    G = ganbench.load_generator("results/mog/runs/ring8__nonsaturating__seed0")
    x = G(ganbench.evaluation_noise(run))     # (n_eval, data_dim): the final evaluation's samples
    x = ganbench.sample(run, 1000, seed=1)    # fresh noise

Runs with your own models (``imports:``) need the module that registers them imported
before loading.
"""
from __future__ import annotations

import io
from pathlib import Path
from types import SimpleNamespace

import torch
from torch import nn

from ..errors import InputError
from ..models import build_model, discriminators, generators
from .evaluation import chunked

#: the checkpoint's file name in a run folder
FILE = "model.pt"
FORMAT = 1


def seed_state(module: nn.Module, s: int) -> dict:
    """Slice s of every tensor of a seed-stacked module's state, on the CPU (leading
    dimension kept, size 1)."""
    out = {}
    for name, t in module.state_dict().items():
        t = t.detach()
        out[name] = (t[s:s + 1] if t.dim() and t.shape[0] > s else t).cpu().clone()
    return out


def model_bytes(s: int, G: nn.Module, D: nn.Module, G_avg: nn.Module | None,
                noise: torch.Tensor, meta: dict) -> bytes:
    """Slice s's checkpoint (``torch.save`` of a dict) as bytes."""
    payload = {"format": FORMAT, **meta, "G": seed_state(G, s), "D": seed_state(D, s),
               "G_ema": seed_state(G_avg, s) if G_avg is not None else None,
               "eval_noise": noise.detach().cpu().clone()}
    buf = io.BytesIO()
    torch.save(payload, buf)
    return buf.getvalue()


def read(run_dir: str | Path) -> dict:
    """A run folder's checkpoint (InputError when it has none)."""
    f = Path(run_dir) / FILE
    if not f.is_file():
        raise InputError(f"{run_dir}: no {FILE} here; the run was trained with checkpoint: false "
                         f"(or before checkpoints existed): train it again with checkpoint: true.")
    return torch.load(f, map_location="cpu", weights_only=True)


def _build(registry, spec, payload: dict, state: dict) -> nn.Module:
    shape = payload["image_shape"]
    data = SimpleNamespace(dim=payload["data_dim"], image_shape=tuple(shape) if shape else None)
    try:
        net = build_model(registry, spec, registry.kind, data, [torch.Generator().manual_seed(0)])
    except InputError as e:
        raise InputError(f"{e} (a run with your own models needs the module that registers "
                         "them imported before loading)") from None
    net.load_state_dict(state)
    return net.requires_grad_(False).eval()


class SeedGenerator(nn.Module):
    """One run's generator: (n, z_dim) noise -> (n, data_dim) samples (images flattened;
    ``image_shape`` gives (C, H, W)), drawn as the run's evaluations drew them (eval mode,
    in chunks of ``eval_chunk`` for generators with batch statistics). ``stacked`` is the
    seed-stacked network with one seed."""

    def __init__(self, stacked: nn.Module, image_shape):
        super().__init__()
        self.stacked = stacked
        self.z_dim = int(stacked.z_dim)
        self.image_shape = image_shape

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        self.stacked.eval()
        return chunked(self.stacked, z.unsqueeze(0), getattr(self.stacked, "eval_chunk", None))[0]


class SeedDiscriminator(nn.Module):
    """One run's discriminator: (n, data_dim · packing) -> (n,) raw outputs (a logit
    where the objective reads D as a probability)."""

    def __init__(self, stacked: nn.Module):
        super().__init__()
        self.stacked = stacked
        self.packing = int(getattr(stacked, "packing", 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.stacked(x.unsqueeze(0))[0]


def load_generator(run_dir: str | Path, ema: bool | None = None) -> SeedGenerator:
    """The generator saved in ``run_dir`` (``OUT/runs/<run_id>``), on the CPU, in eval
    mode. ``ema=None`` gives the one the run's evaluations used (the averaged G where
    the run had ``ema: {evaluate: true}``), True the averaged G, False the trained G."""
    payload = read(run_dir)
    evaluated = bool(payload.get("ema") and payload["ema"].get("evaluate"))
    use_avg = evaluated if ema is None else bool(ema)
    if use_avg and payload.get("G_ema") is None:
        raise InputError(f"{run_dir}: the run kept no averaged generator (ema was off); "
                         "load it with ema=False.")
    state = payload["G_ema"] if use_avg else payload["G"]
    shape = payload["image_shape"]
    return SeedGenerator(_build(generators, payload["generator"], payload, state),
                         tuple(shape) if shape else None).eval()


def load_discriminator(run_dir: str | Path) -> SeedDiscriminator:
    """The discriminator saved in ``run_dir``, on the CPU."""
    payload = read(run_dir)
    return SeedDiscriminator(_build(discriminators, payload["discriminator"], payload,
                                    payload["D"])).eval()


def evaluation_noise(run_dir: str | Path) -> torch.Tensor:
    """The fixed noise (n_eval, z_dim) of the run's evaluations."""
    return read(run_dir)["eval_noise"]


@torch.no_grad()
def sample(run_dir: str | Path, n: int, seed: int = 0, ema: bool | None = None) -> torch.Tensor:
    """``n`` samples (n, data_dim) of the run's generator (see :func:`load_generator`)
    from standard normal noise drawn with ``torch.Generator().manual_seed(seed)``."""
    G = load_generator(run_dir, ema)
    z = torch.randn(int(n), G.z_dim, generator=torch.Generator().manual_seed(int(seed)))
    return G(z)
