"""One writer per results folder: a second `ganbench run` on a folder that another
run is writing exits 2 naming that process; a lock left by a killed run never blocks."""
import os
import signal
import subprocess
import sys
import time

import pandas as pd

SLOW = """name: slow
seeds: 2
datasets: [ring8]
defaults: {steps: 3000, batch_size: 64, eval_every: 1000, n_eval: 200,
           generator: {name: mlp, width: 32, depth: 2}, discriminator: {name: mlp, width: 32, depth: 2}}
variants:
  a: {objective: nonsaturating}
"""


def start(suite, out):
    return subprocess.Popen([sys.executable, "-m", "ganbench.cli", "run", str(suite), "--out", str(out),
                             "--executor", "local", "--no-progress"], stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True, start_new_session=True)


def wait_for_lock(out, pid, timeout=120):
    lock = out / ".ganbench.lock"
    t0 = time.time()
    while time.time() - t0 < timeout:
        if lock.is_file() and lock.read_text().strip() == str(pid):
            return
        time.sleep(0.2)
    raise AssertionError("the first run never took the lock")


def test_second_writer_exits_2_and_a_killed_writer_does_not_block(tmp_path):
    suite, out = tmp_path / "slow.yaml", tmp_path / "out"
    suite.write_text(SLOW)
    first = start(suite, out)
    try:
        wait_for_lock(out, first.pid)
        second = subprocess.run([sys.executable, "-m", "ganbench.cli", "run", str(suite), "--out",
                                 str(out), "--executor", "local", "--no-progress"],
                                capture_output=True, text=True, timeout=120)
        assert second.returncode == 2, second.stderr[-1000:]
        lines = [ln for ln in second.stderr.splitlines() if ln.strip()]
        assert len(lines) == 1 and f"pid {first.pid}" in lines[0], second.stderr
        os.killpg(first.pid, signal.SIGKILL)              # the writer dies holding the lock
        first.wait(timeout=30)
    finally:
        if first.poll() is None:
            os.killpg(first.pid, signal.SIGKILL)
    again = subprocess.run([sys.executable, "-m", "ganbench.cli", "run", str(suite), "--out", str(out),
                            "--executor", "local", "--no-progress"], capture_output=True, text=True,
                           timeout=300)
    assert again.returncode == 0, again.stderr[-1000:]
    summary = pd.read_csv(out / "summary.csv")
    assert len(summary) == 2 and set(summary.status) == {"ok"}
