"""The Arjovsky-Bottou probe: fresh D against a frozen G."""
import math

import pytest

from ganbench.config.schema import run_config
from ganbench.errors import InputError
from ganbench.harness.checkpoints import checkpoint_probes
from ganbench.metrics.gradients import decay_factor
from ganbench.harness.loop import Loop


def config(**over):
    cfg = dict(steps=20, batch_size=64, eval_every=20, n_eval=200, n_critic=1, min_hq=1,
               generator={"name": "mlp", "width": 16, "depth": 2, "z_dim": 4},
               discriminator={"name": "mlp", "width": 32, "depth": 2},
               optimizer={"name": "adam", "lr": 5e-3}, objective="nonsaturating",
               checkpoint_probes=[{"name": "vanishing", "at": [0, 20], "d_steps": 150}])
    cfg.update(over)
    return run_config(**cfg)


def test_decay_factor_is_first_over_last():
    assert decay_factor([8.0, 4.0, 2.0]) == 4.0
    assert decay_factor([1.0, 0.0]) == math.inf
    assert math.isnan(decay_factor([]))


def test_saturating_gradient_vanishes_against_a_confident_d_and_nonsaturating_does_not():
    # at step 0, G's samples sit near the origin, far from the ring: D separates them
    res = Loop({"name": "ring8"}, config(), [0, 1]).run()
    for r in res:
        table = r.probe_tables["vanishing"]
        assert list(table.checkpoint.unique()) == [0, 20]
        assert len(table) == 2 * 150
        assert r.metrics["sat_decay_step0"] > 10          # vanishes
        assert r.metrics["ns_decay_step0"] < 1            # grows instead
        assert table[table.checkpoint == 0].d_fake.iloc[-1] < 0.05


def test_probe_does_not_change_training():
    with_probe = Loop({"name": "ring8"}, config(), [0]).run()[0]
    without = Loop({"name": "ring8"}, config(checkpoint_probes=[]), [0]).run()[0]
    assert with_probe.metrics["fd"] == without.metrics["fd"]


def test_checkpoint_after_the_last_step_is_bad_input():
    cfg = config(checkpoint_probes=[{"name": "vanishing", "at": [50]}])
    with pytest.raises(InputError, match=r"checkpoint_probes\[0\]\.at: step 50 is after"):
        Loop({"name": "ring8"}, cfg, [0])


def test_settings_are_checked():
    with pytest.raises(InputError, match="at must be"):
        checkpoint_probes.build({"name": "vanishing", "at": [-1]})
