"""Wide stacking: runs that differ in optimizer numbers, penalty weights, clip values or
objective train as one stacked model, and every slice equals that run trained alone."""
import numpy as np
import pytest

from ganbench.config.suite import parse_suite
from ganbench.harness.loop import train_seeds
from ganbench.harness.stacking import chunks, stack_key

SMALL = {"steps": 50, "eval_every": 50, "batch_size": 32, "n_eval": 200,
         "generator": {"name": "mlp", "width": 16, "depth": 2, "z_dim": 4},
         "discriminator": {"name": "mlp", "width": 16, "depth": 2},
         "optimizer": {"name": "adam", "lr": 1e-3}}
COLUMNS = ["d_loss", "d_penalty", "g_loss", "grad_norm_g"]
#: under a Wasserstein critic the last bias has an exactly zero gradient in exact
#: arithmetic; its float noise (which depends on how many slices a matmul batches) is
#: scaled up by Adam, so the bias drifts differently alone and stacked. D's loss and
#: both gradients ignore that bias; G's reported loss -E[D(G(z))] shifts with it.
WGAN_COLUMNS = ["d_loss", "d_penalty", "grad_norm_g"]
#: stacked and alone differ in float rounding from the first step (batched reductions
#: sum in another order), and a Wasserstein critic's Adam steps amplify that (wgan_gp,
#: seeds 3 and 4: 1e-8 at step 1, 1e-5 by step 25, 3e-3 by step 45): those runs agree
#: to rounding over their first EXACT_STEPS steps, and to 2% over all 50. Different
#: random numbers would differ by far more from the first step.
EXACT_STEPS = 20


def configs(variants: dict) -> list[dict]:
    raw = {"datasets": ["ring8"], "defaults": SMALL, "variants": variants}
    return [sp.config for sp in parse_suite(raw).specs]


def assert_slices_equal_solo(cfgs: list[dict], seeds: list[int], columns=COLUMNS, data=None):
    """Each slice of ``cfgs`` stacked equals its run alone (``data``: each slice's
    dataset, default ring8 for all)."""
    assert len({stack_key(c) for c in cfgs}) == 1, "these runs should share one stacked model"
    data = data or [{"name": "ring8"}] * len(cfgs)
    stacked, _ = train_seeds(data, cfgs, seeds)
    for i, (cfg, seed, got) in enumerate(zip(cfgs, seeds, stacked)):
        (alone,), _ = train_seeds(data[i], cfg, [seed])
        assert got.status == alone.status == "ok", (got.error, alone.error)
        cols = columns[i] if isinstance(columns[0], list) else columns
        a, b = got.history[cols].to_numpy(), alone.history[cols].to_numpy()
        wgan = cols == WGAN_COLUMNS
        np.testing.assert_allclose(a[:EXACT_STEPS] if wgan else a, b[:EXACT_STEPS] if wgan else b,
                                   rtol=1e-4, atol=1e-6)
        if wgan:
            np.testing.assert_allclose(a, b, rtol=2e-2, atol=1e-3)
        assert set(got.metrics) == set(alone.metrics)
        for m in {"modes_captured", "hq_fraction", "fd", "jsd"} & set(alone.metrics):
            assert got.metrics[m] == pytest.approx(alone.metrics[m], rel=1e-3, abs=1e-6), m
    return stacked


@pytest.mark.parametrize("variants", [
    {"a": {"optimizer": {"lr": 1e-3, "betas": [0.5, 0.999]}},
     "b": {"optimizer": {"lr": 3e-4, "betas": [0.0, 0.9], "eps": 1e-6}},
     "c": {"d_optimizer": {"lr": 2e-3}, "optimizer": {"weight_decay": 1e-4}}},
    {"a": {"optimizer": {"name": "rmsprop", "lr": 1e-3}},
     "b": {"optimizer": {"name": "rmsprop", "lr": 3e-4, "alpha": 0.9, "momentum": 0.5}}},
    {"a": {"optimizer": {"name": "sgd", "lr": 0.05}},
     "b": {"optimizer": {"name": "sgd", "lr": 0.01, "momentum": 0.9}}},
], ids=["adam", "rmsprop", "sgd"])
def test_optimizer_settings_per_slice(variants):
    cfgs = configs(variants)
    assert_slices_equal_solo(cfgs, [0, 1, 2][: len(cfgs)])


def test_penalty_weights_per_slice():
    cfgs = configs({"a": {"regularizers": [{"name": "r1", "weight": 0.1}]},
                    "b": {"regularizers": [{"name": "r1", "weight": 10.0}]}})
    assert_slices_equal_solo(cfgs, [0, 0])
    cfgs = configs({"a": {"objective": {"name": "wgan_gp", "gp_weight": 1.0}},
                    "b": {"objective": {"name": "wgan_gp", "gp_weight": 10.0}}})
    assert_slices_equal_solo(cfgs, [3, 4], WGAN_COLUMNS)


def test_clip_values_per_slice():
    cfgs = configs({"a": {"objective": {"name": "wgan", "clip": 0.01}},
                    "b": {"objective": {"name": "wgan", "clip": 0.1}},
                    "c": {"objective": "hinge"}})
    assert_slices_equal_solo(cfgs, [0, 1, 2], WGAN_COLUMNS)


def test_objectives_per_slice():
    cfgs = configs({v: {"objective": v} for v in ("minimax", "nonsaturating", "lsgan", "hinge")})
    # hinge: while every sample is inside the margin, D's last bias has a zero gradient
    # too (-1 + 1), so G's reported loss drifts with its noise as under WGAN
    assert_slices_equal_solo(cfgs, [0, 1, 2, 3], [COLUMNS] * 3 + [WGAN_COLUMNS])
    stacked, _ = train_seeds({"name": "ring8"}, cfgs, [0, 1, 2, 3])
    # probes follow each slice's objective: nash_gap only where D outputs a probability
    assert ["nash_gap" in r.metrics for r in stacked] == [True, True, False, False]


