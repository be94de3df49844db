"""Measure the cost model's coefficients (ganbench/runs/costs.py) on this machine.

    python benchmarks/costs.py                 # ~8 minutes on a 2-core CPU: measure, fit, write
    python benchmarks/costs.py --fit-only      # fit again from benchmarks/costs.csv

Trains a set of small stacks chosen to move each of the model's terms: suites/mog.yaml's
networks and settings, then one thing changed at a time (stack depth 1 to 48, n_critic
5, R1, WGAN-GP, a relativistic loss, PacGAN, width 128, depth 2, batch 256, G's
average, an unrolled update, grid25, n_eval 500, the converged suite's settings, four
objectives in one stack, twelve optimizer settings in one stack). Each
stack trains as a worker of `ganbench run` trains a group (runs/training.train_group,
one torch thread) and is recorded as its driver records it (Job.record: the run
folders and summary.csv).

Each stack is measured twice (the set in order, then reversed) and each part keeps its
lesser time. The load is held steady: on a machine of several cores, a worker on one core measures
while every other core trains a companion (suites/mog.yaml's 20-run group of ring8,
evaluating every 100 steps, for as long as the measurement lasts), as the other
workers of a suite do. Two workers measuring side by side instead would each measure
the other's changing load (on this 2-core machine a small stack's step took up to
5 times longer beside a large one).
Per stack it keeps:

- build: making the stack (Loop's parts, the evaluation batches);
- step: seconds per training step, from step 40 to 120 (warm), periodic evaluations out;
- evaluation: seconds per periodic evaluation (at steps 40 and 80);
- end: the last evaluation, the end of the run (D maps, model.pt, files), the run
  folders' making in the worker and their writing by the driver.

Each part is fitted by least squares on relative errors (coefficients >= 0, a soft-L1
loss so that a measurement a burst of load slowed weighs little) to its terms of the
model, and the coefficients are written with their provenance into
ganbench/runs/costs.json under this device kind; the fit's error per stack is printed.
"""
from __future__ import annotations

import argparse
import copy
import csv
import json
import multiprocessing as mp
import os
import platform
import tempfile
import time
from datetime import date
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
CSV = ROOT / "benchmarks" / "costs.csv"
STEPS, EVERY = 120, 40

BASE = {"steps": STEPS, "eval_every": EVERY, "batch_size": 128, "n_eval": 2500,
        "objective": "nonsaturating",
        "generator": {"name": "mlp", "width": 64, "depth": 3, "z_dim": 16, "activation": "relu"},
        "discriminator": {"name": "mlp", "width": 64, "depth": 3, "activation": "leaky_relu"},
        "optimizer": {"name": "adam", "lr": 0.001, "betas": [0.5, 0.999]}}
R1 = {"regularizers": [{"name": "r1", "weight": 1.0}]}
#: four objectives in one stack, and twelve optimizer settings (sensitivity.yaml's grid)
OBJECTIVES = {v: {"objective": v} for v in ("minimax", "nonsaturating", "lsgan", "hinge")}
SETTINGS = {f"s{i}": {"optimizer": {"name": "adam", "lr": lr, "betas": b}}
            for i, (lr, b) in enumerate((lr, b) for lr in (1e-4, 3e-4, 1e-3, 3e-3)
                                        for b in ([0.0, 0.9], [0.5, 0.999], [0.9, 0.999]))}
#: (name, dataset, changes to BASE, stack depths[, variants: the runs spread over them])
CASES = [
    ("nonsaturating", "ring8", {}, [1, 4, 12, 24, 48]),
    ("wgan n_critic 5", "ring8", {"objective": {"name": "wgan", "clip": 0.01}, "n_critic": 5,
                                  "optimizer": {"name": "rmsprop", "lr": 0.0005}}, [1, 12, 24]),
    ("r1", "ring8", R1, [1, 12, 24]),
    ("wgan_gp n_critic 5", "ring8", {"objective": {"name": "wgan_gp", "gp_weight": 0.1},
                                     "n_critic": 5}, [1, 12, 24]),
    ("relativistic", "ring8", {"objective": "relativistic"}, [1, 24]),
    ("pacgan2", "ring8", {"discriminator": {"name": "pacgan", "packing": 2, "width": 64,
                                            "depth": 3, "activation": "leaky_relu"}}, [1, 24]),
    ("width 128", "ring8", {"generator": {"name": "mlp", "width": 128, "depth": 3, "z_dim": 16},
                            "discriminator": {"name": "mlp", "width": 128, "depth": 3}}, [1, 12, 24]),
    ("depth 2", "ring8", {"generator": {"name": "mlp", "width": 64, "depth": 2, "z_dim": 16},
                          "discriminator": {"name": "mlp", "width": 64, "depth": 2}}, [1, 24]),
    ("batch 256", "ring8", {"batch_size": 256}, [1, 24]),
    ("ema", "ring8", {"ema": {"decay": 0.999}}, [1, 24]),
    ("unrolled k 3", "ring8", {"update": {"name": "unrolled", "k": 3}}, [1, 12]),
    ("grid25", "grid25", {}, [1, 24]),
    ("n_eval 500", "ring8", {"n_eval": 500}, [4, 24]),
    ("converged r1", "grid25", {**R1, "batch_size": 256, "ema": {"decay": 0.999, "evaluate": True},
                                "optimizer": {"name": "adam", "lr": 0.002, "betas": [0.5, 0.999],
                                              "schedule": {"name": "linear", "fraction": 0.5}}},
     [3, 9]),
    ("4 objectives", "ring8", {}, [4, 24], OBJECTIVES),
    ("12 optimizer settings", "ring8", {}, [12, 24], SETTINGS),
]
PARTS = ("build", "step", "eval", "end")


