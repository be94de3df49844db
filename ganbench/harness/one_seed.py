"""A plain single-seed module seen as a stack of one seed, for the harness's seed-stacked
code (the evaluations, the D map, the vanishing probe) to run on a user's own G and D
(ganbench.Monitor).

:class:`OneSeed` owns a copy of the module's parameters with a leading seed dimension
of 1, so per-seed gradient norms (:func:`ganbench.game.sqnorm`) and optimizers see the
shapes the stacked models have, and calls the module with them (``functional_call``,
the module itself as written: its batch norm, its buffers). A generator maps (1, n,
z_dim) -> (1, n, features); a discriminator (1, n, features) -> (1, n), its input
reshaped to ``in_shape`` (images) and its output made by ``head(call, x, module)``
(e.g. logits: :func:`ganbench.harness.d_output.logits`) where one is given.

Why not :class:`ganbench.models.plain.PlainStack`: that adapter trains S seeds and
changes batch norm to batch statistics always; a user's loop evaluates its modules
as they are.
"""
from __future__ import annotations

import copy
from typing import Callable

import torch
from torch import nn
from torch.func import functional_call


class OneSeed(nn.Module):
    """``module`` (not changed: its parameters are copied) as a one-seed stack; ``role``
    is "g" or "d"."""

    def __init__(self, module: nn.Module, role: str, in_shape: tuple | None = None,
                 head: Callable | None = None):
        super().__init__()
        if role not in ("g", "d"):
            raise ValueError("role must be g or d")
        self._module = [module]          # a list: not a submodule, its parameters not ours
        self.role, self.in_shape, self.head = role, in_shape, head
        self.names = [n for n, _ in module.named_parameters()]
        self.stacked = nn.ParameterList([nn.Parameter(p.detach().clone().unsqueeze(0))
                                         for _, p in module.named_parameters()])

    @property
    def module(self) -> nn.Module:
        return self._module[0]

    def _call(self, x: torch.Tensor) -> torch.Tensor:
        params = {n: p[0] for n, p in zip(self.names, self.stacked)}
        return functional_call(self.module, params, (x,))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(1, n, ...) on any device -> (1, n, features) (G) or (1, n) (D), on the module's."""
        n = x.shape[1]
        x = x[0] if self.in_shape is None else x[0].reshape(n, *self.in_shape)
        if len(self.stacked):
            x = x.to(self.stacked[0].device)
        if self.role == "g":
            return self._call(x).reshape(1, n, -1)
        out = self.head(self._call, x, self.module) if self.head is not None else self._call(x)
        return out.reshape(1, n)


def grad_norm(module: nn.Module) -> torch.Tensor | None:
    """L2 norm of the gradients ``module``'s parameters hold now (a tensor on their
    device: no host sync), or None when none holds one."""
    grads = [p.grad.detach() for p in module.parameters() if p.grad is not None]
    if not grads:
        return None
    return torch.linalg.vector_norm(torch.stack([torch.linalg.vector_norm(g) for g in grads]))


def reinitialised(module: nn.Module) -> nn.Module:
    """A copy of ``module`` with fresh weights (each submodule's ``reset_parameters``)."""
    fresh = copy.deepcopy(module)
    for m in fresh.modules():
        if hasattr(m, "reset_parameters"):
            m.reset_parameters()
    return fresh.requires_grad_(True)
