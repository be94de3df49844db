"""Per-seed random streams drawn together: a seed's numbers do not depend on how many
seeds are stacked, across block refills and mixed kinds of draws, and every draw of a
step comes out of one slice (no per-seed call between refills)."""
import pytest
import torch

from ganbench.data import datasets
from ganbench.streams import BLOCK_ELEMENTS, SeedStreams


def draws(seeds: list[int], n_steps: int = 150) -> list[list[torch.Tensor]]:
    """Per step, what an alternating step with a gradient penalty draws, for ``seeds``."""
    st = SeedStreams([torch.Generator().manual_seed(s) for s in seeds])
    ring, digits = datasets.build("ring8"), datasets.build("stacked_digits")
    out = []
    for _ in range(n_steps):
        out.append([ring.sample_seeds(32, st), st.randn(32, 4), st.rand(32, 1),
                    digits.sample_seeds(8, st), st.randint(10, 5), st.randn(32, 4)])
    return out


def test_a_seeds_numbers_are_the_same_alone_and_stacked():
    stacked = draws([7, 3, 11])
    alone = draws([3])
    for step_stacked, step_alone in zip(stacked, alone):      # 150 steps: two refills
        for a, b in zip(step_stacked, step_alone):
            assert a.shape[0] == 3 and b.shape[0] == 1
            assert torch.equal(a[1], b[0])
    first = stacked[0][1]
    assert not torch.equal(first[0], first[1])                  # seeds differ
    assert not torch.equal(stacked[0][1], stacked[0][5])        # successive draws differ


def test_every_draw_between_refills_is_a_slice_of_one_block(monkeypatch):
    st = SeedStreams([torch.Generator().manual_seed(s) for s in range(4)])
    calls = []
    real = torch.randn
    monkeypatch.setattr(torch, "randn", lambda *a, **k: calls.append(1) or real(*a, **k))
    for _ in range(st.block):
        st.randn(16, 2)
    assert len(calls) == 4                  # one per seed, for all 64 draws
    st.randn(16, 2)
    assert len(calls) == 8                  # the next block


def test_large_draws_come_in_smaller_blocks():
    st = SeedStreams([torch.Generator().manual_seed(0)])
    assert st.draws_per_block((128, 2)) == st.block
    assert st.draws_per_block((64, 3072)) == BLOCK_ELEMENTS // (64 * 3072)
    assert st.draws_per_block((10**6,)) == 1
    with pytest.raises(ValueError):
        SeedStreams([])
