"""The self-test's command line: ``python -m ganbench.selftest [--device cuda] [--out DIR]``."""
from __future__ import annotations

import argparse
import dataclasses
import json
import platform
import sys
import time
import traceback
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

from ..errors import InputError
from .budget import budget_for
from .checkout_tests import run_tests
from .checkout_tests import summary_line as tests_line
from .digits_fid import digits_part
from .digits_fid import summary_line as digits_line
from .repeat import repeat_part
from .repeat import summary_line as repeat_line
from .speed import mog_part, summary_lines as mog_lines

PARTS = ("tests", "mog", "digits", "repeat")


class Parser(argparse.ArgumentParser):
    def error(self, message):               # one line, exit 2 (no usage block)
        print(f"ganbench.selftest: {message}; see python -m ganbench.selftest --help", file=sys.stderr)
        sys.exit(2)


def parse(argv: list[str]) -> argparse.Namespace:
    p = Parser(prog="python -m ganbench.selftest", description=__doc__)
    p.add_argument("--device", default="auto", help="cuda, cuda:N, cpu or auto (default: CUDA when present)")
    p.add_argument("--out", type=Path, default=Path("results/selftest"),
                   help="folder for the report and the runs (default: results/selftest)")
    p.add_argument("--tests", default=None, metavar="PATH",
                   help="the source checkout whose tests to run (default: found beside the package)")
    p.add_argument("--skip", action="append", default=[], choices=PARTS, metavar="PART",
                   help=f"leave out a part ({', '.join(PARTS)}); repeatable")
    return p.parse_args(argv)


def environment(device: str) -> dict:
    import torch

    from ..harness.device import environment as where
    try:
        from importlib.metadata import version
        ganbench_version = version("ganbench")
    except Exception:                       # noqa: BLE001 - run from a checkout, not installed
        ganbench_version = "not installed"
    return {**where(device), "cpu": where("cpu")["device_name"], "python": platform.python_version(),
            "platform": platform.platform(), "ganbench": ganbench_version,
            "gpus": torch.cuda.device_count() if torch.cuda.is_available() else 0}


def guarded(part: Callable[[], dict]) -> dict:
    """A part's result; an exception in it fails that part (with its traceback), not the
    self-test."""
    t0 = time.perf_counter()
    try:
        result = part()
    except Exception as e:                  # noqa: BLE001 - reported in the part
        result = {"status": "failed", "problems": [f"{type(e).__name__}: {e}".splitlines()[0]],
                  "traceback": traceback.format_exc()}
    result.setdefault("seconds", round(time.perf_counter() - t0, 1))
    return result


LINES = {"tests": lambda p: [tests_line(p)], "mog": mog_lines,
         "digits": lambda p: [digits_line(p)], "repeat": lambda p: [repeat_line(p)]}


def summary(report: dict) -> str:
    env = report["environment"]
    head = (f"ganbench self-test on {report['device']} ({env['device_name']}; torch {env['torch']}"
            + (f", CUDA {env['cuda']}, cuDNN {env['cudnn']}" if report["device"].startswith("cuda") else "")
            + f", {env['threads']} threads): {report['verdict'].upper()} in {report['wall_s']:.0f} s")
    lines = [head]
    for name, part in report["parts"].items():
        body = LINES[name](part) if part["status"] != "skipped" or name == "tests" else [part["reason"]]
        if part["status"] == "failed" and part.get("problems"):
            body = ["; ".join(part["problems"][:4])] + body[1:]
        lines.append(f"  {name:7} {part['status']:8} {part.get('seconds', 0):5.0f} s  {body[0]}")
        lines += [f"{'':26}{b}" for b in body[1:]]
    lines.append(f"report: {report['report']}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    args = parse(sys.argv[1:] if argv is None else argv)
    from ..runs.api import resolve_device
    try:
        device = resolve_device(args.device)
    except InputError as e:
        print(f"ganbench.selftest: {e}", file=sys.stderr)
        return 2
    out = args.out
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        print(f"ganbench.selftest: --out {out}: cannot create it ({e.strerror}); choose a writable folder.",
              file=sys.stderr)
        return 2
    budget = budget_for(device)
    started = datetime.now(timezone.utc).isoformat(timespec="seconds")
    t0 = time.perf_counter()
    runs = {"tests": lambda: run_tests(out, args.tests),
            "mog": lambda: mog_part(out, device, budget),
            "digits": lambda: digits_part(out, device, budget),
            "repeat": lambda: repeat_part(out, device, budget)}
    parts = {}
    for name in PARTS:
        if name in args.skip:
            parts[name] = {"status": "skipped", "reason": "--skip " + name}
            continue
        print(f"ganbench.selftest: {name} ...", file=sys.stderr, flush=True)
        parts[name] = guarded(runs[name])
    statuses = {p["status"] for p in parts.values()}
    verdict = "failed" if "failed" in statuses else "passed" if "passed" in statuses else "skipped"
    report = {"device": device, "verdict": verdict, "wall_s": round(time.perf_counter() - t0, 1),
              "started": started,
              "command": "python -m ganbench.selftest " + " ".join(sys.argv[1:] if argv is None else argv),
              "budget": dataclasses.asdict(budget), "environment": environment(device), "parts": parts,
              "report": str(out / "selftest.json")}
    (out / "selftest.json").write_text(json.dumps(report, indent=1, default=str))
    print(summary(report))
    return 1 if verdict == "failed" else 0


if __name__ == "__main__":
    sys.exit(main())
