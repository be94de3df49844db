"""DCGAN: sized from the image shape, seed-stacked without mixing seeds, spectral norm
per seed, PacGAN packing, and penalties with per-sample norms over C×H×W."""
import pytest
import torch

from ganbench.data import datasets
from ganbench.errors import InputError
from ganbench.models import build_model, discriminators, generators
from ganbench.regularizers import regularizers


def gens(*seeds):
    return [torch.Generator().manual_seed(s) for s in seeds]


class Images:
    """A stand-in image dataset of a given shape."""

    def __init__(self, shape):
        self.image_shape, self.dim = shape, shape[0] * shape[1] * shape[2]


@pytest.mark.parametrize("shape", [(1, 8, 8), (3, 16, 16), (1, 32, 32)])
def test_shapes_follow_the_image(shape):
    ds = Images(shape)
    G = build_model(generators, {"name": "dcgan", "width": 8, "z_dim": 5}, "g", ds, gens(0, 1))
    D = build_model(discriminators, {"name": "dcgan", "width": 8}, "d", ds, gens(2, 3))
    x = G(torch.randn(2, 7, 5))
    assert x.shape == (2, 7, ds.dim) and x.abs().max() <= 1           # tanh images
    assert D(x).shape == (2, 7)
    # every parameter's leading dimension is the seed (per-seed gradient norms rely on it)
    assert all(p.shape[0] == 2 for p in list(G.parameters()) + list(D.parameters()))


def test_stacked_seeds_equal_seeds_trained_alone():
    ds = Images((3, 16, 16))
    G3 = build_model(generators, {"name": "dcgan", "width": 8}, "g", ds, gens(0, 1, 2))
    G1 = build_model(generators, {"name": "dcgan", "width": 8}, "g", ds, gens(1))
    D3 = build_model(discriminators, {"name": "dcgan", "width": 8, "spectral_norm": True}, "d", ds,
                     gens(4, 5, 6))
    D1 = build_model(discriminators, {"name": "dcgan", "width": 8, "spectral_norm": True}, "d", ds,
                     gens(5))
    z = torch.randn(3, 10, G3.z_dim)
    x3, x1 = G3(z), G1(z[1:2])
    assert torch.allclose(x3[1], x1[0], atol=1e-6)   # grouped and plain convolutions round alike up to float error
    assert torch.allclose(D3(x3)[1], D1(x1)[0], atol=1e-6)
    # a NaN in seed 0's input leaves the other seeds untouched
    x3 = x3.detach().clone()
    x3[0, 0, 0] = float("nan")
    out = D3(x3)
    assert out[0].isnan().any() and out[1:].isfinite().all()


def test_spectral_norm_is_one_per_seed():
    ds = Images((1, 16, 16))
    D = build_model(discriminators, {"name": "dcgan", "width": 4, "spectral_norm": True}, "d", ds,
                    gens(0, 1))
    conv = D.net[0]
    with torch.no_grad():
        conv.parametrizations.weight.original.mul_(torch.tensor([10.0, 0.1]).reshape(2, 1, 1, 1, 1))
        u = conv.parametrizations.weight[0].u.clone()
        D(torch.randn(2, 4, ds.dim))              # an evaluation: no power iteration
        assert torch.equal(conv.parametrizations.weight[0].u, u)
    for _ in range(50):                           # training forwards: the iterations converge
        D(torch.randn(2, 4, ds.dim))
    w = conv.weight.detach()                      # the normalised weight (S, out, in, 4, 4)
    for s in range(2):
        sigma = torch.linalg.matrix_norm(w[s].reshape(w.shape[1], -1), ord=2)
        assert sigma == pytest.approx(1.0, abs=1e-3)


def test_packing_stacks_the_packed_images_channels():
    ds = Images((1, 8, 8))
    D = build_model(discriminators, {"name": "dcgan", "width": 4, "packing": 2}, "d", ds, gens(0))
    assert D.packing == 2 and D.in_shape == (2, 8, 8)
    from ganbench.game import pack
    x = torch.randn(1, 6, 64)
    assert D(pack(x, 2)).shape == (1, 3)


def test_r1_on_images_is_the_per_sample_norm_over_all_pixels():
    ds = Images((3, 8, 8))
    D = build_model(discriminators, {"name": "dcgan", "width": 4}, "d", ds, gens(0, 1))
    x = torch.randn(2, 5, ds.dim)
    got = regularizers.build({"name": "r1", "weight": 2.0})(D, x, x)
    want = torch.zeros(2)
    for s in range(2):                            # one sample at a time, by autograd
        for b in range(5):
            xi = x.clone().requires_grad_(True)
            (g,) = torch.autograd.grad(D(xi)[s, b], xi)
            want[s] += g[s, b].pow(2).sum() / 5
    assert torch.allclose(got, 2.0 / 2 * want, rtol=1e-4)


def test_dcgan_needs_an_image_dataset_and_a_power_of_two_side():
    ring = datasets.build("ring8")
    with pytest.raises(InputError, match="need an image dataset"):
        build_model(generators, "dcgan", "variants.v.generator", ring, gens(0))
    with pytest.raises(InputError, match="4·2\\^k"):
        build_model(generators, "dcgan", "g", Images((1, 12, 12)), gens(0))


