"""What a run costs its worker once training ends, per run: this checkout beside
another (``--before OLD``), measured side by side in one run.

    python benchmarks/end_of_run.py                          # this checkout, ~1 minute
    python benchmarks/end_of_run.py --before /work/wt/base   # and OLD, A B A B ...

Each checkout is measured in fresh processes of its own (PYTHONPATH=checkout, one torch
thread, as a worker of `ganbench run` on a 2-core CPU), the checkouts taking turns
(``--rounds`` each), and the median is printed:

- each end-of-run picture alone (the same samples for both checkouts): samples.png of
  ring8 and grid25 (2,500 generated points over 2,500 of the data), of a diverged run
  (data only), an image run's (8 × 8 digits, generated beside data) and the vanishing
  probe's curves (4 checkpoints × 1,000 D steps);
- the first picture of a process, imports included (matplotlib's, where it is used);
- a real group at its end: ring8 × 12 runs of suites/ci.yaml's networks (R1, 100 steps,
  one evaluation on 2,500 samples): the whole end of the run (the last evaluation, D and
  D* on the plane, model.pt, history and files) and the run files alone, per run.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def pictures() -> dict:
    """Milliseconds per picture, the median of 5 (the first, imports included, apart)."""
    import numpy as np
    import pandas as pd
    import torch
    from ganbench.data import datasets
    from ganbench.harness.checkpoints import checkpoint_probes
    rng = np.random.default_rng(0)

    def mixture(name, kept):
        ds = datasets.build({"name": name}, "d")
        real = ds.sample(2500, torch.Generator().manual_seed(0)).numpy()
        k = np.array(kept)[rng.integers(len(kept), size=2500)]
        fake = ds.centres[k] + rng.normal(0, 1.5, (2500, 2)) * ds.stds[k][:, None]
        return ds, real, fake
    ring, real8, fake8 = mixture("ring8", [0, 1, 2, 4, 5, 7])
    grid, real25, fake25 = mixture("grid25", list(range(0, 25, 2)))
    digits = datasets.build({"name": "digits"}, "d")
    real_img = digits.sample(64, torch.Generator().manual_seed(0)).numpy()
    fake_img = np.clip(real_img + rng.normal(0, 0.5, real_img.shape), -1, 1)
    probe = checkpoint_probes.build({"name": "vanishing", "at": [0, 100, 500, 2500], "d_steps": 1000})
    d = np.arange(1, 1001)
    table = pd.concat([pd.DataFrame({"checkpoint": c, "d_step": d,
                                     "grad_saturating": 0.1 * np.exp(-d / (200 + c)),
                                     "grad_nonsaturating": np.ones(len(d)),
                                     "d_real": 0.5, "d_fake": 0.5}) for c in probe.at])
    cases = {"samples.png ring8": lambda: plots.samples_png(ring, real8, fake8, "ring8 (ok, step 2500)"),
             "samples.png grid25": lambda: plots.samples_png(grid, real25, fake25, "grid25 (ok, step 2500)"),
             "samples.png diverged": lambda: plots.samples_png(ring, real8, None, "ring8 (diverged)"),
             "samples.png digits": lambda: plots.image_samples_png(digits, real_img, fake_img, "digits"),
             "vanishing.png": lambda: probe.plot(table, "ring8: vanishing")}
    t0 = time.perf_counter()
    from ganbench.harness import plots
    plots.samples_png(ring, real8, fake8, "ring8 (ok, step 2500)")
    out = {"first samples.png of a process, its imports included": 1e3 * (time.perf_counter() - t0)}
    for name, draw in cases.items():
        draw()
        times = []
        for _ in range(5):
            t1 = time.perf_counter()
            draw()
            times.append(1e3 * (time.perf_counter() - t1))
        out[name] = statistics.median(times)
    return out


def group_end() -> dict:
    """Milliseconds per run at the end of a real group of 12 runs."""
    import dataclasses
    import torch
    from ganbench.config.suite import load_suite
    from ganbench.harness import loop as loop_mod, recorder
    torch.set_num_threads(1)
    specs = [s for s in load_suite(ROOT / "suites" / "ci.yaml").specs
             if s.variant == "nonsaturating_r1"]
    spent = {"files": 0.0, "end": 0.0}

    def timed(fn, key):
        def wrapped(*a, **k):
            t0 = time.perf_counter()
            try:
                return fn(*a, **k)
            finally:
                spent[key] += time.perf_counter() - t0
        return wrapped
    recorder.run_artifacts = timed(recorder.run_artifacts, "files")
    loop = loop_mod.Loop(specs[0].dataset_spec(),
                         [dataclasses.replace(s.config, steps=100, eval_every=100) for s in specs],
                         [s.seed for s in specs], names=[s.run_id for s in specs])
    loop._results = timed(loop._results, "end")
    loop.run()
    n = len(specs)
    return {"end of run after the last evaluation, per run": 1e3 * spent["end"] / n,
            "  of which the run files (pictures, tables)": 1e3 * spent["files"] / n}


def child() -> None:
    out = pictures()
    out.update(group_end())
    print(json.dumps(out))


def measure(checkout: Path) -> dict:
    env = dict(os.environ, PYTHONPATH=str(checkout), OMP_NUM_THREADS="1")
    done = subprocess.run([sys.executable, __file__, "--child"], env=env, cwd=ROOT,
                          capture_output=True, text=True)
    if done.returncode:
        raise SystemExit(f"{checkout}: {done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--before", metavar="OLD", help="another checkout, measured in turn with this one")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        child()
        return
    import torch
    checkouts = ([("before", Path(args.before).resolve())] if args.before else []) + [("now", ROOT)]
    got: dict = {name: [] for name, _ in checkouts}
    for _ in range(args.rounds):
        for name, path in checkouts:
            got[name].append(measure(path))
    cpu = next((ln.split(":", 1)[1].strip() for ln in open("/proc/cpuinfo")
                if ln.startswith("model name")), "?") if os.path.exists("/proc/cpuinfo") else "?"
    print(f"torch {torch.__version__}, {cpu}, one thread; median of {args.rounds} rounds, "
          "the checkouts in turn; ms")
    keys = list(got["now"][0])
    head = "".join(f"{name + (' (' + path.name + ')' if name == 'before' else ''):>18}"
                   for name, path in checkouts)
    print(f"{'':50}{head}" + ("   ratio" if args.before else ""))
    for k in keys:
        vals = [statistics.median(r[k] for r in got[name]) for name, _ in checkouts]
        ratio = f"{vals[0] / vals[-1]:7.1f}x" if args.before and vals[-1] > 0 else ""
        print(f"{k:50}" + "".join(f"{v:18.1f}" for v in vals) + ratio)


if __name__ == "__main__":
    main()
