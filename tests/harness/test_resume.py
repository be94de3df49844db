"""Mid-run resume (ganbench.harness.resume): a group trained to a training checkpoint,
stopped, rebuilt from scratch and resumed ends equal, bit for bit on the CPU, to the
same group trained without a stop: every history row, every metric, the probes'
tables, the D maps and the final weights. Also with log_every > 1, the G average, an
lr schedule, checkpoint probes, Dirac-GAN's step-0 numbers, a wide stack of settings,
and a seed that diverged before the checkpoint. A checkpoint that is torn, of another
group, or does not fit is ignored with one line on stderr."""
import math

import numpy as np
import pandas as pd
import pytest
import torch

from ganbench.config.schema import run_config
from ganbench.config.suite import parse_suite
from ganbench.errors import InputError
from ganbench.harness import resume as resumed
from ganbench.harness.loop import Loop, train_seeds
from ganbench.harness.resume import ResumePoint

SMALL = {"generator": {"name": "mlp", "width": 16, "depth": 2, "z_dim": 4},
         "discriminator": {"name": "mlp", "width": 16, "depth": 2},
         "optimizer": {"name": "adam", "lr": 1e-3}, "batch_size": 32, "n_eval": 200,
         "steps": 40, "eval_every": 10}


class Stop(Exception):
    """Stands for a kill: raised from the progress callback."""


def configs(variants: dict, dataset="ring8", **defaults) -> list:
    raw = {"datasets": [dataset], "defaults": {**SMALL, **defaults}, "variants": variants}
    return [sp.config for sp in parse_suite(raw).specs]


def train(dataset, cfgs, seeds, point=None, stop_after=None):
    """A fresh Loop trained to the end, or stopped at the first progress call after step
    ``stop_after`` (the checkpoints written before it stay)."""
    def on_steps(n):
        if stop_after is not None and n > stop_after:
            raise Stop(n)
    loop = Loop(dataset, cfgs, seeds)
    return loop.run(on_steps, point), loop


def assert_same(a, b, loop_a, loop_b):
    for x, y in zip(a, b):
        assert x.status == y.status and x.steps == y.steps and x.diverged_at == y.diverged_at
        pd.testing.assert_frame_equal(x.history, y.history, check_exact=True)
        assert x.metrics.keys() == y.metrics.keys()
        for k in x.metrics:
            u, v = x.metrics[k], y.metrics[k]
            assert u == v or (isinstance(u, float) and math.isnan(u) and math.isnan(v)), k
        assert x.probe_tables.keys() == y.probe_tables.keys()
        for k in x.probe_tables:
            pd.testing.assert_frame_equal(x.probe_tables[k], y.probe_tables[k], check_exact=True)
        if x.d_map is not None:
            for k, v in x.d_map.items():
                np.testing.assert_array_equal(v, y.d_map[k])
        np.testing.assert_array_equal(x.fake, y.fake)
    for net in ("G", "D"):
        sa = getattr(loop_a.players, net).state_dict()
        sb = getattr(loop_b.players, net).state_dict()
        for k in sa:
            assert torch.equal(sa[k], sb[k]), (net, k)


def resume_equals_uninterrupted(tmp_path, dataset, cfgs, seeds, stop_after, checkpoint_at):
    whole, loop_whole = train(dataset, cfgs, seeds)
    point = ResumePoint(tmp_path / "checkpoints" / "g.pt", "key")
    with pytest.raises(Stop):
        train(dataset, cfgs, seeds, point, stop_after)
    assert torch.load(point.path, weights_only=False)["step"] == checkpoint_at
    resumed_results, loop_resumed = train(dataset, cfgs, seeds, point)   # built from scratch
    assert loop_resumed.resumed_at == checkpoint_at
    assert all(r.resumed_at == checkpoint_at for r in resumed_results)
    assert_same(whole, resumed_results, loop_whole, loop_resumed)
    return whole


def test_log_every_ema_schedule_and_probes_resume_bit_for_bit(tmp_path):
    cfgs = configs({"v": {"log_every": 3, "checkpoint_every": 7,
                          "ema": {"decay": 0.9, "start": 5},
                          "optimizer": {"schedule": {"name": "linear", "fraction": 0.5}},
                          "checkpoint_probes": [{"name": "vanishing", "at": [0, 15, 30],
                                                 "d_steps": 5}]}}, steps=45)
    # stopped at step 22's progress call: the checkpoint of step 21 (between evaluations,
    # after the probe at 15, before the one at 30; logged steps since the evaluation at
    # 20 not yet checked)
    whole = resume_equals_uninterrupted(tmp_path, {"name": "ring8"}, cfgs * 3, [0, 1, 2],
                                        stop_after=21, checkpoint_at=21)
    assert whole[0].history.step.tolist()[:4] == [3, 6, 9, 10]
    assert "sat_decay_step30" in whole[0].metrics


