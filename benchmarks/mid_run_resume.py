"""Mid-run resume measured through the real CLI: a suite (a sweep stacked into one group,
with log_every, the G average and an lr schedule) run uninterrupted, the same suite
killed (SIGKILL to the driver and its workers) at about 60% of that wall time and run
again with the same command, and the same suite without checkpoints (the overhead of
writing them). The killed run is stopped as soon as its checkpoint reaches the given
share of the steps (so the steps lost to the kill are those after that checkpoint: none
here, at most checkpoint_every - 1 in general). Prints the diff of the resumed folder against the uninterrupted one
(summary.csv without wall_s, every history.csv and metrics.json without the wall
times and resumed_at), the step it resumed at, the wall times and the checkpoint's size.

    python benchmarks/mid_run_resume.py [--steps 2000] [--executor local] [--out DIR]
"""
from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd
import torch

SUITE = """name: resume_measure
seeds: 3
datasets: [ring8]
defaults:
  steps: {steps}
  batch_size: 128
  eval_every: {eval_every}
  log_every: 10
  checkpoint_every: {every}
  n_eval: 1000
  ema: {{decay: 0.999, start: 100}}
  generator: {{name: mlp, width: 64, depth: 2, z_dim: 8}}
  discriminator: {{name: mlp, width: 64, depth: 2}}
  optimizer: {{name: adam, lr: 0.001, betas: [0.5, 0.999], schedule: {{name: linear, fraction: 0.5}}}}
variants:
  ns: {{objective: nonsaturating}}
sweep: {{optimizer.lr: [0.0003, 0.001, 0.003, 0.01]}}
"""


def cli(suite: Path, out: Path, executor: str) -> list[str]:
    return [sys.executable, "-m", "ganbench.cli", "run", str(suite), "--out", str(out),
            "--no-progress", "--executor", executor, "--workers", "2"]


def timed(cmd: list[str]) -> float:
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - t0


def record(out: Path) -> dict:
    """Every file that must equal the uninterrupted run's, as text (wall times left out)."""
    files = {"summary.csv": pd.read_csv(out / "summary.csv").drop(columns="wall_s").to_csv()}
    for d in sorted((out / "runs").iterdir()):
        files[f"{d.name}/history.csv"] = (d / "history.csv").read_text()
        meta = json.loads((d / "metrics.json").read_text())
        for k in ("wall_s", "group_wall_s", "resumed_at"):
            meta.pop(k, None)
        files[f"{d.name}/metrics.json"] = json.dumps(meta, indent=1, sort_keys=True)
    return files


def diff(a: dict, b: dict) -> list[str]:
    return [k for k in sorted(set(a) | set(b)) if a.get(k) != b.get(k)]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=2000)
    ap.add_argument("--every", type=int, default=100, help="checkpoint_every")
    ap.add_argument("--executor", default="process",
                    help="process (default: its workers compute with one thread each, which "
                         "a busy machine disturbs least) or local")
    ap.add_argument("--kill-at", type=float, default=0.6, help="share of the steps")
    ap.add_argument("--out", type=Path, default=None)
    a = ap.parse_args()
    root = a.out or Path(tempfile.mkdtemp(prefix="resume_measure_"))
    root.mkdir(parents=True, exist_ok=True)
    text = SUITE.format(steps=a.steps, eval_every=a.steps // 4, every=a.every)
    suite, plain = root / "suite.yaml", root / "plain.yaml"
    suite.write_text(text)
    plain.write_text(text.replace(f"checkpoint_every: {a.every}", "checkpoint_every: null"))

    t_plain = timed(cli(plain, root / "no_checkpoints", a.executor))
    t_whole = timed(cli(suite, root / "whole", a.executor))
    killed = root / "killed"
    t0 = time.perf_counter()
    p = subprocess.Popen(cli(suite, killed, a.executor), stdout=subprocess.DEVNULL,
                         start_new_session=True)
    step, seen, size = 0, None, 0
    while step < a.kill_at * a.steps and p.poll() is None:
        time.sleep(0.05)
        files = list(killed.glob("checkpoints/*.pt"))
        if files and files[0].stat().st_mtime_ns != seen:
            seen, size = files[0].stat().st_mtime_ns, files[0].stat().st_size
            step = torch.load(files[0], map_location="cpu", weights_only=False)["step"]
    os.killpg(p.pid, signal.SIGKILL)
    p.wait()
    t_killed = time.perf_counter() - t0
    t_resume = timed(cli(suite, killed, a.executor))
    metas = [json.loads(m.read_text()) for m in killed.glob("runs/*/metrics.json")]
    resumed_at = sorted({m.get("resumed_at") for m in metas}, key=str)
    changed = diff(record(killed), record(root / "whole"))
    print(f"suite: 1 group of {len(metas)} stacked runs (4 lr settings x 3 seeds), {a.steps} steps, "
          f"checkpoint_every {a.every}, executor {a.executor}; folder {root}")
    print(f"uninterrupted, no checkpoints:   {t_plain:7.1f} s")
    print(f"uninterrupted, checkpoints:      {t_whole:7.1f} s  (overhead {t_whole - t_plain:+.1f} s)")
    print(f"killed after:                    {t_killed:7.1f} s  (its checkpoint at step {step} of "
          f"{a.steps}: {step / a.steps:.0%})")
    print(f"same command again (resumed):    {t_resume:7.1f} s  (resumed at step {resumed_at})")
    print(f"killed + resumed:                {t_killed + t_resume:7.1f} s")
    print(f"wall time saved by the resume:   {t_whole - t_resume:7.1f} s "
          f"(the rerun vs starting over: {t_resume / t_whole:.0%} of the uninterrupted)")
    print(f"checkpoint size:                 {size / 1e6:7.2f} MB")
    print(f"files that differ from the uninterrupted run ({len(record(killed))} compared): "
          f"{changed or 'none (empty diff)'}")


if __name__ == "__main__":
    main()
