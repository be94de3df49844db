"""Trackers live while a group trains. From worker processes, Ray tasks and SLURM jobs:
a reader sees two evaluations' numbers in the run's TensorBoard event files, and in its
MLflow store (sqlite:///OUT/mlflow.db, where the full mlflow is installed), before the
run's metrics.json exists (the suite is then stopped). From worker processes: two
evaluations in the MLflow store and the W&B offline files, then the suite killed and
run again, each store holding each evaluation once. tests/test_trackers.py reads
finished runs back."""
import json
import os
import signal
import subprocess
import sys
import time

import pytest

SUITE = """name: live
seeds: 2
datasets: [ring8]
defaults:
  steps: 20000
  batch_size: 32
  eval_every: 100
  log_every: 50
  n_eval: 200
  generator: {name: mlp, width: 16, depth: 1, z_dim: 4}
  discriminator: {name: mlp, width: 16, depth: 1}
  optimizer: {name: adam, lr: 0.001}
variants:
  ns: {objective: nonsaturating}
"""
RUN = "ring8__ns__seed1"
#: a number only an evaluation makes
EVALUATED = "modes_captured"


def evaluated_steps(logdir) -> list[int]:
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
    if not logdir.is_dir():
        return []
    ea = EventAccumulator(str(logdir), size_guidance={"scalars": 0})
    ea.Reload()
    if EVALUATED not in ea.Tags()["scalars"]:
        return []
    return sorted({e.step for e in ea.Scalars(EVALUATED)})


def full_mlflow() -> bool:
    import importlib.util
    return all(importlib.util.find_spec(m) is not None for m in ("mlflow", "alembic"))


@pytest.mark.parametrize("executor", ["process", "ray", "slurm"])
def test_tensorboard_shows_evaluations_while_the_group_trains(executor, tmp_path, request):
    """TensorBoard, and MLflow where the full mlflow is installed (the same live path)."""
    pytest.importorskip("tensorboard")
    log = "tensorboard,mlflow" if full_mlflow() else "tensorboard"
    env = {k: v for k, v in os.environ.items() if k != "MLFLOW_TRACKING_URI"}
    if executor == "slurm":
        env = {k: v for k, v in request.getfixturevalue("slurm_cluster").env.items()
               if k != "MLFLOW_TRACKING_URI"}
    if executor == "ray":
        pytest.importorskip("ray")
    suite = tmp_path / "live.yaml"
    suite.write_text(SUITE)
    out = tmp_path / "out"
    p = subprocess.Popen([sys.executable, "-m", "ganbench.cli", "run", str(suite), "--out",
                          str(out), "--no-progress", "--executor", executor, "--log",
                          log], env=env, stdout=subprocess.DEVNULL,
                         stderr=subprocess.PIPE, text=True, start_new_session=True)
    seen, seen_m, deadline = [], [100, 200], time.time() + 150
    try:
        while (len(seen) < 2 or len(seen_m) < 2) and time.time() < deadline and p.poll() is None:
            time.sleep(0.2)
            seen = evaluated_steps(out / "tb" / RUN)
            if "mlflow" in log:
                seen_m = mlflow_steps(out).get(RUN, [])
        finished = (out / "runs" / RUN / "metrics.json").exists()
    finally:
        if executor == "slurm":
            for f in out.glob("slurm/*/job.json"):
                subprocess.run(["scancel", json.loads(f.read_text())["job_id"]], env=env)
        p.terminate()                       # the suite stops (its workers, Ray with it)
        try:
            _, err = p.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)
            _, err = p.communicate()
    print(f"--executor {executor}: {EVALUATED} read from {out / 'tb' / RUN} at steps {seen}"
          + (f", from sqlite:///OUT/mlflow.db at steps {seen_m}" if "mlflow" in log else "")
          + f", metrics.json {'written' if finished else 'not written yet'}")
    assert len(seen) >= 2, f"no live evaluations in {out / 'tb' / RUN}: {err[-2000:]}"
    assert seen[:2] == [100, 200] and seen_m[:2] == [100, 200] and not finished


