"""A worker process killed mid-run (OOM killer, kill -9): its group is recorded failed
with what killed it, the other group finishes, the suite exits 1, and the same command
then completes exactly the missing runs."""
import json
import os
import signal
import subprocess
import sys
import time

import pandas as pd

from faults import children as workers_of
from faults import cpu_ticks, wait_until

SUITE = """name: two_groups
seeds: 2
datasets: [ring8]
defaults: {steps: 4000, batch_size: 64, eval_every: 2000, n_eval: 200,
           generator: {name: mlp, width: 32, depth: 2}, discriminator: {name: mlp, width: 32, depth: 2}}
variants:
  plain: {objective: nonsaturating}
  r1: {objective: nonsaturating, regularizers: [{name: r1, weight: 1.0}]}
"""


def run(suite, out):
    return subprocess.Popen([sys.executable, "-m", "ganbench.cli", "run", str(suite), "--out", str(out),
                             "--executor", "process", "--workers", "2", "--no-progress"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


def test_a_killed_worker_fails_its_group_only_and_the_rerun_completes(tmp_path):
    suite, out = tmp_path / "s.yaml", tmp_path / "out"
    suite.write_text(SUITE)
    cli = run(suite, out)
    t0 = time.time()
    while len(workers_of(cli.pid)) < 2 and time.time() - t0 < 120:
        time.sleep(0.2)
    workers = workers_of(cli.pid)
    assert len(workers) == 2, "the two workers never started"
    # both are training once each has used 6 s of CPU (importing torch takes 2-3 s); a
    # fixed sleep was too short on a loaded machine
    wait_until(lambda: all(cpu_ticks(w) >= 6 * os.sysconf("SC_CLK_TCK") for w in workers),
               what="both workers to train")
    os.kill(workers[0], signal.SIGKILL)
    _, err = cli.communicate(timeout=300)
    assert cli.returncode == 1, err[-2000:]
    assert "Traceback" not in err and "BrokenProcessPool" not in err, err[-2000:]
    summary = pd.read_csv(out / "summary.csv")
    assert len(summary) == 4
    by_variant = summary.groupby("variant").status.agg(set).to_dict()
    assert set(map(frozenset, by_variant.values())) == {frozenset({"failed"}), frozenset({"ok"})}
    failed = summary[summary.status == "failed"].run_id.iloc[0]
    error = json.loads((out / "runs" / failed / "metrics.json").read_text())["error"]
    assert "SIGKILL" in error and "run the same command again" in error, error
    ok_before = {r: (out / "runs" / r / "metrics.json").stat().st_mtime_ns
                 for r in summary[summary.status == "ok"].run_id}
    again = run(suite, out)
    _, err = again.communicate(timeout=300)
    assert again.returncode == 0, err[-2000:]
    summary = pd.read_csv(out / "summary.csv")
    assert set(summary.status) == {"ok"} and len(summary) == 4
    assert all((out / "runs" / r / "metrics.json").stat().st_mtime_ns == t for r, t in ok_before.items())
