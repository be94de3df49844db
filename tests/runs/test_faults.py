"""Faults, each on the real CLI in a subprocess: Ctrl-C (SIGINT), SIGTERM, a worker
killed while it trains, writes that start failing part-way (a full disk), and a second
writer on a folder whose first writer is then killed. After
each, the folder is checked (no temporary file, no half-recorded run, finished runs
kept), the same command is run again, and the folder must then equal an uninterrupted
run of the same suite."""
import json
import os
import signal
import subprocess
import sys
import time

import pytest

from helpers.faults import (SHORT_RUNS, SUITE, assert_same_as_uninterrupted, children, cli, cpu_seconds,
                    finished, gone, leftovers, mtimes, wait_until)


@pytest.fixture(scope="module")
def suite(tmp_path_factory):
    d = tmp_path_factory.mktemp("faults")
    path = d / "faults.yaml"
    path.write_text(SUITE)
    return path


@pytest.fixture(scope="module")
def reference(suite):
    """The same suite, uninterrupted."""
    out = suite.parent / "reference"
    p = cli(suite, out)
    _, err = p.communicate(timeout=600)
    assert p.returncode == 0, err[-2000:]
    return out


def resume_and_compare(suite, out, reference, untouched: list[str]):
    kept = mtimes(out, untouched)
    again = cli(suite, out)
    _, err = again.communicate(timeout=600)
    assert again.returncode == 0, err[-2000:]
    assert f"({len(untouched)} already finished)" in err, err[-2000:]
    assert mtimes(out, untouched) == kept, "a finished run was trained again"
    assert_same_as_uninterrupted(out, reference)


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_stops_the_workers_keeps_finished_runs_and_the_rerun_resumes(suite, reference,
                                                                               tmp_path, sig):
    out = tmp_path / "out"
    p = cli(suite, out)
    # the short group is written; the long one is still training
    wait_until(lambda: (out / "runs").is_dir() and len(finished(out)) >= SHORT_RUNS,
               what="the short group")
    workers = children(p.pid)
    assert workers, "no worker process"
    p.send_signal(sig)
    _, err = p.communicate(timeout=60)
    assert p.returncode == 128 + sig, err[-2000:]
    assert err.strip().splitlines()[-1] == (
        f"ganbench: interrupted by {signal.Signals(sig).name} ({SHORT_RUNS} of 6 runs "
        f"finished in {out}); run the same command again to resume"), err[-2000:]
    assert "Traceback" not in err, err[-2000:]
    wait_until(lambda: gone(workers), timeout=30, what="the workers to stop")
    assert leftovers(out) == []
    short = finished(out)
    assert len(short) == SHORT_RUNS and not any("__long__" in r for r in short)
    import pandas as pd
    assert sorted(pd.read_csv(out / "summary.csv").run_id) == short
    resume_and_compare(suite, out, reference, short)


def test_a_killed_worker_fails_its_group_and_the_rerun_completes_it(suite, reference, tmp_path):
    out = tmp_path / "out"
    p = cli(suite, out)
    wait_until(lambda: (out / "runs").is_dir() and len(finished(out)) >= SHORT_RUNS,
               what="the short group")
    # the worker still burning CPU trains the long group; the other is idle
    workers = children(p.pid)
    before = {w: cpu_seconds(w) for w in workers}
    time.sleep(1.0)
    busy = max(workers, key=lambda w: cpu_seconds(w) - before[w])
    os.kill(busy, signal.SIGKILL)
    _, err = p.communicate(timeout=300)
    assert p.returncode == 1, err[-2000:]
    assert "Traceback" not in err and "BrokenProcessPool" not in err, err[-2000:]
    for seed in (0, 1):
        meta = json.loads((out / "runs" / f"ring8__long__seed{seed}" / "metrics.json").read_text())
        assert meta["status"] == "failed" and "SIGKILL" in meta["error"], meta
    assert leftovers(out) == []
    short = [r for r in finished(out) if "__long__" not in r]
    assert len(short) == SHORT_RUNS
    resume_and_compare(suite, out, reference, short)


FAILING_DISK = """
import errno, pathlib, sys
def failing(write):
    def w(self, data, *args, **kwargs):
        # the long group's history.csv: half of it reaches the disk, then the disk is full
        if "__long__" in self.parent.name and self.name.startswith(".history.csv."):
            write(self, data[: len(data) // 2], *args, **kwargs)
            raise OSError(errno.ENOSPC, "No space left on device")
        return write(self, data, *args, **kwargs)
    return w
pathlib.Path.write_text = failing(pathlib.Path.write_text)
pathlib.Path.write_bytes = failing(pathlib.Path.write_bytes)
from ganbench.cli import main
main(sys.argv[1:])
"""


def test_a_full_disk_leaves_no_half_written_run_and_says_so(suite, reference, tmp_path):
    out = tmp_path / "out"
    p = cli(suite, out, prefix=["-c", FAILING_DISK])
    _, err = p.communicate(timeout=300)
    assert p.returncode == 74, err[-2000:]
    last = err.strip().splitlines()[-1]
    assert last.startswith("ganbench: error: cannot write ") and "history.csv" in last, last
    assert "No space left on device" in last and f"({SHORT_RUNS} of 6 runs finished" in last, last
    assert "Traceback" not in err, err[-2000:]
    assert leftovers(out) == []
    # the long group's runs may hold a config.json, never a metrics.json
    short = finished(out)
    assert len(short) == SHORT_RUNS and not any("__long__" in r for r in short)
    assert not (out / "runs" / "ring8__long__seed0" / "history.csv").exists()
    resume_and_compare(suite, out, reference, short)


def test_a_second_writer_exits_2_and_a_killed_writers_lock_does_not_block(suite, reference, tmp_path):
    out = tmp_path / "out"
    first = cli(suite, out, start_new_session=True)
    try:
        wait_until(lambda: (out / ".ganbench.lock").is_file()
                   and (out / ".ganbench.lock").read_text().strip() == str(first.pid),
                   what="the first run to take the lock")
        second = subprocess.run([sys.executable, "-m", "ganbench.cli", "run", str(suite), "--out",
                                 str(out), "--no-progress"], capture_output=True, text=True, timeout=120)
        assert second.returncode == 2, second.stderr[-1000:]
        lines = [ln for ln in second.stderr.splitlines() if ln.strip()]
        assert len(lines) == 1 and f"pid {first.pid}" in lines[0], second.stderr
        os.killpg(first.pid, signal.SIGKILL)     # the writer and its workers die holding the lock
        first.wait(timeout=30)
    finally:
        if first.poll() is None:
            os.killpg(first.pid, signal.SIGKILL)
    resume_and_compare(suite, out, reference, finished(out))
