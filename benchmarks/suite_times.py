"""The wall time of whole shipped suites, recorded in suites/wall_times.yaml (what
`ganbench list` shows): each named suite is run by `ganbench run NAME` in a fresh
results folder, as a user runs it (default executor), and its line in wall_times.yaml
is replaced with the measured seconds, the CPU, torch, cores and commit, and the hash
of the suite's settings as run. Run it under the machine's lock, nothing else running:

    flock /work/heavy.lock python benchmarks/suite_times.py ci dirac
"""
from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

from ganbench.config.shipped import WALL_TIMES, settings_hash, suites
from ganbench.harness.device import environment
from ganbench.runs.executors.base import cpu_cores

ROOT = Path(__file__).resolve().parents[1]


def measure(name: str) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-m", "ganbench.cli", "run", name, "--out",
                        str(Path(tmp) / name), "--no-progress"], check=True,
                       stdout=subprocess.DEVNULL, env={**os.environ, "PYTHONPATH": str(ROOT)})
        return time.perf_counter() - t0


def record(name: str, seconds: float) -> str:
    env = environment("cpu")
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True,
                            text=True, cwd=ROOT).stdout.strip()
    raw = yaml.safe_load(suites()[name].read_text(encoding="utf-8"))
    machine = f"{env['device_name']}, {cpu_cores()} cores, torch {env['torch']}, commit {commit}"
    line = (f"{name}: {{wall_s: {round(seconds)}, machine: \"{machine}\", "
            f"settings: {settings_hash(raw)}}}")
    path = ROOT / "suites" / WALL_TIMES
    text = path.read_text(encoding="utf-8")
    pattern = re.compile(rf"^{re.escape(name)}:.*$", re.M)
    text = pattern.sub(line, text) if pattern.search(text) else text.rstrip("\n") + "\n" + line + "\n"
    path.write_text(text, encoding="utf-8")
    return line


def main(names: list[str]) -> None:
    for name in names:
        print(record(name, measure(name)), flush=True)


if __name__ == "__main__":
    main(sys.argv[1:] or ["ci"])
