"""Plain single-seed modules (nn.Linear, nn.Conv2d, nn.BatchNorm2d, ...) trained
seed-stacked by PlainStack: the same numbers as each seed alone, every objective and
regularizer (double backward included), and settings checked like built-in models."""
import copy

import numpy as np
import pytest
import torch
from torch import nn
from torch.func import functional_call

from ganbench.errors import InputError
from ganbench.models import build_model, discriminators, generators
from ganbench.models.plain import PlainStack
# the trainer's entry points (one place, should they move)
from ganbench.config.suite import parse_suite
from ganbench.harness.loop import train_seeds

COLUMNS = ["d_loss", "g_loss", "grad_norm_g"]
DIGITS = {"name": "digits", "resolution": 8}


# --- plain models, written the ordinary way (registered once, at import) ---------------

@generators.register("test_plain_mlp_g")
def mlp_g(data_dim: int, z_dim: int = 4, width: int = 16) -> nn.Module:
    return nn.Sequential(nn.Linear(z_dim, width), nn.ReLU(), nn.Linear(width, width), nn.ReLU(),
                         nn.Linear(width, data_dim))


@discriminators.register("test_plain_mlp_d")
def mlp_d(data_dim: int, width: int = 16) -> nn.Module:
    return nn.Sequential(nn.Linear(data_dim, width), nn.LeakyReLU(0.2), nn.Linear(width, width),
                         nn.LeakyReLU(0.2), nn.Linear(width, 1))


class ConvG(nn.Module):
    """z -> (2w, H/4, W/4) -> two transposed convs with batch norm -> tanh image."""

    def __init__(self, image_shape, z_dim: int, width: int):
        super().__init__()
        C, H, _ = image_shape
        self.z_dim, self.c0, self.h0 = z_dim, 2 * width, H // 4
        self.fc = nn.Linear(z_dim, self.c0 * self.h0 * self.h0)
        self.net = nn.Sequential(
            nn.BatchNorm2d(self.c0), nn.ReLU(),
            nn.ConvTranspose2d(self.c0, width, 4, 2, 1), nn.BatchNorm2d(width), nn.ReLU(),
            nn.ConvTranspose2d(width, C, 4, 2, 1), nn.Tanh())

    def forward(self, z):
        return self.net(self.fc(z).view(-1, self.c0, self.h0, self.h0))


@generators.register("test_plain_conv_g")
def conv_g(image_shape, width: int = 4) -> nn.Module:
    return ConvG(image_shape, z_dim=8, width=width)          # z_dim from the module


