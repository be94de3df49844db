"""Each loss against a hand computation on fixed D outputs."""
import math

import pytest
import torch

from ganbench import objectives as O

r = torch.tensor([2.0, -1.0, 0.5])   # D(x_real), logits / raw outputs
f = torch.tensor([-3.0, 0.0, 1.0])   # D(G(z))


def sig(x):
    return 1 / (1 + math.exp(-x))


def mean(xs):
    return sum(xs) / len(xs)


def test_minimax_d_loss_is_cross_entropy():
    want = mean([-math.log(sig(a)) for a in r.tolist()]) + mean([-math.log(1 - sig(b)) for b in f.tolist()])
    assert O.minimax_d_loss(r, f).item() == pytest.approx(want, rel=1e-6)


def test_minimax_g_loss_is_saturating_log_one_minus_d():
    want = mean([math.log(1 - sig(b)) for b in f.tolist()])
    assert O.minimax_g_loss(f).item() == pytest.approx(want, rel=1e-6)
    obj = O.objectives.build("minimax")
    assert obj.g_loss is O.minimax_g_loss  # not silently replaced by the non-saturating one


def test_minimax_generator_gradient_vanishes_when_d_is_confident():
    # d/df log(1 - σ(f)) = -σ(f) -> 0 as σ(f) -> 0; the non-saturating one -> -1
    f0 = torch.tensor([-10.0], requires_grad=True)
    (g_sat,) = torch.autograd.grad(O.minimax_g_loss(f0), f0)
    (g_ns,) = torch.autograd.grad(O.nonsaturating_g_loss(f0), f0)
    assert abs(g_sat.item()) == pytest.approx(sig(-10.0), rel=1e-4)
    assert g_ns.item() == pytest.approx(-(1 - sig(-10.0)), rel=1e-4)


def test_nonsaturating_g_loss():
    want = mean([-math.log(sig(b)) for b in f.tolist()])
    assert O.nonsaturating_g_loss(f).item() == pytest.approx(want, rel=1e-6)


def test_value_at_d_half_is_minus_log4():
    # At D = 1/2 everywhere (logit 0), V = E log D + E log(1-D) = -log 4, so D's loss is log 4.
    z = torch.zeros(5)
    assert O.minimax_d_loss(z, z).item() == pytest.approx(math.log(4), rel=1e-6)


def test_lsgan():
    want = 0.5 * mean([(a - 1) ** 2 for a in r.tolist()]) + 0.5 * mean([b**2 for b in f.tolist()])
    assert O.lsgan_d_loss(r, f).item() == pytest.approx(want)
    assert O.lsgan_g_loss(f).item() == pytest.approx(0.5 * mean([(b - 1) ** 2 for b in f.tolist()]))


def test_wgan_and_hinge():
    assert O.wgan_d_loss(r, f).item() == pytest.approx(mean(f.tolist()) - mean(r.tolist()))
    assert O.wgan_g_loss(f).item() == pytest.approx(-mean(f.tolist()))
    want = mean([max(0, 1 - a) for a in r.tolist()]) + mean([max(0, 1 + b) for b in f.tolist()])
    assert O.hinge_d_loss(r, f).item() == pytest.approx(want)
    assert O.objectives.build("hinge").g_loss(f).item() == pytest.approx(-mean(f.tolist()))


def test_losses_reduce_over_the_last_dim_per_seed():
    rs = torch.stack([r, 2 * r])
    fs = torch.stack([f, f])
    out = O.minimax_d_loss(rs, fs)
    assert out.shape == (2,)
    assert out[0].item() == pytest.approx(O.minimax_d_loss(r, f).item())


def test_registry_entries_carry_what_they_imply():
    assert O.objectives.build({"name": "wgan", "clip": 0.05}).weight_clip == 0.05
    wgp = O.objectives.build({"name": "wgan_gp", "gp_weight": 5})
    assert [(p.name, p.weight) for p in wgp.penalties] == [("gp", 5.0)]
    assert O.objectives.build("nonsaturating").d_output is O.DOutput.LOGIT
    assert O.objectives.build("lsgan").d_output is O.DOutput.CRITIC


def test_relativistic_losses_by_hand():
    from ganbench.objectives import objectives
    import math
    obj = objectives.build("relativistic")
    r, f = torch.tensor([[1.0, 3.0]]), torch.tensor([[0.0, -2.0]])   # E r = 2, E f = -1
    sp = lambda t: math.log1p(math.exp(t))  # noqa: E731  softplus
    # D: -E log σ(r - E f) - E log(1 - σ(f - E r))
    want_d = (sp(-(1 + 1)) + sp(-(3 + 1))) / 2 + (sp(0 - 2) + sp(-2 - 2)) / 2
    # G: -E log σ(f - E r) - E log(1 - σ(r - E f))
    want_g = (sp(-(0 - 2)) + sp(-(-2 - 2))) / 2 + (sp(1 + 1) + sp(3 + 1)) / 2
    assert obj.d_loss(r, f).item() == pytest.approx(want_d)
    assert obj.generator_loss(f, r).item() == pytest.approx(want_g)
    assert obj.g_needs_real and obj.d_output is O.DOutput.CRITIC


def test_what_d_outputs_is_one_word():
    """DOutput: a logit (σ(D) the probability), the probability, or a critic's score; an
    objective says which, and only the logit is squashed to a probability."""
    D = O.DOutput
    assert [d.models_probability for d in D] == [True, True, False]
    assert D.of("critic") is D.CRITIC and D.of(O.objectives.build("hinge")) is D.CRITIC
    assert D.of(O.objectives.build("minimax")) is D.LOGIT and f"{D.LOGIT}" == "logit"
    x = torch.tensor([-2.0, 0.0, 3.0])
    torch.testing.assert_close(D.LOGIT.as_probability(x), torch.sigmoid(x))
    assert D.PROBABILITY.as_probability(x) is x and D.CRITIC.as_probability(x) is x
    assert O.Objective(O.minimax_d_loss, O.nonsaturating_g_loss, "probability").d_output is \
        D.PROBABILITY
    with pytest.raises(ValueError):
        O.Objective(O.minimax_d_loss, O.nonsaturating_g_loss, "odds")