def mlflow_steps(out) -> dict[str, list[int]]:
    """Each active MLflow run's name -> the steps of its evaluated number, read with
    MlflowClient from the default store as the guide says (sqlite:///OUT/mlflow.db)."""
    import sqlite3

    import mlflow
    if not (out / "mlflow.db").exists():
        return {}
    with sqlite3.connect(out / "mlflow.db") as db:      # the driver has made the store whole
        try:                                          # (MlflowClient would migrate it too)
            if not db.execute("select 1 from experiments where name = 'live'").fetchall():
                return {}
        except sqlite3.OperationalError:             # no table yet
            return {}
    c = mlflow.MlflowClient(tracking_uri=f"sqlite:///{out}/mlflow.db")
    exp = c.get_experiment_by_name("live")
    runs = c.search_runs([exp.experiment_id]) if exp else []
    return {r.info.run_name: sorted(m.step for m in c.get_metric_history(r.info.run_id, EVALUATED))
            for r in runs}


def wandb_steps(out) -> dict[str, list[int]]:
    """Each offline W&B run folder -> its run's name and the steps of its evaluated number
    (its .wandb transaction log, read with wandb's own record classes)."""
    from helpers.wandb_file import offline_runs
    return {d: (r.get("name"), sorted(s for s, v in r["history"].items() if EVALUATED in v))
            for d, r in offline_runs(out / "wandb").items()}


def test_mlflow_and_wandb_show_evaluations_while_the_group_trains_and_a_resume_logs_once(tmp_path):
    """--executor process --log mlflow,wandb: two evaluations read from the MLflow store and
    the W&B offline files before metrics.json exists; the suite is killed (kill -9, its
    workers with it), run again to its end (from its checkpoint), and each store then
    holds one run per run id with each evaluation once."""
    pytest.importorskip("wandb")
    if not full_mlflow():
        pytest.skip("the mlflow extra (the full mlflow) is not installed")
    suite = tmp_path / "live.yaml"
    steps = 5000
    suite.write_text(SUITE.replace("steps: 20000", f"steps: {steps}\n  checkpoint_every: 500"))
    out = tmp_path / "out"
    env = {k: v for k, v in os.environ.items() if k not in ("MLFLOW_TRACKING_URI", "WANDB_MODE")}
    cmd = [sys.executable, "-m", "ganbench.cli", "run", str(suite), "--out", str(out),
           "--no-progress", "--executor", "process", "--log", "mlflow,wandb"]
    p = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                         text=True, start_new_session=True)
    seen_m, seen_w, deadline = [], [], time.time() + 150
    try:
        while (len(seen_m) < 2 or len(seen_w) < 2) and time.time() < deadline and p.poll() is None:
            time.sleep(0.2)
            seen_m = mlflow_steps(out).get(RUN, [])
            seen_w = next((s for name, s in wandb_steps(out).values() if name == RUN), [])
        finished = (out / "runs" / RUN / "metrics.json").exists()
    finally:
        os.killpg(p.pid, signal.SIGKILL)
        _, err = p.communicate(timeout=60)
    print(f"\nMLflow (sqlite:///{out}/mlflow.db) {RUN}: {EVALUATED} at steps {seen_m}; "
          f"W&B offline: at steps {seen_w}; metrics.json "
          f"{'written' if finished else 'not written yet'}")
    assert seen_m[:2] == [100, 200] and seen_w[:2] == [100, 200] and not finished, err[-2000:]
    r = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]
    evaluations = list(range(100, steps + 100, 100))
    m, w = mlflow_steps(out), wandb_steps(out)
    print(f"after the resumed run: MLflow runs {list(m)}, W&B offline runs {list(w.values())}: "
          f"{EVALUATED} at steps {evaluations[0]}, ..., {evaluations[-1]} in each, each once")
    assert m == {f"ring8__ns__seed{s}": evaluations for s in (0, 1)}
    assert sorted(w.values()) == [(f"ring8__ns__seed{s}", evaluations) for s in (0, 1)]
    assert "resum" in r.stderr + r.stdout
