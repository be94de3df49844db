import numpy as np
import pytest
import torch

from ganbench.config.suite import parse_suite
from ganbench.harness.loop import Loop, train_seeds

SMALL = {"generator": {"name": "mlp", "width": 16, "depth": 2, "z_dim": 4},
         "discriminator": {"name": "mlp", "width": 16, "depth": 2},
         "optimizer": {"name": "adam", "lr": 0.001}, "batch_size": 32, "n_eval": 300}


def config(steps=40, eval_every=20, **kw):
    raw = {"datasets": ["ring8"], "defaults": SMALL,
           "variants": {"v": {"steps": steps, "eval_every": eval_every, **kw}}}
    return parse_suite(raw).specs[0].config


@pytest.mark.parametrize("variant", [
    {"objective": "nonsaturating"},
    {"objective": "wgan_gp", "n_critic": 2},
    {"objective": "minimax", "regularizers": [{"name": "r1", "weight": 1.0}]},
])
def test_seeds_stacked_equal_seeds_trained_alone(variant):
    cfg = config(steps=8, eval_every=8, **variant)
    together = Loop({"name": "ring8"}, cfg, [3, 7]).run()
    for k, seed in enumerate([3, 7]):
        alone = Loop({"name": "ring8"}, cfg, [seed]).run()[0]
        a = together[k].history[["d_loss", "g_loss", "grad_norm_g"]].to_numpy()
        b = alone.history[["d_loss", "g_loss", "grad_norm_g"]].to_numpy()
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-6)


def test_same_seed_same_metrics_and_different_seed_differs():
    cfg = config()
    a, _ = train_seeds({"name": "ring8"}, cfg, [0])
    b, _ = train_seeds({"name": "ring8"}, cfg, [0])
    c, _ = train_seeds({"name": "ring8"}, cfg, [1])
    assert repr(a[0].metrics) == repr(b[0].metrics)   # exact, NaN included
    assert a[0].metrics["fd"] != c[0].metrics["fd"]


def test_history_and_metrics_of_a_run():
    (res,), _ = train_seeds({"name": "ring8"}, config(), [0])
    assert res.status == "ok" and res.steps == 40
    h = res.history
    assert list(h.step) == list(range(1, 41))
    assert h.modes_captured.notna().sum() == 2       # evaluations at 20 and 40
    assert "modes_set" not in h                      # the captured masks are tracks, not text
    for m in ["modes_captured", "hq_fraction", "fd", "grad_norm_g", "grad_vanish_ratio",
              "d_saturation", "nash_gap", "mode_hops", "osc_amplitude"]:
        assert m in res.metrics and np.isfinite(res.metrics[m]), m
    assert "osc_period" in res.metrics          # NaN when the D loss has no significant period
    assert res.fake.shape == (300, 2)


def test_huge_learning_rate_diverges_and_is_recorded():
    cfg = config(steps=60, eval_every=30, objective="lsgan",
                 optimizer={"name": "sgd", "lr": 1e6})
    (res,), _ = train_seeds({"name": "ring8"}, cfg, [0])
    assert res.status == "diverged"
    assert res.diverged_at is not None and res.diverged_at <= 60
    assert set(res.metrics) == {"diagnosis", "evidence"} and res.metrics["diagnosis"] == "diverged"
    assert res.metrics["evidence"].startswith(f"diverged: blew up at step {res.diverged_at}")


def test_one_seed_going_to_nan_marks_only_that_seed():
    cfg = config(steps=20, eval_every=10)
    t = Loop({"name": "ring8"}, cfg, [0, 1])
    with torch.no_grad():
        t.players.G.net[0].weight[1].fill_(float("nan"))
    res = t.run()
    assert [r.status for r in res] == ["ok", "diverged"]
    alone = Loop({"name": "ring8"}, cfg, [0]).run()[0]
    numbers = lambda m: {k: v for k, v in m.items() if k not in ("diagnosis", "evidence")}  # noqa: E731
    assert numbers(res[0].metrics) == pytest.approx(numbers(alone.metrics), rel=1e-4, nan_ok=True)
    assert res[0].metrics["diagnosis"] == alone.metrics["diagnosis"]


def test_an_exception_marks_the_group_failed_with_its_message():
    cfg = config().replace(generator={"name": "mlp", "z_dim": 0})
    res, _ = train_seeds({"name": "ring8"}, cfg, [0, 1])
    assert [r.status for r in res] == ["failed", "failed"]
    assert "z_dim must be >= 1" in res[0].error


def test_wgan_clips_critic_weights():
    cfg = config(steps=5, eval_every=5, objective={"name": "wgan", "clip": 0.01})
    t = Loop({"name": "ring8"}, cfg, [0])
    t.run()
    assert max(p.abs().max().item() for p in t.players.D.parameters()) <= 0.01 + 1e-7


@pytest.mark.parametrize("objective", ["wgan", "wgan_gp"])
def test_consensus_trains_with_a_critic_whose_last_bias_has_no_field_gradient(objective):
    """Under a WGAN loss the field does not depend on the critic's last bias; consensus
    gives it a zero gradient (before, autograd refused the unused parameter)."""
    cfg = config(steps=6, eval_every=6, objective=objective,
                 regularizers=[{"name": "consensus", "weight": 1.0}])
    (res,), _ = train_seeds({"name": "ring8"}, cfg, [0])
    assert res.status == "ok", res.error


def test_a_run_that_raises_mid_training_keeps_the_steps_before_it():
    """A loss that raises in its 25th training step: every seed is failed, with the 24
    steps before it (the last evaluation was at step 20) in its history and its steps."""
    import torch.nn.functional as F
    from ganbench.objectives import DOutput, Objective, minimax_d_loss, objectives
    calls = {"n": 0}

    def g_loss(f):
        if f.shape[-1] == SMALL["batch_size"]:      # training, not the dry pass
            calls["n"] += 1
            if calls["n"] == 25:
                raise RuntimeError("gave up")
        return F.softplus(-f).mean(-1)
    objectives.register("gives_up_at_25", lambda: Objective(minimax_d_loss, g_loss, d_output=DOutput.LOGIT))
    res, _ = train_seeds({"name": "ring8"}, config(objective="gives_up_at_25", eval_every=10), [0, 1])
    assert [r.status for r in res] == ["failed", "failed"] and res[0].error == "RuntimeError: gave up"
    assert res[0].steps == 24
    hist = res[1].history
    assert list(hist.step) == list(range(1, 25)) and hist.d_loss.notna().all()
    assert hist.loc[hist.step == 20, "modes_captured"].notna().all()    # the evaluations kept


def test_a_run_that_fails_before_training_has_no_steps():
    cfg = config().replace(generator={"name": "mlp", "z_dim": 0})
    res, _ = train_seeds({"name": "ring8"}, cfg, [0])
    assert res[0].steps == 0 and res[0].history is None
