"""A DCGAN on the digits at 32x32 with FID, KID and class coverage on the device.

``digits.yaml`` is suites/digits.yaml's nonsaturating row (3 seeds, 400 steps on a
GPU; a few steps on a CPU). Nothing is downloaded: the digits are scikit-learn's
bundled file, and FID/KID use the digit classifier's features (``features: digits``),
which ganbench trains once on the digits' train split and keeps in its cache
(``$GANBENCH_CACHE``, default ``~/.cache/ganbench``); the first self-test on a machine
trains it (a minute or so on a CPU, less on a GPU). torch-fidelity computes the
features under the run's GPU, and every run's config.json records the device it ran on.
"""
from __future__ import annotations

import json
import math
import tempfile
import time
from pathlib import Path

import torch

from ..config.suite import parse_suite
from ..layout import run_dir
from ..runs.api import run
from ..runs.groups import pending_groups
from .budget import Budget, sized
from .speed import inspect_group


def digits_part(out: Path, device: str, budget: Budget) -> dict:
    raw = sized("digits", budget)
    t0 = time.perf_counter()
    summary = run(raw, out=out / "digits", device=device, force=True)
    wall = time.perf_counter() - t0
    runs = []
    for r in summary.itertuples():
        cfg = run_dir(out / "digits", r.run_id) / "config.json"
        record = json.loads(cfg.read_text()) if cfg.is_file() else {}
        row = {"run": r.run_id, "status": r.status, "device": record.get("device"),
               "device_name": record.get("environment", {}).get("device_name"),
               "wall_s": float(r.wall_s)}
        for m in ("fid", "kid", "modes_captured", "classifier_accuracy"):
            v = getattr(r, m, None)
            row[m] = None if v is None or v != v else float(v)
        runs.append(row)
    dev = torch.device(device)
    group = pending_groups(Path(tempfile.mkdtemp(prefix="selftest-groups-")),
                           parse_suite(raw).specs)[0]
    step = inspect_group(group, dev, budget.timed_steps)
    problems = [f"{x['run']}: {x['status']}" for x in runs if x["status"] != "ok"]
    problems += [f"{x['run']}: fid {x['fid']}" for x in runs
                 if x["status"] == "ok" and (x["fid"] is None or not math.isfinite(x["fid"]))]
    problems += [f"{x['run']}: trained on {x['device']}" for x in runs
                 if x["device"] is not None and torch.device(x["device"]).type != dev.type]
    problems += [f"DCGAN: {t}" for t in step["placement"]["off_device"][:3]]
    problems += [f"DCGAN: {step['host_syncs']} host syncs in 3 steps"] if step["host_syncs"] else []
    return {"status": "failed" if problems else "passed", "problems": problems,
            **budget.digits, "seeds": budget.digits_seeds,
            "wall_s": round(wall, 1), "out": str(out / "digits"), "runs": runs, "step": step}


def summary_line(part: dict) -> str:
    if "runs" not in part:
        return part.get("reason", "")
    ok = [r for r in part["runs"] if r["fid"] is not None]

    def spread(key, fmt):
        v = [r[key] for r in ok if r[key] is not None]
        return "-" if not v else f"{fmt(min(v))}-{fmt(max(v))}" if len(v) > 1 else fmt(v[0])
    st = part["step"]
    return (f"{len(part['runs'])} runs x {part['steps']} steps in {part['wall_s']:.0f} s on "
            f"{part['runs'][0]['device_name'] if part['runs'] else '?'}: "
            f"fid {spread('fid', lambda x: f'{x:.0f}')}, kid {spread('kid', lambda x: f'{x:.0f}')}, "
            f"classes {spread('modes_captured', lambda x: f'{x:.0f}')} of 10; a step "
            f"{st['ms_per_step']:.1f} ms, {st['aten_kernels']} kernels, every tensor on the device: "
            f"{'no' if st['placement']['off_device'] else 'yes'}")
