"""One suite through several executors, side by side: each one's wall time (the
``ganbench run`` command, from start to exit) and whether its summary.csv equals the
first executor's, wall times left out. ``slurm`` needs a cluster (SLURM_CONF; e.g.
``python tests/helpers/slurm_cluster.py DIR`` on this machine). Run it under the lock:

    flock /work/heavy.lock python benchmarks/executors_agree.py SUITE.yaml \\
        --executors local,process,ray,slurm
"""
from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

#: columns that say how long something took, not what it computed
TIMES = ["wall_s", "group_wall_s"]


def run(suite: str, executor: str, out: Path) -> float:
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-m", "ganbench.cli", "run", suite, "--out", str(out),
                    "--no-progress", "--executor", executor], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - t0


def differs(a: pd.DataFrame, b: pd.DataFrame) -> str:
    """'' if equal, else the columns (and rows) that differ."""
    a, b = (x.drop(columns=[c for c in TIMES if c in x]) for x in (a, b))
    if list(a.columns) != list(b.columns) or len(a) != len(b):
        return "other columns or runs"
    bad = [c for c in a if not a[c].equals(b[c])]
    return ", ".join(bad)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("suite")
    ap.add_argument("--executors", default="local,process,ray,slurm")
    args = ap.parse_args()
    names = args.executors.split(",")
    with tempfile.TemporaryDirectory() as tmp:
        walls, summaries = {}, {}
        for name in names:
            walls[name] = run(args.suite, name, Path(tmp) / name)
            summaries[name] = pd.read_csv(Path(tmp) / name / "summary.csv")
        first = names[0]
        print(f"{args.suite}: {len(summaries[first])} runs")
        print(f"{'executor':10s} {'wall s':>7s}  summary.csv (wall times left out) against {first}")
        for name in names:
            diff = differs(summaries[first], summaries[name])
            print(f"{name:10s} {walls[name]:7.1f}  {'identical' if not diff else 'differs: ' + diff}")


if __name__ == "__main__":
    main()
