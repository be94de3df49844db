"""The GPU-relevant tests of the source checkout, run with pytest in a child process.

The tests ship in the repository, not in the wheel. The checkout is found at
``--tests PATH`` (a checkout, or its ``tests/`` folder), else where the imported
``ganbench`` package lies (``pip install -e .`` or ``PYTHONPATH``), else in the current
folder. From an installed wheel there is none: the tests are reported ``skipped``,
with why and how to run them, and the self-test's own checks (device placement and
host syncs on the device, the timed suite, FID on the device, the bit-for-bit repeat)
still run from the package. pytest missing is a skip of the same kind.

The tests stand in for a GPU on a CPU (simulated CUDA, a host-sync counter); on a GPU
machine they check that what they simulate still holds with that machine's torch.
"""
from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from pathlib import Path

#: the imported ganbench package's folder
PACKAGE = Path(__file__).resolve().parents[1]
#: test files (or test ids) that check what a GPU depends on
GPU_TESTS = [
    "tests/harness/test_host_syncs.py",       # no training step waits for the device
    "tests/harness/test_fid_on_cuda.py",      # FID's extractor moves to the run's GPU
    "tests/runs/test_gpu_workers.py",         # one GPU per worker, Ray GPU tasks, cuda:N checked
    "tests/runs/test_deterministic.py",       # --deterministic reaches every worker
]
MARKER = GPU_TESTS[0]


def find_checkout(given: str | Path | None = None) -> tuple[Path | None, str]:
    """The checkout whose tests to run, and how it was found (or why there is none)."""
    if given is not None:
        p = Path(given).resolve()
        root = p.parent if p.name == "tests" else p
        if (root / MARKER).is_file():
            return root, f"--tests {given}"
        return None, f"--tests {given}: no {MARKER} there"
    for root, how in ((PACKAGE.parent, "beside the imported ganbench package"),
                      (Path.cwd().resolve(), "in the current folder")):
        if (root / MARKER).is_file() and (root / "ganbench").is_dir():
            return root, how
    return None, ("tests/ ships with the source checkout, not with the installed package "
                  f"({PACKAGE}); run from a checkout "
                  "(git clone ...; pip install -e '.[test]') or pass --tests PATH")


def junit_results(xml_file: Path) -> list[dict]:
    """(test id, outcome, seconds, message) of each test case in pytest's JUnit XML."""
    out = []
    for case in ET.parse(xml_file).getroot().iter("testcase"):
        module = (case.get("classname") or "").replace(".", "/")
        outcome, message = "passed", ""
        for kind in ("failure", "error", "skipped"):
            el = case.find(kind)
            if el is not None:
                outcome = {"failure": "failed", "error": "error", "skipped": "skipped"}[kind]
                message = (el.get("message") or "").splitlines()[0][:300] if el.get("message") else ""
                break
        out.append({"test": f"{module}.py::{case.get('name')}", "outcome": outcome,
                    "seconds": round(float(case.get("time") or 0), 2), "message": message})
    return out


def run_tests(out: Path, given: str | Path | None = None, tests: list[str] | None = None,
              timeout: float = 1200) -> dict:
    """Run ``tests`` (default :data:`GPU_TESTS`, end-to-end ones included) of the checkout;
    the part of the report: status passed, failed or skipped, and each test's outcome."""
    root, how = find_checkout(given)
    if root is None:
        return {"status": "skipped", "reason": how}
    if importlib.util.find_spec("pytest") is None:
        return {"status": "skipped", "checkout": str(root),
                "reason": "pytest is not installed: pip install 'ganbench[test]'"}
    tests = list(tests or GPU_TESTS)
    xml_file = out / "tests.xml"
    cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-m", "",
           f"--junitxml={xml_file}", "--basetemp", str(out / "pytest-tmp"), *tests]
    t0 = time.perf_counter()
    try:
        proc = subprocess.run(cmd, cwd=root, capture_output=True, text=True, timeout=timeout,
                              env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"})
    except subprocess.TimeoutExpired:
        return {"status": "failed", "checkout": str(root), "found": how,
                "reason": f"pytest did not finish in {timeout:.0f} s"}
    wall = time.perf_counter() - t0
    (out / "tests.log").write_text(proc.stdout + proc.stderr)
    cases = junit_results(xml_file) if xml_file.is_file() else []
    counts = {k: sum(c["outcome"] == k for c in cases)
              for k in ("passed", "failed", "error", "skipped")}
    bad = counts["failed"] + counts["error"]
    status = "failed" if bad or proc.returncode != 0 or not cases else "passed"
    part = {"status": status, "checkout": str(root), "found": how, "command": " ".join(cmd[2:]),
            "counts": counts, "wall_s": round(wall, 1), "tests": cases, "log": str(out / "tests.log")}
    if not cases:
        tail = (proc.stdout + proc.stderr).strip().splitlines()
        part["reason"] = (f"pytest exited {proc.returncode} without results"
                          + (f": {tail[-1][:300]}" if tail else ""))
    return part


def summary_line(part: dict) -> str:
    if part["status"] == "skipped" or "counts" not in part:
        return part.get("reason", "")
    c = part["counts"]
    text = ", ".join(f"{n} {k}" for k, n in c.items() if n)
    failed = [t["test"] for t in part["tests"] if t["outcome"] in ("failed", "error")]
    return text + (f" ({'; '.join(failed[:3])})" if failed else "") + f", tests of {part['checkout']}"
