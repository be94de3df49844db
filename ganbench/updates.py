"""Update schemes: how one training step moves the two players (the ``update`` field).

- ``alternating`` (default): ``n_critic`` D steps, then one G step, each at the point
  the previous one left (``order: g_first`` puts the G step first);
- ``simultaneous``: ``n_critic - 1`` D steps, then both players' gradients at the same
  point and both steps at once (the setting of Mescheder et al.'s analysis);
- ``unrolled``: alternating, but G's loss is taken against a copy of D moved ``k`` more
  D steps on the same batch, differentiating through those steps (Metz et al. 2016).

A scheme is an object with ``step(players)`` returning the step's :class:`StepLog`.
:class:`ganbench.harness.players.Players` provides the moves (``d_step`` returning a
:class:`DStepLog`, ``g_step`` a :class:`GStepLog`, ``joint_step`` a whole
:class:`StepLog`) and the pieces a scheme may combine itself (``noise``,
``real_batch``, ``apply_g``, ``G``, ``D``, ``opt_d``, ``game``).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import torch
from torch.func import functional_call

from .game import sqnorm
from .registry import Registry

updates = Registry("update")

Tensor = torch.Tensor


class DStepLog(NamedTuple):
    """What a D step logs, each (S,)."""

    loss: Tensor        # D's game loss (the objective's)
    penalty: Tensor     # the sum of its penalties
    real: Tensor        # mean D output on the real batch (a probability where D models one)
    fake: Tensor        # mean D output on the generated batch (likewise)


class GStepLog(NamedTuple):
    """What a G step logs, each (S,)."""

    loss: Tensor
    grad_norm: Tensor   # the norm of G's loss gradient over G's parameters


class StepLog(NamedTuple):
    """What one training step logs, each (S,): the columns of history.csv, in this order.
    D's values are those of the last of its ``n_critic`` steps."""

    d_loss: Tensor
    d_penalty: Tensor
    g_loss: Tensor
    grad_norm_g: Tensor
    d_real: Tensor
    d_fake: Tensor

    @classmethod
    def of(cls, d: DStepLog, g: GStepLog) -> "StepLog":
        return cls(d.loss, d.penalty, g.loss, g.grad_norm, d.real, d.fake)


@dataclass(frozen=True)
class Alternating:
    order: str = "d_first"

    def step(self, players) -> StepLog:
        if self.order == "g_first":
            g = players.g_step()
        for _ in range(players.n_critic):
            d = players.d_step()
        if self.order == "d_first":
            g = players.g_step()
        return StepLog.of(d, g)


@dataclass(frozen=True)
class Simultaneous:
    def step(self, players) -> StepLog:
        for _ in range(players.n_critic - 1):
            players.d_step()
        return players.joint_step()


# --- unrolling D's optimizer differentiably ------------------------------------------

def _sgd(opt, params):
    group = opt.param_groups[0]
    if group.get("momentum", 0):
        raise ValueError("unrolled: SGD with momentum is not supported; set momentum: 0")
    lr, wd = group["lr"], group.get("weight_decay", 0.0)
    return lambda ps, gs: [p - lr * (g + wd * p) for p, g in zip(ps, gs)]


def _adam(opt, params):
    """Adam (and AMSGrad) from D's optimizer state, with sqrt(v̂ + ε²) for sqrt(v̂) + ε so
    that second derivatives stay finite where v̂ = 0."""
    group = opt.param_groups[0]
    lr, (b1, b2), eps, wd = group["lr"], group["betas"], group["eps"], group["weight_decay"]
    if group.get("maximize", False):
        raise ValueError("unrolled: Adam with maximize is not supported")
    amsgrad = bool(group.get("amsgrad", False))
    st = [opt.state.get(p, {}) for p in params]
    m = [s["exp_avg"] if "exp_avg" in s else torch.zeros_like(p) for s, p in zip(st, params)]
    v = [s["exp_avg_sq"] if "exp_avg_sq" in s else torch.zeros_like(p) for s, p in zip(st, params)]
    # AMSGrad divides by the largest second moment seen so far
    v_max = [s["max_exp_avg_sq"] if "max_exp_avg_sq" in s else torch.zeros_like(p)
             for s, p in zip(st, params)]
    # the step count stays a tensor where the optimizer keeps one (fused Adam: on the
    # device), so reading it never waits for the device; a new tensor, never in place
    t = [s["step"] if "step" in s else 0.0 for s in st]

    def rule(ps, gs):
        out = []
        for i, (p, g) in enumerate(zip(ps, gs)):
            g = g + wd * p
            t[i] = t[i] + 1
            m[i] = b1 * m[i] + (1 - b1) * g
            v[i] = b2 * v[i] + (1 - b2) * g * g
            if amsgrad:
                v_max[i] = torch.maximum(v_max[i], v[i])
            mhat, vhat = m[i] / (1 - b1 ** t[i]), (v_max[i] if amsgrad else v[i]) / (1 - b2 ** t[i])
            out.append(p - lr * mhat / (vhat + eps * eps).sqrt())
        return out
    return rule


