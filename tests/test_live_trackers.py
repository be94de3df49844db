"""TensorBoard live while a group trains, from worker processes, Ray tasks and SLURM
jobs: a reader sees two evaluations' numbers in the run's event files before the run's
metrics.json exists (the suite is then stopped), and the finished run replaces its live
log (tests/test_trackers.py reads a finished run back)."""
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


@pytest.mark.parametrize("executor", ["process", "ray", "slurm"])
def test_tensorboard_shows_evaluations_while_the_group_trains(executor, tmp_path, request):
    pytest.importorskip("tensorboard")
    env = dict(os.environ)
    if executor == "slurm":
        env = request.getfixturevalue("slurm_cluster").env
    if executor == "ray":
        pytest.importorskip("ray")
    suite = tmp_path / "live.yaml"
    suite.write_text(SUITE)
    out = tmp_path / "out"
    p = subprocess.Popen([sys.executable, "-m", "ganbench.cli", "run", str(suite), "--out",
                          str(out), "--no-progress", "--executor", executor, "--log",
                          "tensorboard"], env=env, stdout=subprocess.DEVNULL,
                         stderr=subprocess.PIPE, text=True, start_new_session=True)
    seen, deadline = [], time.time() + 150
    try:
        while len(seen) < 2 and time.time() < deadline and p.poll() is None:
            time.sleep(0.2)
            seen = evaluated_steps(out / "tb" / RUN)
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
    print(f"--executor {executor}: {EVALUATED} read from {out / 'tb' / RUN} at steps {seen}, "
          f"metrics.json {'written' if finished else 'not written yet'}")
    assert len(seen) >= 2, f"no live evaluations in {out / 'tb' / RUN}: {err[-2000:]}"
    assert seen[:2] == [100, 200] and not finished