def test_a_wide_stack_of_settings_and_datasets_resumes_bit_for_bit(tmp_path):
    cfgs = configs({
        "a": {"optimizer": {"lr": 1e-3, "betas": [0.5, 0.999]}},
        "b": {"optimizer": {"lr": 3e-4, "betas": [0.0, 0.9], "eps": 1e-6}},
        "c": {"objective": "hinge", "d_optimizer": {"lr": 2e-3}},
        "d": {"objective": "lsgan", "optimizer": {"weight_decay": 1e-4}},
    }, checkpoint_every=10, log_every=2, ema={"decay": 0.95})
    seeds = [0, 1, 2]
    wide = [c for c in cfgs for _ in seeds]
    # and across the sets of the plane: each slice with its own dataset
    data = [{"name": n} for n in ("ring8", "grid25", "spiral", "moons")] * 3
    resume_equals_uninterrupted(tmp_path, data, wide, seeds * len(cfgs),
                                stop_after=30, checkpoint_at=30)


def test_dirac_gan_keeps_its_step_0_numbers(tmp_path):
    cfgs = configs({"v": {"checkpoint_every": 5, "generator": {"name": "dirac", "theta0": 1.0},
                          "discriminator": {"name": "linear", "psi0": 1.0},
                          "optimizer": {"name": "sgd", "lr": 0.1},
                          "update": "simultaneous"}}, dataset="dirac", n_eval=50)
    whole = resume_equals_uninterrupted(tmp_path, {"name": "dirac"}, cfgs * 2, [0, 1],
                                        stop_after=12, checkpoint_at=10)
    assert "eig_max_real" in whole[0].metrics


def test_a_seed_diverged_before_the_checkpoint_stays_diverged(tmp_path):
    cfgs = configs({"ok": {"checkpoint_every": 10},
                    "blows": {"checkpoint_every": 10, "objective": "lsgan",
                              "optimizer": {"name": "adam", "lr": 1e4}}})
    whole = resume_equals_uninterrupted(tmp_path, {"name": "ring8"}, cfgs, [0, 0],
                                        stop_after=25, checkpoint_at=20)
    assert [r.status for r in whole] == ["ok", "diverged"] and whole[1].diverged_at < 20


def test_bad_checkpoints_are_ignored_with_one_line_and_training_starts_from_0(tmp_path, capsys):
    cfgs = configs({"v": {"checkpoint_every": 10}}, steps=30)
    whole, _ = train_seeds({"name": "ring8"}, cfgs, [0])
    point = ResumePoint(tmp_path / "g.pt", "key")
    with pytest.raises(Stop):
        train({"name": "ring8"}, cfgs, [0], point, stop_after=20)
    good = point.path.read_bytes()
    other = tmp_path / "other.pt"
    cases = {"torn": good[: len(good) // 2], "other group": None, "not a checkpoint": b"x" * 100}
    for what, data in cases.items():
        if data is None:
            (_, loop) = train({"name": "ring8"}, cfgs, [0], ResumePoint(point.path, "other key"))
        else:
            point.path.write_bytes(data)
            (_, loop) = train({"name": "ring8"}, cfgs, [0], point)
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and "ignored, this group trains from step 0" in err[0], (what, err)
        assert loop.resumed_at is None
        point.path.write_bytes(good)
    # a checkpoint whose contents do not fit (same key) is dropped: the group is built anew
    state = torch.load(point.path, weights_only=False)
    state["G"] = {k: v[:, :1] for k, v in state["G"].items()}
    torch.save(state, other)
    results, wall = train_seeds({"name": "ring8"}, cfgs, [0], resume=ResumePoint(other, "key"))
    assert results[0].status == "ok" and results[0].resumed_at is None
    pd.testing.assert_frame_equal(results[0].history, whole[0].history, check_exact=True)
    assert "does not fit" in capsys.readouterr().err
    # a fresh point never reads one
    (_, loop) = train({"name": "ring8"}, cfgs, [0], ResumePoint(point.path, "key", fresh=True))
    assert loop.resumed_at is None


def test_no_checkpoint_without_checkpoint_every_and_none_after_the_last_step(tmp_path):
    point = ResumePoint(tmp_path / "c" / "g.pt", "key")
    train({"name": "ring8"}, configs({"v": {}}), [0], point)
    assert not point.path.exists()
    written = []
    orig = resumed.save
    try:
        resumed.save = lambda p, s: written.append(s["step"])
        train({"name": "ring8"}, configs({"v": {"checkpoint_every": 10}}), [0], point)
    finally:
        resumed.save = orig
    assert written == [10, 20, 30]          # not at step 40, the last


@pytest.mark.parametrize("value", [0, -3, 2.5, True, "10"])
def test_checkpoint_every_must_be_a_whole_number(value):
    with pytest.raises(InputError, match="checkpoint_every: expected a whole number of steps"):
        run_config(checkpoint_every=value)
    assert run_config(checkpoint_every=None).checkpoint_every is None
    assert run_config(checkpoint_every=100).checkpoint_every == 100
