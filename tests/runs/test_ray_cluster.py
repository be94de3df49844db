"""``--executor ray`` on a two-node Ray cluster started on this machine
(tests/helpers/ray_cluster.py: ``ray start --head`` and ``ray start --address``, one
CPU and a resource of its own each). A suite's two groups train one on each node; the
driver is killed (kill -9) while both train, after they have written training
checkpoints into OUT (which both nodes see: they are on this machine); the same
command continues them from those checkpoints, again one group on each node (each run
records the node it trained on), to a summary and histories byte-identical to an
uninterrupted local run. The probe that tells whether a node sees OUT is tested by hand
beside it."""
import json
import os
import signal
import subprocess
import sys
import time

import pytest

from ganbench.runs.executors.ray_tasks import PROBE, say_if_blind, sees_out, write_probe
from helpers.cli import TWO_GROUPS, same_as_local

LONG = """name: rayresume
seeds: 2
datasets: [ring8]
defaults:
  steps: 4000
  batch_size: 32
  eval_every: 1000
  log_every: 7
  checkpoint_every: 50
  n_eval: 200
  generator: {name: mlp, width: 16, depth: 2, z_dim: 4}
  discriminator: {name: mlp, width: 16, depth: 2}
  optimizer: {name: adam, lr: 0.001}
variants:
  ns: {objective: nonsaturating}
  wgan_gp: {objective: wgan_gp, n_critic: 2}     # n_critic: a group of its own
"""


@pytest.fixture(scope="module")
def ray_cluster():
    pytest.importorskip("ray")
    from helpers.ray_cluster import RayCluster
    t0 = time.time()
    cluster = RayCluster().start()
    print(f"\ntwo-node Ray cluster at {cluster.address}, up in {time.time() - t0:.1f} s:\n"
          f"{cluster.status()}")
    try:
        yield cluster
    finally:
        cluster.stop()


def ganbench(suite, out, cluster):
    return [sys.executable, "-m", "ganbench.cli", "run", str(suite), "--out", str(out),
            "--no-progress", "--executor", "ray", "--ray-address", cluster.address]


def nodes_of_runs(out) -> dict[str, tuple[str, str]]:
    """Each run's (Ray node id, host), from its config.json."""
    got = {}
    for f in sorted(out.glob("runs/*/config.json")):
        env = json.loads(f.read_text())["environment"]
        got[f.parent.name] = (env["ray_node"], env["host"])
    return got


def test_two_nodes_train_a_suite_killed_and_resumed_from_checkpoints_to_the_identical_result(
        ray_cluster, tmp_path):
    suite = tmp_path / "long.yaml"
    suite.write_text(LONG)
    out = tmp_path / "ray"
    driver = subprocess.Popen(ganbench(suite, out, ray_cluster), env=ray_cluster.env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                              start_new_session=True)
    # both groups checkpointed: the second starts seconds after the first (its node
    # starts a worker and imports torch), so the groups are long enough to overlap
    deadline = time.time() + 180
    while len(list(out.glob("checkpoints/*.pt"))) < 2 and time.time() < deadline \
            and driver.poll() is None and not list(out.glob("runs/*/metrics.json")):
        time.sleep(0.05)
    os.killpg(driver.pid, signal.SIGKILL)      # the driver dies; Ray ends its tasks
    driver.wait()
    left = sorted(p.name for p in out.glob("checkpoints/*.pt"))
    assert len(left) == 2 and not list(out.glob("runs/*/metrics.json")), "mid-run"
    again = subprocess.run(ganbench(suite, out, ray_cluster), env=ray_cluster.env,
                           capture_output=True, text=True, timeout=300)
    print(again.stderr)
    assert again.returncode == 0, again.stderr[-3000:]
    said = [ln for ln in again.stderr.splitlines() if "resuming from training checkpoints" in ln]
    records = [json.loads(p.read_text()) for p in out.glob("runs/*/metrics.json")]
    assert len(records) == 4 and all(r["status"] == "ok" for r in records)
    assert all(r.get("resumed_at", 0) >= 50 for r in records), "each continued mid-run"
    assert len(said) == 1 and all(f"at step {r['resumed_at']} of 4000" in said[0] for r in records)
    assert not (out / "checkpoints").exists(), "finished groups leave no checkpoint"
    nodes = nodes_of_runs(out)
    for run_id, (node, host) in nodes.items():
        print(f"{run_id}: Ray node {node[:16]} on {host}")
    assert len(nodes) == 4 and len({n for n, _ in nodes.values()}) == 2
    for variant in ("ns", "wgan_gp"):                # a group's seeds train on one node
        assert len({n for run, (n, _) in nodes.items() if f"__{variant}__" in run}) == 1
    assert "does not see" not in again.stderr and not (out / PROBE).exists()
    same_as_local(tmp_path, suite, out, histories=True)


def test_the_probe_says_whether_a_node_sees_out(tmp_path):
    probe = write_probe(tmp_path)
    assert sees_out(probe) and probe[0] == str((tmp_path / PROBE).resolve())
    assert not sees_out((probe[0], "another driver's token"))
    assert not sees_out((str(tmp_path / "elsewhere" / PROBE), probe[1])) and not sees_out(None)


class Notes:
    """What the executor says through the progress display."""

    def __init__(self):
        self.lines = []

    def note(self, line):
        self.lines.append(line)


def test_a_node_that_does_not_see_out_is_said_once(tmp_path):
    notes, blind = Notes(), set()
    for node in [("a" * 56, "host-a", True), ("b" * 56, "host-b", False), ("b" * 56, "host-b", False)]:
        say_if_blind(node, blind, tmp_path, notes)
    (line,) = notes.lines
    assert line.startswith(f"ganbench: --executor ray: node {'b' * 12} (host-b) does not see "
                           f"{tmp_path.resolve()}") and "train again from step 0" in line