def test_datasets_of_the_plane_per_slice():
    """ring8, grid25 and spiral in one stack: each slice draws from and is evaluated
    against its own dataset (its modes, density and plane), as when trained apart."""
    data = [{"name": "ring8"}, {"name": "grid25"}, {"name": "grid25", "side": 3},
            {"name": "spiral"}]
    cfgs = configs({"a": {}, "b": {"objective": "lsgan", "optimizer": {"lr": 3e-4}}})
    got = assert_slices_equal_solo(cfgs * 2, [0, 1, 0, 2], data=data)
    assert ["modes_captured" in r.metrics for r in got] == [True, True, True, False]
    # D on the plane framed by each slice's own dataset (grid25 spans ±4, ring8 ±2)
    xs = [r.d_map["xs"] for r in got]
    assert xs[1].max() > 4 > xs[0].max() > 2 and "d_star" in got[1].d_map
    assert "d_star" not in got[3].d_map


def test_what_datasets_stack():
    from ganbench.harness.stacking import data_key
    plane = {data_key({"name": n, "label": n}) for n in ("ring8", "grid25", "spiral", "moons")}
    assert len(plane) == 1
    assert data_key({"name": "ring8", "label": "ring8_wide", "radius": 4}) in plane
    assert data_key({"name": "dirac", "label": "dirac"}) not in plane      # 1-D
    assert data_key({"name": "digits", "label": "a"}) != data_key({"name": "digits", "label": "b"})


def test_a_diverging_slice_is_the_only_one_marked():
    cfgs = configs({"calm": {"optimizer": {"name": "sgd", "lr": 0.01}, "objective": "lsgan"},
                    "wild": {"optimizer": {"name": "sgd", "lr": 1e6}, "objective": "lsgan"}})
    res, _ = train_seeds({"name": "ring8"}, cfgs, [0, 0])
    assert [r.status for r in res] == ["ok", "diverged"]
    (alone,), _ = train_seeds({"name": "ring8"}, cfgs[0], [0])
    np.testing.assert_allclose(res[0].history[COLUMNS].to_numpy(), alone.history[COLUMNS].to_numpy(),
                               rtol=1e-4, atol=1e-6)


def test_what_does_not_stack():
    base = configs({"a": {}})[0]
    other = {
        "width": configs({"a": {"generator": {"width": 32}}})[0],
        "penalty kind": configs({"a": {"regularizers": [{"name": "r1"}]}})[0],
        "optimizer kind": configs({"a": {"optimizer": {"name": "rmsprop"}}})[0],
        "relativistic": configs({"a": {"objective": "relativistic"}})[0],
        "n_critic": configs({"a": {"n_critic": 2}})[0],
        "steps": configs({"a": {"steps": 60}})[0],
    }
    for what, cfg in other.items():
        assert stack_key(cfg) != stack_key(base), what


def test_groups_are_cut_into_near_equal_chunks():
    assert [len(c) for c in chunks(list(range(100)), 48)] == [34, 34, 32]
    assert [len(c) for c in chunks(list(range(5)), 48)] == [5]


# --- the literature pieces (issue 13): each stacks, and each slice equals its run alone ---

BN_MAXOUT = {"generator": {"name": "mlp", "width": 16, "depth": 2, "z_dim": 4, "batch_norm": True},
             "discriminator": {"name": "maxout", "width": 8, "depth": 2, "pieces": 3}}


def test_batch_norm_generator_and_maxout_discriminator_per_slice():
    cfgs = configs({"a": {**BN_MAXOUT, "optimizer": {"lr": 1e-3}},
                    "b": {**BN_MAXOUT, "optimizer": {"lr": 3e-4}}})
    assert_slices_equal_solo(cfgs + cfgs[:1], [0, 1, 2])


def test_ema_decay_and_start_per_slice():
    cfgs = configs({"a": {"ema": {"decay": 0.9}}, "b": {"ema": {"decay": 0.5, "start": 20}},
                    "c": {"ema": {"decay": 0.99}, "checkpoint": False}})
    assert_slices_equal_solo(cfgs, [0, 1, 2])      # metrics come from each slice's average
    other = configs({"a": {"ema": {"decay": 0.9, "evaluate": False}}, "b": {}})
    assert len({stack_key(c) for c in [cfgs[0]] + other}) == 3


def test_lr_schedule_with_per_slice_lr():
    lin = {"name": "linear", "fraction": 0.6}
    cfgs = configs({"a": {"optimizer": {"lr": 1e-3, "schedule": lin}},
                    "b": {"optimizer": {"lr": 3e-3, "schedule": lin}, "d_optimizer": {"lr": 1e-4}}})
    assert_slices_equal_solo(cfgs, [0, 1])


def test_log_every_keeps_the_same_rows_alone_and_stacked():
    cfgs = configs({"a": {"log_every": 7, "eval_every": 10}, "b": {"log_every": 7, "eval_every": 10,
                                                                   "optimizer": {"lr": 3e-4}}})
    assert_slices_equal_solo(cfgs, [0, 1])
    res, _ = train_seeds({"name": "ring8"}, cfgs[0], [0])
    # every 7th step, every evaluation's step and the last: 7, 10, 14, 20, 21, ..., 49, 50
    assert res[0].history.step.tolist() == sorted(set(range(7, 51, 7)) | set(range(10, 51, 10)))
