"""The MLP generator's batch norm (per-seed statistics, running statistics in eval
mode), the maxout discriminator and the N(0, std²) initialisation, against hand
computations and torch's own layers."""
import math
from types import SimpleNamespace

import pytest
import torch
from torch import nn

from ganbench.errors import InputError
from ganbench.models import build_model, discriminators, generators
from ganbench.models.stacked import StackedBatchNorm1d, StackedLinear, StackedMaxout

DATA2D = SimpleNamespace(dim=2)


def gens(*seeds):
    return [torch.Generator().manual_seed(s) for s in seeds]


def test_batch_norm_by_hand():
    bn = StackedBatchNorm1d(2, 1, momentum=0.1, eps=0.0)
    x = torch.tensor([[1.0, 2.0, 3.0, 6.0], [0.0, 0.0, 2.0, 2.0]]).unsqueeze(-1)  # (S=2, B=4, F=1)
    y = bn(x)
    # seed 0: mean 3, biased variance (4 + 1 + 0 + 9) / 4 = 3.5; seed 1: mean 1, variance 1
    torch.testing.assert_close(y[0, :, 0], (torch.tensor([1.0, 2, 3, 6]) - 3) / math.sqrt(3.5))
    torch.testing.assert_close(y[1, :, 0], torch.tensor([-1.0, -1, 1, 1]))
    # running statistics: 0.9 · (0, 1) + 0.1 · (mean, unbiased variance)
    torch.testing.assert_close(bn.running_mean[:, 0], torch.tensor([0.3, 0.1]))
    torch.testing.assert_close(bn.running_var[:, 0], torch.tensor([0.9 + 0.1 * 14 / 3, 0.9 + 0.1 * 4 / 3]))
    bn.eval()                                  # eval mode: the running statistics, per sample
    one = bn(torch.tensor([[[2.0]], [[2.0]]]))
    torch.testing.assert_close(one[:, 0, 0], torch.tensor(
        [(2 - 0.3) / math.sqrt(0.9 + 0.1 * 14 / 3), (2 - 0.1) / math.sqrt(0.9 + 0.1 * 4 / 3)]))


def test_batch_norm_is_torch_batchnorm1d_per_seed():
    S, B, F = 3, 16, 5
    bn = StackedBatchNorm1d(S, F, momentum=0.05, eps=1e-4)
    with torch.no_grad():
        bn.weight.copy_(torch.rand(S, F) + 0.5)
        bn.bias.copy_(torch.randn(S, F))
    ref = [nn.BatchNorm1d(F, momentum=0.05, eps=1e-4) for _ in range(S)]
    for s, r in enumerate(ref):
        with torch.no_grad():
            r.weight.copy_(bn.weight[s])
            r.bias.copy_(bn.bias[s])
    for _ in range(3):
        x = torch.randn(S, B, F) * 3 + 1
        y = bn(x)
        for s, r in enumerate(ref):
            torch.testing.assert_close(y[s], r(x[s]))
    for s, r in enumerate(ref):
        torch.testing.assert_close(bn.running_mean[s], r.running_mean)
        torch.testing.assert_close(bn.running_var[s], r.running_var)
    bn.eval()
    x = torch.randn(S, 7, F)
    for s, r in enumerate(ref):
        torch.testing.assert_close(bn(x)[s], r.eval()(x[s]))


def test_batch_norm_generator_layout_and_seed_s_alone_or_stacked():
    spec = {"name": "mlp", "width": 8, "depth": 2, "z_dim": 3, "batch_norm": True}
    G = build_model(generators, spec, "generator", DATA2D, gens(5, 6))
    kinds = [type(m).__name__ for m in G.net]
    assert kinds == ["StackedLinear", "StackedBatchNorm1d", "ReLU"] * 2 + ["StackedLinear"]
    assert G.net[0].bias is None and G.net[3].bias is None and G.net[6].bias is not None
    alone = build_model(generators, spec, "generator", DATA2D, gens(6))
    z = torch.randn(2, 32, 3)
    y = G(z)
    torch.testing.assert_close(alone(z[1:]), y[1:])                 # training: batch statistics
    torch.testing.assert_close(alone.net[1].running_mean, G.net[1].running_mean[1:])
    G.eval(), alone.eval()
    torch.testing.assert_close(alone(z[1:, :1]), G(z[:, :1])[1:])   # eval: one sample works
    # without batch norm nothing changes: the same weights as before the option existed
    plain = build_model(generators, {**spec, "batch_norm": False}, "generator", DATA2D, gens(5))
    assert plain.net[0].bias is not None and len(plain.net) == 5


