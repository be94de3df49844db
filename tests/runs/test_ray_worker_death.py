"""A Ray worker killed mid-task (OOM killer, kill -9), through the real CLI on a local
Ray: its group is recorded failed with what Ray says and the last evaluated step, the
other group finishes, the suite exits 1, and the same command then completes exactly
the missing runs."""
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

pytest.importorskip("ray")

SUITE = """name: two_groups
seeds: 2
datasets: [ring8]
defaults: {steps: 3000, batch_size: 32, eval_every: 100, n_eval: 200,
           generator: {name: mlp, width: 16, depth: 1}, discriminator: {name: mlp, width: 16, depth: 1}}
variants:
  plain: {objective: nonsaturating}
  r1: {objective: nonsaturating, regularizers: [{name: r1, weight: 1.0}]}
"""


def parent_of(pid: int) -> int | None:
    try:
        return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
    except (OSError, IndexError, ValueError):
        return None


def descends_from(pid: int, ancestor: int) -> bool:
    while pid and pid > 1:
        if pid == ancestor:
            return True
        pid = parent_of(pid)
    return False


def cpu_seconds(pid: int) -> float:
    """CPU time a process has used (user + system): progress that a loaded machine's
    wall clock does not tell."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def ray_task_workers(cli: int) -> list[int]:
    """Ray workers of *this* CLI's local Ray (raylet -> worker) running a ganbench group."""
    out = []
    for d in Path("/proc").iterdir():
        if not d.name.isdigit():
            continue
        try:
            cmd = (d / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if cmd.startswith("ray::_ray_task") and descends_from(int(d.name), cli):
            out.append(int(d.name))
    return out


def run(suite, out):
    return subprocess.Popen([sys.executable, "-m", "ganbench.cli", "run", str(suite), "--out", str(out),
                             "--executor", "ray", "--workers", "2", "--no-progress"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


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
    # since their tasks started, both have imported torch and ganbench (about 4 CPU
    # seconds) and trained several hundred of their 3000 steps (3-4 CPU ms each),
    # evaluating every 100
    while min(cpu_seconds(w) - c for w, c in started.items()) < 7 and time.time() - t0 < 240:
        time.sleep(0.2)
    os.kill(workers[0], signal.SIGKILL)
    _, err = cli.communicate(timeout=300)
    assert cli.returncode == 1, err[-2000:]
    assert "Traceback" not in err, err[-2000:]
    summary = pd.read_csv(out / "summary.csv")
    assert len(summary) == 4
    by_variant = summary.groupby("variant").status.agg(set).to_dict()
    assert set(map(frozenset, by_variant.values())) == {frozenset({"failed"}), frozenset({"ok"})}
    failed = summary[summary.status == "failed"].run_id.iloc[0]
    error = json.loads((out / "runs" / failed / "metrics.json").read_text())["error"]
    assert error.startswith("WorkerDied: the Ray worker") and "run the same command again" in error
    assert "after step" in error, error            # the last step the task reported
    ok_before = {r: (out / "runs" / r / "metrics.json").stat().st_mtime_ns
                 for r in summary[summary.status == "ok"].run_id}
    again = run(suite, out)
    _, err = again.communicate(timeout=300)
    assert again.returncode == 0, err[-2000:]
    summary = pd.read_csv(out / "summary.csv")
    assert set(summary.status) == {"ok"} and len(summary) == 4
    assert all((out / "runs" / r / "metrics.json").stat().st_mtime_ns == t for r, t in ok_before.items())
