"""Learning-rate schedules: the lr at chosen steps (by hand), through torch's LambdaLR,
the per-slice optimizers of wide stacking, a training run, and the suite's checks."""
import math

import pytest
import torch

from ganbench.config.suite import parse_suite
from ganbench.errors import InputError
from ganbench.harness.loop import Loop
from ganbench.harness.stacking import stack_key
from ganbench.optimizers import PerSliceAdam
from ganbench.schedules import scheduler, schedules

SMALL = {"steps": 20, "eval_every": 1, "batch_size": 16, "n_eval": 50,
         "generator": {"name": "mlp", "width": 8, "depth": 1, "z_dim": 2},
         "discriminator": {"name": "mlp", "width": 8, "depth": 1}}


def configs(variants: dict, **defaults) -> list[dict]:
    raw = {"datasets": ["ring8"], "defaults": {**SMALL, **defaults}, "variants": variants}
    return [sp.config for sp in parse_suite(raw).specs]


@pytest.mark.parametrize("spec,lr,want", [
    ("constant", 0.1, {0: 0.1, 50: 0.1, 99: 0.1}),
    # constant for the first 50 steps, then (100 - t) / 50 of lr: 0 at the end
    ({"name": "linear", "fraction": 0.5}, 0.1, {0: 0.1, 49: 0.1, 50: 0.1, 75: 0.05, 99: 0.002, 100: 0.0}),
    ({"name": "linear", "fraction": 1.0}, 1.0, {0: 1.0, 25: 0.75, 100: 0.0}),
    ({"name": "cosine"}, 0.2, {0: 0.2, 50: 0.1, 100: 0.0}),
    ({"name": "cosine", "min_lr": 0.02}, 0.2, {0: 0.2, 50: 0.11, 100: 0.02,
                                               25: 0.02 + 0.18 * (1 + math.cos(math.pi / 4)) / 2}),
])
def test_lr_at_chosen_steps_through_lambdalr(spec, lr, want):
    p = torch.nn.Parameter(torch.zeros(2))
    opt = torch.optim.SGD([p], lr=lr)
    sched = scheduler(opt, spec, steps=100, lr=lr)
    assert (sched is None) == (spec == "constant")
    seen = {}
    for t in range(101):
        seen[t] = opt.param_groups[0]["lr"]            # the lr of step t + 1
        opt.step()
        if sched is not None:
            sched.step()
    for t, v in want.items():
        assert seen[t] == pytest.approx(v, abs=1e-12), t


def test_per_slice_adam_takes_the_schedule_factor_on_each_slice_lr():
    p = torch.nn.Parameter(torch.zeros(2, 3))
    opt = PerSliceAdam([p], {"lr": [0.1, 0.01], "eps": [1e-8] * 2, "weight_decay": [0.0] * 2,
                             "beta1": [0.5] * 2, "beta2": [0.999] * 2})
    sched = scheduler(opt, {"name": "linear", "fraction": 1.0}, steps=4, lr=None)
    moves = []
    for _ in range(4):
        before = p.detach().clone()
        p.grad = torch.ones(2, 3)                       # Adam on a constant gradient: a step of lr
        opt.step()
        sched.step()
        moves.append((before - p.detach())[:, 0])
    for t, m in enumerate(moves):                       # factor (4 - t) / 4 on each slice's lr
        torch.testing.assert_close(m, torch.tensor([0.1, 0.01]) * (4 - t) / 4, rtol=1e-5, atol=1e-9)


def test_a_run_moves_both_learning_rates_once_per_training_step():
    cfg = configs({"a": {"optimizer": {"name": "adam", "lr": 0.01,
                                       "schedule": {"name": "linear", "fraction": 0.5}},
                         "d_optimizer": {"lr": 0.004, "schedule": "cosine"}}}, n_critic=2)[0]
    loop = Loop({"name": "ring8"}, cfg, [0])
    seen = []
    loop.run(lambda step: seen.append((step, loop.players.opt_g.param_groups[0]["lr"],
                                       loop.players.opt_d.param_groups[0]["lr"])))
    for step, g_lr, d_lr in seen:                       # the lr of the next step, step + 1
        assert g_lr == pytest.approx(0.01 * min(1.0, (20 - step) / 10)), step
        assert d_lr == pytest.approx(0.004 * (1 + math.cos(math.pi * step / 20)) / 2), step


