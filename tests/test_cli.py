"""The CLI end to end on tiny suites."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml

from ganbench.layout import SUMMARY_COLUMNS
from helpers.cli import TINY, run_cli


def test_run_writes_the_output_contract(tiny_suite, tmp_path, capsys):
    out = tmp_path / "out"
    assert run_cli("run", str(tiny_suite()), "--out", str(out), "--no-progress", "--device", "cpu") == 0
    printed, err = capsys.readouterr()
    head, rule, *rows = printed.splitlines()      # the key metrics, not the full table
    assert head.split()[:4] == ["dataset", "variant", "ok/N", "modes_captured"] and "fd" in head
    assert set(head.split()) <= {"dataset", "variant", "ok/N", "modes_captured", "hq_fraction",
                                 "reverse_kl", "fd", "jsd", "mode_drops", "diagnosis"}
    assert len(rows) == 4 and all(r.split()[2] == "2/2" for r in rows) and set(rule) <= {"-", " "}
    assert f"8 ok of 8 runs; full table: {out / 'table.md'}" in err
    resolved = yaml.safe_load((out / "suite.yaml").read_text())
    assert resolved["name"] == "tiny" and resolved["seeds"] == [0, 1]
    summary = pd.read_csv(out / "summary.csv")
    assert list(summary.columns[:7]) == SUMMARY_COLUMNS
    assert len(summary) == 8 and set(summary.status) == {"ok"}
    ring = summary[summary.dataset == "ring8"]
    assert ring.modes_captured.notna().all() and summary[summary.dataset == "moons"].modes_captured.isna().all()
    assert summary[summary.variant == "wgan_gp"].nash_gap.isna().all()   # D is not a probability
    table = pd.read_csv(out / "table.csv")
    assert len(table) == 4 and {"fd_mean", "fd_std", "ok", "diverged", "failed"} <= set(table.columns)
    assert (out / "table.md").read_text().startswith("| dataset | variant |")
    umask = os.umask(0)
    os.umask(umask)
    assert (out / "summary.csv").stat().st_mode & 0o777 == 0o666 & ~umask   # as open() makes
    for rid in summary.run_id:
        d = out / "runs" / rid
        cfg = json.loads((d / "config.json").read_text())
        assert cfg["run_id"] == rid and cfg["config"]["steps"] == 30
        assert json.loads((d / "metrics.json").read_text())["status"] == "ok"
        hist = pd.read_csv(d / "history.csv")
        assert len(hist) == 30 and {"step", "d_loss", "g_loss", "grad_norm_g"} <= set(hist.columns)
        assert (d / "samples.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_rerun_resumes_and_a_changed_variant_reruns(tiny_suite, tmp_path, capsys):
    out = tmp_path / "out"
    suite = tiny_suite()
    assert run_cli("run", str(suite), "--out", str(out), "--no-progress") == 0
    before = {p: p.stat().st_mtime_ns for p in out.glob("runs/*/metrics.json")}
    (out / "runs" / "moons__wgan_gp__seed1" / "metrics.json").unlink()   # as if killed mid-run
    capsys.readouterr()
    assert run_cli("run", str(suite), "--out", str(out), "--no-progress") == 0
    err = capsys.readouterr().err
    assert "(7 already finished)" in err
    after = {p: p.stat().st_mtime_ns for p in out.glob("runs/*/metrics.json")}
    changed = [p.parent.name for p in after if before.get(p) != after[p]]
    assert changed == ["moons__wgan_gp__seed1"]
    assert len(pd.read_csv(out / "summary.csv")) == 8
    suite.write_text(suite.read_text().replace("n_critic: 2", "n_critic: 3"))
    assert run_cli("run", str(suite), "--out", str(out), "--no-progress") == 0
    assert "(4 already finished)" in capsys.readouterr().err


def test_unknown_objective_exits_2_with_one_line_and_no_traceback(tiny_suite, tmp_path):
    bad = tiny_suite(yaml.safe_dump({"datasets": ["ring8"], "variants": {"a": {"objective": "minmax"}}}))
    p = subprocess.run([sys.executable, "-m", "ganbench.cli", "run", str(bad), "--out", str(tmp_path / "o")],
                       capture_output=True, text=True, cwd=tmp_path)
    assert p.returncode == 2
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 1, p.stderr
    assert "variants.a.objective: unknown objective 'minmax'" in lines[0]
    assert "Did you mean 'minimax'?" in lines[0] and "Traceback" not in p.stderr
    assert not (tmp_path / "o").exists()          # validated before anything is written


@pytest.mark.parametrize("text, needle", [
    ("datasets: [ring8\n", "not valid YAML at line"),
    ("datasets: [ring8]\nvariants: {a: {steps: -1}}\n", "variants.a.steps: expected a whole number"),
    ("- just\n- a list\n", "the suite must be a mapping"),
])
def test_bad_input_exits_2(tiny_suite, tmp_path, capsys, text, needle):
    assert run_cli("run", str(tiny_suite(text)), "--out", str(tmp_path / "o")) == 2
    err = capsys.readouterr().err
    assert needle in err and len(err.strip().splitlines()) == 1


def test_missing_suite_and_bad_device_exit_2(tmp_path, tiny_suite, capsys):
    assert run_cli("run", str(tmp_path / "nope.yaml")) == 2
    assert "suite file not found" in capsys.readouterr().err
    assert run_cli("run", str(tiny_suite()), "--device", "tpu") == 2
    assert "--device tpu" in capsys.readouterr().err
    blocker = tmp_path / "a_file"
    blocker.write_text("")
    assert run_cli("run", str(tiny_suite()), "--out", str(blocker / "out")) == 2
    err = capsys.readouterr().err
    assert "cannot create the results folder" in err and len(err.strip().splitlines()) == 1
    assert run_cli("run", str(tiny_suite()), "--executor", "rya") == 2
    assert "Did you mean 'ray'?" in capsys.readouterr().err


def test_a_failing_run_is_recorded_and_exits_1(tiny_suite, tmp_path, capsys):
    (tmp_path / "broken.py").write_text(
        "from ganbench.objectives import objectives, Objective, minimax_d_loss\n"
        "def boom(f):\n    raise RuntimeError('boom in g_loss')\n"
        "@objectives.register('broken')\n"
        "def broken():\n    return Objective(minimax_d_loss, boom, d_output='logit')\n")
    suite = tiny_suite(yaml.safe_dump({
        "imports": ["broken.py"], "seeds": 1, "datasets": ["ring8"],
        "defaults": {"steps": 5, "batch_size": 8, "n_eval": 50,
                     "generator": {"name": "mlp", "width": 8, "depth": 1}},
        "variants": {"bad": {"objective": "broken"}, "good": {"objective": "hinge"}}}))
    out = tmp_path / "o"
    assert run_cli("run", str(suite), "--out", str(out), "--no-progress") == 1
    s = pd.read_csv(out / "summary.csv").set_index("variant")
    # bad and good share one stacked model; the broken loss fails only its own run
    assert s.loc["bad", "status"] == "failed" and s.loc["good", "status"] == "ok"
    meta = json.loads((out / "runs" / "ring8__bad__seed0" / "metrics.json").read_text())
    assert meta["error"] == "RuntimeError: boom in g_loss"


def test_diverging_run_is_recorded_and_the_suite_goes_on(tiny_suite, tmp_path):
    suite = tiny_suite(yaml.safe_dump({
        "seeds": 1, "datasets": ["ring8"],
        "defaults": {"steps": 20, "batch_size": 16, "n_eval": 50, "eval_every": 10},
        "variants": {"explode": {"objective": "lsgan", "optimizer": {"name": "sgd", "lr": 1.0e6}},
                     "fine": {"objective": "nonsaturating"}}}))
    out = tmp_path / "o"
    assert run_cli("run", str(suite), "--out", str(out), "--no-progress") == 0
    s = pd.read_csv(out / "summary.csv").set_index("variant")
    assert s.loc["explode", "status"] == "diverged" and s.loc["fine", "status"] == "ok"
    assert "0/1 (1 diverged)" in (out / "table.md").read_text()


def test_list_prints_every_registry(capsys):
    assert run_cli("list") == 0
    out = capsys.readouterr().out
    for word in ["datasets:", "ring8", "grid25", "objectives:", "wgan_gp", "regularizers:", "r1",
                 "generators:", "optimizers:", "rmsprop", "probes:", "coverage", "trackers:",
                 "tensorboard", "mlflow", "wandb"]:
        assert word in out


def test_process_executor_gives_the_same_summary_as_local(tiny_suite, tmp_path):
    suite = tiny_suite()
    assert run_cli("run", str(suite), "--out", str(tmp_path / "a"), "--no-progress",
                   "--executor", "process", "--workers", "2") == 0
    assert run_cli("run", str(suite), "--out", str(tmp_path / "b"), "--no-progress",
                   "--executor", "local") == 0
    a = pd.read_csv(tmp_path / "a" / "summary.csv").drop(columns="wall_s")
    b = pd.read_csv(tmp_path / "b" / "summary.csv").drop(columns="wall_s")
    pd.testing.assert_frame_equal(a, b, rtol=1e-4)


def test_ray_executor_gives_the_same_summary_as_local(tiny_suite, tmp_path):
    ray = pytest.importorskip("ray")
    suite = tiny_suite()
    try:
        ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
        assert run_cli("run", str(suite), "--out", str(tmp_path / "ray"), "--no-progress",
                       "--executor", "ray") == 0
    finally:
        ray.shutdown()
    assert run_cli("run", str(suite), "--out", str(tmp_path / "local"), "--no-progress",
                   "--executor", "local") == 0
    a = pd.read_csv(tmp_path / "ray" / "summary.csv").drop(columns="wall_s")
    b = pd.read_csv(tmp_path / "local" / "summary.csv").drop(columns="wall_s")
    pd.testing.assert_frame_equal(a, b, rtol=1e-4)
    assert (tmp_path / "ray" / "runs" / "ring8__wgan_gp__seed1" / "samples.png").is_file()


@pytest.mark.parametrize("executor", ["local", "process"])
def test_kill_9_mid_suite_then_rerun_equals_an_uninterrupted_run(tiny_suite, tmp_path, executor):
    import signal
    import time
    suite = tiny_suite(TINY_SLOW)
    cmd = [sys.executable, "-m", "ganbench.cli", "run", str(suite), "--no-progress", "--executor", executor]
    out = tmp_path / "killed"
    p = subprocess.Popen(cmd + ["--out", str(out)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 120
    while not list(out.glob("runs/*/metrics.json")) and time.time() < deadline and p.poll() is None:
        time.sleep(0.05)
    os.kill(p.pid, signal.SIGKILL)
    p.wait()
    finished_before = len(list(out.glob("runs/*/metrics.json")))
    assert 0 < finished_before < 8, "the kill should land mid-suite"
    rest = ["run", str(suite), "--no-progress", "--executor", executor]
    assert run_cli(*rest, "--out", str(out)) == 0                     # the same command again
    assert run_cli(*rest, "--out", str(tmp_path / "whole")) == 0      # never interrupted
    a = pd.read_csv(out / "summary.csv").drop(columns="wall_s")
    b = pd.read_csv(tmp_path / "whole" / "summary.csv").drop(columns="wall_s")
    assert a.run_id.is_unique and len(a) == 8
    pd.testing.assert_frame_equal(a, b)
    assert not list(out.glob("runs/*/.*.tmp"))   # no half-written file left behind


TINY_SLOW = TINY.replace("steps: 30", "steps: 60")   # groups long enough to be killed mid-way
