"""The loss contract, checked before training: a user's loss reduced with .mean() (one
number for all runs) is exit 2 with one line naming it, its shape and the fix, before
any run trains; a run that fails in training keeps its traceback in error.txt; --debug
re-raises it."""
import json

import pytest
import yaml

from helpers.cli import run_cli

MEAN_LOSS = """
import torch.nn.functional as F
from ganbench.objectives import Objective, objectives, nonsaturating_g_loss

@objectives.register("mean_all")
def mean_all() -> Objective:
    return Objective(d_loss=lambda r, f: (F.softplus(-r) + F.softplus(f)).mean(),
                     g_loss=nonsaturating_g_loss, d_output="logit")
"""

PER_SAMPLE_PENALTY = """
from ganbench.regularizers import Regularizer, regularizers, input_grad_sqnorm

@regularizers.register("per_sample")
def per_sample(weight: float = 1.0) -> Regularizer:
    # forgot to average over the batch: (S, B) instead of (S,)
    return Regularizer("per_sample", weight, lambda d, xr, xf, g=None: input_grad_sqnorm(d, xr))
"""

RAISES_IN_TRAINING = """
from pathlib import Path
import torch.nn.functional as F
from ganbench.objectives import Objective, objectives, minimax_d_loss

def g_loss(f):
    # in training (the dry pass before training has no graph), while fail.flag exists
    if f.requires_grad and (Path(__file__).parent / "fail.flag").exists():
        raise RuntimeError("my_g_loss gave up")
    return F.softplus(-f).mean(-1)

objectives.register(Path(__file__).stem, lambda: Objective(minimax_d_loss, g_loss, d_output="logit"))
"""


def suite(tmp_path, module: str, code: str, variant: dict):
    """A 3-seed suite of one variant that imports ``module`` (``code``; modules stay
    imported for the session, so each test names its own)."""
    (tmp_path / f"{module}.py").write_text(code)
    (tmp_path / "fail.flag").write_text("")
    p = tmp_path / "s.yaml"
    p.write_text(yaml.safe_dump({
        "imports": [module], "seeds": 3, "datasets": ["ring8"],
        "defaults": {"steps": 4, "batch_size": 8, "eval_every": 2, "n_eval": 50,
                     "generator": {"name": "mlp", "width": 8, "depth": 1, "z_dim": 2},
                     "discriminator": {"name": "mlp", "width": 8, "depth": 1}},
        "variants": {"mine": variant}}))
    return p


def test_a_loss_reduced_with_mean_is_exit_2_naming_it_before_training(tmp_path, capsys):
    s = suite(tmp_path, "contract_mean_losses", MEAN_LOSS, {"objective": "mean_all"})
    out = tmp_path / "out"
    assert run_cli("run", str(s), "--out", str(out), "--no-progress") == 2
    err = capsys.readouterr().err.strip()
    assert err.splitlines() == [err], err
    assert ("variants.mine.objective: objective 'mean_all' (module contract_mean_losses): d_loss returned "
            "shape () — a loss returns one value per run, shape (3,) here; reduce over the "
            "samples with .mean(-1), not .mean().") in err, err
    assert not out.exists()         # nothing trained, no folder made


def test_a_penalty_that_keeps_the_samples_is_exit_2_naming_it(tmp_path, capsys):
    s = suite(tmp_path, "my_penalties", PER_SAMPLE_PENALTY,
              {"objective": "nonsaturating", "regularizers": [{"name": "per_sample"}]})
    assert run_cli("run", str(s), "--out", str(tmp_path / "out"), "--no-progress") == 2
    err = capsys.readouterr().err.strip()
    assert err.splitlines() == [err], err
    assert ("variants.mine.regularizers[0]: regularizer 'per_sample' (module my_penalties): its "
            "penalty returned shape (3, 4) — a loss returns one value per run, shape (3,) here; "
            "D's outputs are (runs, samples) = (3, 4) here: reduce over the last dimension "
            "(the samples) only.") in err, err


