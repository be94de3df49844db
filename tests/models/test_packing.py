"""`packed`: PacGAN packing around any vector discriminator (PacGAN's maxout D in the
official 2D code), and an evaluation size that is not a multiple of the packing."""
import pytest
import torch
from torch import nn

from ganbench.config.schema import run_config
from ganbench.config.suite import parse_suite
from ganbench.data import datasets
from ganbench.errors import InputError
from ganbench.game import pack
from ganbench.harness.loop import Loop
from ganbench.models import build_model, discriminators


def gens(*seeds):
    return [torch.Generator().manual_seed(s) for s in seeds]


RING = datasets.build("ring8")


def test_packed_mlp_is_the_pacgan_discriminator_weight_for_weight():
    spec = {"width": 8, "depth": 2, "activation": "leaky_relu"}
    a = build_model(discriminators, {"name": "pacgan", "packing": 3, **spec}, "d", RING, gens(0, 1))
    b = build_model(discriminators, {"name": "packed", "packing": 3, "body": {"name": "mlp", **spec}},
                    "d", RING, gens(0, 1))
    assert a.packing == b.packing == 3
    for p, q in zip(a.parameters(), b.parameters()):
        assert torch.equal(p, q)
    x = torch.randn(2, 12, 2)
    assert torch.equal(a(pack(x, 3)), b(pack(x, 3)))
    assert b(pack(x, 3)).shape == (2, 4)                 # one logit per pack of 3


def test_the_body_sees_packing_times_the_data_dimension():
    d = build_model(discriminators, {"name": "packed", "packing": 4, "body": "mlp"}, "d", RING, gens(0))
    assert d.packing == 4 and d.net[0].weight.shape[1] == 8


def test_packed_maxout_widens_only_the_input():
    spec = {"name": "maxout", "width": 16, "depth": 3, "pieces": 5}
    plain = build_model(discriminators, spec, "d", RING, gens(0))
    packed = build_model(discriminators, {"name": "packed", "packing": 2, "body": spec}, "d", RING, gens(0))
    n_plain = sum(p.numel() for p in plain.parameters())
    n_packed = sum(p.numel() for p in packed.parameters())
    assert n_packed - n_plain == 2 * 16 * 5             # the first layer's extra inputs only
    assert packed(pack(torch.randn(1, 10, 2), 2)).shape == (1, 5)


class PlainD(nn.Module):
    def __init__(self, data_dim):
        super().__init__()
        self.fc = nn.Linear(data_dim, 1)

    def forward(self, x):
        return self.fc(x)


@pytest.fixture
def plain_d():
    discriminators.register("plain_d_for_packing", lambda data_dim: PlainD(data_dim))
    yield "plain_d_for_packing"
    discriminators._entries.pop("plain_d_for_packing")


def test_a_plain_module_body_and_the_errors(plain_d):
    d = build_model(discriminators, {"name": "packed", "packing": 2, "body": plain_d},
                    "d", RING, gens(0, 1))
    assert d.packing == 2 and d(pack(torch.randn(2, 6, 2), 2)).shape == (2, 3)
    for body, msg in ((("pacgan"), "packs its input itself"),
                      ({"name": "packed"}, "would pack twice"),
                      ({"name": "mlpp"}, r"'packed': body: unknown discriminator 'mlpp'. Did you mean 'mlp'")):
        with pytest.raises(InputError, match=msg):
            build_model(discriminators, {"name": "packed", "body": body}, "variants.x.discriminator",
                        RING, gens(0))
    with pytest.raises(InputError, match=r"variants\.x\.discriminator: discriminator 'packed': "
                                         r"body: discriminator 'mlp': width must be"):
        build_model(discriminators, {"name": "packed", "body": {"name": "mlp", "width": 0}},
                    "variants.x.discriminator", RING, gens(0))
    with pytest.raises(InputError, match="packing must be a whole number"):
        build_model(discriminators, {"name": "packed", "packing": 0}, "d", RING, gens(0))


def test_n_eval_need_not_be_a_multiple_of_the_packing():
    cfg = run_config(steps=4, batch_size=12, eval_every=4, n_eval=100, n_critic=1, min_hq=1,
                     generator={"name": "mlp", "width": 8, "depth": 1, "z_dim": 2},
                     discriminator={"name": "packed", "packing": 3,
                                    "body": {"name": "mlp", "width": 8, "depth": 1}},
                     optimizer={"name": "adam", "lr": 1e-3}, objective="nonsaturating", regularizers=[])
    res = Loop({"name": "ring8"}, cfg, [0]).run()[0]
    assert res.status == "ok" and 0 <= res.metrics["hq_fraction"] <= 1
    assert res.metrics["hq_fraction"] * 100 == pytest.approx(round(res.metrics["hq_fraction"] * 100))
    raw = {"datasets": ["ring8"], "variants": {"pac": {"n_eval": 2500, "batch_size": 300,
           "discriminator": {"name": "packed", "packing": 3}}}}
    assert parse_suite(raw).specs[0].config.n_eval == 2500   # PacGAN3 on 2,500 samples
