"""Update schemes and the Dirac-GAN against hand computations.

Dirac-GAN with the WGAN loss (no clipping in effect): L_D = ψθ - ψ·0 = ψθ and
L_G = -ψθ, so ∂L_D/∂ψ = θ and ∂L_G/∂θ = -ψ. From (θ, ψ) = (1, 1) with SGD step h:
simultaneous: θ = 1 + h, ψ = 1 - h; alternating D first: ψ = 1 - h, then θ = 1 + h(1 - h);
G first: θ = 1 + h, then ψ = 1 - h(1 + h).
"""
import math

import pytest
import torch

from ganbench.game import Game, gradient_field
from ganbench.objectives import objectives
from ganbench.regularizers import regularizers
from ganbench.config.schema import run_config
from ganbench.harness.loop import Loop
from ganbench.updates import updates

H = 0.1


def dirac_config(**over):
    cfg = dict(steps=1, batch_size=8, eval_every=1, n_eval=8, n_critic=1, min_hq=1,
               generator={"name": "dirac", "theta0": 1.0},
               discriminator={"name": "linear", "psi0": 1.0},
               optimizer={"name": "sgd", "lr": H}, objective={"name": "wgan", "clip": 100.0},
               regularizers=[], update="alternating")
    cfg.update(over)
    return run_config(**cfg)


def after_one_step(**over):
    res = Loop({"name": "dirac"}, dirac_config(**over), [0]).run()[0]
    return res.history.theta.iloc[0], res.history.psi.iloc[0]


@pytest.mark.parametrize("update,want", [
    ("simultaneous", (1 + H, 1 - H)),
    ("alternating", (1 + H * (1 - H), 1 - H)),
    ({"name": "alternating", "order": "g_first"}, (1 + H, 1 - H * (1 + H))),
])
def test_one_step_of_each_scheme_matches_the_hand_computation(update, want):
    assert after_one_step(update=update) == pytest.approx(want, abs=1e-6)


def test_n_critic_takes_that_many_d_steps_before_g():
    theta, psi = after_one_step(n_critic=3)
    # ψ: 1 - 3hθ with θ = 1 throughout the D steps; then θ = 1 + hψ
    assert psi == pytest.approx(1 - 3 * H)
    assert theta == pytest.approx(1 + H * (1 - 3 * H))


def test_dist_eq_is_logged_and_is_the_distance_to_zero():
    res = Loop({"name": "dirac"}, dirac_config(steps=5, eval_every=5), [0]).run()[0]
    h = res.history
    assert (h.dist_eq - (h.theta**2 + h.psi**2) ** 0.5).abs().max() < 1e-6


def field_at(theta, psi, objective, regs=()):
    game = Game(objectives.build(objective), [regularizers.build(r) for r in regs])
    th = torch.tensor([[theta]], requires_grad=True)
    ps = torch.tensor([[psi]], requires_grad=True)
    real, z = torch.zeros(1, 4, 1), torch.zeros(1, 4, 1)
    g = lambda z: th[:, None, :].expand(-1, z.shape[1], -1)  # noqa: E731
    d = lambda x: (x * ps[:, None, :]).sum(-1)                 # noqa: E731
    fld = gradient_field(game, g, d, [th], [ps], real, z)
    return fld.g_grads[0].item(), fld.d_grads[0].item()


def test_consensus_adds_gamma_times_the_gradient_of_half_the_squared_field():
    # WGAN: v = (∂L_G/∂θ, ∂L_D/∂ψ) = (-ψ, θ), ½‖v‖² = ½(θ² + ψ²): +γθ for G, +γψ for D
    theta, psi, gamma = 0.3, -0.2, 0.7
    g, d = field_at(theta, psi, {"name": "wgan", "clip": 100.0}, [{"name": "consensus", "weight": gamma}])
    assert (g, d) == pytest.approx((-psi + gamma * theta, theta + gamma * psi))


def test_without_consensus_the_field_is_the_plain_gradients():
    g, d = field_at(0.3, -0.2, {"name": "wgan", "clip": 100.0})
    assert (g, d) == pytest.approx((0.2, 0.3))


def eig(objective, regs=(), batch=8):
    cfg = dirac_config(objective=objective, regularizers=list(regs), batch_size=batch)
    return Loop({"name": "dirac"}, cfg, [0, 1]).run()[0].metrics["eig_max_real"]


@pytest.mark.parametrize("gamma", [0.2, 1.0])
def test_eigenvalues_at_the_equilibrium_match_the_closed_forms(gamma):
    # f(t) = -softplus(-t): f'(0) = ½. Unregularized: J = [[0, -½], [½, 0]], λ = ±i/2.
    assert eig("nonsaturating") == pytest.approx(0.0, abs=1e-9)
    # R1 (γ): λ = -γ/2 ± sqrt(γ²/4 - ¼): real part -γ/2 for γ <= 1
    assert eig("nonsaturating", [{"name": "r1", "weight": gamma}]) == pytest.approx(-gamma / 2)
    # consensus (γ): J - γJᵀJ = [[-γ/4, -½], [½, -γ/4]]: real part -γ/4
    assert eig("nonsaturating", [{"name": "consensus", "weight": gamma}]) == pytest.approx(-gamma / 4)


