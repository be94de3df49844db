"""log_every: the history keeps every log_every-th step (and every evaluation's, and
the step where a seed diverged), while divergence is still checked at every step; the size bounds count the rows kept; bad
values of the new run settings are one line and exit 2."""
import numpy as np
import pytest

from ganbench.cli import main
from ganbench.config import limits
from ganbench.config.schema import run_config
from ganbench.config.suite import parse_suite
from ganbench.errors import InputError
from ganbench.harness.loop import train_seeds

SMALL = {"generator": {"name": "mlp", "width": 16, "depth": 2, "z_dim": 4},
         "discriminator": {"name": "mlp", "width": 16, "depth": 2},
         "optimizer": {"name": "adam", "lr": 0.001}, "batch_size": 32, "n_eval": 300}


def config(**kw):
    raw = {"datasets": ["ring8"], "defaults": SMALL, "variants": {"v": kw}}
    return parse_suite(raw).specs[0].config


def test_history_rows_are_every_log_every_th_step_and_the_evaluations():
    full, _ = train_seeds({"name": "ring8"}, config(steps=45, eval_every=20), [0])
    thin, _ = train_seeds({"name": "ring8"}, config(steps=45, eval_every=20, log_every=15), [0])
    f, t = full[0].history, thin[0].history
    assert f.step.tolist() == list(range(1, 46))
    assert t.step.tolist() == [15, 20, 30, 40, 45]
    # the rows kept are the full history's rows, evaluations merged in the same way
    np.testing.assert_array_equal(t.to_numpy(), f[f.step.isin(t.step)].to_numpy())
    assert t.modes_captured.notna().tolist() == [False, True, False, True, True]
    assert thin[0].metrics["hq_fraction"] == full[0].metrics["hq_fraction"]


def test_divergence_is_found_at_its_step_between_the_rows_kept():
    cfg = dict(steps=60, eval_every=30, objective="lsgan", optimizer={"name": "sgd", "lr": 1e6})
    (every,), _ = train_seeds({"name": "ring8"}, config(**cfg), [0])
    (thin,), _ = train_seeds({"name": "ring8"}, config(**cfg, log_every=25), [0])
    assert every.status == thin.status == "diverged"
    assert thin.diverged_at == every.diverged_at
    assert thin.history.step.tolist() == [thin.diverged_at]     # its row is kept
    np.testing.assert_array_equal(thin.history.to_numpy(), every.history.tail(1).to_numpy())


def test_memory_bound_counts_the_rows_kept(monkeypatch):
    monkeypatch.setattr(limits, "machine_memory", lambda: 2**30)     # a 1 GB machine
    cfg = run_config(steps=10**7, eval_every=10**4, n_eval=100, log_every=1)
    with pytest.raises(InputError, match=r"v\.steps: the history of 10 runs .* raise log_every"):
        limits.check_memory(cfg, 2, 10, "v.")
    limits.check_memory(cfg.replace(log_every=10**4), 2, 10, "v.")   # 2001 rows: fits
    assert limits.history_rows(cfg.replace(log_every=10**4)) == 2001


@pytest.mark.parametrize("setting,needle", [
    ("log_every: 0", "defaults.log_every: expected a whole number >= 1"),
    ("log_every: 1000000000", "variants.a.log_every: 1000000000 is more than"),
    ("checkpoint: yes please", "defaults.checkpoint: expected true or false"),
    ("ema: {decay: 2}", "variants.a.ema.decay: expected a number in [0, 1)"),
    ("ema: {deacy: 0.9}", "variants.a.ema.deacy: unknown setting"),
    ("optimizer: {schedule: {name: linear, fraction: 2}}", "variants.a.optimizer.schedule: schedule 'linear'"),
    ("optimizer: {schedule: warmup}", "variants.a.optimizer.schedule: unknown schedule 'warmup'"),
    ("discriminator: {name: maxout, pieces: 0}", "pieces must be a whole number >= 1"),
    ("generator: {name: mlp, batch_norm: 1}", "batch_norm must be true or false"),
])
def test_bad_values_are_one_line_and_exit_2(tmp_path, capsys, setting, needle):
    suite = tmp_path / "bad.yaml"
    suite.write_text("name: bad\nseeds: 1\ndatasets: [ring8]\ndefaults:\n  steps: 5\n"
                     f"  {setting}\nvariants:\n  a: {{}}\n")
    with pytest.raises(SystemExit) as e:
        main(["run", str(suite), "--out", str(tmp_path / "out"), "--executor", "local"])
    err = capsys.readouterr().err
    assert e.value.code == 2 and needle in err, err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert not (tmp_path / "out" / "runs").exists()