def suite_of(dataset: str, changes: dict, runs: int, variants: dict | None = None) -> dict:
    """A suite of ``runs`` runs: BASE with ``changes``, the runs spread evenly over
    ``variants`` (default one)."""
    variants = variants or {"v": {}}
    return {"name": "costs", "seeds": runs // len(variants), "datasets": [dataset],
            "defaults": {**copy.deepcopy(BASE), **copy.deepcopy(changes)},
            "variants": copy.deepcopy(variants)}


def measure(case: tuple, runs: int) -> dict:
    """Train one stack as a worker does and record it as the driver does; its parts' seconds."""
    from ganbench.config.suite import parse_suite
    from ganbench.harness import loop as loop_mod
    from ganbench.runs import training
    from ganbench.runs.executors.base import Job
    from ganbench.runs.groups import Group
    name, dataset, changes = case[:3]
    suite = parse_suite(suite_of(dataset, changes, runs, *case[4:]))
    group = Group(suite.specs)
    seen: dict = {}
    init, run = loop_mod.Loop.__init__, loop_mod.Loop.run

    def timed_init(self, *a, **k):
        t0 = time.perf_counter()
        init(self, *a, **k)
        seen.update(loop=self, build=time.perf_counter() - t0)

    def timed_run(self, on_steps=None, resume=None):
        marks = {}

        def mark(n):
            marks[n] = (time.perf_counter(), dict(self.timings))
            if on_steps:
                on_steps(n)
        t0 = time.perf_counter()
        out = run(self, mark, resume)
        seen.update(marks=marks, run=time.perf_counter() - t0)
        return out
    loop_mod.Loop.__init__, loop_mod.Loop.run = timed_init, timed_run
    try:
        t0 = time.perf_counter()
        files = training.train_group(group, "cpu")
        worker = time.perf_counter() - t0
    finally:
        loop_mod.Loop.__init__, loop_mod.Loop.run = init, run
    with tempfile.TemporaryDirectory() as out:
        job = Job(Path(out), suite.specs, [group], "cpu", [], None)
        t0 = time.perf_counter()
        job.record(files, group)
        record = time.perf_counter() - t0
    (t40, tm40), (t120, tm120) = seen["marks"][EVERY], seen["marks"][STEPS]
    final_eval = tm120["final"]                     # at step 120 only the last evaluation
    evals = tm120["eval"]                           # the periodic ones, at 40 and 80
    step = (t120 - t40 - (evals - tm40["eval"]) - final_eval) / (STEPS - EVERY)
    results = seen["loop"].timings["final"] - final_eval
    rest = worker - seen["build"] - seen["run"]     # the dataset, the run folders' making
    return {"case": name, "runs": runs, "build": seen["build"], "step": step,
            "eval": evals / 2, "end": final_eval + results + rest + record,
            # the end's parts, for a reader of costs.csv
            "end_last_evaluation": final_eval, "end_results": results, "end_worker_rest": rest,
            "end_record": record}


def _worker(jobs):
    import torch
    torch.set_num_threads(1)
    measure(CASES[0], 1)            # imports and first calls, not measured
    rows = []
    for c, runs in jobs:
        rows.append(measure(CASES[c], runs))
        r = rows[-1]
        print(f"  {r['case']} x{r['runs']}: step {1e3 * r['step']:.1f} ms, "
              f"evaluation {1e3 * r['eval']:.0f} ms, end {r['end']:.2f} s", flush=True)
    return rows


def companion() -> None:
    """suites/mog.yaml's largest group (20 runs of ring8, an evaluation every 100 steps),
    trained again and again until the process is stopped."""
    import torch
    from ganbench.config.suite import parse_suite
    from ganbench.harness.loop import Loop
    torch.set_num_threads(1)
    raw = suite_of("ring8", {"steps": 2500, "eval_every": 100}, 20, OBJECTIVES)
    specs = parse_suite(raw).specs
    while True:
        Loop(specs[0].dataset_spec(), [s.config for s in specs], [s.seed for s in specs]).run()


def run_all(cores: int) -> list[dict]:
    """Every stack measured twice, the set in order then reversed."""
    jobs = [(c, r) for c, case in enumerate(CASES) for r in case[3]]
    jobs = jobs + jobs[::-1]
    ctx = mp.get_context("spawn")
    others = [ctx.Process(target=companion, daemon=True) for _ in range(cores - 1)]
    for p in others:
        p.start()
    try:
        with ctx.Pool(1) as pool:
            rows = pool.apply(_worker, (jobs,))
        if not all(p.is_alive() for p in others):
            raise SystemExit("a companion stopped before the measurements ended: the load "
                             "was not held; nothing written")
        return rows
    finally:
        for p in others:
            p.terminate()
            p.join()


