"""GAN objectives as pure functions of the discriminator's outputs.

Every loss takes D's raw outputs (logits for the objectives whose D models a
probability) with the samples along the last dimension, shape ``(..., B)`` (the
harness passes ``(seeds, B)``), and returns the loss averaged over that dimension,
shape ``(...)``. Both networks *minimise* their loss.

``r`` = D(x_real), ``f`` = D(G(z)); ``σ`` is the logistic sigmoid, so
``log σ(r) = -softplus(-r)`` and ``log(1 - σ(f)) = -softplus(f)`` (numerically stable).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Any, Callable

import torch
import torch.nn.functional as F

from .registry import Registry
from .regularizers import Regularizer, regularizers

objectives = Registry("objective")

Tensor = torch.Tensor


class DOutput(str, Enum):
    """What D outputs: the one word for it in objectives, probes, the players and Monitor.

    - ``logit``: σ(D) is the probability that x is real (``nn.BCEWithLogitsLoss``; the
      minimax and non-saturating objectives);
    - ``probability``: that probability itself, a D that ends in a sigmoid (``nn.BCELoss``,
      as in PyTorch's DCGAN tutorial: a user's own loop under ganbench.Monitor);
    - ``critic``: a raw score that is no probability (WGAN, hinge, least squares,
      relativistic).
    """

    LOGIT = "logit"
    PROBABILITY = "probability"
    CRITIC = "critic"

    def __str__(self) -> str:
        return self.value

    def __format__(self, spec: str) -> str:
        return format(self.value, spec)

    @property
    def models_probability(self) -> bool:
        """D's outputs give a probability (a logit or the probability itself): nash_gap,
        d_saturation and D against D* apply."""
        return self is not DOutput.CRITIC

    def as_probability(self, out: Tensor) -> Tensor:
        """D's outputs as probabilities where D models one (a critic's stay raw)."""
        return torch.sigmoid(out) if self is DOutput.LOGIT else out

    @classmethod
    def of(cls, what: Any) -> "DOutput":
        """What D outputs under ``what``: a DOutput or its name, or an objective (its
        ``d_output``; an objective-like object of the older form says ``probability``:
        True, D outputs a logit; False, a critic's score)."""
        if isinstance(what, (cls, str)):
            return cls(what)
        if hasattr(what, "d_output"):
            return cls(what.d_output)
        if isinstance(getattr(what, "probability", None), bool):
            return cls.LOGIT if what.probability else cls.CRITIC
        raise TypeError(f"cannot tell what D outputs from {what!r}; give a DOutput "
                        f"({', '.join(d.value for d in cls)})")


@dataclass(frozen=True)
class Objective:
    """One GAN game: the two losses plus what they imply for training."""

    d_loss: Callable[[Tensor, Tensor], Tensor]
    g_loss: Callable[[Tensor], Tensor]
    #: what D outputs (a :class:`DOutput` or its name): with a logit, σ(D) is a
    #: probability, and nash_gap, d_saturation and D against D* apply
    d_output: DOutput
    #: penalties that are part of the objective itself (e.g. wgan_gp's gradient penalty).
    penalties: tuple[Regularizer, ...] = field(default=())
    #: clip D's weights to [-c, c] after every D step (WGAN's Lipschitz constraint).
    weight_clip: float | None = None
    #: G's loss also needs D's outputs on real data: ``g_loss(f, r)`` (relativistic GANs).
    g_needs_real: bool = False

    def __post_init__(self):
        object.__setattr__(self, "d_output", DOutput(self.d_output))

    def generator_loss(self, f: Tensor, r: Tensor | None = None) -> Tensor:
        return self.g_loss(f, r) if self.g_needs_real else self.g_loss(f)

    def of_slice(self, s: int) -> "Objective":
        """The objective of slice ``s`` of a stacked model (the same for every slice)."""
        return self


# --- the losses (pure functions) -------------------------------------------------

def minimax_d_loss(r: Tensor, f: Tensor) -> Tensor:
    """-E[log D(x)] - E[log(1 - D(G(z)))], D = σ(logit)."""
    return (F.softplus(-r) + F.softplus(f)).mean(-1)


def minimax_g_loss(f: Tensor) -> Tensor:
    """E[log(1 - D(G(z)))]: the saturating generator loss of the original game."""
    return (-F.softplus(f)).mean(-1)


def nonsaturating_g_loss(f: Tensor) -> Tensor:
    """-E[log D(G(z))]: the non-saturating generator loss."""
    return F.softplus(-f).mean(-1)


def lsgan_d_loss(r: Tensor, f: Tensor) -> Tensor:
    """½E[(D(x) - 1)²] + ½E[D(G(z))²]  (Mao et al. 2017, a=0, b=c=1)."""
    return 0.5 * ((r - 1) ** 2 + f**2).mean(-1)


def lsgan_g_loss(f: Tensor) -> Tensor:
    """½E[(D(G(z)) - 1)²]."""
    return 0.5 * ((f - 1) ** 2).mean(-1)


def wgan_d_loss(r: Tensor, f: Tensor) -> Tensor:
    """E[D(G(z))] - E[D(x)]: the critic maximises the Wasserstein-1 estimate."""
    return (f - r).mean(-1)


def wgan_g_loss(f: Tensor) -> Tensor:
    """-E[D(G(z))]."""
    return (-f).mean(-1)


def hinge_d_loss(r: Tensor, f: Tensor) -> Tensor:
    """E[max(0, 1 - D(x))] + E[max(0, 1 + D(G(z)))]."""
    return (F.relu(1 - r) + F.relu(1 + f)).mean(-1)


def relativistic_d_loss(r: Tensor, f: Tensor) -> Tensor:
    """-E[log σ(C(x) - E C(G(z)))] - E[log(1 - σ(C(G(z)) - E C(x)))]  (RaGAN)."""
    return (F.softplus(-(r - f.mean(-1, keepdim=True))) +
            F.softplus(f - r.mean(-1, keepdim=True))).mean(-1)


def relativistic_g_loss(f: Tensor, r: Tensor) -> Tensor:
    """The same with real and fake swapped: -E[log σ(C(G(z)) - E C(x))] - E[log(1 - σ(C(x) - E C(G(z))))]."""
    return relativistic_d_loss(f, r)


# --- the registry entries ----------------------------------------------------------

@objectives.register("minimax")
def minimax() -> Objective:
    """Original game: D cross-entropy, G minimises log(1 - D(G(z))) (saturating)."""
    return Objective(minimax_d_loss, minimax_g_loss, DOutput.LOGIT)


@objectives.register("nonsaturating")
def nonsaturating() -> Objective:
    """D cross-entropy, G minimises -log D(G(z)) (Goodfellow et al.'s practical fix)."""
    return Objective(minimax_d_loss, nonsaturating_g_loss, DOutput.LOGIT)


@objectives.register("lsgan")
def lsgan() -> Objective:
    """Least squares GAN (Mao et al. 2017) with targets 0/1."""
    return Objective(lsgan_d_loss, lsgan_g_loss, DOutput.CRITIC)


@objectives.register("wgan")
def wgan(clip: float = 0.01) -> Objective:
    """Wasserstein GAN (Arjovsky et al. 2017): critic weights clipped to [-clip, clip]."""
    if clip <= 0:
        raise ValueError("clip must be positive")
    return Objective(wgan_d_loss, wgan_g_loss, DOutput.CRITIC, weight_clip=float(clip))


@objectives.register("wgan_gp")
def wgan_gp(gp_weight: float = 10.0) -> Objective:
    """WGAN with gradient penalty λ·E[(‖∇D(x̂)‖ - 1)²] (Gulrajani et al. 2017), λ=10."""
    gp = regularizers.build({"name": "gp", "weight": gp_weight}, "gp_weight")
    return Objective(wgan_d_loss, wgan_g_loss, DOutput.CRITIC, penalties=(gp,))


@objectives.register("hinge")
def hinge() -> Objective:
    """Hinge loss (Lim & Ye 2017; Miyato et al. 2018): G minimises -E[D(G(z))]."""
    return Objective(hinge_d_loss, wgan_g_loss, DOutput.CRITIC)


@objectives.register("relativistic")
def relativistic() -> Objective:
    """Relativistic average GAN, RaSGAN (Jolicoeur-Martineau 2018): D judges whether real
    data is more realistic than the average fake, and G the reverse."""
    return Objective(relativistic_d_loss, relativistic_g_loss, DOutput.CRITIC, g_needs_real=True)


class PerSliceObjective:
    """The objectives of the slices of one stacked model, slice s trained with
    ``objectives[s]``: each loss is that objective's on the slice's rows of D's outputs.

    Slices with the same objective are computed together. The objectives must agree on
    what shapes training (the same penalty kinds, ``g_needs_real``); what D outputs and
    WGAN's clip are each slice's own (:meth:`of_slice`), and penalties carry a per-slice
    weight tensor where the weights differ.
    """

    def __init__(self, objectives: list[Objective], keys: list[str], penalties: tuple = ()):
        self.slices = list(objectives)
        groups: dict[str, list[int]] = {}
        for s, key in enumerate(keys):
            groups.setdefault(key, []).append(s)
        self.groups = [(self.slices[idx[0]], torch.tensor(idx)) for idx in groups.values()]
        needs = {o.g_needs_real for o in objectives}
        if len(needs) != 1:
            raise ValueError("slices of one model must agree on g_needs_real")
        self.g_needs_real = needs.pop()
        self.penalties = tuple(penalties)
        self._on: dict = {}

    def _indices(self, device) -> tuple[list[Tensor], Tensor]:
        """Each group's slice indices on ``device`` and the order that puts the groups'
        rows back in slice order, made once per device (not a copy every step)."""
        key = str(device)
        if key not in self._on:
            idx = [i.to(device) for _, i in self.groups]
            self._on[key] = (idx, torch.argsort(torch.cat(idx)))
        return self._on[key]

    def of_slice(self, s: int) -> Objective:
        return self.slices[s]

    def _per_slice(self, loss, *outs: Tensor | None) -> Tensor:
        """loss(objective, *rows) per group of slices, put back in slice order, (S,)."""
        if len(self.groups) == 1:
            return loss(self.groups[0][0], *outs)
        indices, back = self._indices(outs[0].device)
        parts = [loss(obj, *(o[idx] if o is not None else None for o in outs))
                 for (obj, _), idx in zip(self.groups, indices)]
        return torch.cat(parts)[back]

    def d_loss(self, r: Tensor, f: Tensor) -> Tensor:
        return self._per_slice(lambda o, r_, f_: o.d_loss(r_, f_), r, f)

    def generator_loss(self, f: Tensor, r: Tensor | None = None) -> Tensor:
        return self._per_slice(lambda o, f_, r_: o.generator_loss(f_, r_), f, r)
