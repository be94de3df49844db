"""PacGAN packing and the game's use of regularizers."""
import pytest
import torch

from ganbench.config.schema import run_config
from ganbench.errors import InputError
from ganbench.game import pack
from ganbench.config.suite import parse_suite
from ganbench.harness.loop import Loop


def test_pack_concatenates_consecutive_samples():
    x = torch.arange(2 * 4 * 2, dtype=torch.float32).view(2, 4, 2)
    p = pack(x, 2)
    assert p.shape == (2, 2, 4)
    assert torch.equal(p[1, 1], torch.cat([x[1, 2], x[1, 3]]))
    assert pack(x, 1) is x


def test_pacgan_discriminator_judges_packs():
    cfg = run_config(steps=4, batch_size=8, eval_every=4, n_eval=20, n_critic=1, min_hq=1,
                     generator={"name": "mlp", "width": 8, "depth": 1, "z_dim": 2},
                     discriminator={"name": "pacgan", "packing": 2, "width": 8, "depth": 1},
                     optimizer={"name": "adam", "lr": 1e-3}, objective="nonsaturating",
                     regularizers=[{"name": "r1", "weight": 1.0}])
    tr = Loop({"name": "ring8"}, cfg, [0])
    assert tr.players.game.packing == 2 and tr.players.D.net[0].weight.shape[1] == 4   # 2 samples x 2 dims
    res = tr.run()[0]
    assert res.status == "ok" and "d_star_gap" not in res.metrics     # D* is per sample


def test_batch_not_a_multiple_of_the_packing_is_bad_input():
    raw = {"datasets": ["ring8"], "variants": {"pac": {
        "discriminator": {"name": "pacgan", "packing": 3}, "batch_size": 64}}}
    with pytest.raises(InputError, match=r"variants\.pac\.batch_size: 64 is not a multiple"):
        parse_suite(raw)
