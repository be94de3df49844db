"""A stack's data when its slices train on different datasets of one shape (ring8 and
grid25: points of the plane): each slice draws from its own dataset with its own random
stream, and is evaluated against it (:meth:`PerSlice.of_slice`)."""
from __future__ import annotations

import torch

from .base import Dataset


class PerSlice(Dataset):
    """The datasets of a stack's slices, one per slice, all of one shape. What differs
    between them (modes, density, bounds) is asked of :meth:`of_slice`: asked of the
    stack, it raises rather than answer for one slice."""

    def __init__(self, slices: list[Dataset]):
        first = slices[0]
        if any(d.dim != first.dim or d.image_shape != first.image_shape for d in slices):
            raise ValueError("datasets stacked together must have samples of one shape: "
                             + ", ".join(f"{d.name} {d.image_shape or d.dim}" for d in slices))
        self.slices = list(slices)
        self.dim, self.image_shape = first.dim, first.image_shape
        self.name = "+".join(dict.fromkeys(d.name for d in slices))
        self.default_n_eval = first.default_n_eval

    def of_slice(self, s: int) -> Dataset:
        return self.slices[s]

    def sample(self, n: int, generator: torch.Generator) -> torch.Tensor:
        raise TypeError(f"{self.name}: a stack across datasets samples per slice "
                        "(sample_seeds, or of_slice(s).sample)")

    def sample_seeds(self, n: int, streams) -> torch.Tensor:
        """(S, n, dim): seed s's ``n`` points from its own dataset and generator, drawn as
        that dataset draws them alone (a block of draws at a time)."""
        return streams.draw(("sample", n), (n, self.dim), [
            (lambda g, k, d=d: d.sample(k * n, g).view(k, n, self.dim)) for d in self.slices])

    def _ask_a_slice(self, *_):
        raise TypeError(f"{self.name}: each slice has its own dataset; ask of_slice(s)")

    centres = stds = property(_ask_a_slice)
    log_prob = bounds = _ask_a_slice

    @property
    def has_density(self) -> bool:
        return self._ask_a_slice()


def stacked(slices: list[Dataset]) -> Dataset:
    """The data of a stack whose slice s trains on ``slices[s]``: that dataset when every
    slice has the same one, else a :class:`PerSlice`."""
    return slices[0] if all(d is slices[0] for d in slices) else PerSlice(slices)
