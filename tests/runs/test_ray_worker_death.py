"""A Ray worker killed mid-task (OOM killer, kill -9), through the real CLI on a local
Ray: its group is recorded failed with what Ray says and the last evaluated step, the
other group finishes, the suite exits 1, and the same command then completes exactly
the missing runs."""
import os
import signal
import time

import pytest

from helpers.faults import (cli, commands, cpu_seconds, descends_from, one_group_failed,
                    rerun_completes_the_failed)

pytest.importorskip("ray")

SUITE = """name: two_groups
seeds: 2
datasets: [ring8]
defaults: {steps: 10000, batch_size: 32, eval_every: 100, n_eval: 200,
           generator: {name: mlp, width: 16, depth: 1}, discriminator: {name: mlp, width: 16, depth: 1}}
variants:
  plain: {objective: nonsaturating}
  r1: {objective: nonsaturating, regularizers: [{name: r1, weight: 1.0}]}
"""


def ray_task_workers(parent: int) -> list[int]:
    """Ray workers of *this* CLI's local Ray (raylet -> worker) running a ganbench group."""
    return [p for p, cmd in commands() if cmd.startswith("ray::_ray_task") and descends_from(p, parent)]


def run(suite, out):
    return cli(suite, out, args=["--executor", "ray", "--workers", "2", "--no-progress"])


def test_a_killed_ray_worker_fails_its_group_only_and_the_rerun_completes(tmp_path):
    suite, out = tmp_path / "s.yaml", tmp_path / "out"
    suite.write_text(SUITE)
    cli = run(suite, out)
    t0 = time.time()
    while len(ray_task_workers(cli.pid)) < 2 and time.time() - t0 < 180 and cli.poll() is None:
        time.sleep(0.2)
    workers = ray_task_workers(cli.pid)
    assert len(workers) == 2, "the two Ray tasks never started"
    started = {w: cpu_seconds(w) for w in workers}
    # since their tasks started, both have imported torch and ganbench (about 3 CPU
    # seconds) and trained a few thousand of their 10,000 steps (about 1.5 CPU ms each
    # on a 2-core CPU in 2026-12: 3000 steps ended before 7 CPU seconds), evaluating
    # every 100
    while min(cpu_seconds(w) - c for w, c in started.items()) < 7 and time.time() - t0 < 240:
        time.sleep(0.2)
    os.kill(workers[0], signal.SIGKILL)
    _, err = cli.communicate(timeout=300)
    assert cli.returncode == 1, err[-2000:]
    assert "Traceback" not in err, err[-2000:]
    error = one_group_failed(out)
    assert error.startswith("WorkerDied: the Ray worker") and "run the same command again" in error
    assert "after step" in error, error            # the last step the task reported
    rerun_completes_the_failed(out, run(suite, out))