def test_the_builtin_objectives_and_penalties_keep_the_contract(tmp_path):
    """Every built-in objective and penalty passes the dry pass (load_suite runs it)."""
    from ganbench.config.suite import load_suite
    from ganbench.objectives import objectives
    builtin = [o for o in objectives.names() if objectives.get(o).__module__ == "ganbench.objectives"]
    assert len(builtin) >= 7
    variants = {o: {"objective": o} for o in builtin}
    variants.update({f"ns_{r}": {"objective": "nonsaturating", "regularizers": [{"name": r}]}
                     for r in ("r1", "r2", "gp", "dragan", "instance_noise", "consensus")})
    p = tmp_path / "all.yaml"
    p.write_text(yaml.safe_dump({"datasets": ["ring8"], "variants": variants}))
    assert len(load_suite(p).specs) == len(variants)


def test_the_contract_check_catches_what_it_should(tmp_path):
    """Brute force over reductions: exactly those that give one value per run pass."""
    import torch
    from ganbench.config.suite import load_suite
    from ganbench.errors import InputError
    from ganbench.objectives import Objective, objectives, minimax_d_loss
    reductions = {"mean_last": (lambda x: x.mean(-1), True), "sum_last": (lambda x: x.sum(-1), True),
                  "mean_all": (lambda x: x.mean(), False), "mean_runs": (lambda x: x.mean(0), False),
                  "none": (lambda x: x, False), "keepdim": (lambda x: x.mean(-1, keepdim=True), False)}
    for name, (reduce, ok) in reductions.items():
        key = f"contract_probe_{name}"
        if key not in objectives:
            objectives.register(key, lambda reduce=reduce: Objective(
                minimax_d_loss, lambda f: reduce(torch.nn.functional.softplus(-f)), d_output="logit"))
        p = tmp_path / f"{name}.yaml"
        p.write_text(yaml.safe_dump({"seeds": 2, "datasets": ["ring8"], "variants": {"v": {"objective": key}}}))
        if ok:
            load_suite(p)
        else:
            with pytest.raises(InputError, match=r"g_loss returned shape .* shape \(3,\) here"):
                load_suite(p)


def test_a_run_failing_in_training_keeps_its_traceback_in_error_txt(tmp_path, capsys):
    s = suite(tmp_path, "gives_up_0", RAISES_IN_TRAINING, {"objective": "gives_up_0"})
    out = tmp_path / "out"
    assert run_cli("run", str(s), "--out", str(out), "--no-progress") == 1
    assert "error.txt" in capsys.readouterr().err
    run = out / "runs" / "ring8__mine__seed0"
    text = (run / "error.txt").read_text()
    assert text.startswith("Traceback (most recent call last):")
    assert "gives_up_0.py" in text and text.strip().endswith("RuntimeError: my_g_loss gave up")
    meta = json.loads((run / "metrics.json").read_text())
    assert meta["error"] == "RuntimeError: my_g_loss gave up"
    assert {"file": "error.txt", "kind": "text"}.items() <= meta["artifacts"][0].items()
    assert not list(run.glob(".*.tmp"))          # written through layout.atomic_write


def test_a_rerun_that_succeeds_drops_the_old_error_txt(tmp_path):
    s = suite(tmp_path, "gives_up_1", RAISES_IN_TRAINING, {"objective": "gives_up_1"})
    out = tmp_path / "out"
    assert run_cli("run", str(s), "--out", str(out), "--no-progress") == 1
    (tmp_path / "fail.flag").unlink()
    assert run_cli("run", str(s), "--out", str(out), "--no-progress") == 0
    assert not (out / "runs" / "ring8__mine__seed0" / "error.txt").exists()


def test_debug_trains_in_process_and_reraises(tmp_path):
    s = suite(tmp_path, "gives_up_2", RAISES_IN_TRAINING, {"objective": "gives_up_2"})
    out = tmp_path / "out"
    with pytest.raises(RuntimeError, match="my_g_loss gave up"):
        # --executor process is overridden: --debug trains in this process
        run_cli("run", str(s), "--out", str(out), "--no-progress", "--debug",
                "--executor", "process")
    assert not (out / "runs" / "ring8__mine__seed0" / "metrics.json").exists()


def test_the_api_returns_the_metric_columns_even_when_every_run_failed(tmp_path):
    import ganbench
    s = suite(tmp_path, "gives_up_3", RAISES_IN_TRAINING, {"objective": "gives_up_3"})
    summary = ganbench.run(s, out=tmp_path / "out", device="cpu", executor="local")
    assert set(summary.status) == {"failed"}
    assert summary[["modes_captured", "hq_fraction"]].isna().all().all()   # no KeyError
