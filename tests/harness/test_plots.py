"""The per-run sample picture circles the modes G missed: the same modes that
``modes_captured`` leaves out."""
import numpy as np
import torch

from ganbench.data import datasets
from ganbench.harness.plots import missed_modes, samples_png
from ganbench.metrics.coverage import modes_captured


def test_missed_modes_are_the_modes_without_a_high_quality_sample():
    ring = datasets.build({"name": "ring8"}, "dataset")
    rng = np.random.default_rng(0)
    kept = [0, 1, 2, 4, 5, 7]
    fake = np.concatenate([ring.centres[k] + rng.normal(0, ring.stds[k], (50, 2)) for k in kept])
    fake = np.concatenate([fake, [[0.0, 0.0]]])     # one far sample: near mode 0, not high quality
    assert missed_modes(ring, fake).tolist() == [3, 6]
    assert modes_captured(fake, ring.centres, ring.stds) == 8 - 2
    real = ring.sample(200, torch.Generator().manual_seed(0)).numpy()
    png = samples_png(ring, real, fake, "six of eight")
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