def test_schedules_resolve_and_merge_per_network():
    (cfg,) = configs({"a": {"optimizer": {"schedule": {"name": "linear"}},
                            "g_optimizer": {"schedule": {"fraction": 0.2}},
                            "d_optimizer": {"lr": 0.001}}})
    assert cfg.optimizer["schedule"] == {"name": "linear", "fraction": 0.5}
    assert cfg.g_optimizer["schedule"] == {"name": "linear", "fraction": 0.2}
    assert cfg.d_optimizer["schedule"] == {"name": "linear", "fraction": 0.5}
    assert "schedule" not in configs({"a": {}})[0].optimizer     # only where one is given


@pytest.mark.parametrize("schedule,match", [
    ("linaer", r"optimizer\.schedule.*Did you mean 'linear'"),
    ({"name": "linear", "fraction": 0}, r"optimizer\.schedule.*fraction must be in \(0, 1\]"),
    ({"name": "linear", "fraction": 1.5}, "fraction must be in"),
    ({"name": "cosine", "min_lr": 0.5}, r"optimizer\.schedule\.min_lr: 0\.5 is above the optimizer's lr"),
    ({"name": "cosine", "minlr": 0}, r"optimizer\.schedule\.minlr: unknown setting"),
    ({"fraction": 0.5}, r"optimizer\.schedule: missing 'name'"),
    (3, r"optimizer\.schedule: expected a name"),
])
def test_bad_schedules_name_the_field(schedule, match):
    with pytest.raises(InputError, match=match):
        configs({"a": {"optimizer": {"name": "adam", "lr": 0.01, "schedule": schedule}}})


def test_schedules_are_part_of_the_stack_key():
    lin = {"name": "linear", "fraction": 0.5}
    a, b, c, d, e = configs({
        "a": {"optimizer": {"lr": 0.01, "schedule": lin}},
        "b": {"optimizer": {"lr": 0.003, "schedule": lin}},          # other lr: stacks
        "c": {"optimizer": {"lr": 0.01, "schedule": "cosine"}},      # other schedule: does not
        "d": {"optimizer": {"lr": 0.01, "schedule": {"name": "cosine", "min_lr": 0.001}}},
        "e": {"optimizer": {"lr": 0.003, "schedule": {"name": "cosine", "min_lr": 0.001}}}})
    assert stack_key(a) == stack_key(b) != stack_key(c)
    assert stack_key(d) != stack_key(e)        # the factor depends on lr: one lr per stack
    assert set(schedules.names()) == {"constant", "linear", "cosine"}


def test_sweeps_reach_into_schedules_and_ema():
    raw = {"datasets": ["ring8"], "defaults": {**SMALL, "ema": {"decay": 0.9},
                                               "optimizer": {"schedule": {"name": "linear"}}},
           "variants": {"a": {"sweep": {"optimizer.schedule.fraction": [0.2, 0.5],
                                        "ema.decay": [0.9, 0.99], "optimizer.lr": [1e-3, 1e-4]}}}}
    specs = parse_suite(raw).specs
    assert sorted({(s.config.optimizer["schedule"]["name"], s.config.optimizer["schedule"]["fraction"],
                    s.config.ema.decay) for s in specs}) == [
        ("linear", 0.2, 0.9), ("linear", 0.2, 0.99), ("linear", 0.5, 0.9), ("linear", 0.5, 0.99)]
    # decay and lr stack; the schedule's fraction does not
    assert len({stack_key(s.config) for s in specs}) == 2
