"""DCGAN generator and discriminator (Radford et al. 2016), seed-stacked, sized from
the dataset's image shape.

S seeds run as one grouped convolution (``groups=S``): the batch is laid out as
(B, S·C, H, W), so seed s owns channels [s·C, (s+1)·C) of every layer and nothing
mixes seeds (batch norm statistics are per channel, hence per seed). Each seed's
weights are drawn from its own generator with the DCGAN initialisation (normal,
std 0.02), so a seed gets the same model whether it trains alone or stacked (its
outputs equal up to float rounding: grouped and plain convolutions may sum in another
order).

Generator: z -> (linear) 4×4×(width·2^(k-1)) -> k transposed convolutions (4×4,
stride 2), each doubling the side and halving the channels, batch norm + ReLU
between, tanh out; k = log2(resolution / 4). Discriminator: the mirror image, k
strided convolutions, each but the first followed by a normalisation (``norm``),
LeakyReLU 0.2, then a linear logit; optional spectral normalisation per seed.

D's ``norm``: ``batch`` (the standard DCGAN's), ``none``, ``layer`` (each sample over
C×H×W) or ``instance`` (each sample and channel); ``auto`` (the default) is batch
norm unless the run has a gradient penalty (r1, r2, gp, dragan, wgan_gp), which needs
a per-sample D (batch norm mixes a batch's samples into each output), or spectral
norm (SN-GAN's D has no other normalisation): then none.
Asking for batch norm with a gradient penalty is an error. Why batch norm by default:
without it the DCGAN collapses on digits at 32×32 where the standard one does not
(benchmarks/dcgan_reference.py).
"""
from __future__ import annotations

import math

import torch
from torch import nn
from torch.nn.utils import parametrize

from .base import discriminators, generators
from .stacked import StackedLinear


def seeds_to_channels(x: torch.Tensor, shape: tuple[int, int, int]) -> torch.Tensor:
    """(S, B, C·H·W) -> (B, S·C, H, W)."""
    S, B = x.shape[:2]
    C, H, W = shape
    return x.reshape(S, B, C, H, W).transpose(0, 1).reshape(B, S * C, H, W)


def channels_to_seeds(x: torch.Tensor, S: int) -> torch.Tensor:
    """(B, S·C, H, W) -> (S, B, C·H·W)."""
    B = x.shape[0]
    return x.reshape(B, S, -1).transpose(0, 1).contiguous()


def normal_per_seed(shape, init: list[torch.Generator], mean: float, std: float) -> torch.Tensor:
    """(S, *shape) with seed s's block drawn N(mean, std) from ``init[s]`` (DCGAN's init)."""
    return torch.stack([torch.empty(shape).normal_(mean, std, generator=g) for g in init])


class StackedConv(nn.Module):
    """S independent (transposed) convolutions run as one grouped convolution on
    (B, S·C, H, W). The weight is (S, out, in, k, k) (transposed: (S, in, out, k, k)),
    seed s's block drawn N(0, 0.02) from ``init[s]``, so the leading dimension of
    every parameter is the seed, as everywhere in ganbench."""

    def __init__(self, c_in, c_out, init, transposed=False, bias=True):
        super().__init__()
        S = len(init)
        shape = (c_in, c_out) if transposed else (c_out, c_in)
        self.weight = nn.Parameter(normal_per_seed((*shape, 4, 4), init, 0.0, 0.02))
        self.bias = nn.Parameter(torch.zeros(S, c_out)) if bias else None
        self.S, self.transposed = S, transposed

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        w = self.weight.reshape(-1, *self.weight.shape[2:])
        b = None if self.bias is None else self.bias.reshape(-1)
        conv = nn.functional.conv_transpose2d if self.transposed else nn.functional.conv2d
        return conv(x, w, b, stride=2, padding=1, groups=self.S)


class StackedBatchNorm(nn.Module):
    """Batch norm of (B, S·C, H, W) with batch statistics always (per channel, hence per
    seed); scale (S, C) drawn N(1, 0.02) from ``init[s]``, shift zero."""

    mixes_samples = True

    def __init__(self, channels, init):
        super().__init__()
        self.weight = nn.Parameter(normal_per_seed((channels,), init, 1.0, 0.02))
        self.bias = nn.Parameter(torch.zeros(len(init), channels))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return nn.functional.batch_norm(x, None, None, self.weight.reshape(-1), self.bias.reshape(-1),
                                        training=True, eps=1e-5)


