"""The bit-for-bit repeat: ``ganbench run repeat.yaml --deterministic`` twice, each in a
fresh process on the device, then every run's files compared.

A fresh process each time, as a user runs it: ``--deterministic`` must take effect
before CUDA's libraries start (cuBLAS reads its workspace setting when its handle is
made), which in the self-test's own process has already happened. Equal means, per run:
``history.csv`` byte for byte, ``metrics.json``'s metrics exactly (the wall times and
where it ran left out) and every tensor of ``model.pt`` bit for bit (G, D, averaged G).
"""
from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import torch

from .budget import Budget, sized

#: the run record's fields that differ between two runs of the same suite by design
VOLATILE = {"wall_s", "group_wall_s"}


def run_once(suite: Path, out: Path, device: str) -> tuple[int, float, str]:
    cmd = [sys.executable, "-m", "ganbench.cli", "run", str(suite), "--out", str(out),
           "--device", device, "--deterministic", "--force", "--no-progress"]
    t0 = time.perf_counter()
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=1800)
    return p.returncode, time.perf_counter() - t0, (p.stdout + p.stderr)[-2000:]


def bits(t: torch.Tensor) -> torch.Tensor:
    """A tensor's bytes (so NaN payloads and -0.0 count, as a file's bytes would)."""
    return t.detach().contiguous().reshape(-1).view(torch.uint8)


def tensors_equal(a, b) -> bool:
    """Nested dicts/lists of tensors and plain values, equal bit for bit."""
    if isinstance(a, torch.Tensor):
        return (isinstance(b, torch.Tensor) and a.dtype == b.dtype and a.shape == b.shape
                and torch.equal(bits(a), bits(b)))
    if isinstance(a, dict):
        return isinstance(b, dict) and a.keys() == b.keys() and all(tensors_equal(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)):
        return isinstance(b, (list, tuple)) and len(a) == len(b) and all(map(tensors_equal, a, b))
    return a == b or (a != a and b != b)          # NaN equals NaN here


def differences(a: Path, b: Path) -> dict[str, list[str]]:
    """Per run id of folder ``a``: the files (and fields) that differ in folder ``b``."""
    diffs: dict[str, list[str]] = {}
    for run in sorted(p.name for p in (a / "runs").iterdir() if p.is_dir()):
        ra, rb, bad = a / "runs" / run, b / "runs" / run, []
        if not rb.is_dir():
            diffs[run] = ["missing in the second run"]
            continue
        if (ra / "history.csv").read_bytes() != (rb / "history.csv").read_bytes():
            bad.append("history.csv")
        ma, mb = (json.loads((r / "metrics.json").read_text()) for r in (ra, rb))
        for key in sorted(set(ma) | set(mb)):
            if key in VOLATILE:
                continue
            if key == "metrics":
                bad += [f"metrics.{m}" for m in sorted(set(ma[key]) | set(mb[key]))
                        if not tensors_equal(ma[key].get(m), mb[key].get(m))]
            elif ma.get(key) != mb.get(key):
                bad.append(f"metrics.json {key}")
        if (ra / "model.pt").is_file():
            load = lambda r: torch.load(r / "model.pt", map_location="cpu", weights_only=False)  # noqa: E731
            if not tensors_equal(load(ra), load(rb)):
                bad.append("model.pt")
        diffs[run] = bad
    return diffs


def repeat_part(out: Path, device: str, budget: Budget) -> dict:
    import yaml
    folder = out / "repeat"
    folder.mkdir(parents=True, exist_ok=True)
    suite = folder / "repeat.yaml"
    suite.write_text(yaml.safe_dump(sized("repeat", budget), sort_keys=False))
    walls = []
    for name in ("first", "second"):
        code, wall, tail = run_once(suite, folder / name, device)
        walls.append(round(wall, 1))
        if code != 0:
            return {"status": "failed", "problems": [f"the {name} run exited {code}"],
                    "output": tail, "wall_s": walls}
    diffs = differences(folder / "first", folder / "second")
    differing = {r: d for r, d in diffs.items() if d}
    return {"status": "failed" if differing or not diffs else "passed",
            "problems": [f"{r}: {', '.join(d[:5])}" for r, d in differing.items()],
            "runs": len(diffs), "equal": len(diffs) - len(differing), "steps": budget.repeat["steps"],
            "wall_s": walls, "out": str(folder), "compared": "history.csv, metrics.json, model.pt"}


def summary_line(part: dict) -> str:
    if "runs" not in part:
        return "; ".join(part.get("problems", [])) or part.get("reason", "")
    return (f"{part['equal']} of {part['runs']} runs equal bit for bit ({part['compared']}); "
            f"two runs of {part['wall_s'][0]:.0f} s and {part['wall_s'][1]:.0f} s")
