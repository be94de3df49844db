"""Mid-run resume through the real CLI: ``ganbench run`` killed (SIGKILL to it and its
workers, as a preempted node is) once a group has written a training checkpoint, then
the same command again: the killed groups continue from their checkpoints, and the
folder equals an uninterrupted run's (summary.csv but wall_s, every history.csv byte
for byte), for the local and the process executor. The suite stacks a sweep into one
group per dataset, with log_every, the G average and an lr schedule."""
import json
import os
import signal
import subprocess
import sys
import time

import pandas as pd
import pytest

SUITE = """name: midrun
seeds: 2
datasets: [ring8, moons]
defaults:
  steps: 240
  batch_size: 32
  eval_every: 80
  log_every: 7
  checkpoint_every: 30
  n_eval: 200
  ema: {decay: 0.9, start: 10}
  generator: {name: mlp, width: 16, depth: 2, z_dim: 4}
  discriminator: {name: mlp, width: 16, depth: 2}
  optimizer: {name: adam, lr: 0.001, schedule: {name: cosine}}
variants:
  ns: {objective: nonsaturating}
sweep: {optimizer.lr: [0.001, 0.0003, 0.002]}
"""


def command(suite, out, executor):
    return [sys.executable, "-m", "ganbench.cli", "run", str(suite), "--out", str(out),
            "--no-progress", "--executor", executor, "--workers", "2"]


def histories(out):
    return {p.parent.name: p.read_bytes() for p in sorted(out.glob("runs/*/history.csv"))}


@pytest.mark.parametrize("executor", ["local", "process"])
def test_kill_9_mid_run_then_the_same_command_resumes_bit_for_bit(tmp_path, executor):
    suite = tmp_path / "midrun.yaml"
    suite.write_text(SUITE)
    out = tmp_path / "killed"
    p = subprocess.Popen(command(suite, out, executor), stdout=subprocess.DEVNULL,
                         stderr=subprocess.PIPE, start_new_session=True)
    deadline = time.time() + 300
    while not list(out.glob("checkpoints/*.pt")) and p.poll() is None and time.time() < deadline:
        time.sleep(0.05)
    os.killpg(p.pid, signal.SIGKILL)          # the driver and its workers, all at once
    p.wait()
    left = list(out.glob("checkpoints/*.pt"))
    assert left and len(list(out.glob("runs/*/metrics.json"))) < 12, "the kill should land mid-run"
    again = subprocess.run(command(suite, out, executor), capture_output=True, text=True, timeout=600)
    assert again.returncode == 0, again.stderr[-2000:]
    assert "warning" not in again.stderr
    whole = tmp_path / "whole"
    ref = subprocess.run(command(suite, whole, executor), capture_output=True, text=True, timeout=600)
    assert ref.returncode == 0, ref.stderr[-2000:]

    a = pd.read_csv(out / "summary.csv").drop(columns="wall_s")
    b = pd.read_csv(whole / "summary.csv").drop(columns="wall_s")
    assert len(a) == 12 and set(a.status) == {"ok"}
    pd.testing.assert_frame_equal(a, b, check_exact=True)
    got, want = histories(out), histories(whole)
    assert list(got) == list(want) and len(got) == 12
    for run_id in want:
        assert got[run_id] == want[run_id], run_id
    resumed = [json.loads(m.read_text()).get("resumed_at") for m in out.glob("runs/*/metrics.json")]
    assert any(r is not None and 0 < r < 240 for r in resumed)      # it did continue mid-run
    # and said so before training: which groups, from which step
    said = [ln for ln in again.stderr.splitlines() if "resuming from training checkpoints" in ln]
    steps = sorted({r for r in resumed if r})
    assert len(said) == 1 and all(f"at step {k} of 240" in said[0] for k in steps), again.stderr[:2000]
    assert not list(whole.glob("runs/*/metrics.json"))[0].read_text().count("resumed_at")
    # finished groups leave no checkpoint (nor its folder) and no temporary file behind
    assert not (out / "checkpoints").exists() and not (whole / "checkpoints").exists()
    assert not list(out.rglob(".*.tmp"))