@discriminators.register("test_plain_conv_d")
def conv_d(image_shape, width: int = 4) -> nn.Module:
    C, H, W = image_shape
    return nn.Sequential(
        nn.Conv2d(C, width, 4, 2, 1), nn.LeakyReLU(0.2),
        nn.Conv2d(width, 2 * width, 4, 2, 1), nn.BatchNorm2d(2 * width), nn.LeakyReLU(0.2),
        nn.Flatten(), nn.Linear(2 * width * (H // 4) * (W // 4), 1))


@generators.register("test_plain_no_z_dim")
def no_z_dim(data_dim: int) -> nn.Module:
    return nn.Linear(3, data_dim)


@generators.register("test_plain_wrong_size")
def wrong_size(z_dim: int = 3) -> nn.Module:
    return nn.Linear(z_dim, 5)


@discriminators.register("test_plain_dropout")
def dropout_d(data_dim: int) -> nn.Module:
    return nn.Sequential(nn.Linear(data_dim, 8), nn.Dropout(0.5), nn.Linear(8, 1))


@discriminators.register("test_plain_spectral_norm")
def spectral_norm_d(data_dim: int) -> nn.Module:
    return nn.utils.parametrizations.spectral_norm(nn.Linear(data_dim, 1))


@discriminators.register("test_plain_packed")
def packed_d(image_shape, packing: int = 2) -> nn.Module:
    C, H, W = image_shape
    d = nn.Sequential(nn.Conv2d(C * packing, 4, 3, 1, 1), nn.Flatten(), nn.Linear(4 * H * W, 1))
    d.packing = packing
    return d


MLP = {"generator": {"name": "test_plain_mlp_g"}, "discriminator": {"name": "test_plain_mlp_d"}}
CONV = {"generator": {"name": "test_plain_conv_g"}, "discriminator": {"name": "test_plain_conv_d"}}


def spec(dataset, models, steps=30, **settings):
    """A one-run suite's resolved spec (dataset_spec() and config feed train_seeds)."""
    raw = {"datasets": [dataset],
           "defaults": {**models, "optimizer": {"name": "adam", "lr": 0.001}, "batch_size": 16,
                        "n_eval": 100, "steps": steps, "eval_every": steps},
           "variants": {"v": settings}}
    return parse_suite(raw).specs[0]


def gens(*seeds):
    return [torch.Generator().manual_seed(s) for s in seeds]


class Points:
    dim, image_shape = 2, None


class Images:
    def __init__(self, shape):
        self.image_shape, self.dim = shape, int(np.prod(shape))


# --- stacked seeds train as each seed alone ---------------------------------------

@pytest.mark.parametrize("dataset, models, settings", [
    ("ring8", MLP, {"objective": "nonsaturating"}),
    ("ring8", MLP, {"objective": "nonsaturating", "regularizers": [{"name": "r1", "weight": 1.0}]}),
    (DIGITS, CONV, {"objective": "nonsaturating"}),
], ids=["mlp", "mlp_r1", "conv_batchnorm"])
def test_stacked_seeds_equal_seeds_trained_alone(dataset, models, settings):
    """Equal up to float rounding: vmapped matmuls may round differently for S = 1 and
    S = 2 (last bit). Not compared on wgan/hinge: there the gradient of D's output bias is
    exactly 0 in exact arithmetic and Adam scales its rounding noise up to lr-sized steps."""
    s = spec(dataset, models, steps=30, **settings)
    together, _ = train_seeds(s.dataset_spec(), s.config, [3, 7])
    assert [r.status for r in together] == ["ok", "ok"], together[0].error
    for k, seed in enumerate([3, 7]):
        (alone,), _ = train_seeds(s.dataset_spec(), s.config, [seed])
        a, b = together[k].history[COLUMNS].to_numpy(), alone.history[COLUMNS].to_numpy()
        assert a.shape == (30, 3)
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-6)
    assert not np.allclose(together[0].history[COLUMNS], together[1].history[COLUMNS])


# --- every objective, regularizer and update scheme --------------------------------

def trains(dataset, models, **settings):
    s = spec(dataset, models, steps=3, **settings)
    res, _ = train_seeds(s.dataset_spec(), s.config, [0, 1])
    for r in res:
        assert r.status == "ok", r.error
        assert np.isfinite(r.history[["d_loss", "d_penalty", "g_loss", "grad_norm_g"]]).all().all()
    return res


@pytest.mark.parametrize("objective", ["minimax", "nonsaturating", "lsgan", "wgan", "wgan_gp",
                                       "hinge", "relativistic"])
def test_every_objective_trains(objective):
    trains("ring8", MLP, objective=objective)


@pytest.mark.parametrize("reg", ["r1", "r2", "gp", "dragan", "instance_noise", "consensus"])
def test_every_regularizer_trains(reg):
    res = trains("ring8", MLP, objective="hinge", regularizers=[{"name": reg}])
    if reg in ("r1", "r2", "gp", "dragan"):
        assert (res[0].history.d_penalty > 0).all()


@pytest.mark.parametrize("settings", [
    {"regularizers": [{"name": "r1"}]},                       # double backward through batch norm
    {"objective": "wgan_gp"},
], ids=["r1", "wgan_gp"])
def test_gradient_penalties_through_conv_and_batch_norm(settings):
    trains(DIGITS, CONV, **settings)


@pytest.mark.parametrize("settings", [
    {"update": "simultaneous"},
    {"update": {"name": "unrolled", "k": 2}, "regularizers": [{"name": "r1"}]},
    {"objective": {"name": "wgan", "clip": 0.01}},
    {"checkpoint_probes": [{"name": "vanishing", "at": [2], "d_steps": 2}]},
], ids=["simultaneous", "unrolled_r1", "wgan_clip", "vanishing_probe"])
def test_update_schemes_and_probes(settings):
    trains("ring8", MLP, **settings)


# --- the adapter -------------------------------------------------------------------

def test_parameters_are_seed_stacked_under_the_modules_names():
    G = build_model(generators, {"name": "test_plain_mlp_g", "width": 8}, "g", Points(), gens(0, 1, 2))
    assert isinstance(G, PlainStack) and G.z_dim == 4
    names = [n for n, _ in G.named_parameters()]
    assert names[:2] == ["module.0.weight", "module.0.bias"]
    assert G.module[0].weight.shape == (3, 8, 4)
    assert all(p.shape[0] == 3 and isinstance(p, nn.Parameter) for p in G.parameters())
    assert G(torch.randn(3, 5, 4)).shape == (3, 5, 2)


def test_seed_gets_the_same_init_alone_or_stacked_and_global_rng_is_untouched():
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    G3 = build_model(generators, {"name": "test_plain_mlp_g"}, "g", Points(), gens(0, 1, 2))
    assert torch.equal(torch.rand(3), expected)
    G1 = build_model(generators, {"name": "test_plain_mlp_g"}, "g", Points(), gens(1))
    for p3, p1 in zip(G3.parameters(), G1.parameters()):
        assert torch.equal(p3[1], p1[0])
    assert not torch.equal(G3.module[0].weight[0], G3.module[0].weight[1])


def test_image_discriminator_sees_images_and_matches_its_unstacked_seed():
    ds = Images((1, 8, 8))
    D = build_model(discriminators, {"name": "test_plain_conv_d"}, "d", ds, gens(0, 1))
    G = build_model(generators, {"name": "test_plain_conv_g"}, "g", ds, gens(2, 3))
    assert G.z_dim == 8 and G.eval_chunk == 500           # batch norm: evaluated in chunks
    x = G(torch.randn(2, 6, 8))
    assert x.shape == (2, 6, 64)
    out = D(x)
    assert out.shape == (2, 6)
    one = D.unstack(1)
    assert isinstance(one, nn.Sequential) and one[0].weight.shape == (4, 1, 4, 4)
    assert torch.allclose(one(x[1].reshape(6, 1, 8, 8)).squeeze(1), out[1], atol=1e-6)
    assert D.module[0].weight.shape == (2, 4, 1, 4, 4)    # unstacking copied, left D alone


def test_functional_call_no_grad_deepcopy_and_double_backward():
    D = build_model(discriminators, {"name": "test_plain_mlp_d"}, "d", Points(), gens(0, 1))
    x = torch.randn(2, 7, 2, requires_grad=True)
    doubled = {n: 2 * p for n, p in D.named_parameters()}
    assert not torch.allclose(functional_call(D, doubled, (x,)), D(x))
    same = {n: p.clone() for n, p in D.named_parameters()}
    assert torch.allclose(functional_call(D, same, (x,)), D(x))
    with torch.no_grad():
        assert not D(x).requires_grad
    assert torch.equal(copy.deepcopy(D)(x), D(x))
    (g,) = torch.autograd.grad(D(x).sum(), x, create_graph=True)
    g.pow(2).sum().backward()
    w = D.module[0].weight.grad
    assert w is not None and w.shape == (2, 16, 2) and w.flatten(1).norm(dim=1).min() > 0


def test_packing_discriminator_sees_packs_of_images():
    ds = Images((1, 8, 8))
    D = build_model(discriminators, {"name": "test_plain_packed"}, "d", ds, gens(0))
    assert D.packing == 2
    from ganbench.game import pack
    assert D(pack(torch.randn(1, 6, 64), 2)).shape == (1, 3)


# --- errors ------------------------------------------------------------------------

def test_misspelled_setting_names_the_field():
    with pytest.raises(InputError, match=r"variants\.v\.generator\.widht: unknown setting.*'width'"):
        spec("ring8", MLP, generator={"name": "test_plain_mlp_g", "widht": 8})
    with pytest.raises(InputError, match=r"discriminator\.data_dim: unknown setting"):
        build_model(discriminators, {"name": "test_plain_mlp_d", "data_dim": 3}, "discriminator",
                    Points(), gens(0))


def test_generator_without_z_dim_is_an_error():
    with pytest.raises(InputError, match=r"^g: generator 'test_plain_no_z_dim': .*z_dim"):
        build_model(generators, "test_plain_no_z_dim", "g", Points(), gens(0))


def test_wrong_output_size_and_ops_vmap_cannot_run_are_errors_when_built():
    with pytest.raises(InputError, match=r"^g: generator 'test_plain_wrong_size': .*5 values per "
                                         r"sample.*have 2"):
        build_model(generators, "test_plain_wrong_size", "g", Points(), gens(0))
    with pytest.raises(InputError, match=r"^d: .*random numbers in forward"):
        build_model(discriminators, "test_plain_dropout", "d", Points(), gens(0))
    with pytest.raises(InputError, match=r"^d: .*spectral_norm"):
        build_model(discriminators, "test_plain_spectral_norm", "d", Points(), gens(0))