class StackedGroupNorm(nn.Module):
    """Layer norm (``per_channel`` False: each sample over its seed's C×H×W) or instance
    norm (True: each sample and channel over H×W) of (B, S·C, H, W), by group norm with
    S or S·C groups, so no statistic crosses seeds or samples; per-channel scale (S, C)
    drawn N(1, 0.02) from ``init[s]``, shift zero."""

    def __init__(self, channels, init, per_channel: bool):
        super().__init__()
        self.groups = len(init) * channels if per_channel else len(init)
        self.weight = nn.Parameter(normal_per_seed((channels,), init, 1.0, 0.02))
        self.bias = nn.Parameter(torch.zeros(len(init), channels))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return nn.functional.group_norm(x, self.groups, self.weight.reshape(-1),
                                        self.bias.reshape(-1), eps=1e-5)


#: D's normalisations after each convolution but the first
D_NORMS = {"none": None, "batch": lambda c, init: StackedBatchNorm(c, init),
           "layer": lambda c, init: StackedGroupNorm(c, init, per_channel=False),
           "instance": lambda c, init: StackedGroupNorm(c, init, per_channel=True)}
#: the normalisations that keep D's output for a sample a function of that sample only
PER_SAMPLE_NORMS = ("none", "layer", "instance")


def d_norm(norm: str, per_sample: bool, spectral_norm: bool = False) -> str:
    """The normalisation D gets: ``auto`` is batch unless a gradient penalty needs a
    per-sample D or D has spectral norm (SN-GAN's D has no other normalisation); batch
    with a penalty is an error."""
    if norm not in (*D_NORMS, "auto"):
        raise ValueError(f"norm must be one of auto, {', '.join(D_NORMS)}; got {norm!r}")
    if norm == "auto":
        return "none" if per_sample or spectral_norm else "batch"
    if per_sample and norm not in PER_SAMPLE_NORMS:
        raise ValueError(f"norm: {norm} mixes the samples of a batch, and this run's gradient "
                         f"penalty needs a per-sample D; use norm: none, layer or instance "
                         f"(or auto)")
    return norm


def _dcgan_linear(fan_in, fan_out, init) -> StackedLinear:
    lin = StackedLinear(fan_in, fan_out, init)
    with torch.no_grad():
        lin.weight.copy_(normal_per_seed((fan_in, fan_out), init, 0.0, 0.02))
        lin.bias.zero_()
    return lin


class StackedSpectralNorm(nn.Module):
    """Spectral normalisation of each seed's block of a seed-stacked weight, never across
    seeds: one power iteration per forward with gradients on (Miyato et al. 2018);
    seed s's matrix is its block of the weight viewed as (S, rows, -1)."""

    def __init__(self, S: int, rows: int, init: list[torch.Generator]):
        super().__init__()
        self.S, self.rows = S, rows
        u = torch.stack([torch.randn(rows, generator=g) for g in init])
        self.register_buffer("u", nn.functional.normalize(u, dim=1))

    def forward(self, w: torch.Tensor) -> torch.Tensor:
        m = w.reshape(self.S, self.rows, -1)
        grad_on = torch.is_grad_enabled()
        with torch.no_grad():
            v = nn.functional.normalize(torch.bmm(self.u.unsqueeze(1), m).squeeze(1), dim=1)
            u = nn.functional.normalize(torch.bmm(m, v.unsqueeze(2)).squeeze(2), dim=1)
            if grad_on:                  # evaluations (under no_grad) leave training's state alone
                self.u.copy_(u)
        sigma = torch.bmm(u.unsqueeze(1), torch.bmm(m, v.unsqueeze(2))).reshape(self.S, 1)
        return (w.reshape(self.S, -1) / sigma).reshape(w.shape)


def _levels(resolution: int) -> int:
    k = int(round(math.log2(resolution / 4)))
    if resolution < 8 or 4 * 2**k != resolution:
        raise ValueError(f"DCGAN needs a square image whose side is 4·2^k >= 8, got {resolution}")
    return k


def _image_shape(data_dim: int, image_shape) -> tuple[int, int, int]:
    if image_shape is None:
        raise ValueError("DCGAN models need an image dataset (digits, mnist, cifar10, ...); "
                         "use mlp for 2D data")
    return tuple(int(v) for v in image_shape)