def test_instance_noise_eigenvalue_real_part_is_minus_sigma_squared_over_four():
    # J = [[0, -½], [½, -σ²/2]]: λ = -σ²/4 ± sqrt(σ⁴/16 - ¼) (complex for σ < √2);
    # the Jacobian's batch of 4096 noise draws gives about 2% precision
    got = eig("nonsaturating", [{"name": "instance_noise", "sigma": 1.0}])
    assert got == pytest.approx(-0.25, rel=0.05)


def test_simultaneous_unregularized_spirals_out_and_r1_converges():
    def run(update, regs=()):
        cfg = dirac_config(steps=1500, eval_every=500, objective="minimax", update=update,
                           regularizers=list(regs))
        return Loop({"name": "dirac"}, cfg, [0]).run()[0].metrics["verdict"]
    assert run("simultaneous") == "diverged"
    assert run("alternating") == "oscillating"
    assert run("simultaneous", [{"name": "r1", "weight": 1.0}]) == "converged"


def test_update_registry_rejects_bad_settings():
    with pytest.raises(Exception, match="order must be"):
        updates.build({"name": "alternating", "order": "sideways"})
    with pytest.raises(Exception, match="k must be"):
        updates.build({"name": "unrolled", "k": 0})


# --- unrolled ---------------------------------------------------------------------

def unrolled_g_grad(k, second_order, lr=0.05, theta=0.4, psi=0.3):
    cfg = dirac_config(optimizer={"name": "sgd", "lr": lr},
                       update={"name": "unrolled", "k": k, "second_order": second_order})
    tr = Loop({"name": "dirac"}, cfg, [0])
    with torch.no_grad():
        tr.players.G.theta.fill_(theta)
        tr.players.D.psi.fill_(psi)
    real, fake = torch.zeros(1, 8, 1), tr.players.G(torch.zeros(1, 8, 1))
    d = tr.update.unrolled_d(tr.players, real, fake)
    loss = tr.players.game.g_loss(d, fake, real)
    return torch.autograd.grad(loss.sum(), tr.players.G.theta)[0].item()


def test_unrolled_gradient_goes_through_the_unrolled_d_step():
    # WGAN Dirac, one SGD unroll step: ψ' = ψ - ηθ, L_G = -ψ'θ = -(ψ - ηθ)θ,
    # dL_G/dθ = -ψ + 2ηθ with the second-order term, -ψ + ηθ without it.
    eta, theta, psi = 0.05, 0.4, 0.3
    assert unrolled_g_grad(1, True) == pytest.approx(-psi + 2 * eta * theta)
    assert unrolled_g_grad(1, False) == pytest.approx(-psi + eta * theta)
    # k steps: ψ_k = ψ - kηθ, so dL_G/dθ = -ψ + 2kηθ
    assert unrolled_g_grad(3, True) == pytest.approx(-psi + 2 * 3 * eta * theta)
    assert unrolled_g_grad(3, False) == pytest.approx(-psi + 3 * eta * theta)


@pytest.mark.parametrize("amsgrad", [False, True])
def test_unrolled_adam_steps_match_torch_adam(amsgrad):
    """The unrolled rule's steps are torch Adam's from the same state. With AMSGrad, large
    gradients first then small ones make it divide by the largest second moment so far,
    unlike Adam (before, amsgrad: true was silently unrolled as plain Adam)."""
    from ganbench.updates import unroll_rule
    torch.manual_seed(0)
    p = torch.nn.Parameter(torch.randn(2, 3))
    opt = torch.optim.Adam([p], lr=0.01, betas=(0.5, 0.9), amsgrad=amsgrad)
    for _ in range(3):                       # some optimizer state to start from
        p.grad = 10 * torch.randn(2, 3)
        opt.step()
    rule = unroll_rule(opt, [p])
    grads = [0.1 * torch.randn(2, 3) for _ in range(4)]
    ps = [p.detach().clone()]
    for g in grads:
        ps = rule(ps, [g])
        p.grad = g.clone()
        opt.step()
    assert torch.allclose(ps[0], p.detach(), atol=1e-6)


def test_unrolled_with_consensus_is_refused():
    from ganbench.errors import InputError
    cfg = dirac_config(update={"name": "unrolled"}, regularizers=[{"name": "consensus"}])
    with pytest.raises(InputError, match="unrolled updates cannot be combined"):
        Loop({"name": "dirac"}, cfg, [0])


def test_an_optimizer_that_cannot_be_unrolled_is_bad_input():
    from ganbench.errors import InputError
    cfg = dirac_config(update={"name": "unrolled"}, optimizer={"name": "sgd", "momentum": 0.9})
    with pytest.raises(InputError, match="update: unrolled: SGD with momentum is not supported"):
        Loop({"name": "dirac"}, cfg, [0])


def test_verdict_thresholds():
    from ganbench.metrics.dynamics import verdict
    assert verdict([1.0] * 100) == "oscillating"
    assert verdict([1.0] + [0.01] * 99) == "converged"
    assert verdict([1.0] + [3.0] * 99) == "diverged"
    assert verdict([1.0, math.nan]) == "diverged"