def fastest(rows: list[dict]) -> list[dict]:
    """Per stack, each part's least time over its measurements (a burst of load only
    ever slows one)."""
    out: dict = {}
    for r in rows:
        key = (r["case"], int(r["runs"]))
        best = out.setdefault(key, dict(r))
        for p in PARTS:
            best[p] = min(float(best[p]), float(r[p]))
    return list(out.values())


def design(rows: list[dict]) -> dict:
    """Per part, the terms matrix (one row per measurement) and its term names."""
    from ganbench.config.suite import parse_suite
    from ganbench.runs.costs import features_of
    by_case = {c[0]: c for c in CASES}
    out = {p: ([], []) for p in PARTS}
    for row in rows:
        case = by_case[row["case"]]
        f = features_of(parse_suite(suite_of(case[1], case[2], int(row["runs"]), *case[4:])).specs)
        terms = f.terms()
        for part, prefix in zip(PARTS, ("build_", "step_", "eval_", "end_")):
            names = [k for k in terms if k.startswith(prefix)]
            scale = {"step": f.steps, "eval": max(1, f.evaluations)}.get(part, 1)
            out[part][0].append([terms[k] / scale for k in names])
            out[part][1][:] = names
    return out


def fit(rows: list[dict]) -> tuple[dict, dict]:
    """Least squares on relative errors, part by part, coefficients >= 0, robust to a
    measurement a burst of load slowed (soft-L1 loss: an error beyond 10% counts about
    linearly): the coefficients (term -> seconds per unit) and each measurement's
    relative error per part."""
    from scipy.optimize import least_squares
    X = design(rows)
    coef, errors = {}, {}
    for part in PARTS:
        A, names = np.array(X[part][0], dtype=float), X[part][1]
        y = np.array([float(r[part]) for r in rows])
        keep = np.abs(A).sum(0) > 0
        B = A[:, keep] / y[:, None]                         # relative: each row over its time
        scale = np.abs(B).max(0)
        B = B / scale
        sol = least_squares(lambda x: B @ x - 1, np.full(B.shape[1], 0.1), bounds=(0, np.inf),
                            loss="soft_l1", f_scale=0.1).x
        full = np.zeros(len(names))
        full[keep] = sol / scale
        coef.update(dict(zip(names, full.tolist())))
        errors[part] = (A @ full - y) / y
    return coef, errors


def write(coef: dict, rows: list[dict], errors: dict, cores: int) -> None:
    import torch
    from ganbench.harness.device import environment
    from ganbench.runs.costs import COEFFICIENTS
    env = environment("cpu")
    sets = json.loads(COEFFICIENTS.read_text()) if COEFFICIENTS.is_file() else {}
    sets["cpu"] = {
        "measured": {"by": "python benchmarks/costs.py", "date": date.today().isoformat(),
                     "torch": torch.__version__, "python": platform.python_version(),
                     "cpu": env["device_name"], "threads": 1,
                     "companions": cores - 1, "stacks": len(rows),
                     "median_abs_error": {p: round(float(np.median(np.abs(e))), 3)
                                          for p, e in errors.items()}},
        "seconds": {k: float(f"{v:.6g}") for k, v in coef.items()}}
    COEFFICIENTS.write_text(json.dumps(sets, indent=1) + "\n")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--fit-only", action="store_true", help="fit again from benchmarks/costs.csv")
    ap.add_argument("--cores", type=int, default=len(os.sched_getaffinity(0)),
                    help="cores of a suite's load: one measures, the others train companions")
    args = ap.parse_args()
    if args.fit_only:
        with open(CSV) as f:
            rows = list(csv.DictReader(f))
    else:
        t0 = time.perf_counter()
        rows = run_all(args.cores)
        print(f"measured {len(rows)} stacks in {time.perf_counter() - t0:.0f} s")
        with open(CSV, "w", newline="") as f:
            w = csv.DictWriter(f, fieldnames=list(rows[0]))
            w.writeheader()
            w.writerows(rows)
    rows = fastest(rows)
    coef, errors = fit(rows)
    write(coef, rows, errors, args.cores)
    print(f"{'stack':24}{'runs':>5}" + "".join(f"{p + ' s':>10}{'err':>6}" for p in PARTS))
    for i, r in enumerate(rows):
        print(f"{r['case']:24}{int(r['runs']):5}" +
              "".join(f"{float(r[p]):10.4f}{100 * errors[p][i]:5.0f}%" for p in PARTS))
    for p in PARTS:
        e = np.abs(errors[p])
        print(f"{p}: median |error| {100 * np.median(e):.0f}%, max {100 * e.max():.0f}%")
    print(json.dumps(coef, indent=1))


if __name__ == "__main__":
    main()
