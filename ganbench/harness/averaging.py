"""Generator weight averaging: an exponential moving average (EMA) of G's weights
(Yazıcı et al. 2019), the ``ema`` run setting ``{decay, start, evaluate}``.

After training step t (t G steps done) the averaged copy is

    G_avg = G_t                                  while t <= start,
    G_avg = decay · G_avg + (1 − decay) · G_t    after,

and it starts as the initial G. Buffers (batch norm's running statistics) are
averaged the same way, so they describe the averaged network rather than G's last
steps (integer buffers are copied). With ``evaluate: true`` the evaluations, samples
and checkpoints' evaluated G are the averaged one. ``decay`` and ``start`` may differ
between the slices of a stacked model (each slice its own weight, via ``lerp``).
"""
from __future__ import annotations

import copy

import torch

from ..errors import at
from ..optimizers import per_slice

#: the ``ema`` setting's fields and defaults
DEFAULTS = {"decay": 0.999, "start": 0, "evaluate": True}


def resolve(value, path: str) -> dict | None:
    """The ``ema`` setting with defaults filled in (None: off); errors name ``path``."""
    if value is None:
        return None
    if not isinstance(value, dict):
        raise at(path, f"expected null or a mapping like {{decay: 0.999, start: 0, evaluate: true}}, "
                       f"got {value!r}.")
    for k in value:
        if k not in DEFAULTS:
            raise at(f"{path}.{k}", f"unknown setting. Settings here: {', '.join(DEFAULTS)}.")
    out = {**DEFAULTS, **value}
    d, s, e = out["decay"], out["start"], out["evaluate"]
    if isinstance(d, bool) or not isinstance(d, (int, float)) or not 0 <= d < 1:
        raise at(f"{path}.decay", f"expected a number in [0, 1), got {d!r} (0.999 averages over "
                                  "about 1000 steps).")
    if isinstance(s, bool) or not isinstance(s, int) or s < 0:
        raise at(f"{path}.start", f"expected a whole number of steps >= 0, got {s!r}.")
    if not isinstance(e, bool):
        raise at(f"{path}.evaluate", f"expected true or false, got {e!r}.")
    return {"decay": float(d), "start": s, "evaluate": e}


class GeneratorAverage:
    """The averaged copy of a seed-stacked G (``avg``, always in eval mode), slice s with
    ``decays[s]`` and ``starts[s]``; :meth:`update` after each training step."""

    def __init__(self, G: torch.nn.Module, decays: list[float], starts: list[int]):
        self.G, self.decays, self.starts = G, list(decays), list(starts)
        self.avg = copy.deepcopy(G).requires_grad_(False).eval()
        own = dict(G.named_parameters())
        own.update(dict(G.named_buffers()))
        avg = dict(self.avg.named_parameters())
        avg.update(dict(self.avg.named_buffers()))
        pairs = [(avg[n], own[n]) for n in own]
        self._float = [(a, g) for a, g in pairs if a.is_floating_point()]
        self._other = [(a, g) for a, g in pairs if not a.is_floating_point()]
        self._weights: dict = {}

    def _weights_for(self, past: tuple[bool, ...]):
        """One lerp weight for all slices (a number), or one tensor per pair."""
        w = [1.0 - d if p else 1.0 for d, p in zip(self.decays, past)]
        if len(set(w)) == 1:
            return w[0]
        if past not in self._weights:
            self._weights[past] = [per_slice(w, a) for a, _ in self._float]
        return self._weights[past]

    @torch.no_grad()
    def update(self, step: int) -> None:
        """Move the average after training step ``step`` (``step`` G steps done)."""
        w = self._weights_for(tuple(step > s for s in self.starts))
        avg, src = [a for a, _ in self._float], [g for _, g in self._float]
        if isinstance(w, float):
            if w == 1.0:
                torch._foreach_copy_(avg, src)
            else:
                torch._foreach_lerp_(avg, src, w)
        else:
            for a, g, wt in zip(avg, src, w):
                a.lerp_(g, wt)
        for a, g in self._other:
            a.copy_(g)
