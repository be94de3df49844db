"""Shared pieces of the fault tests: a small suite of two stacked groups (a short one
and one that trains ~4x longer), the real CLI in a subprocess, its worker processes,
and the comparison of a folder with an uninterrupted run of the same suite."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

SUITE = """name: faults
seeds: 2
datasets: [ring8]
defaults: {steps: 400, batch_size: 32, eval_every: 200, n_eval: 200,
           generator: {name: mlp, width: 16, depth: 2}, discriminator: {name: mlp, width: 16, depth: 2}}
variants:
  long: {steps: 2400, eval_every: 600, regularizers: [{name: r1, weight: 1.0}]}
  plain: {objective: nonsaturating}
  ls: {objective: lsgan}
"""
#: the short group's runs (plain and ls stack into one group); `long` is the other group
SHORT_RUNS = 4
ARGS = ["--executor", "process", "--workers", "2", "--no-progress"]


def cli(suite: Path, out: Path, prefix: list[str] | None = None, args: list[str] = ARGS,
        **popen) -> subprocess.Popen:
    """``ganbench run`` in a subprocess (``prefix`` replaces ``-m ganbench.cli``)."""
    return subprocess.Popen([sys.executable, *(prefix or ["-m", "ganbench.cli"]), "run", str(suite),
                             "--out", str(out), *args],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, **popen)


def finished(out: Path) -> list[str]:
    return sorted(p.parent.name for p in (out / "runs").glob("*/metrics.json"))


def wait_until(cond, timeout: float = 180, what: str = "") -> None:
    t0 = time.time()
    while not cond():
        assert time.time() - t0 < timeout, f"timed out waiting for {what}"
        time.sleep(0.1)


def _stat(pid: int) -> list[str] | None:
    """/proc/<pid>/stat's fields after the command name (state, ppid, ...), or None."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None


def parent_of(pid: int) -> int | None:
    fields = _stat(pid)
    return int(fields[1]) if fields else None


def commands():
    """(pid, command line) of every process there is."""
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                yield int(d.name), (d / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            except OSError:
                continue


def children(pid: int, kind: str = "spawn_main") -> list[int]:
    """Processes whose parent is ``pid`` and whose command line holds ``kind``: the pool
    workers (not the resource tracker) by default."""
    return [p for p, cmd in commands()
            if kind in cmd and "resource_tracker" not in cmd and parent_of(p) == pid]


def descends_from(pid: int, ancestor: int) -> bool:
    while pid and pid > 1:
        if pid == ancestor:
            return True
        pid = parent_of(pid)
    return False


def cpu_seconds(pid: int) -> float:
    """CPU time a process has used (user + system): progress that a loaded machine's
    wall clock does not tell."""
    fields = _stat(pid)
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def leftovers(out: Path) -> list[str]:
    """Temporary files a write left behind."""
    return [str(p) for p in out.rglob("*.tmp")]


def metric_frame(out: Path) -> pd.DataFrame:
    """summary.csv without the wall times, rows by run id."""
    df = pd.read_csv(out / "summary.csv").drop(columns=["wall_s"]).set_index("run_id").sort_index()
    return df


def assert_same_as_uninterrupted(out: Path, reference: Path) -> None:
    """Every run finished, with the numbers of the uninterrupted run (same executor and
    thread count, the same groups: bit-for-bit on one machine)."""
    got, want = metric_frame(out), metric_frame(reference)
    assert list(got.index) == list(want.index)
    assert set(got.status) == {"ok"}
    num = want.select_dtypes("number").columns
    np.testing.assert_array_equal(got[num].to_numpy(), want[num].to_numpy())
    pd.testing.assert_frame_equal(got.drop(columns=num), want.drop(columns=num))


def mtimes(out: Path, runs: list[str]) -> dict:
    return {r: (out / "runs" / r / "metrics.json").stat().st_mtime_ns for r in runs}


def gone(pids: list[int]) -> bool:
    for p in pids:
        try:
            os.kill(p, 0)
        except ProcessLookupError:
            continue
        fields = _stat(p)
        if fields and fields[0] != "Z":    # a zombie waiting for its parent's wait() is gone
            return False
    return True


def one_group_failed(out: Path) -> str:
    """After a worker died in a suite of two groups (two variants x 2 seeds): every run is
    recorded, one variant's runs all ``failed``, the other's all ``ok``; returns the failed
    runs' error message."""
    summary = pd.read_csv(out / "summary.csv")
    assert len(summary) == 4
    by_variant = summary.groupby("variant").status.agg(set).to_dict()
    assert set(map(frozenset, by_variant.values())) == {frozenset({"failed"}), frozenset({"ok"})}
    failed = summary[summary.status == "failed"].run_id.iloc[0]
    return json.loads((out / "runs" / failed / "metrics.json").read_text())["error"]


def rerun_completes_the_failed(out: Path, again: subprocess.Popen) -> None:
    """``again`` (the same command, started after :func:`one_group_failed`) exits 0 with
    every run ok, and trains only the failed ones (the ok runs' records are untouched)."""
    summary = pd.read_csv(out / "summary.csv")
    ok_before = mtimes(out, list(summary[summary.status == "ok"].run_id))
    _, err = again.communicate(timeout=300)
    assert again.returncode == 0, err[-2000:]
    summary = pd.read_csv(out / "summary.csv")
    assert set(summary.status) == {"ok"} and len(summary) == 4
    assert mtimes(out, list(ok_before)) == ok_before
