"""Each seed's own random stream, drawn for every seed of a stack at once.

Seed s of a stacked model draws its training noise, data and penalty samples from its
own ``torch.Generator``, so it gets the same numbers alone or stacked with others.
Drawing from S generators takes S calls per draw (S kernel launches and S Python calls
on a GPU, every step). :class:`SeedStreams` instead draws each seed's numbers for
``block`` draws at once and hands out one draw of every seed as a slice of that block:
a step makes no per-seed call, and the blocks are refilled every ``block`` draws.

Seed s's numbers depend on its generator and on the sequence of draws asked for (their
kinds and shapes), which every seed of a stack asks for alike; never on how many seeds
are stacked. Each kind and shape of draw has its own block, refilled from the seed's one
generator when used up; a block holds at most :data:`BLOCK_ELEMENTS` numbers per seed
(large draws, e.g. instance noise on images, come in smaller blocks, down to one draw).
"""
from __future__ import annotations

import math
from typing import Callable, Iterator, Sequence

import torch

#: draws per block (one block per kind and shape of draw)
BLOCK_DRAWS = 64
#: numbers per seed in one block, at most (1 MB of float32)
BLOCK_ELEMENTS = 1 << 18


class SeedStreams:
    """S seeds' generators (one per seed, all on one device), drawn together.

    Iterating gives the generators, so code that takes a list of per-seed generators
    takes a SeedStreams as well."""

    def __init__(self, generators: list[torch.Generator], block: int = BLOCK_DRAWS):
        self.generators = list(generators)
        if not self.generators:
            raise ValueError("SeedStreams needs one generator per seed")
        self.block = int(block)
        self.device = self.generators[0].device
        self._blocks: dict = {}      # key -> [block (k, S, ...), next draw]

    def __len__(self) -> int:
        return len(self.generators)

    def __iter__(self) -> Iterator[torch.Generator]:
        return iter(self.generators)

    def __getitem__(self, s: int) -> torch.Generator:
        return self.generators[s]

    def draws_per_block(self, shape: tuple) -> int:
        """How many draws of one seed's ``shape`` a block holds."""
        return max(1, min(self.block, BLOCK_ELEMENTS // max(1, math.prod(shape))))

    def draw(self, key, shape: tuple, per_seed: Callable[[torch.Generator, int], torch.Tensor]
             | Sequence[Callable[[torch.Generator, int], torch.Tensor]]) -> torch.Tensor:
        """One draw of kind ``key``, (S, *shape): seed s's is the next of the draws
        ``per_seed(generator_s, k)`` made k at a time, shape (k, *shape) (``per_seed``:
        one function for every seed, or seed s's own at ``per_seed[s]``)."""
        entry = self._blocks.get(key)
        if entry is None or entry[1] == len(entry[0]):
            k = self.draws_per_block(shape)
            each = per_seed if isinstance(per_seed, Sequence) else [per_seed] * len(self)
            entry = self._blocks[key] = [
                torch.stack([f(g, k) for f, g in zip(each, self.generators)], 1), 0]
        out = entry[0][entry[1]]
        entry[1] += 1
        return out

    def state(self) -> dict:
        """Where every seed's stream is: its generator's state, and the blocks drawn ahead
        with the next draw of each (on the host; for a training checkpoint)."""
        return {"generators": [g.get_state() for g in self.generators],
                "blocks": {k: (b.cpu(), i) for k, (b, i) in self._blocks.items()}}

    def load_state(self, state: dict) -> None:
        """Continue from :meth:`state`: the next draws are those that would have followed."""
        if len(state["generators"]) != len(self.generators):
            raise ValueError(f"a state of {len(state['generators'])} seeds for {len(self)} streams")
        for g, st in zip(self.generators, state["generators"]):
            g.set_state(st)
        self._blocks = {k: [b.to(self.device), i] for k, (b, i) in state["blocks"].items()}

    def randn(self, *shape: int, dtype: torch.dtype = torch.float32) -> torch.Tensor:
        """(S, *shape) standard normal numbers, seed s's from its own generator."""
        return self.draw(("randn", shape, dtype), shape, lambda g, k: torch.randn(
            (k, *shape), generator=g, device=self.device, dtype=dtype))

    def rand(self, *shape: int, dtype: torch.dtype = torch.float32) -> torch.Tensor:
        """(S, *shape) uniform numbers in [0, 1), seed s's from its own generator."""
        return self.draw(("rand", shape, dtype), shape, lambda g, k: torch.rand(
            (k, *shape), generator=g, device=self.device, dtype=dtype))

    def randint(self, high: int, *shape: int) -> torch.Tensor:
        """(S, *shape) whole numbers in [0, high), seed s's from its own generator."""
        return self.draw(("randint", high, shape), shape, lambda g, k: torch.randint(
            high, (k, *shape), generator=g, device=self.device))
