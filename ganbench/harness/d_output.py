"""What a user's own discriminator outputs: a logit, a probability, or a critic's score.

ganbench's own objectives say what their D outputs (``Objective.d_output``, a
:class:`~ganbench.objectives.DOutput`). A D from a user's loop (ganbench.Monitor) may
output any of the three, given or detected here:

- ``probability``: D ends in a sigmoid, as in PyTorch's DCGAN tutorial (trained with
  ``nn.BCELoss``). Certain when D's last module is an ``nn.Sigmoid`` and its outputs on
  the probe batch lie within [0, 1]; a guess (with a warning) when only the outputs do;
- ``logit``: σ(D) is the probability (``nn.BCEWithLogitsLoss``): outputs outside [0, 1]
  of a D not said to be a critic;
- ``critic``: a raw score (WGAN, hinge, least squares): only when the user says so,
  since no output tells a critic from a logit.

For the vanishing probe, which trains a fresh D of the same kind with the
cross-entropy loss on logits, :func:`logits` gives a probability D's logits: the
input of its final ``nn.Sigmoid`` when it has one (exact), else logit(p).
"""
from __future__ import annotations

import warnings
from typing import Callable

import numpy as np
import torch
from torch import nn

from ..errors import InputError
from ..objectives import DOutput

#: p is clamped to [EPS, 1 - EPS] before logit(p) (a probability D without an nn.Sigmoid)
EPS = 1e-6


def final_sigmoid(D: nn.Module) -> nn.Sigmoid | None:
    """D's last module (in the order its modules are registered) when it is an
    ``nn.Sigmoid``, else None."""
    leaves = [m for m in D.modules() if not any(True for _ in m.children())]
    return leaves[-1] if leaves and isinstance(leaves[-1], nn.Sigmoid) else None


def check(d_output: str | None) -> DOutput | None:
    """``d_output`` as a DOutput (None stays None: detect it); InputError if it is none."""
    if d_output is None:
        return None
    try:
        return DOutput(d_output)
    except ValueError:
        raise InputError(f"d_output: {d_output!r} is not one of "
                         f"{', '.join(d.value for d in DOutput)}; give the form of D's "
                         "outputs (or None to detect it).") from None


def detect(D: nn.Module, outputs: np.ndarray) -> tuple[DOutput, str, str | None]:
    """(what D outputs, how it was decided, a warning or None) for D's ``outputs`` on a
    probe batch: a logit or a probability (a critic is never detected, only given)."""
    within = bool(np.all((outputs >= 0) & (outputs <= 1)))
    if within and final_sigmoid(D) is not None:
        return DOutput.PROBABILITY, "detected: D ends in nn.Sigmoid", None
    if within:
        return DOutput.PROBABILITY, "guessed: D's outputs lie within [0, 1]", (
            "Monitor: D's outputs on the evaluation's samples all lie within [0, 1] but D "
            "does not end in an nn.Sigmoid; they are taken as probabilities. Pass "
            "d_output='logit' (or 'critic') if they are not.")
    return DOutput.LOGIT, "detected: D's outputs lie outside [0, 1]", None


class OutputForm:
    """What a user's D outputs, decided once: ``given``, or detected from the first
    outputs seen (:func:`detect`)."""

    def __init__(self, given: str | None = None):
        self.form, self.how = check(given), "given" if given is not None else None

    @property
    def d_output(self) -> DOutput:
        """What D outputs as far as it is decided (a logit, ganbench's default, until then)."""
        return self.form or DOutput.LOGIT

    def of(self, D: nn.Module, *outputs) -> DOutput:
        """What D outputs (detected from D and its ``outputs``, arrays or tensors of any
        shape, the first time; a guess warns)."""
        if self.form is None:
            seen = np.concatenate([np.ravel(torch.as_tensor(o).float().cpu().numpy())
                                   for o in outputs])
            self.form, self.how, warning = detect(D, seen)
            if warning:
                warnings.warn(warning, stacklevel=3)
        return self.form


def logits(call: Callable, x: torch.Tensor, module: nn.Module) -> torch.Tensor:
    """The logits of a D that outputs probabilities: ``call(x)`` runs D (``module``, or a
    functional call of it); the input of its final nn.Sigmoid when that made the output,
    else logit(p) with p clamped to [EPS, 1 - EPS]."""
    sig = final_sigmoid(module)
    seen = []
    handle = sig.register_forward_hook(lambda m, i, o: seen.append((i[0], o))) if sig else None
    try:
        p = call(x)
    finally:
        if handle is not None:
            handle.remove()
    if seen and seen[-1][1].data_ptr() == p.data_ptr() and seen[-1][1].numel() == p.numel():
        return seen[-1][0].reshape(p.shape)
    return torch.logit(p, eps=EPS)