def test_maxout_layer_by_hand():
    layer = StackedMaxout(1, width=2, pieces=3, init=gens(0))
    with torch.no_grad():                       # unit 0: max(x, -x, 0.5); unit 1: max(2x, x + 1, -3)
        layer.linear.weight.copy_(torch.tensor([[[1.0, -1.0, 0.0, 2.0, 1.0, 0.0]]]))
        layer.linear.bias.copy_(torch.tensor([[0.0, 0.0, 0.5, 0.0, 1.0, -3.0]]))
    x = torch.tensor([[[-2.0], [0.25], [3.0]]])
    expected = torch.tensor([[[2.0, -1.0], [0.5, 1.25], [3.0, 6.0]]])
    torch.testing.assert_close(layer(x), expected)


def test_maxout_discriminator():
    spec = {"name": "maxout", "width": 6, "depth": 3, "pieces": 5}
    D = build_model(discriminators, spec, "discriminator", DATA2D, gens(1, 2))
    assert [tuple(p.shape) for p in D.parameters()] == [
        (2, 2, 30), (2, 30), (2, 6, 30), (2, 30), (2, 6, 30), (2, 30), (2, 6, 1), (2, 1)]
    alone = build_model(discriminators, spec, "discriminator", DATA2D, gens(2))
    x = torch.randn(2, 10, 2)
    assert D(x).shape == (2, 10)
    torch.testing.assert_close(alone(x[1:]), D(x)[1:])
    # by hand: the stack of layers is max over pieces of each linear map, then a linear logit
    h = x
    for layer in D.net[:-1]:
        w, b = layer.linear.weight, layer.linear.bias
        h = (h @ w + b[:, None]).reshape(2, 10, 6, 5).max(-1).values
    torch.testing.assert_close(D(x), (h @ D.net[-1].weight + D.net[-1].bias[:, None]).squeeze(-1))
    packed = build_model(discriminators, {"name": "packed", "packing": 3, "body": spec},
                         "discriminator", DATA2D, gens(1))
    assert packed.packing == 3 and packed.net[0].linear.weight.shape == (1, 6, 30)


def test_init_std_draws_normal_weights_and_zero_biases():
    lin = StackedLinear(400, 300, gens(0, 1), std=0.02)
    assert lin.bias.abs().max() == 0
    assert lin.weight.std().item() == pytest.approx(0.02, rel=0.02)
    assert not torch.equal(lin.weight[0], lin.weight[1])
    torch.testing.assert_close(StackedLinear(400, 300, gens(1), std=0.02).weight[0], lin.weight[1])
    D = build_model(discriminators, {"name": "maxout", "init_std": 0.02}, "discriminator", DATA2D,
                    gens(0))
    assert all(m.bias.abs().max() == 0 for m in D.modules() if isinstance(m, StackedLinear))
    G = build_model(generators, {"name": "mlp", "init_std": 0.02, "batch_norm": True}, "generator",
                    DATA2D, gens(0))
    assert G.net[0].weight.std().item() == pytest.approx(0.02, rel=0.1)


@pytest.mark.parametrize("registry,spec,field", [
    (discriminators, {"name": "maxout", "pieces": 0}, "pieces"),
    (discriminators, {"name": "maxout", "width": 2.5}, "width"),
    (discriminators, {"name": "maxout", "depth": 0}, "depth"),
    (discriminators, {"name": "maxout", "packing": 2}, "packing"),       # packed does that
    (discriminators, {"name": "maxout", "width": 100000, "pieces": 100}, "weights per seed"),
    (generators, {"name": "mlp", "batch_norm": "yes"}, "batch_norm"),
    (generators, {"name": "mlp", "batch_norm": True, "bn_momentum": 0}, "bn_momentum"),
    (generators, {"name": "mlp", "init_std": -1}, "init_std"),
])
def test_bad_settings_name_the_setting(registry, spec, field):
    with pytest.raises(InputError, match=field):
        build_model(registry, spec, "x", DATA2D, gens(0))