def _rmsprop(opt, params):
    group = opt.param_groups[0]
    if group.get("momentum", 0) or group.get("centered", False):
        raise ValueError("unrolled: RMSprop with momentum or centered is not supported")
    lr, alpha, eps, wd = group["lr"], group["alpha"], group["eps"], group["weight_decay"]
    v = [opt.state.get(p, {}).get("square_avg", torch.zeros_like(p)) for p in params]

    def rule(ps, gs):
        out = []
        for i, (p, g) in enumerate(zip(ps, gs)):
            g = g + wd * p
            v[i] = alpha * v[i] + (1 - alpha) * g * g
            out.append(p - lr * g / (v[i] + eps * eps).sqrt())
        return out
    return rule


UNROLL_RULES = {torch.optim.SGD: _sgd, torch.optim.Adam: _adam, torch.optim.RMSprop: _rmsprop}


def unroll_rule(opt: torch.optim.Optimizer, params: list[torch.Tensor]):
    """D's own update rule as a differentiable function (params, grads) -> new params."""
    make = UNROLL_RULES.get(type(opt))
    if make is None:
        raise ValueError(f"unrolled: D optimizer {type(opt).__name__} cannot be unrolled; "
                         "use sgd, adam or rmsprop")
    return make(opt, params)


@dataclass(frozen=True)
class Unrolled:
    k: int = 5
    second_order: bool = True

    def unrolled_d(self, players, real, fake):
        """D moved k steps by its own optimizer on (real, fake), as a function of x."""
        D, game = players.D, players.game
        names = [n for n, _ in D.named_parameters()]
        params = [p for _, p in D.named_parameters()]
        rule = unroll_rule(players.opt_d, params)
        clip = game.objective.weight_clip
        for _ in range(self.k):
            d = lambda x, ps=params: functional_call(D, dict(zip(names, ps)), (x,))  # noqa: E731
            dl = game.d_loss(d, real, fake if self.second_order else fake.detach(),
                             players.streams, players.progress)
            grads = torch.autograd.grad((dl.game + dl.penalty).sum(), params,
                                        create_graph=self.second_order)
            params = rule(params, grads)
            if clip is not None:
                params = [p.clamp(-clip, clip) for p in params]
            if not self.second_order:
                params = [p.detach().requires_grad_(True) for p in params]
        return lambda x: functional_call(D, dict(zip(names, params)), (x,))

    def step(self, players) -> StepLog:
        for _ in range(players.n_critic):
            d = players.d_step()
        z = players.noise(players.batch_size)
        real = players.real_batch(players.batch_size)
        fake = players.G(z)
        loss = players.game.g_loss(self.unrolled_d(players, real, fake), fake, real,
                                   players.streams, players.progress)
        grads = torch.autograd.grad(loss.sum(), players.g_params)
        players.apply_g(grads)
        return StepLog.of(d, GStepLog(loss.detach(), sqnorm(grads).sqrt()))


@updates.register("alternating")
def alternating(order: str = "d_first") -> Alternating:
    """n_critic D steps then one G step (order: d_first), or the G step first (g_first)."""
    if order not in ("d_first", "g_first"):
        raise ValueError("order must be d_first or g_first")
    return Alternating(order)


@updates.register("simultaneous")
def simultaneous() -> Simultaneous:
    """Both players' gradients at the same point, both steps at once (after n_critic - 1 D steps)."""
    return Simultaneous()


@updates.register("unrolled")
def unrolled(k: int = 5, second_order: bool = True) -> Unrolled:
    """Unrolled GAN (Metz et al. 2016): G's loss against D unrolled k steps of D's optimizer."""
    if int(k) < 1 or int(k) != k:
        raise ValueError("k must be a whole number >= 1")
    return Unrolled(int(k), bool(second_order))