class DCGANGenerator(nn.Module):
    #: evaluate in chunks of this many samples (batch norm uses each chunk's statistics)
    eval_chunk = 500

    def __init__(self, S, shape, z_dim, width, init):
        super().__init__()
        C, H, _ = shape
        k = _levels(H)
        self.S, self.z_dim = S, int(z_dim)
        self.c0 = int(width) * 2 ** (k - 1)
        self.fc = _dcgan_linear(self.z_dim, self.c0 * 16, init)
        layers: list[nn.Module] = [StackedBatchNorm(self.c0, init), nn.ReLU()]
        ch = self.c0
        for i in range(k):
            last = i == k - 1
            out = C if last else ch // 2
            layers.append(StackedConv(ch, out, init, transposed=True, bias=last))
            layers += [nn.Tanh()] if last else [StackedBatchNorm(out, init), nn.ReLU()]
            ch = out
        self.net = nn.Sequential(*layers)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        h = self.fc(z)                                   # (S, B, c0·16)
        B = z.shape[1]
        h = h.reshape(self.S, B, self.c0, 4, 4).transpose(0, 1).reshape(B, self.S * self.c0, 4, 4)
        return channels_to_seeds(self.net(h), self.S)


class DCGANDiscriminator(nn.Module):
    def __init__(self, S, shape, width, spectral_norm, packing, init, norm="none"):
        super().__init__()
        C, H, W = shape
        k = _levels(H)
        self.S, self.packing, self.norm = S, int(packing), norm
        self.in_shape = (C * self.packing, H, W)      # a pack of m images: their channels stacked
        layers: list[nn.Module] = []
        ch_in, ch = self.in_shape[0], int(width)
        for i in range(k):
            conv = StackedConv(ch_in, ch, init)
            if spectral_norm:
                parametrize.register_parametrization(
                    conv, "weight", StackedSpectralNorm(S, ch, init))
            make_norm = D_NORMS[norm] if i > 0 else None
            layers += [conv] + ([make_norm(ch, init)] if make_norm else []) + [nn.LeakyReLU(0.2)]
            ch_in, ch = ch, ch * 2
        self.net = nn.Sequential(*layers)
        self.fc = _dcgan_linear(ch_in * 16, 1, init)
        if spectral_norm:
            parametrize.register_parametrization(
                self.fc, "weight", StackedSpectralNorm(S, ch_in * 16, init))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.net(seeds_to_channels(x, self.in_shape))
        return self.fc(channels_to_seeds(h, self.S)).squeeze(-1)


#: widest DCGAN: the first (last) layer's channels; the deepest layer has width·2^(k-1)
MAX_WIDTH = 1024


def _check_width(width) -> int:
    if int(width) < 1 or int(width) != width:
        raise ValueError("width must be a whole number >= 1")
    if int(width) > MAX_WIDTH:
        raise ValueError(f"width {width} is more than {MAX_WIDTH} (DCGAN uses 64 to 128)")
    return int(width)


@generators.register("dcgan")
def dcgan_generator(n_seeds: int, data_dim: int, init, image_shape=None, z_dim: int = 64,
                    width: int = 64) -> DCGANGenerator:
    """DCGAN generator: z -> 4×4 -> transposed convs (batch norm, ReLU) -> tanh image.

    The last hidden layer has `width` channels, each earlier one twice the next."""
    if not 1 <= int(z_dim) <= 2**16:
        raise ValueError("z_dim must be between 1 and 65536")
    return DCGANGenerator(n_seeds, _image_shape(data_dim, image_shape), z_dim, _check_width(width), init)


@discriminators.register("dcgan")
def dcgan_discriminator(n_seeds: int, data_dim: int, init, image_shape=None, per_sample=False,
                        width: int = 64, norm: str = "auto", spectral_norm: bool = False,
                        packing: int = 1) -> DCGANDiscriminator:
    """DCGAN discriminator: strided convs (norm, LeakyReLU 0.2) -> logit, spectral norm optional.

    `width` channels in the first layer, doubling; `norm` after every conv but the
    first: auto (batch norm; none with a gradient penalty or spectral norm), batch,
    none, layer or instance; `packing` m > 1 judges packs of m images (PacGAN), channels stacked."""
    if int(packing) < 1 or int(packing) != packing:
        raise ValueError("packing must be a whole number >= 1")
    return DCGANDiscriminator(n_seeds, _image_shape(data_dim, image_shape), _check_width(width),
                              bool(spectral_norm), packing, init,
                              d_norm(norm, bool(per_sample), bool(spectral_norm)))