def norms_of(D):
    from ganbench.models.dcgan import StackedBatchNorm, StackedGroupNorm
    return [type(m).__name__ for m in D.net if isinstance(m, (StackedBatchNorm, StackedGroupNorm))]


def test_discriminator_norm_auto_is_batch_norm_unless_a_gradient_penalty():
    ds = Images((1, 32, 32))                                   # 3 convolutions
    D = build_model(discriminators, {"name": "dcgan", "width": 4}, "d", ds, gens(0))
    assert D.norm == "batch" and norms_of(D) == ["StackedBatchNorm"] * 2   # all but the first
    D = build_model(discriminators, {"name": "dcgan", "width": 4}, "d", ds, gens(0), per_sample=True)
    assert D.norm == "none" and norms_of(D) == []
    for norm in ("layer", "instance"):
        D = build_model(discriminators, {"name": "dcgan", "width": 4, "norm": norm}, "d", ds,
                        gens(0), per_sample=True)
        assert D.norm == norm and norms_of(D) == ["StackedGroupNorm"] * 2


def test_batch_norm_with_a_gradient_penalty_is_one_line_input_error():
    from ganbench.config.schema import run_config
    from ganbench.harness.build import build_parts
    cfg = run_config(objective="nonsaturating", regularizers=[{"name": "r1", "weight": 1.0}],
                     generator={"name": "dcgan", "width": 4}, update="alternating",
                     discriminator={"name": "dcgan", "width": 4, "norm": "batch"},
                     optimizer={"name": "adam"}, batch_size=8, n_eval=8, steps=2)
    g = gens(0)
    digits = datasets.build({"name": "digits", "resolution": 16})
    with pytest.raises(InputError) as e:
        build_parts(digits, cfg, g, g, path="variants.r1.")
    msg = str(e.value)
    assert msg.startswith("variants.r1.discriminator") and "\n" not in msg
    assert "norm: batch" in msg and "norm: none, layer or instance" in msg
    # wgan_gp's own penalty counts too; auto then picks no normalisation
    parts = build_parts(digits, cfg.replace(regularizers=[], objective={"name": "wgan_gp", "gp_weight": 10.0},
                                            discriminator={"name": "dcgan", "width": 4}), g, g)
    assert parts.players.D.norm == "none" and not parts.players.game.split_batches
    parts = build_parts(digits, cfg.replace(regularizers=[], discriminator={"name": "dcgan", "width": 4}),
                        g, g)
    assert parts.players.D.norm == "batch" and parts.players.game.split_batches   # real and fake apart


@pytest.mark.parametrize("norm,per_sample", [("none", True), ("layer", True), ("instance", True),
                                             ("batch", False)])
def test_which_norms_keep_each_sample_on_its_own(norm, per_sample):
    ds = Images((1, 16, 16))
    D = build_model(discriminators, {"name": "dcgan", "width": 4, "norm": norm}, "d", ds, gens(0, 1))
    x = torch.randn(2, 6, ds.dim)
    y = x.clone()
    y[:, 1:] = torch.randn(2, 5, ds.dim)                     # change every other sample
    same = torch.allclose(D(x)[:, 0], D(y)[:, 0], atol=1e-6)
    assert same == per_sample
    from ganbench.models import mixes_samples
    assert mixes_samples(D) == (not per_sample)


def test_layer_and_instance_norm_by_hand():
    from ganbench.models.dcgan import StackedGroupNorm
    S, C, B = 2, 3, 4
    x = torch.randn(B, S * C, 5, 5)
    for per_channel, dims in ((False, (2, 3, 4)), (True, (3, 4))):
        norm = StackedGroupNorm(C, gens(0, 1), per_channel)
        v = x.reshape(B, S, C, 5, 5)
        want = (v - v.mean(dims, keepdim=True)) / (v.var(dims, unbiased=False, keepdim=True) + 1e-5).sqrt()
        want = want * norm.weight.detach()[None, :, :, None, None]
        assert torch.allclose(norm(x), want.reshape(B, S * C, 5, 5), atol=1e-5)


def test_split_batches_judge_real_and_fake_apart():
    """With batch norm in D the D step sees the real batch and the generated batch in two
    forwards (each with its own statistics), as the G step sees the generated one."""
    from ganbench.game import Game
    from ganbench.objectives import objectives
    ds = Images((1, 16, 16))
    D = build_model(discriminators, {"name": "dcgan", "width": 4}, "d", ds, gens(0, 1))
    real, fake = torch.randn(2, 8, ds.dim), torch.randn(2, 8, ds.dim) + 1
    apart = Game(objectives.build("nonsaturating"), split_batches=True).d_loss(D, real, fake)
    assert torch.equal(apart.on_real, D(real)) and torch.equal(apart.on_fake, D(fake))
    joint = Game(objectives.build("nonsaturating")).d_loss(D, real, fake)
    assert not torch.allclose(joint.on_real, D(real))        # one batch: mixed statistics


def test_spectral_norm_alone_by_default():
    ds = Images((1, 16, 16))
    D = build_model(discriminators, {"name": "dcgan", "width": 4, "spectral_norm": True}, "d",
                    ds, gens(0))
    assert D.norm == "none"
    D = build_model(discriminators, {"name": "dcgan", "width": 4, "spectral_norm": True,
                                     "norm": "batch"}, "d", ds, gens(0))
    assert D.norm == "batch"
