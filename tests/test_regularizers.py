"""Penalties against hand computations with a fixed D whose input gradient is known."""
import pytest
import torch

from ganbench.regularizers import interpolate, regularizers

# D(x) = a · x on (S, B, *F) inputs, so ∇ₓD = a for every sample.
A = torch.tensor([[1.0, 2.0], [3.0, -1.0]])   # per seed: S=2, F=(2,)


def linear_d(x):
    return (x * A[:, None, :]).sum(-1)


def quad_d(x):  # D(x) = ½‖x‖², ∇ₓD = x, over all feature dims (S, B, C, H, W)
    return 0.5 * x.pow(2).flatten(2).sum(-1)


x_real = torch.randn(2, 4, 2)
x_fake = torch.randn(2, 4, 2)


def test_r1_is_half_gamma_mean_squared_grad_norm_per_seed():
    r1 = regularizers.build({"name": "r1", "weight": 10.0})
    got = r1(linear_d, x_real, x_fake)
    want = 10.0 / 2 * (A**2).sum(1)           # ‖a‖² per seed: [5, 10]
    assert torch.allclose(got, want)


def test_r1_norm_over_all_feature_dims_of_images():
    x = torch.randn(1, 3, 2, 4, 4)
    got = regularizers.build({"name": "r1", "weight": 1.0})(quad_d, x, x)
    want = 0.5 * x.pow(2).sum((2, 3, 4)).mean(1)   # per-sample ‖x‖² over C×H×W, mean over batch
    assert torch.allclose(got, want)


def test_r2_uses_fake_samples():
    xf = torch.randn(1, 5, 3)
    got = regularizers.build({"name": "r2", "weight": 2.0})(quad_d, torch.zeros(1, 5, 3), xf)
    assert torch.allclose(got, (xf.pow(2).sum(-1)).mean(1))


def test_gp_is_lambda_mean_sq_norm_minus_one():
    gp = regularizers.build({"name": "gp", "weight": 10.0})
    got = gp(linear_d, x_real, x_fake)
    norms = A.norm(dim=1)                      # gradient constant: ‖a‖ per seed
    assert torch.allclose(got, 10.0 * (norms - 1) ** 2)


def test_gp_on_quadratic_uses_interpolates():
    g = torch.Generator().manual_seed(3)
    xr, xf = torch.randn(1, 6, 2), torch.randn(1, 6, 2)
    got = regularizers.build({"name": "gp", "weight": 1.0})(quad_d, xr, xf, g)
    x_hat = interpolate(xr, xf, torch.Generator().manual_seed(3))
    want = ((x_hat.norm(dim=-1) - 1) ** 2).mean(1)
    assert torch.allclose(got, want, atol=1e-6)


def test_interpolation_weight_is_per_sample_not_per_feature():
    xr, xf = torch.ones(2, 50, 3, 4, 4), torch.zeros(2, 50, 3, 4, 4)
    x_hat = interpolate(xr, xf, torch.Generator().manual_seed(0))
    per_sample = x_hat.flatten(2)
    assert torch.allclose(per_sample, per_sample[..., :1].expand_as(per_sample))
    assert per_sample[..., 0].std() > 0.1     # but it varies between samples


def test_per_seed_generators_give_per_seed_streams():
    gens = [torch.Generator().manual_seed(1), torch.Generator().manual_seed(1)]
    x_hat = interpolate(torch.ones(2, 8, 2), torch.zeros(2, 8, 2), gens)
    assert torch.equal(x_hat[0], x_hat[1])


def test_negative_weight_is_rejected():
    from ganbench.errors import InputError
    with pytest.raises(InputError, match="weight must be non-negative"):
        regularizers.build({"name": "r1", "weight": -1}, "variants.x.regularizers[0]")


def test_dragan_is_lambda_times_squared_norm_gap_for_a_linear_d():
    got = regularizers.build({"name": "dragan", "weight": 10.0})(linear_d, x_real, x_fake)
    want = 10.0 * ((A**2).sum(1).sqrt() - 1) ** 2
    assert torch.allclose(got, want)


def test_dragan_points_lie_between_x_and_x_plus_c_std():
    from ganbench.regularizers import dragan_points
    x = torch.randn(2, 500, 3)
    pts = dragan_points(x, 0.5, [torch.Generator().manual_seed(s) for s in range(2)])
    std = x.flatten(1).std(1)[:, None, None]
    delta = pts - x
    assert (delta >= -1e-6).all() and (delta <= 0.5 * std + 1e-6).all()
    assert delta.mean().item() == pytest.approx(0.5 * std.mean().item() / 4, rel=0.15)  # E[αu] = ¼


def test_instance_noise_adds_sigma_times_the_seeds_own_normal_draws():
    reg = regularizers.build({"name": "instance_noise", "sigma": 0.3})
    x = torch.randn(2, 5, 2)
    got = reg.perturb(x, [torch.Generator().manual_seed(s) for s in (4, 9)])
    want = x + 0.3 * torch.stack([torch.randn(5, 2, generator=torch.Generator().manual_seed(s))
                                  for s in (4, 9)])
    assert torch.allclose(got, want)
    assert reg.fn is None and reg.consensus == 0


def test_annealed_instance_noise_shrinks_linearly_to_zero():
    reg = regularizers.build({"name": "instance_noise", "sigma": 2.0, "anneal": True})
    x = torch.zeros(1, 20000, 1)
    assert reg.perturb(x, None, 0.75).std().item() == pytest.approx(0.5, rel=0.03)
    assert torch.equal(reg.perturb(x, None, 1.0), x)
